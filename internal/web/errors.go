package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/rule"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Error is an HTTP-visible failure: a status, a stable machine code and a
// message for people. API clients receive it as
// {"error":{"code":…,"message":…}}.
type Error struct {
	Status  int
	Code    string
	Message string
	// Fields lists per-field problems of a rejected document (pool specs).
	Fields []FieldProblem
	// RetryAfter, in seconds, is sent as Retry-After with a 429.
	RetryAfter int
}

// FieldProblem is one invalid field, by path (pools[0].assignments.rules[1]).
type FieldProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

var (
	errNotImplemented = func(what string) *Error {
		return errorf(http.StatusNotImplemented, "not_implemented", what)
	}
	errCSRF = errorf(http.StatusForbidden, "csrf", "missing or wrong CSRF token: reload the page and try again")
)

// asError maps package errors to HTTP errors. Anything unknown is a 500
// whose details stay in the server log.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var denied *access.DeniedError
	var verr *engine.ValidationError
	var rerr *rule.Error
	switch {
	case errors.As(err, &denied):
		return errorf(http.StatusForbidden, "forbidden", denied.Error())
	case errors.Is(err, access.ErrPasswordChangeRequired):
		return errorf(http.StatusForbidden, "password_change_required", "change your one-time password first")
	case errors.Is(err, access.ErrUnauthenticated):
		return errorf(http.StatusUnauthorized, "unauthenticated", err.Error())
	case errors.As(err, &verr):
		e := errorf(http.StatusUnprocessableEntity, "invalid", err.Error())
		for _, fe := range verr.Errs {
			fp := FieldProblem{Path: fe.Path, Message: fe.Msg, Line: fe.Line}
			if errors.As(fe.Err, &rerr) {
				fp.Line, fp.Column = rerr.Line, rerr.Column
			}
			e.Fields = append(e.Fields, fp)
		}
		return e
	case errors.As(err, &rerr):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error(),
			Fields: []FieldProblem{{Path: "rule", Message: rerr.Message, Line: rerr.Line, Column: rerr.Column}}}
	case errors.Is(err, access.ErrInvalid), errors.Is(err, directory.ErrInvalid), errors.Is(err, engine.ErrInvalidPolicy):
		return errorf(http.StatusUnprocessableEntity, "invalid", err.Error())
	case errors.Is(err, engine.ErrUnresolved):
		return errorf(http.StatusUnprocessableEntity, "unresolved", err.Error())
	case errors.Is(err, warehouse.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, warehouse.ErrAlreadyExists):
		return errorf(http.StatusConflict, "conflict", err.Error())
	}
	return errorf(http.StatusInternalServerError, "internal", "internal error; the server log has details")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAPIError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		// RFC 6750: say which scheme would work (Prometheus and curl users
		// see it first).
		w.Header().Set("WWW-Authenticate", `Bearer realm="allot"`)
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	writeJSON(w, e.Status, map[string]any{"error": body})
}
