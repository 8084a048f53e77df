package rule

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// Program is a compiled rule: a tree of set operations over an Index, with a
// per-user predicate for re-planning single users. A Program is immutable and
// safe for concurrent use.
type Program struct {
	root    node
	props   []string
	usesNow bool
}

// Compile turns a user rule into a Program. Device rules are valid Entra
// rules but select devices, which allot does not license, so they fail with
// ErrInvalid.
func Compile(r *Rule) (*Program, error) {
	if r == nil || r.Expr == nil {
		return nil, &Error{Line: 1, Column: 1, Message: "empty rule", kind: ErrInvalid}
	}
	// Re-validate: Rule's fields are exported, so a hand-built rule may not
	// have come from Parse.
	if err := validate(r); err != nil {
		return nil, err
	}
	if r.Object != "user" {
		return nil, invalidErr(r.Expr.Pos(), "this is a %s rule; allot evaluates rules over users only", r.Object)
	}
	c := &compiler{props: map[string]bool{}}
	root, err := c.expr(r.Expr)
	if err != nil {
		return nil, err
	}
	props := make([]string, 0, len(c.props))
	for p := range c.props {
		props = append(props, p)
	}
	sort.Strings(props)
	return &Program{root: root, props: props, usesNow: c.usesNow}, nil
}

// MustCompile parses and compiles a rule known to be valid, such as one in a
// test or a built-in pool; it panics otherwise, so never use it on input.
func MustCompile(src string) *Program {
	r, err := Parse(src)
	if err == nil {
		var p *Program
		if p, err = Compile(r); err == nil {
			return p
		}
	}
	panic(fmt.Sprintf("rule.MustCompile(%q): %v", src, err))
}

// Eval returns the users the rule selects, as a fresh bitmap the caller may
// keep and modify.
func (p *Program) Eval(ix Index) *roaring.Bitmap {
	e := p.env(ix)
	u := ix.Universe()
	if u == nil {
		return roaring.New()
	}
	res := p.root.eval(e, u)
	if res == u {
		return u.Clone()
	}
	return res
}

// Match reports whether the rule selects one user, without set operations,
// so a changed user can be re-planned in microseconds.
func (p *Program) Match(ix Index, user uint32) bool {
	u := ix.User(user)
	if u == nil {
		return false
	}
	return p.root.match(p.env(ix), user, u)
}

// Properties lists the canonical names of the properties the rule reads
// ("memberOf" for group membership, "manager" for direct reports), so an
// engine re-plans a changed user only against rules that read what changed.
func (p *Program) Properties() []string { return slices.Clone(p.props) }

// UsesNow reports whether the rule reads system.now, so its result can
// change with time alone.
func (p *Program) UsesNow() bool { return p.usesNow }

func (p *Program) env(ix Index) *env {
	e := &env{ix: ix}
	if p.usesNow {
		e.now = ix.Now()
	}
	return e
}

type env struct {
	ix  Index
	now time.Time
}
