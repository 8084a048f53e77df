package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors let callers tell bad policy apart from bad state.
var (
	// ErrInvalidPolicy is wrapped by every policy validation failure.
	ErrInvalidPolicy = errors.New("invalid policy")
	// ErrUnresolved is wrapped when a policy names a group, SKU or service
	// plan that the snapshot does not contain (or names ambiguously).
	ErrUnresolved = errors.New("unresolved reference")
	// ErrUnknownUser is returned by single-user re-planning for an id the
	// snapshot does not hold.
	ErrUnknownUser = errors.New("unknown user")
)

// FieldError is one problem in a policy document, located by field path
// (pools[1].assignments.rules[0]) and, when parsed from a file, by file and
// line, so an operator can jump straight to it.
type FieldError struct {
	File string
	Line int
	Path string
	Msg  string
	Err  error // underlying cause, e.g. a rule syntax error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPolicy, e.Err}
	}
	return []error{ErrInvalidPolicy}
}

// ValidationError carries every FieldError found, so one run of `allot apply`
// reports all mistakes in a file instead of one per attempt.
type ValidationError struct {
	Errs []*FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "\n")
}

func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, fe := range e.Errs {
		out[i] = fe
	}
	return out
}
