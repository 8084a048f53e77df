package rule

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors let callers tell a rule that cannot be read (ErrSyntax)
// from one that reads fine but that Entra would refuse or that allot cannot
// evaluate (ErrInvalid), without parsing messages.
var (
	ErrSyntax  = errors.New("rule syntax error")
	ErrInvalid = errors.New("invalid rule")
)

// MaxLength is Entra's limit on the body of a membership rule, in characters.
const MaxLength = 3072

// Error is a problem at a position in a rule. Line and Column are 1-based and
// count characters (not bytes), so they point where an editor's cursor would.
// Expected lists what would have been accepted at that position, when there
// is a short answer, so tools can offer completions.
type Error struct {
	Line     int
	Column   int
	Message  string
	Expected []string

	kind error // ErrSyntax or ErrInvalid
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Unwrap makes errors.Is(err, ErrSyntax) and errors.Is(err, ErrInvalid) work.
func (e *Error) Unwrap() error { return e.kind }

func syntaxErr(p Pos, expected []string, format string, args ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Message: fmt.Sprintf(format, args...), Expected: expected, kind: ErrSyntax}
}

func invalidErr(p Pos, format string, args ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Message: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

// oneOf renders a short "a, b or c" list for messages.
func oneOf(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
