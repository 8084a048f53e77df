package graphsim

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors of the state API. Graph-level failures (what a Graph
// client would see) are *GraphError values instead, so a test can assert the
// exact status and code.
var (
	ErrNotFound      = errors.New("graphsim: object not found")
	ErrAlreadyMember = errors.New("graphsim: already a member")
	ErrNotMember     = errors.New("graphsim: not a member")
	ErrDynamicGroup  = errors.New("graphsim: members of a dynamic group are set by its rule")
)

// GraphError is a failure as Graph reports it: the HTTP status and the
// error envelope's code and message.
type GraphError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph %d %s: %s", e.Status, e.Code, e.Message)
}

func gerr(status int, code, format string, args ...any) *GraphError {
	return &GraphError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *GraphError {
	return gerr(http.StatusBadRequest, "Request_BadRequest", format, args...)
}

func notFound(id string) *GraphError {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

var errDenied = &GraphError{Status: http.StatusForbidden, Code: "Authorization_RequestDenied",
	Message: "Insufficient privileges to complete the operation."}

// writeError renders the standard Graph error envelope (graph.md §11) with
// the innerError block clients log for support cases.
func writeError(w http.ResponseWriter, ri *reqInfo, ge *GraphError) {
	e := newEnc(256)
	e.open()
	e.key("error")
	e.open()
	e.kv("code", ge.Code)
	e.kv("message", ge.Message)
	e.key("innerError")
	e.open()
	if ge.Status == http.StatusTooManyRequests {
		e.kv("code", "429")
	}
	e.kv("date", time.Now().UTC().Format("2006-01-02T15:04:05"))
	if ge.Status == http.StatusTooManyRequests {
		e.kv("message", "Please retry after")
	}
	e.kv("request-id", ri.requestID)
	e.kv("client-request-id", ri.clientRequestID)
	if ge.Status == http.StatusTooManyRequests {
		e.kv("status", "429")
	}
	e.close()
	e.close()
	e.close()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(ge.Status)
	_, _ = w.Write(e.b)
}
