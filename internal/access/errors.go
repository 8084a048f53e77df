package access

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers map them to HTTP statuses and exit codes.
var (
	// ErrUnauthenticated means the credentials (password, session, token)
	// are missing, wrong, expired, revoked or belong to a disabled account.
	// It deliberately does not say which.
	ErrUnauthenticated = errors.New("not signed in or credentials not valid")
	// ErrForbidden means the principal is known but no delegation covers
	// the action on the target.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid is wrapped by errors about bad input (names, roles, scopes,
	// weak passwords).
	ErrInvalid = errors.New("invalid")
	// ErrPasswordChangeRequired means the account must set a new password
	// before it may do anything else.
	ErrPasswordChangeRequired = errors.New("password change required")
)

// DeniedError explains a refused Check: who, what and where. It wraps
// ErrForbidden.
type DeniedError struct {
	Principal string
	Action    Action
	Scope     Scope
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s may not %s on %s", e.Principal, e.Action, e.Scope)
}

func (e *DeniedError) Unwrap() error { return ErrForbidden }
