package rule

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tree renders the parse tree with explicit grouping, so precedence tests
// check structure rather than the printer.
func tree(e Expr) string {
	switch e := e.(type) {
	case *Logical:
		op := "and"
		if e.Or {
			op = "or"
		}
		return fmt.Sprintf("(%s %s %s)", op, tree(e.Left), tree(e.Right))
	case *Not:
		return "(not " + tree(e.X) + ")"
	case *Quantifier:
		q := "any"
		if e.All {
			q = "all"
		}
		return fmt.Sprintf("(%s %s %s)", q, e.Property.Name, tree(e.Body))
	case *Comparison:
		if e.Property.Object == elemString {
			return "_" + e.Value.Text
		}
		return e.Property.Name
	}
	return e.String()
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	const a, b, c = `user.city -eq "a"`, `user.country -eq "b"`, `user.state -eq "c"`
	cases := []struct{ rule, want string }{
		{a + " -or " + b + " -and " + c, "(or city (and country state))"},
		{a + " -and " + b + " -or " + c, "(or (and city country) state)"},
		{a + " -and " + b + " -and " + c, "(and (and city country) state)"},
		{"(" + a + " -or " + b + ") -and " + c, "(and (or city country) state)"},
		{"-not " + a + " -and " + b, "(and (not city) country)"},
		{"-not " + a + " -or " + b + " -and " + c, "(or (not city) (and country state))"},
		{"-not (" + a + " -or " + b + ")", "(not (or city country))"},
		{"-not -not " + a, "(not (not city))"},
		{a + " -and -not " + b, "(and city (not country))"},
		{"not " + a + " and " + b + " or " + c, "(or (and (not city) country) state)"},
		// -any/-all come last: an unparenthesised body runs on over terms
		// about the element, and stops at the first term that isn't.
		{`user.proxyAddresses -any _ -eq "x" -or _ -eq "y"`, "(any proxyAddresses (or _x _y))"},
		{`user.proxyAddresses -any _ -eq "x" -and -not _ -eq "y"`, "(any proxyAddresses (and _x (not _y)))"},
		{`user.proxyAddresses -any _ -eq "x" -and (_ -eq "y")`, "(any proxyAddresses (and _x _y))"},
		{`user.proxyAddresses -any (_ -eq "x") -or _ -eq "y"`, "(any proxyAddresses (or _x _y))"},
		{`user.proxyAddresses -any _ -eq "x" -and ` + a, "(and (any proxyAddresses _x) city)"},
		{`user.proxyAddresses -any (_ -eq "x") -or ` + a + ` -and ` + b, "(or (any proxyAddresses _x) (and city country))"},
		{a + ` -and user.proxyAddresses -any _ -eq "x" -or ` + b, "(or (and city (any proxyAddresses _x)) country)"},
		{`user.proxyAddresses -any _ -eq "x" -and -not ` + a, "(and (any proxyAddresses _x) (not city))"},
		{`-not user.proxyAddresses -any _ -eq "x"`, "(not (any proxyAddresses _x))"},
	}
	for _, tc := range cases {
		r, err := Parse(tc.rule)
		require.NoError(t, err, tc.rule)
		require.Equal(t, tc.want, tree(r.Expr), tc.rule)
		again, err := Parse(r.String())
		require.NoError(t, err, r.String())
		require.Equal(t, tc.want, tree(again.Expr), "normalised form %q changed the tree", r.String())
	}
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{`(user.city -eq "a") -and ((user.country -eq "b") -and (user.state -eq "c"))`, `user.city -eq "a" -and user.country -eq "b" -and user.state -eq "c"`},
		{`user.city -eq "a" -or user.country -eq "b" -and user.state -eq "c"`, `user.city -eq "a" -or (user.country -eq "b" -and user.state -eq "c")`},
		{`-not -not user.city -eq 'it''s'`, `-not -not (user.city -eq "it's")`},
		{"user.city -eq \"say `\"hi`\" with a ` tick\"", "user.city -eq \"say `\"hi`\" with a `` tick\""},
		{`user.city -eq "C:\temp\"`, `user.city -eq "C:\temp\"`},
		{`user.employeeId -in [1, 2.5, -3, true, "x"]`, `user.employeeId -in [1, 2.5, -3, true, "x"]`},
		{`user.employeeHireDate -ge system.now -plus p1y2m3dt4h5m6s`, `user.employeeHireDate -ge system.now -plus P1Y2M3DT4H5M6S`},
		{`user.employeeHireDate -ge system.now -minus -pt12h`, `user.employeeHireDate -ge system.now -plus PT12H`},
		{`user.employeeHireDate -ge system.now -minus p0d`, `user.employeeHireDate -ge system.now -plus P0D`},
		{`user.employeeHireDate -ge 2020-06-10`, `user.employeeHireDate -ge 2020-06-10`},
		{`user.EXTENSION_abc_Name -eq "1"`, `user.extension_abc_Name -eq "1"`},
		{`user.mail -ne $null`, `user.mail -ne null`},
		{"user.city\n-eq\t\"a\"\r\n-and user.state -eq 'b'", `user.city -eq "a" -and user.state -eq "b"`},
	}
	for _, tc := range cases {
		r, err := Parse(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, r.String(), tc.in)
	}
}

func TestErrorPositions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rule         string
		kind         error
		line, column int
		expected     string // one of Error.Expected
	}{
		{"", ErrSyntax, 1, 1, "user.<property>"},
		{"  \n ", ErrSyntax, 2, 2, "user.<property>"},
		{"user.city -eq \"a\" -and\n  user.country -eq Spain", ErrSyntax, 2, 20, `"string"`},
		// Columns count characters, not bytes.
		{`user.city -eq "Zürich" -and user.country -foo "x"`, ErrSyntax, 1, 42, "-eq"},
		{"user.department", ErrSyntax, 1, 16, "-startsWith"},
		{`user.city -eq "a" user.country -eq "b"`, ErrSyntax, 1, 19, "-and"},
		{`user.cty -eq "a"`, ErrInvalid, 1, 6, "city"},
		{"user.city -eq \"a\xff\"", ErrSyntax, 1, 17, ""},
	}
	for _, tc := range cases {
		_, err := Parse(tc.rule)
		var e *Error
		require.ErrorAs(t, err, &e, tc.rule)
		require.ErrorIs(t, err, tc.kind, tc.rule)
		require.Equal(t, [2]int{tc.line, tc.column}, [2]int{e.Line, e.Column}, "%q: %v", tc.rule, err)
		if tc.expected != "" {
			require.Contains(t, e.Expected, tc.expected, tc.rule)
		}
		require.Contains(t, err.Error(), fmt.Sprintf("line %d, column %d: ", tc.line, tc.column))
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	// 3,072 characters is fine; one more is not. Count characters, not bytes.
	base := `user.city -eq "`
	fill := MaxLength - len(base) - 1
	ok := base + strings.Repeat("é", fill) + `"`
	_, err := Parse(ok)
	require.NoError(t, err)
	_, err = Parse(ok + " ")
	var e *Error
	require.ErrorAs(t, err, &e)
	require.ErrorIs(t, err, ErrInvalid)
	require.Equal(t, 1, e.Line)
	require.Equal(t, MaxLength+1, e.Column)
	require.Contains(t, e.Message, "3072")

	ids := func(n int) string {
		q := make([]string, n)
		for i := range q {
			q[i] = fmt.Sprintf("'g%d'", i)
		}
		return "user.memberOf -any (group.objectId -in [" + strings.Join(q, ",") + "])"
	}
	_, err = Parse(ids(MaxMemberOfGroups))
	require.NoError(t, err)
	_, err = Parse(ids(MaxMemberOfGroups + 1))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "at most 50")
}

// Every operator, with or without its hyphen and in any case, parses to the
// same canonical operator.
func TestOperatorSpellings(t *testing.T) {
	t.Parallel()
	for op := OpEq; op <= OpGe; op++ {
		name := op.String()[1:]
		prop, value := "user.city", `"x"`
		switch op {
		case OpIn, OpNotIn:
			value = `["x"]`
		case OpLe, OpGe:
			prop, value = "user.employeeHireDate", "2020-01-01"
		}
		for _, spelling := range []string{"-" + name, name, "–" + name, "-" + strings.ToUpper(name), strings.ToLower(name)} {
			src := prop + " " + spelling + " " + value
			r, err := Parse(src)
			require.NoError(t, err, src)
			require.Equal(t, op, r.Expr.(*Comparison).Op, src)
		}
	}
	for _, src := range []string{`user.city -eq "a" AND user.state -eq "b"`, `user.city -eq "a" –OR user.state -eq "b"`, `NOT user.city -eq "a"`,
		`user.proxyAddresses ANY (_ -eq "a")`, `user.proxyAddresses –all (_ -eq "a")`, `direct reports FOR "m"`} {
		_, err := Parse(src)
		require.NoError(t, err, src)
	}
}

func TestErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := Parse(`user.city -eq`)
	require.True(t, errors.Is(err, ErrSyntax))
	require.False(t, errors.Is(err, ErrInvalid))
	_, err = Parse(`user.city -le "x"`)
	require.True(t, errors.Is(err, ErrInvalid))
	require.False(t, errors.Is(err, ErrSyntax))
}
