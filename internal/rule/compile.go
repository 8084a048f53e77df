package rule

import (
	"cmp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

type compiler struct {
	props   map[string]bool
	usesNow bool
}

func (c *compiler) expr(e Expr) (node, error) {
	switch e := e.(type) {
	case *Logical:
		var kids []node
		for _, x := range flatten(e, e.Or, nil) {
			k, err := c.expr(x)
			if err != nil {
				return nil, err
			}
			kids = append(kids, k)
		}
		// Terms have no side effects, so order is free: cheapest first.
		slices.SortStableFunc(kids, func(a, b node) int { return cmp.Compare(a.cost(), b.cost()) })
		if e.Or {
			return &orNode{kids: kids}, nil
		}
		return &andNode{kids: kids}, nil
	case *Not:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	case *Comparison:
		spec, _ := lookupProperty(e.Property.Object, e.Property.Name)
		c.props[spec.name] = true
		return c.comparison(e, spec), nil
	case *Quantifier:
		spec, _ := lookupProperty(e.Property.Object, e.Property.Name)
		c.props[spec.name] = true
		return c.quantifier(e, spec), nil
	case *DirectReports:
		c.props["manager"] = true
		id := e.ManagerID
		return &indexNode{property: "manager", values: []string{id}, test: func(_ *env, u *directory.User) bool {
			return u.ManagerID != "" && strings.EqualFold(u.ManagerID, id)
		}}, nil
	}
	return nil, invalidErr(Pos{Line: 1, Column: 1}, "cannot compile %T", e)
}

// flatten collects the terms of a chain of the same logical operator, so
// "a -and b -and c" becomes one node whose terms can be reordered.
func flatten(e Expr, or bool, out []Expr) []Expr {
	if l, ok := e.(*Logical); ok && l.Or == or {
		return flatten(l.Right, or, flatten(l.Left, or, out))
	}
	return append(out, e)
}

// comparison compiles a leaf. Negated operators become "not positive", so a
// collection satisfies "-notEndsWith x" when no element ends with x.
func (c *compiler) comparison(e *Comparison, spec *propSpec) node {
	op, negated := e.Op.positive()
	n := c.positive(op, e.Value, spec)
	if negated {
		return &notNode{x: n}
	}
	return n
}

func (c *compiler) positive(op Operator, v Value, spec *propSpec) node {
	switch spec.kind {
	case kindBool:
		get := spec.bool
		if v.Kind == ValueNull {
			return &scanNode{c: costScan, test: func(_ *env, u *directory.User) bool { _, set := get(u); return !set }}
		}
		want, _ := boolValue(v)
		// An unset flag (dirSyncEnabled of a cloud-only user) counts as false.
		return &indexNode{property: spec.name, values: []string{boolKey(want)}, test: func(_ *env, u *directory.User) bool {
			b, _ := get(u)
			return b == want
		}}
	case kindDate:
		return c.date(op, v, spec.date)
	case kindStrings:
		get := spec.strs
		if v.Kind == ValueNull {
			return &scanNode{c: costScan, test: func(_ *env, u *directory.User) bool { return len(get(u)) == 0 }}
		}
		pred := stringPred(op, v)
		return &scanNode{c: costEach + opCost(op), test: func(_ *env, u *directory.User) bool { return slices.ContainsFunc(get(u), pred) }}
	}
	get := spec.str
	if spec.name == "objectId" && v.Kind == ValueNull {
		return constNode{all: false} // every user has an object ID
	}
	pred := stringPred(op, v)
	t := func(_ *env, u *directory.User) bool { return pred(get(u)) }
	if (op == OpEq || op == OpIn) && v.Kind != ValueNull && !slices.Contains(valueTexts(v), "") {
		return &indexNode{property: spec.name, values: valueTexts(v), test: t}
	}
	if pred("") || op == OpMatch && strings.Contains(v.Text, "(?") {
		// Users with an empty value may not be filed under any key, and a
		// pattern that sets its own flags may care about case, which the
		// index's folded keys have lost.
		return &scanNode{c: opCost(op), test: t}
	}
	return &valuesNode{property: spec.name, pred: pred, scan: scanNode{c: opCost(op), test: t}}
}

func opCost(op Operator) int {
	if op == OpMatch {
		return costRegex
	}
	return costScan
}

func boolKey(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func valueTexts(v Value) []string {
	if v.Kind != ValueList {
		return []string{v.Text}
	}
	out := make([]string, len(v.Items))
	for i, it := range v.Items {
		out[i] = it.Text
	}
	return out
}

func (c *compiler) date(op Operator, v Value, get func(*directory.User) *time.Time) node {
	if v.Kind == ValueNull {
		return &scanNode{c: costScan, test: func(_ *env, u *directory.User) bool { return get(u) == nil }}
	}
	n := &dateNode{get: get, op: op}
	if v.Kind == ValueNow {
		c.usesNow = true
		n.relative = true
		n.offset, n.sign = nowOffset(v.Offset)
	} else {
		n.fixed, _ = parseDate(v.Text)
	}
	return n
}

// dateNode compares a date property with a fixed date or with system.now
// plus an offset, working the bound out once per evaluation, not per user.
type dateNode struct {
	get      func(*directory.User) *time.Time
	op       Operator // OpEq, OpLe or OpGe
	fixed    time.Time
	relative bool
	offset   duration
	sign     int
}

func (n *dateNode) bound(e *env) time.Time {
	if n.relative {
		return n.offset.addTo(e.now, n.sign)
	}
	return n.fixed
}

func (n *dateNode) test(bound time.Time) test {
	return func(_ *env, u *directory.User) bool {
		t := n.get(u)
		if t == nil {
			return false
		}
		switch r := t.Compare(bound); n.op {
		case OpLe:
			return r <= 0
		case OpGe:
			return r >= 0
		default:
			return r == 0
		}
	}
}

func (n *dateNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	return scan(e, cand, n.test(n.bound(e)))
}

func (n *dateNode) match(e *env, _ uint32, u *directory.User) bool { return n.test(n.bound(e))(e, u) }
func (n *dateNode) cost() int                                      { return costScan }

func (c *compiler) quantifier(q *Quantifier, spec *propSpec) node {
	switch spec.kind {
	case kindMemberOf:
		body := q.Body.(*Comparison) // validate guarantees the shape
		return &memberOfNode{groups: valueTexts(body.Value)}
	case kindPlans:
		pred := bodyPred(q.Body, planField)
		all := q.All
		return &scanNode{c: costEach, test: func(_ *env, u *directory.User) bool {
			for i := range u.AssignedPlans {
				if pred(&u.AssignedPlans[i]) != all {
					return !all
				}
			}
			return all
		}}
	}
	get := spec.strs
	pred := bodyPred(q.Body, func(string) func(string) string { return func(s string) string { return s } })
	all := q.All
	return &scanNode{c: costEach, test: func(_ *env, u *directory.User) bool {
		for _, s := range get(u) {
			if pred(s) != all {
				return !all
			}
		}
		return all // -all over an empty collection holds, as the docs' "no assigned service plan" example needs
	}}
}

func planField(name string) func(*directory.AssignedPlan) string {
	switch name {
	case "capabilityStatus":
		return func(p *directory.AssignedPlan) string { return p.CapabilityStatus }
	case "service":
		return func(p *directory.AssignedPlan) string { return p.Service }
	}
	return func(p *directory.AssignedPlan) string { return p.ServicePlanID }
}

// bodyPred compiles a quantifier body into a predicate over one element;
// field maps a property name to its accessor on the element.
func bodyPred[T any](e Expr, field func(name string) func(T) string) func(T) bool {
	switch e := e.(type) {
	case *Logical:
		l, r := bodyPred(e.Left, field), bodyPred(e.Right, field)
		if e.Or {
			return func(x T) bool { return l(x) || r(x) }
		}
		return func(x T) bool { return l(x) && r(x) }
	case *Not:
		x := bodyPred(e.X, field)
		return func(v T) bool { return !x(v) }
	case *Comparison:
		op, negated := e.Op.positive()
		p, get := stringPred(op, e.Value), field(e.Property.Name)
		return func(x T) bool { return p(get(x)) != negated }
	}
	return func(T) bool { return false } // unreachable after validation
}

// stringPred is a positive string operator, case-insensitive as the docs
// require. A null value matches the empty string: Graph and the rule
// language treat unset and empty alike.
func stringPred(op Operator, v Value) func(string) bool {
	if v.Kind == ValueNull {
		return func(s string) bool { return s == "" }
	}
	want := v.Text
	switch op {
	case OpStartsWith:
		return func(s string) bool { return hasPrefixFold(s, want) }
	case OpEndsWith:
		return func(s string) bool { return hasSuffixFold(s, want) }
	case OpContains:
		return func(s string) bool { return containsFold(s, want) }
	case OpMatch:
		re, err := compileRegexp(want)
		if err != nil {
			return func(string) bool { return false } // unreachable: validate compiled it
		}
		lit, anchored := literalHint(want)
		if lit == "" || !isASCII(lit) {
			return re.MatchString
		}
		// Rule out most values with a cheap literal check before running
		// the regular expression; for ASCII values the check is exact.
		return func(s string) bool {
			if isASCII(s) && !(anchored && hasPrefixFold(s, lit) || !anchored && containsFold(s, lit)) {
				return false
			}
			return re.MatchString(s)
		}
	case OpIn:
		wants := valueTexts(v)
		return func(s string) bool {
			return slices.ContainsFunc(wants, func(w string) bool { return strings.EqualFold(s, w) })
		}
	}
	return func(s string) bool { return strings.EqualFold(s, want) }
}

// literalHint returns a literal every match of pattern contains and whether
// it must start the value, as in "^Da.*" (Da, anchored); "" when there is no
// such leading literal.
func literalHint(pattern string) (lit string, anchored bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	subs := []*syntax.Regexp{re.Simplify()}
	if subs[0].Op == syntax.OpConcat {
		subs = subs[0].Sub
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		anchored, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpLiteral {
		return string(subs[0].Rune), anchored
	}
	return "", false
}
