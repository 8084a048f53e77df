package rule_test

import (
	"errors"
	"fmt"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
)

// Parse accepts rules as Entra admins write them (EN DASH operators,
// operators without hyphens, any case) and String gives the normalised form.
func ExampleParse() {
	r, err := rule.Parse(`user.country –eq "US" –and (user.department –eq "Marketing" or user.department -EQ 'Sales')`)
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output: user.country -eq "US" -and (user.department -eq "Marketing" -or user.department -eq "Sales")
}

// Errors carry a line and column and say what would have been accepted.
func ExampleParse_error() {
	_, err := rule.Parse("user.department -eq \"Sales\" -and\n  user.city -eq Lagos")
	var e *rule.Error
	if errors.As(err, &e) {
		fmt.Println(errors.Is(err, rule.ErrSyntax), e.Line, e.Column)
		fmt.Println(e.Message)
	}
	_, err = rule.Parse(`user.memberOf -any (group.objectId -in ['g1']) -and user.city -eq "Redmond"`)
	fmt.Println(errors.Is(err, rule.ErrInvalid), err)
	// Output:
	// true 2 17
	// expected a value; found "Lagos" (string values need quotes: "Lagos")
	// true line 1, column 1: memberOf can't be combined with other rules or operators; it must be the whole rule
}

// A compiled rule selects users from an engine snapshot (any rule.Index) as
// a bitmap, and answers for a single user when only that user changed.
func ExampleCompile() {
	ix := newIndex([]*directory.User{
		{ID: "a", Department: "Sales", JobTitle: "Account Executive"},
		{ID: "b", Department: "sales", JobTitle: "SDE"},
		{ID: "c", Department: "Marketing"},
	}, "department")
	r, _ := rule.Parse(`(user.department -eq "Sales") -and -not (user.jobTitle -startsWith "SDE")`)
	p, _ := rule.Compile(r)
	fmt.Println(p.Eval(ix).ToArray(), p.Match(ix, 1), p.Properties())
	// Output: [0] false [department jobTitle]
}
