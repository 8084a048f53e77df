package rule

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Parse reads an Entra membership rule, checks it the way Entra would
// (properties, operators, value types, null, memberOf and direct-reports
// restrictions, the 3,072-character limit) and returns it. Errors are
// *Error values carrying line and column; errors.Is tells ErrSyntax from
// ErrInvalid.
//
// Precedence, tightest first, as documented: comparisons; -not; -and; -or.
// The docs put -any/-all last because their body extends over following
// -and/-or terms; Parse does that only while those terms refer to the
// element (_, assignedPlan.x, group.objectId), which is the only reading
// Entra accepts, so "X -any (…) -and user.y -eq 1" means what it says.
func Parse(src string) (*Rule, error) {
	if n := utf8.RuneCountInString(src); n > MaxLength {
		return nil, invalidErr(posOfRune(src, MaxLength), "rule is %d characters long; Entra allows at most %d", n, MaxLength)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.parseRule()
	if err != nil {
		return nil, err
	}
	r := &Rule{Expr: e}
	if err := validate(r); err != nil {
		return nil, err
	}
	return r, nil
}

// posOfRune finds the position of the n-th character (0-based).
func posOfRune(src string, n int) Pos {
	l := &lexer{src: src, line: 1, col: 1}
	for ; n > 0; n-- {
		l.next()
	}
	return l.pos()
}

// Element prefixes: inside -any/-all the current element is "_" for string
// collections, "assignedPlan.x" for assignedPlans and "group.objectId" for
// memberOf.
const (
	elemString = "_"
	elemPlan   = "assignedPlan"
	elemGroup  = "group"
)

type parser struct {
	toks []token
	i    int
	// inBody is true while parsing an unparenthesised -any/-all body, where
	// -and/-or continue the body only if the next term is about the element.
	inBody bool
	// quantified is true inside any -any/-all body; they don't nest.
	quantified bool
}

func (p *parser) cur() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the operator or keyword word, with or
// without its hyphen, in any case.
func isKeyword(t token, word string) bool {
	switch t.kind {
	case tDash:
		return strings.EqualFold(t.val, word)
	case tWord:
		return strings.EqualFold(t.raw, word)
	}
	return false
}

func (p *parser) parseRule() (Expr, error) {
	if isKeyword(p.cur(), "direct") {
		return p.parseDirectReports()
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.cur(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, syntaxErr(t.pos, []string{"-and", "-or", "end of rule"}, "unbalanced ): no ( is open here")
		}
		return nil, syntaxErr(t.pos, []string{"-and", "-or", "end of rule"}, "expected -and, -or or the end of the rule; found %s", t.describe())
	}
	return e, nil
}

// parseDirectReports reads `Direct Reports for "id"`, which must be the
// whole rule.
func (p *parser) parseDirectReports() (Expr, error) {
	start := p.advance().pos
	for _, w := range []string{"Reports", "for"} {
		if t := p.cur(); !isKeyword(t, w) {
			return nil, syntaxErr(t.pos, []string{w}, "expected %q in `Direct Reports for \"managerId\"`; found %s", w, t.describe())
		}
		p.advance()
	}
	t := p.cur()
	if t.kind != tString {
		return nil, syntaxErr(t.pos, []string{`"managerObjectId"`}, "expected the manager's object ID as a quoted string; found %s", t.describe())
	}
	p.advance()
	if strings.TrimSpace(t.val) == "" {
		return nil, invalidErr(t.pos, "the manager's object ID is empty")
	}
	if n := p.cur(); n.kind != tEOF {
		return nil, invalidErr(n.pos, "a direct reports rule can't be combined with any other membership rule; found %s after it", n.describe())
	}
	return &DirectReports{ManagerID: t.val, At: start}, nil
}

func (p *parser) parseOr() (Expr, error) { return p.parseChain(true) }

// parseChain reads a left-associative chain of -or terms (or = true) or of
// -and terms, each of which binds tighter.
func (p *parser) parseChain(or bool) (Expr, error) {
	word, term := "and", p.parseNot
	if or {
		word, term = "or", func() (Expr, error) { return p.parseChain(false) }
	}
	left, err := term()
	if err != nil {
		return nil, err
	}
	for isKeyword(p.cur(), word) && p.bodyContinues() {
		at := p.advance().pos
		right, err := term()
		if err != nil {
			return nil, err
		}
		left = &Logical{Or: or, Left: left, Right: right, At: at}
	}
	return left, nil
}

// bodyContinues decides, at an -and/-or, whether an unparenthesised
// quantifier body goes on: only if the next term (after any -not and
// opening parentheses) is about the element.
func (p *parser) bodyContinues() bool {
	if !p.inBody {
		return true
	}
	for _, t := range p.toks[p.i+1:] {
		if t.kind == tLParen || isKeyword(t, "not") {
			continue
		}
		return t.kind == tWord && isElementRef(t.raw)
	}
	return false
}

func isElementRef(word string) bool {
	obj, _, _ := strings.Cut(word, ".")
	return word == elemString || strings.EqualFold(obj, elemPlan) || strings.EqualFold(obj, elemGroup)
}

func (p *parser) parseNot() (Expr, error) {
	if t := p.cur(); isKeyword(t, "not") {
		p.advance()
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, At: t.pos}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.cur()
	switch {
	case t.kind == tLParen:
		p.advance()
		saved := p.inBody
		p.inBody = false
		e, err := p.parseOr()
		p.inBody = saved
		if err != nil {
			return nil, err
		}
		if c := p.cur(); c.kind != tRParen {
			return nil, syntaxErr(c.pos, []string{")", "-and", "-or"}, "expected ) to close the ( at line %d, column %d; found %s", t.pos.Line, t.pos.Column, c.describe())
		}
		p.advance()
		return e, nil
	case isKeyword(t, "direct"):
		return nil, invalidErr(t.pos, "a direct reports rule can't be combined with any other membership rule")
	case t.kind == tWord && !isLogicalWord(t.raw):
		return p.parseComparison()
	}
	return nil, syntaxErr(t.pos, []string{"user.<property>", "device.<property>", "(", "-not"},
		"expected a property such as user.department, ( or -not; found %s", t.describe())
}

func isLogicalWord(w string) bool {
	return strings.EqualFold(w, "and") || strings.EqualFold(w, "or")
}

func (p *parser) parseComparison() (Expr, error) {
	pt := p.advance()
	prop, err := parseProperty(pt)
	if err != nil {
		return nil, err
	}
	ot := p.cur()
	if ot.kind != tDash && ot.kind != tWord {
		return nil, syntaxErr(ot.pos, allOperators(), "expected an operator such as -eq after %s; found %s", pt.raw, ot.describe())
	}
	word := strings.ToLower(ot.val)
	if ot.kind == tWord {
		word = strings.ToLower(ot.raw)
	}
	switch word {
	case "any", "all":
		p.advance()
		return p.parseQuantifier(prop, word == "all", ot.pos)
	case "not":
		if n := p.toks[p.i+1]; n.kind == tWord && (strings.EqualFold(n.raw, "null") || strings.EqualFold(n.raw, "$null")) {
			return nil, invalidErr(ot.pos, "-not can't be used to compare with null; write %s -ne null", pt.raw)
		}
		return nil, invalidErr(ot.pos, "-not is a logical operator and can't compare %s with a value; use -ne, -notIn, -notContains, …", pt.raw)
	}
	op, ok := operatorsByWord[word]
	if !ok {
		if ot.kind == tDash {
			return nil, syntaxErr(ot.pos, allOperators(), "unknown operator %s after %s", ot.raw, pt.raw)
		}
		return nil, syntaxErr(ot.pos, allOperators(), "expected an operator such as -eq after %s; found %s (strings need quotes)", pt.raw, ot.describe())
	}
	p.advance()
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Comparison{Property: prop, Op: op, Value: v, At: pt.pos, OpAt: ot.pos}, nil
}

// parseProperty splits "user.department" into object and name. Names are
// resolved (and their spelling normalised) by validate.
func parseProperty(t token) (Property, error) {
	if t.raw == elemString {
		return Property{Object: elemString, At: t.pos}, nil
	}
	expected := []string{"user.<property>", "device.<property>"}
	obj, name, ok := strings.Cut(t.raw, ".")
	switch {
	case !ok:
		return Property{}, syntaxErr(t.pos, expected,
			"expected a property written as <object>.<property>, such as user.%s or device.%s; found %s", t.raw, t.raw, t.describe())
	case obj == "" || name == "":
		return Property{}, syntaxErr(t.pos, expected, "expected a property written as <object>.<property>, such as user.department; found %s", t.describe())
	}
	return Property{Object: obj, Name: name, At: t.pos}, nil
}

func (p *parser) parseQuantifier(prop Property, all bool, at Pos) (Expr, error) {
	if p.quantified {
		return nil, invalidErr(at, "-any and -all can't be nested")
	}
	savedBody, savedQ := p.inBody, p.quantified
	p.inBody, p.quantified = true, true
	body, err := p.parseOr()
	p.inBody, p.quantified = savedBody, savedQ
	if err != nil {
		return nil, err
	}
	return &Quantifier{Property: prop, All: all, Body: body, At: prop.At}, nil
}

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

func (p *parser) parseValue() (Value, error) {
	t := p.cur()
	switch t.kind {
	case tString:
		p.advance()
		return Value{Kind: ValueString, Text: t.val, At: t.pos}, nil
	case tLiteral:
		p.advance()
		if numberRE.MatchString(t.raw) {
			return Value{Kind: ValueNumber, Text: t.raw, At: t.pos}, nil
		}
		if _, ok := parseDate(t.raw); ok {
			return Value{Kind: ValueDate, Text: t.raw, At: t.pos}, nil
		}
		return Value{}, syntaxErr(t.pos, []string{"number", "date"}, "%s is neither a number nor a date such as 2020-06-10T18:13:20Z", t.describe())
	case tLBracket:
		return p.parseList()
	case tWord:
		switch w := strings.ToLower(t.raw); w {
		case "true", "false":
			p.advance()
			return Value{Kind: ValueBool, Text: w, At: t.pos}, nil
		case "null", "$null":
			p.advance()
			return Value{Kind: ValueNull, At: t.pos}, nil
		case "system.now":
			p.advance()
			return p.parseNowOffset(t.pos)
		}
		return Value{}, syntaxErr(t.pos, valueHints, "expected a value; found %s (string values need quotes: %s)", t.describe(), quote(t.raw))
	}
	return Value{}, syntaxErr(t.pos, valueHints, "expected a value (a quoted string, number, true, false, null, date, system.now or [list]); found %s", t.describe())
}

var valueHints = []string{`"string"`, "number", "true", "false", "null", "date", "system.now", "[list]"}

// parseNowOffset reads the optional "-plus p1d" after system.now. -minus is
// accepted too, for "hired in the last 30 days" without negative durations.
func (p *parser) parseNowOffset(at Pos) (Value, error) {
	v := Value{Kind: ValueNow, At: at}
	t := p.cur()
	minus := isKeyword(t, "minus")
	if !minus && !isKeyword(t, "plus") {
		return v, nil
	}
	p.advance()
	d := p.cur()
	text := d.raw
	if d.kind == tDash { // -plus -p30d
		minus, text = !minus, d.val
	} else if d.kind != tWord {
		text = ""
	}
	dur, ok := parseDuration(text)
	if !ok {
		return Value{}, syntaxErr(d.pos, []string{"P1D", "PT12H", "P1Y2M3DT4H5M6S"}, "expected an ISO 8601 duration such as p1d after %s; found %s", t.raw, d.describe())
	}
	p.advance()
	v.Offset = dur.String()
	if minus && !dur.zero() {
		v.Offset = "-" + v.Offset
	}
	return v, nil
}

func (p *parser) parseList() (Value, error) {
	open := p.advance()
	v := Value{Kind: ValueList, At: open.pos}
	if p.cur().kind == tRBracket {
		p.advance()
		return v, nil
	}
	for {
		t := p.cur()
		if t.kind == tLBracket {
			return Value{}, syntaxErr(t.pos, valueHints, "lists can't contain lists")
		}
		item, err := p.parseValue()
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
		switch c := p.advance(); c.kind {
		case tComma:
		case tRBracket:
			return v, nil
		default:
			return Value{}, syntaxErr(c.pos, []string{",", "]"}, "expected , or ] in the list opened at line %d, column %d; found %s", open.pos.Line, open.pos.Column, c.describe())
		}
	}
}
