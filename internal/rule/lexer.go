package rule

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in rule text: 1-based line and column counted in
// characters, and the byte offset for slicing.
type Pos struct {
	Line   int
	Column int
	Offset int
}

type tokKind int

const (
	tEOF      tokKind = iota
	tLParen           // (
	tRParen           // )
	tLBracket         // [
	tRBracket         // ]
	tComma            // ,
	tDash             // -word: an operator spelled with a hyphen (or an EN/EM dash, as the docs do)
	tWord             // a bare word: property path, keyword, operator without hyphen, true/false/null
	tString           // a quoted string; val holds the decoded text
	tLiteral          // a bare number or date, such as 42 or 2020-06-10T18:13:20Z
)

type token struct {
	kind tokKind
	raw  string // the text as written
	val  string // decoded string, or the operator word without its dash
	pos  Pos
}

// describe names a token for "found …" in error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of rule"
	case tString:
		return "string " + t.raw
	}
	return "\"" + t.raw + "\""
}

// isDash accepts the hyphen and the dashes that word processors substitute for
// it; the official docs themselves contain "–eq" with an EN DASH.
func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '−' }

func isWordRune(r rune) bool {
	return r == '_' || r == '.' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isLiteralRune(r rune) bool {
	return r == '.' || r == ':' || r == '+' || r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

var punctuation = map[rune]tokKind{'(': tLParen, ')': tRParen, '[': tLBracket, ']': tRBracket, ',': tComma}

type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Column: l.col, Offset: l.off} }

func (l *lexer) peek() (rune, int) {
	if l.off >= len(l.src) {
		return utf8.RuneError, 0
	}
	return utf8.DecodeRuneInString(l.src[l.off:])
}

func (l *lexer) next() rune {
	r, n := l.peek()
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

// lex turns the whole rule into tokens up front; the parser needs two tokens
// of lookahead to decide where an unparenthesised -any body ends.
func lex(src string) ([]token, error) {
	if !utf8.ValidString(src) {
		return nil, invalidUTF8(src)
	}
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		t, err := l.token()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (l *lexer) token() (token, error) {
	for {
		r, n := l.peek()
		if n == 0 || !unicode.IsSpace(r) {
			break
		}
		l.next()
	}
	start := l.pos()
	r, n := l.peek()
	if n == 0 {
		return token{kind: tEOF, pos: start}, nil
	}
	if k, ok := punctuation[r]; ok {
		l.next()
		return l.tok(k, start, ""), nil
	}
	switch {
	case isDash(r):
		l.next()
		r2, _ := l.peek()
		switch {
		case unicode.IsLetter(r2):
			for r, n := l.peek(); n > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)); r, n = l.peek() {
				l.next()
			}
			t := l.tok(tDash, start, "")
			_, dn := utf8.DecodeRuneInString(t.raw)
			t.val = t.raw[dn:]
			return t, nil
		case unicode.IsDigit(r2):
			return l.literal(start), nil
		}
		return token{}, syntaxErr(start, []string{"an operator such as -eq"}, "a dash must start an operator such as -eq or a negative number")
	case r == '"' || r == '\'':
		return l.quoted(start, r)
	case r == '`':
		return l.backtickWord(start), nil
	case unicode.IsDigit(r) || r == '+':
		return l.literal(start), nil
	case isWordRune(r):
		for r, n := l.peek(); n > 0 && isWordRune(r); r, n = l.peek() {
			l.next()
		}
		return l.tok(tWord, start, ""), nil
	case strings.ContainsRune("“”„‘’‚", r):
		return token{}, syntaxErr(start, []string{`"`, `'`}, "typographic quote %q cannot delimit a string; use \" or '", r)
	}
	return token{}, syntaxErr(start, nil, "unexpected character %q", r)
}

func (l *lexer) tok(k tokKind, start Pos, val string) token {
	return token{kind: k, raw: l.src[start.Offset:l.off], val: val, pos: start}
}

func (l *lexer) literal(start Pos) token {
	for r, n := l.peek(); n > 0 && isLiteralRune(r); r, n = l.peek() {
		l.next()
	}
	t := l.tok(tLiteral, start, "")
	t.val = t.raw
	return t
}

// quoted reads a string delimited by q. In "…", a backtick escapes a double
// quote or another backtick (PowerShell's escape character, which the docs
// use as `"Sales`"); any other backtick and every backslash are literal, so
// regular expressions such as "\d+" need no doubling. In '…', two single
// quotes stand for one, as the docs say, and nothing else is special.
func (l *lexer) quoted(start Pos, q rune) (token, error) {
	l.next()
	var b strings.Builder
	for {
		r, n := l.peek()
		if n == 0 {
			return token{}, syntaxErr(start, []string{string(q)}, "string is not closed; expected a closing %c for the quote opened here", q)
		}
		l.next()
		next, _ := l.peek()
		switch {
		case q == '"' && r == '`' && (next == '"' || next == '`'),
			q == '\'' && r == '\'' && next == '\'':
			l.next()
			r = next
		case r == q:
			return l.tok(tString, start, b.String()), nil
		}
		b.WriteRune(r)
	}
}

// backtickWord reads an unquoted value written with escaped quotes, the
// docs' own example `"Sales`" (whose value is "Sales", quotes included).
func (l *lexer) backtickWord(start Pos) token {
	var b strings.Builder
	for r, n := l.peek(); n > 0 && !unicode.IsSpace(r) && !strings.ContainsRune("()[],", r); r, n = l.peek() {
		l.next()
		if r == '`' {
			if r2, n2 := l.peek(); n2 > 0 {
				l.next()
				b.WriteRune(r2)
				continue
			}
		}
		b.WriteRune(r)
	}
	return l.tok(tString, start, b.String())
}

// invalidUTF8 reports the first byte that isn't UTF-8: rules are text, and
// a replacement character would silently change a compared value.
func invalidUTF8(src string) error {
	l := &lexer{src: src, line: 1, col: 1}
	for {
		if r, n := l.peek(); r == utf8.RuneError && n == 1 {
			return syntaxErr(l.pos(), nil, "invalid UTF-8 byte 0x%02x", src[l.off])
		}
		l.next()
	}
}
