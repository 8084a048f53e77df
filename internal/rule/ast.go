package rule

import (
	"strings"
)

// Rule is a parsed and validated membership rule. Its String form is the
// normalised rule: canonical operator and property spellings, double-quoted
// strings, flat -and/-or chains with mixed chains parenthesised, so two
// spellings of the same rule compare equal as strings.
type Rule struct {
	// Object is "user" or "device": Entra never mixes them in one rule.
	Object string
	Expr   Expr
}

// String returns the normalised rule; parsing it again yields the same
// normalised rule. (Normalising can lengthen a rule, adding hyphens and
// quotes, so a rule near MaxLength may normalise to one over it.)
func (r *Rule) String() string { return r.Expr.String() }

// Expr is a node of the rule's syntax tree.
type Expr interface {
	String() string
	// Pos is where the node starts in the source, for error messages.
	Pos() Pos
}

// Logical is "Left -and Right" or "Left -or Right".
type Logical struct {
	Or          bool
	Left, Right Expr
	At          Pos
}

func (e *Logical) Pos() Pos { return e.At }

func (e *Logical) String() string {
	op := " -and "
	if e.Or {
		op = " -or "
	}
	// -and and -or are associative, so a chain prints flat however it was
	// grouped: "a -and (b -and c)" and "(a -and b) -and c" normalise alike.
	// A chain of the other operator is always parenthesised: -and binds
	// tighter than -or, but few readers remember that.
	return e.operand(e.Left) + op + e.operand(e.Right)
}

func (e *Logical) operand(x Expr) string {
	l, ok := x.(*Logical)
	return wrap(x, ok && l.Or != e.Or)
}

// Not is "-not X".
type Not struct {
	X  Expr
	At Pos
}

func (e *Not) Pos() Pos { return e.At }
func (e *Not) String() string {
	_, double := e.X.(*Not)
	return "-not " + wrap(e.X, !double)
}

// Comparison is "Property Operator Value", the rule language's only leaf
// besides the direct-reports rule.
type Comparison struct {
	Property Property
	Op       Operator
	Value    Value
	At       Pos
	OpAt     Pos // where the operator is, for errors about it
}

func (e *Comparison) Pos() Pos { return e.At }
func (e *Comparison) String() string {
	return e.Property.String() + " " + e.Op.String() + " " + e.Value.String()
}

// Quantifier is "Property -any (Body)" or "Property -all (Body)" over a
// multi-valued property; Body refers to the current element as "_" (string
// collections), "assignedPlan.x" (assignedPlans) or "group.objectId"
// (memberOf).
type Quantifier struct {
	Property Property
	All      bool
	Body     Expr
	At       Pos
}

func (e *Quantifier) Pos() Pos { return e.At }
func (e *Quantifier) String() string {
	op := " -any ("
	if e.All {
		op = " -all ("
	}
	return e.Property.String() + op + e.Body.String() + ")"
}

// DirectReports is `Direct Reports for "managerId"`: the users whose
// manager is ManagerID. Entra allows it only as the whole rule.
type DirectReports struct {
	ManagerID string
	At        Pos
}

func (e *DirectReports) Pos() Pos       { return e.At }
func (e *DirectReports) String() string { return "Direct Reports for " + quote(e.ManagerID) }

func wrap(e Expr, paren bool) string {
	if paren {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// Property is a property reference. Object is "user" or "device" for the
// rule's subject, or names the element inside a quantifier body: "_" for a
// string collection element, "assignedPlan" or "group". Name is the
// canonical spelling after validation (empty for "_").
type Property struct {
	Object string
	Name   string
	At     Pos
}

func (p Property) String() string {
	if p.Object == elemString {
		return elemString
	}
	return p.Object + "." + p.Name
}

// Operator is a comparison operator.
type Operator int

// The comparison operators of reference/dynamic-rules.md §1.1, plus -le and
// -ge (documented for employeeHireDate).
const (
	OpEq Operator = iota + 1
	OpNe
	OpStartsWith
	OpNotStartsWith
	OpEndsWith
	OpNotEndsWith
	OpContains
	OpNotContains
	OpMatch
	OpNotMatch
	OpIn
	OpNotIn
	OpLe
	OpGe
)

var operatorNames = [...]string{
	OpEq: "-eq", OpNe: "-ne", OpStartsWith: "-startsWith", OpNotStartsWith: "-notStartsWith",
	OpEndsWith: "-endsWith", OpNotEndsWith: "-notEndsWith", OpContains: "-contains", OpNotContains: "-notContains",
	OpMatch: "-match", OpNotMatch: "-notMatch", OpIn: "-in", OpNotIn: "-notIn", OpLe: "-le", OpGe: "-ge",
}

// operatorsByWord maps the lower-case word (no hyphen) to its operator; the
// docs say operators work with or without the hyphen, in any case.
var operatorsByWord = func() map[string]Operator {
	m := make(map[string]Operator, len(operatorNames))
	for op, name := range operatorNames {
		if name != "" {
			m[strings.ToLower(name[1:])] = Operator(op)
		}
	}
	return m
}()

// String returns the canonical spelling, such as "-startsWith".
func (o Operator) String() string {
	if o > 0 && int(o) < len(operatorNames) {
		return operatorNames[o]
	}
	return "-?"
}

// positive returns the operator a negated operator negates (OpNe → OpEq)
// and whether o was negated. Negations are compiled as "not positive", so
// "none of the values matches" holds for collections too.
func (o Operator) positive() (Operator, bool) {
	switch o {
	case OpNe, OpNotStartsWith, OpNotEndsWith, OpNotContains, OpNotMatch, OpNotIn:
		return o - 1, true
	}
	return o, false
}

// allOperators lists canonical operator spellings for "expected" hints.
func allOperators() []string {
	out := make([]string, 0, len(operatorNames)+2)
	for _, n := range operatorNames {
		if n != "" {
			out = append(out, n)
		}
	}
	return append(out, "-any", "-all")
}

// ValueKind says how a value was written.
type ValueKind int

// The kinds of value a comparison can take.
const (
	ValueString ValueKind = iota + 1 // "text" or 'text'
	ValueNumber                      // 42, -1.5
	ValueBool                        // true, false
	ValueNull                        // null (or $null); never "null", which is a string
	ValueDate                        // an unquoted date such as 2020-06-10T18:13:20Z
	ValueNow                         // system.now, optionally -plus/-minus an ISO 8601 duration
	ValueList                        // [v, …] for -in and -notIn
)

// Value is the right-hand side of a comparison.
type Value struct {
	Kind ValueKind
	// Text is the decoded string, the number or date as written, or
	// "true"/"false".
	Text string
	// Offset is the canonical ISO 8601 duration added to system.now (for
	// ValueNow), negative when written with -minus; empty for none.
	Offset string
	Items  []Value
	At     Pos
}

func (v Value) String() string {
	switch v.Kind {
	case ValueString:
		return quote(v.Text)
	case ValueNull:
		return "null"
	case ValueNow:
		switch {
		case v.Offset == "":
			return "system.now"
		case strings.HasPrefix(v.Offset, "-"):
			return "system.now -minus " + v.Offset[1:]
		}
		return "system.now -plus " + v.Offset
	case ValueList:
		parts := make([]string, len(v.Items))
		for i, it := range v.Items {
			parts[i] = it.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return v.Text
}

// quote writes s as a double-quoted rule string, escaping " and ` with a
// backtick as the lexer expects.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '`' {
			b.WriteByte('`')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
