package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels matched by *Error.Is, so callers can write
// errors.Is(err, graph.ErrNotFound) without knowing Graph's codes.
var (
	// ErrNotFound: the object (user, group, member reference) does not exist.
	ErrNotFound = errors.New("graph: not found")
	// ErrThrottled: Graph still answered 429 after every retry.
	ErrThrottled = errors.New("graph: throttled")
	// ErrForbidden: the app lacks a permission (403); *Error.Permission
	// names the one the call needs.
	ErrForbidden = errors.New("graph: forbidden")
	// ErrDeltaExpired: a delta or page token is no longer valid (410 Gone,
	// syncStateNotFound, expired page token). The caller must start a new
	// full round; the old deltaLink is useless.
	ErrDeltaExpired = errors.New("graph: delta token expired")
	// ErrMalformed: Graph answered 2xx with a body that is not the JSON the
	// call expects.
	ErrMalformed = errors.New("graph: malformed response")
	// ErrInvalidInput: the caller passed something no Graph call can
	// accept (an empty id, a sku id that is not a GUID); nothing was sent.
	ErrInvalidInput = errors.New("invalid input")
)

// Error is a non-success answer from Graph (or Exchange), with everything
// needed to act on it or to quote it to Microsoft support.
type Error struct {
	// Op is the call that failed, e.g. "ListUsers" or "AddMember".
	Op     string
	Status int
	// Code and Message are Graph's error.code and error.message.
	Code    string
	Message string
	// RequestID and ClientRequestID identify the request in Microsoft's logs.
	RequestID       string
	ClientRequestID string
	// Permission names the application permission the call needs; it is
	// filled on every error and shown in the message on 403.
	Permission string
	// RetryAfter is the server's requested wait when the error is a
	// throttle that outlasted the retry policy.
	RetryAfter time.Duration
}

// Error formats as "graph: Op: status code: message", naming the missing
// permission on 403 and ending with the request id to quote to Microsoft.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: %s: %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Status == http.StatusForbidden && e.Permission != "" {
		fmt.Fprintf(&b, " (the app needs the application permission %s, admin-consented)", e.Permission)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request-id %s]", e.RequestID)
	}
	return b.String()
}

// Is maps Graph statuses and codes to the package sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrDeltaExpired:
		return e.Status == http.StatusGone || expiredTokenCodes[e.Code]
	}
	return false
}

// expiredTokenCodes are the codes Graph uses when a delta or page token can no
// longer be used (reference/graph.md §1 paging, §4).
var expiredTokenCodes = map[string]bool{
	"syncStateNotFound":                   true,
	"syncStateInvalid":                    true,
	"resyncRequired":                      true,
	"Directory_ExpiredPageToken":          true,
	"DirectoryPageTokenNotFoundException": true,
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsThrottled reports whether err is a throttle that outlasted the retries.
func IsThrottled(err error) bool { return errors.Is(err, ErrThrottled) }

// IsAlreadyMember reports whether an add-member call failed only because the
// object is already a member, which a caller reconciling membership treats
// as done (reference/graph.md §2).
func IsAlreadyMember(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest &&
		strings.Contains(e.Message, "added object references already exist")
}

// IsNotMember reports whether a remove-member call failed only because the
// object is not (or no longer) a member. Graph answers either 404 or 400
// "removed object references do not exist" (reference/graph.md §2); both
// mean the desired state already holds.
func IsNotMember(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return (e.Status == http.StatusNotFound && e.Op == opRemoveMember) ||
		(e.Status == http.StatusBadRequest && strings.Contains(e.Message, "removed object references do not exist"))
}

// errorEnvelope is Graph's error body.
type errorEnvelope struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newError builds an *Error from a failed response. Bodies that are not
// Graph's envelope (a proxy's HTML page) still yield a useful error.
func newError(op, permission string, status int, h http.Header, body []byte) *Error {
	e := &Error{Op: op, Status: status, Permission: permission,
		RequestID: h.Get("request-id"), ClientRequestID: h.Get("client-request-id")}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		if e.RequestID == "" {
			e.RequestID = env.Error.InnerError.RequestID
		}
		if e.ClientRequestID == "" {
			e.ClientRequestID = env.Error.InnerError.ClientRequestID
		}
	} else {
		e.Message = strings.TrimSpace(string(truncate(body, 200)))
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
