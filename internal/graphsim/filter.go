package graphsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file implements the subset of OData $filter that Graph's directory
// supports and allot's client uses: comparisons, and/or/not, in,
// startsWith/endsWith, lambda any() over collections and /$count.

type tokKind int

const (
	tkEOF tokKind = iota
	tkWord
	tkString
	tkLParen
	tkRParen
	tkComma
	tkColon
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lexFilter(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tkLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tkRParen, ")", i})
			i++
		case c == ',':
			out = append(out, token{tkComma, ",", i})
			i++
		case c == ':':
			out = append(out, token{tkColon, ":", i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, token{tkString, b.String(), i})
			i = j + 1
		case isWordByte(c):
			j := i
			digit := c >= '0' && c <= '9'
			for j < len(src) && (isWordByte(src[j]) || (digit && (src[j] == ':' || src[j] == '+'))) {
				j++
			}
			out = append(out, token{tkWord, src[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("syntax error: character '%c' is not valid at position %d in '%s'", c, i, src)
		}
	}
	return append(out, token{tkEOF, "", len(src)}), nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '/' || c == '$' || c == '.' || c == '-' || c == '@' || c == '#'
}

// fnode is a parsed filter expression.
type fnode struct {
	op          string // and, or, not, eq, ne, gt, ge, lt, le, in, startswith, endswith, any
	left, right *fnode
	prop        string // property path (lambda variable stripped inside any)
	lit         *flit
	list        []flit
	lambdaVar   string
}

type flit struct {
	kind byte // 's' string, 'b' bool, 'n' null, 'g' guid/bare word, 'i' number, 't' time
	s    string
	b    bool
	i    int64
}

type filterParser struct {
	toks []token
	i    int
	src  string
	// advanced records operators that need ConsistencyLevel: eventual and
	// $count=true (graph.md §1, advanced queries).
	advanced []string
	props    map[string]bool
}

func parseFilter(src string) (*fnode, *filterParser, error) {
	toks, err := lexFilter(src)
	if err != nil {
		return nil, nil, err
	}
	p := &filterParser{toks: toks, src: src, props: map[string]bool{}}
	n, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	if p.peek().kind != tkEOF {
		return nil, nil, fmt.Errorf("syntax error at position %d in '%s'", p.peek().pos, src)
	}
	return n, p, nil
}

func (p *filterParser) peek() token { return p.toks[p.i] }
func (p *filterParser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *filterParser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tkWord && strings.EqualFold(t.text, w)
}

func (p *filterParser) or() (*fnode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &fnode{op: "or", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) and() (*fnode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &fnode{op: "and", left: l, right: r}
	}
	return l, nil
}

func (p *filterParser) unary() (*fnode, error) {
	if p.isWord("not") {
		p.next()
		p.advanced = append(p.advanced, "not")
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &fnode{op: "not", left: n}, nil
	}
	return p.primary()
}

func (p *filterParser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, fmt.Errorf("syntax error: expected %s at position %d in '%s'", what, t.pos, p.src)
	}
	return t, nil
}

func (p *filterParser) primary() (*fnode, error) {
	t := p.peek()
	if t.kind == tkLParen {
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return n, nil
	}
	if t.kind != tkWord {
		return nil, fmt.Errorf("syntax error at position %d in '%s'", t.pos, p.src)
	}
	p.next()
	fn := strings.ToLower(t.text)
	if (fn == "startswith" || fn == "endswith") && p.peek().kind == tkLParen {
		p.next()
		prop, err := p.expect(tkWord, "a property")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkComma, "','"); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		if fn == "endswith" {
			p.advanced = append(p.advanced, "endsWith")
		}
		p.props[prop.text] = true
		return &fnode{op: fn, prop: prop.text, lit: &lit}, nil
	}
	prop := t.text
	// collection/any(x: body)
	if strings.HasSuffix(strings.ToLower(prop), "/any") && p.peek().kind == tkLParen {
		p.next()
		coll := prop[:len(prop)-4]
		v, err := p.expect(tkWord, "a lambda variable")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkColon, "':'"); err != nil {
			return nil, err
		}
		body, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		p.props[coll] = true
		return &fnode{op: "any", prop: coll, left: body, lambdaVar: v.text}, nil
	}
	opTok := p.next()
	if opTok.kind != tkWord {
		return nil, fmt.Errorf("syntax error: expected an operator after '%s' at position %d", prop, opTok.pos)
	}
	op := strings.ToLower(opTok.text)
	p.props[prop] = true
	if strings.HasSuffix(strings.ToLower(prop), "/$count") {
		p.advanced = append(p.advanced, "$count")
	}
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
		if op == "ne" {
			p.advanced = append(p.advanced, "ne")
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return &fnode{op: op, prop: prop, lit: &lit}, nil
	case "in":
		if _, err := p.expect(tkLParen, "'('"); err != nil {
			return nil, err
		}
		var list []flit
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			list = append(list, lit)
			if p.peek().kind == tkComma {
				p.next()
				continue
			}
			break
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return &fnode{op: "in", prop: prop, list: list}, nil
	}
	return nil, fmt.Errorf("syntax error: unknown operator '%s' at position %d", opTok.text, opTok.pos)
}

func (p *filterParser) literal() (flit, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return flit{kind: 's', s: t.text}, nil
	case tkWord:
		lw := strings.ToLower(t.text)
		switch lw {
		case "true", "false":
			return flit{kind: 'b', b: lw == "true"}, nil
		case "null":
			return flit{kind: 'n'}, nil
		}
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return flit{kind: 'i', i: n, s: t.text}, nil
		}
		if ts, err := time.Parse(time.RFC3339, t.text); err == nil {
			return flit{kind: 't', i: ts.Unix(), s: t.text}, nil
		}
		if ts, err := time.Parse("2006-01-02", t.text); err == nil {
			return flit{kind: 't', i: ts.Unix(), s: t.text}, nil
		}
		return flit{kind: 'g', s: t.text}, nil
	}
	return flit{}, fmt.Errorf("syntax error: expected a literal at position %d in '%s'", t.pos, p.src)
}

// val is a property value during evaluation.
type val struct {
	kind byte // 's', 'b', 't', 'i', 'n' (null)
	s    string
	b    bool
	i    int64
}

func sv(s string) val {
	if s == "" {
		return val{kind: 'n'}
	}
	return val{kind: 's', s: s}
}
func bv(b bool) val { return val{kind: 'b', b: b} }
func tv(unix int64) val {
	if unix == 0 {
		return val{kind: 'n'}
	}
	return val{kind: 't', i: unix}
}

// element is one item of a collection property inside any(): sub("") is
// the item itself (string collections), sub("skuId") a member.
type element func(sub string) val

// entity describes the filterable properties of one type.
type entity[T any] struct {
	typeName string
	scalar   map[string]func(t *tenant, v *T) val
	coll     map[string]func(t *tenant, v *T, yield func(element) bool) bool
	// count gives the size of a collection for prop/$count.
	count map[string]func(t *tenant, v *T) int
}

type pred[T any] func(t *tenant, v *T) bool

func compileFilter[T any](n *fnode, ent *entity[T]) (pred[T], error) {
	switch n.op {
	case "and", "or":
		l, err := compileFilter(n.left, ent)
		if err != nil {
			return nil, err
		}
		r, err := compileFilter(n.right, ent)
		if err != nil {
			return nil, err
		}
		if n.op == "and" {
			return func(t *tenant, v *T) bool { return l(t, v) && r(t, v) }, nil
		}
		return func(t *tenant, v *T) bool { return l(t, v) || r(t, v) }, nil
	case "not":
		in, err := compileFilter(n.left, ent)
		if err != nil {
			return nil, err
		}
		return func(t *tenant, v *T) bool { return !in(t, v) }, nil
	case "any":
		it, ok := ent.coll[strings.ToLower(n.prop)]
		if !ok {
			return nil, unknownProp(n.prop, ent.typeName)
		}
		body, err := compileElement(n.left, n.lambdaVar)
		if err != nil {
			return nil, err
		}
		return func(t *tenant, v *T) bool { return it(t, v, body) }, nil
	}
	lp := strings.ToLower(n.prop)
	if strings.HasSuffix(lp, "/$count") {
		cnt, ok := ent.count[strings.TrimSuffix(lp, "/$count")]
		if !ok || n.lit == nil || n.lit.kind != 'i' {
			return nil, unknownProp(n.prop, ent.typeName)
		}
		want := n.lit.i
		cmp := n.op
		return func(t *tenant, v *T) bool { return compareInt(int64(cnt(t, v)), want, cmp) }, nil
	}
	get, ok := ent.scalar[lp]
	if !ok {
		return nil, unknownProp(n.prop, ent.typeName)
	}
	return compileCompare(n, func(t *tenant, v *T) val { return get(t, v) }), nil
}

func compileCompare[T any](n *fnode, get func(t *tenant, v *T) val) pred[T] {
	switch n.op {
	case "startswith":
		lit := n.lit.s
		return func(t *tenant, v *T) bool { x := get(t, v); return x.kind == 's' && hasPrefixFold(x.s, lit) }
	case "endswith":
		lit := n.lit.s
		return func(t *tenant, v *T) bool {
			x := get(t, v)
			return x.kind == 's' && len(x.s) >= len(lit) && strings.EqualFold(x.s[len(x.s)-len(lit):], lit)
		}
	case "in":
		list := n.list
		return func(t *tenant, v *T) bool {
			x := get(t, v)
			for _, l := range list {
				if equalVal(x, l) {
					return true
				}
			}
			return false
		}
	}
	lit, op := *n.lit, n.op
	return func(t *tenant, v *T) bool { return compareVal(get(t, v), lit, op) }
}

func compileElement(n *fnode, lv string) (func(element) bool, error) {
	switch n.op {
	case "and", "or":
		l, err := compileElement(n.left, lv)
		if err != nil {
			return nil, err
		}
		r, err := compileElement(n.right, lv)
		if err != nil {
			return nil, err
		}
		if n.op == "and" {
			return func(e element) bool { return l(e) && r(e) }, nil
		}
		return func(e element) bool { return l(e) || r(e) }, nil
	case "not":
		in, err := compileElement(n.left, lv)
		if err != nil {
			return nil, err
		}
		return func(e element) bool { return !in(e) }, nil
	}
	sub := ""
	switch {
	case strings.EqualFold(n.prop, lv):
	case len(n.prop) > len(lv)+1 && strings.EqualFold(n.prop[:len(lv)+1], lv+"/"):
		sub = n.prop[len(lv)+1:]
	default:
		return nil, fmt.Errorf("the lambda variable '%s' must prefix '%s'", lv, n.prop)
	}
	p := compileCompare(n, func(_ *tenant, e *element) val { return (*e)(sub) })
	return func(e element) bool { return p(nil, &e) }, nil
}

func unknownProp(p, typ string) error {
	return fmt.Errorf("Could not find a property named '%s' on type '%s'.", p, typ)
}

func equalVal(x val, l flit) bool { return compareVal(x, l, "eq") }

func compareVal(x val, l flit, op string) bool {
	if l.kind == 'n' {
		switch op {
		case "eq":
			return x.kind == 'n'
		case "ne":
			return x.kind != 'n'
		}
		return false
	}
	if x.kind == 'n' {
		return op == "ne"
	}
	var c int
	switch x.kind {
	case 's':
		c = strings.Compare(strings.ToLower(x.s), strings.ToLower(l.s))
	case 'b':
		if l.kind != 'b' {
			return false
		}
		if x.b == l.b {
			c = 0
		} else {
			c = 1
		}
		if op != "eq" && op != "ne" {
			return false
		}
	case 't', 'i':
		return compareInt(x.i, l.i, op)
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

func compareInt(a, b int64, op string) bool {
	switch op {
	case "eq":
		return a == b
	case "ne":
		return a != b
	case "gt":
		return a > b
	case "ge":
		return a >= b
	case "lt":
		return a < b
	case "le":
		return a <= b
	}
	return false
}
