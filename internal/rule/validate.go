package rule

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxMemberOfGroups is Entra's limit on the groups one memberOf rule may name.
const MaxMemberOfGroups = 50

// validate resolves property names to their canonical spelling and rejects
// what Entra rejects although it reads fine: unknown properties, operators
// and values that don't fit the property's type, null with anything but
// -eq/-ne, bad regular expressions and dates, user and device properties
// in one rule, and memberOf combined with anything.
func validate(r *Rule) error {
	if _, ok := r.Expr.(*DirectReports); ok {
		r.Object = "user"
		return nil
	}
	v := &validator{root: r.Expr}
	if err := v.expr(r.Expr, ""); err != nil {
		return err
	}
	r.Object = v.object
	return nil
}

type validator struct {
	root   Expr
	object string // "user" or "device", from the first property seen
}

// expr checks e; elem is the element object ("_", "assignedPlan", "group")
// inside a quantifier body, or "" outside.
func (v *validator) expr(e Expr, elem string) error {
	switch e := e.(type) {
	case *Logical:
		if err := v.expr(e.Left, elem); err != nil {
			return err
		}
		return v.expr(e.Right, elem)
	case *Not:
		return v.expr(e.X, elem)
	case *Comparison:
		return v.comparison(e, elem)
	case *Quantifier:
		return v.quantifier(e)
	case *DirectReports:
		return invalidErr(e.At, "a direct reports rule can't be combined with any other membership rule")
	}
	return fmt.Errorf("rule: unknown node %T", e) // unreachable: the parser builds only the types above
}

// subject resolves a user./device. property and enforces that one rule
// never mixes the two.
func (v *validator) subject(p *Property) (*propSpec, error) {
	obj := strings.ToLower(p.Object)
	if obj != "user" && obj != "device" {
		return nil, invalidErr(p.At, "unknown object %q in %s; expected user or device", p.Object, p.Object+"."+p.Name)
	}
	if v.object == "" {
		v.object = obj
	} else if v.object != obj {
		return nil, invalidErr(p.At, "a rule can't mix user and device properties: this rule is about %ss, but %s.%s is a %s property", v.object, p.Object, p.Name, obj)
	}
	spec, ok := lookupProperty(obj, p.Name)
	if !ok {
		return nil, unknownProperty(p, obj)
	}
	p.Object, p.Name = obj, spec.name
	return spec, nil
}

func (v *validator) comparison(c *Comparison, elem string) error {
	p := &c.Property
	if elem == "" {
		if isElementRef(p.String()) {
			return invalidErr(p.At, "%s refers to the element of an -any or -all and can't be used outside one", p.String())
		}
		spec, err := v.subject(p)
		if err != nil {
			return err
		}
		switch spec.kind {
		case kindPlans:
			return invalidErr(c.OpAt, "%s is a collection of objects; test it with %s -any (assignedPlan.servicePlanId -eq \"…\")", p, p)
		case kindMemberOf:
			return invalidErr(c.OpAt, "%s can only be used as %s -any (group.objectId -in ['…'])", p, p)
		}
		return checkOperands(c, spec)
	}
	spec, err := elementSpec(p, elem)
	if err != nil {
		return err
	}
	return checkOperands(c, spec)
}

// elementSpec resolves a property inside a quantifier body, which may refer
// only to the element.
func elementSpec(p *Property, elem string) (*propSpec, error) {
	want := map[string]string{elemString: "_", elemPlan: "assignedPlan.<property>", elemGroup: "group.objectId"}[elem]
	obj := p.Object
	if obj != elemString {
		obj = strings.ToLower(obj)
	}
	if obj != strings.ToLower(elem) {
		return nil, invalidErr(p.At, "inside this -any/-all the element is written %s; found %s", want, p.String())
	}
	if elem == elemString {
		return &propSpec{name: "_", kind: kindString}, nil
	}
	spec, ok := elementProperties[elem][strings.ToLower(p.Name)]
	if !ok {
		e := invalidErr(p.At, "%s has no property %q", elem, p.Name)
		e.Expected = propertyNames(elementProperties[elem])
		return nil, e
	}
	p.Object, p.Name = elem, spec.name
	return spec, nil
}

// checkOperands enforces which operators and values each property type takes.
func checkOperands(c *Comparison, spec *propSpec) error {
	op, val := c.Op, c.Value
	name := c.Property.String()
	if val.Kind == ValueNull && op != OpEq && op != OpNe {
		return invalidErr(val.At, "null can only be compared with -eq or -ne, not %s", op)
	}
	if (op == OpIn || op == OpNotIn) != (val.Kind == ValueList) {
		if val.Kind == ValueList {
			return invalidErr(val.At, "a [list] can only follow -in or -notIn, not %s", op)
		}
		return invalidErr(val.At, "%s needs a [list] of values, such as [\"a\", \"b\"]", op)
	}
	if val.Kind == ValueList {
		if len(val.Items) == 0 {
			return invalidErr(val.At, "the list after %s is empty", op)
		}
		for _, it := range val.Items {
			if it.Kind == ValueNull || it.Kind == ValueNow {
				return invalidErr(it.At, "a list may hold strings, numbers and Booleans, not %s", it)
			}
		}
	}
	switch spec.kind {
	case kindBool:
		if op != OpEq && op != OpNe {
			return invalidErr(c.OpAt, "%s is Boolean and takes only -eq or -ne, not %s", name, op)
		}
		if _, ok := boolValue(val); !ok && val.Kind != ValueNull {
			return invalidErr(val.At, "%s is Boolean; expected true, false or null, found %s", name, val)
		}
	case kindDate:
		switch op {
		case OpEq, OpNe, OpLe, OpGe:
		default:
			return invalidErr(c.OpAt, "%s is a date and takes -eq, -ne, -le or -ge, not %s", name, op)
		}
		if val.Kind != ValueNull && val.Kind != ValueNow {
			if _, ok := parseDate(val.Text); !ok || (val.Kind != ValueString && val.Kind != ValueDate) {
				return invalidErr(val.At, "%s is a date; expected a date such as 2020-06-10T18:13:20Z or system.now, found %s", name, val)
			}
		}
	default: // strings and string collections
		if op == OpLe || op == OpGe {
			return invalidErr(c.OpAt, "%s applies only to dates (employeeHireDate), not to %s", op, name)
		}
		if val.Kind == ValueNow {
			return invalidErr(val.At, "system.now can only be compared with a date property such as employeeHireDate")
		}
		if op == OpMatch || op == OpNotMatch {
			if val.Kind != ValueString {
				return invalidErr(val.At, "%s needs a quoted regular expression, found %s", op, val)
			}
			if _, err := compileRegexp(val.Text); err != nil {
				return invalidErr(val.At, "invalid regular expression (Go RE2 syntax: no lookaround or backreferences): %v", err)
			}
		}
	}
	return nil
}

// boolValue reads true/false, quoted or not.
func boolValue(v Value) (bool, bool) {
	if v.Kind != ValueBool && v.Kind != ValueString {
		return false, false
	}
	switch strings.ToLower(v.Text) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// compileRegexp compiles a -match pattern; the docs say regular expressions
// aren't case sensitive.
func compileRegexp(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		// Report the error against the pattern as written, not our prefix.
		if _, err2 := regexp.Compile(pattern); err2 != nil {
			return nil, err2
		}
		return nil, err
	}
	return re, nil
}

func (v *validator) quantifier(q *Quantifier) error {
	if isElementRef(q.Property.String()) {
		return invalidErr(q.At, "-any and -all apply to a user or device property, not to %s", q.Property)
	}
	spec, err := v.subject(&q.Property)
	if err != nil {
		return err
	}
	var elem string
	switch spec.kind {
	case kindStrings:
		elem = elemString
	case kindPlans:
		elem = elemPlan
	case kindMemberOf:
		return v.memberOf(q)
	default:
		return invalidErr(q.Property.At, "-any and -all need a multi-valued property (otherMails, proxyAddresses, assignedPlans, memberOf, devicePhysicalIds); %s has a single value", q.Property)
	}
	return v.expr(q.Body, elem)
}

// memberOf enforces the preview's limits (reference §1): -any only, exactly
// `group.objectId -in [...]`, at most 50 groups, and nothing else in the rule.
func (v *validator) memberOf(q *Quantifier) error {
	if q != v.root {
		return invalidErr(q.At, "memberOf can't be combined with other rules or operators; it must be the whole rule")
	}
	if q.All {
		return invalidErr(q.At, "memberOf takes -any, not -all")
	}
	c, ok := q.Body.(*Comparison)
	if !ok || (c.Op != OpIn && c.Op != OpEq) {
		return invalidErr(q.Body.Pos(), "memberOf must be written %s -any (group.objectId -in ['groupId', …])", q.Property)
	}
	if err := v.comparison(c, elemGroup); err != nil {
		return err
	}
	ids := []Value{c.Value}
	if c.Value.Kind == ValueList {
		ids = c.Value.Items
	}
	if len(ids) > MaxMemberOfGroups {
		return invalidErr(c.Value.At, "memberOf names %d groups; Entra allows at most %d", len(ids), MaxMemberOfGroups)
	}
	for _, id := range ids {
		if id.Kind != ValueString || strings.TrimSpace(id.Text) == "" {
			return invalidErr(id.At, "group IDs must be quoted, non-empty strings; found %s", id)
		}
	}
	return nil
}

// unknownProperty explains an unknown name: a property of the other object,
// a near miss, or the list of what exists.
func unknownProperty(p *Property, obj string) error {
	at := p.At
	at.Column += utf8.RuneCountInString(p.Object) + 1
	at.Offset += len(p.Object) + 1
	names, other, otherObj := userProperties, deviceProperties, "device"
	if obj == "device" {
		names, other, otherObj = deviceProperties, userProperties, "user"
	}
	e := invalidErr(at, "unknown %s property %q", obj, p.Name)
	if n, ok := strings.CutPrefix(strings.ToLower(p.Name), "extensionattribute"); ok && n != "" {
		e.Message += "; extension attributes run from extensionAttribute1 to extensionAttribute15"
	} else if o, ok := other[strings.ToLower(p.Name)]; ok {
		e.Message += fmt.Sprintf(": %s is a %s property, and a rule is about users or devices, never both", o.name, otherObj)
	} else if near := nearest(p.Name, names); near != "" {
		e.Message += fmt.Sprintf("; did you mean %s?", near)
	}
	e.Expected = propertyNames(names)
	if obj == "user" {
		e.Expected = append(e.Expected, "extension_<appId>_<name>")
	}
	return e
}

// nearest returns the property name within edit distance 2 of name, if one.
func nearest(name string, names map[string]*propSpec) string {
	best, bestD := "", 3
	lower := strings.ToLower(name)
	for k, spec := range names {
		if d := editDistance(lower, k, bestD); d < bestD {
			best, bestD = spec.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit when it
// is at least limit (names are short; the early exit keeps it cheap).
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			sub := prev[j-1]
			if ra[i-1] != rb[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(rb)], limit)
}
