package graph

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewErrorReadsGraphEnvelope(t *testing.T) {
	t.Parallel()
	body := []byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.",
		"innerError":{"date":"2025-01-01T00:00:00","request-id":"rid-1","client-request-id":"crid-1"}}}`)
	e := newError("AssignLicense", permLicenseAssign, 403, http.Header{}, body)
	require.Equal(t, "Authorization_RequestDenied", e.Code)
	require.Equal(t, "rid-1", e.RequestID)
	require.Equal(t, "crid-1", e.ClientRequestID)
	require.ErrorIs(t, e, ErrForbidden)
	require.Contains(t, e.Error(), "AssignLicense: 403 Authorization_RequestDenied")
	require.Contains(t, e.Error(), "LicenseAssignment.ReadWrite.All")
	require.Contains(t, e.Error(), "rid-1")

	// Headers win over the body; a non-JSON body still yields a message.
	h := http.Header{"Request-Id": {"hdr-rid"}}
	e = newError("ListUsers", permUserRead, 502, h, []byte("<html>Bad gateway</html>"))
	require.Equal(t, "hdr-rid", e.RequestID)
	require.Equal(t, "<html>Bad gateway</html>", e.Message)
	require.NotContains(t, e.Error(), "User.Read.All", "permission is named on 403 only")
}

func TestErrorSentinels(t *testing.T) {
	t.Parallel()
	wrap := func(e *Error) error { return fmt.Errorf("inventory: %w", e) }
	require.True(t, IsNotFound(wrap(&Error{Status: 404})))
	require.True(t, IsThrottled(wrap(&Error{Status: 429})))
	require.False(t, IsThrottled(wrap(&Error{Status: 503})))
	require.ErrorIs(t, wrap(&Error{Status: 410}), ErrDeltaExpired)
	require.ErrorIs(t, wrap(&Error{Status: 400, Code: "Directory_ExpiredPageToken"}), ErrDeltaExpired)
	require.ErrorIs(t, wrap(&Error{Status: 400, Code: "syncStateNotFound"}), ErrDeltaExpired)
	require.NotErrorIs(t, wrap(&Error{Status: 400, Code: "Request_BadRequest"}), ErrDeltaExpired)
	require.False(t, IsNotFound(errors.New("404")))
}

func TestMembershipIdempotenceHelpers(t *testing.T) {
	t.Parallel()
	already := &Error{Op: opAddMember, Status: 400, Code: "Request_BadRequest",
		Message: "One or more added object references already exist for the following modified properties: 'members'."}
	require.True(t, IsAlreadyMember(already))
	require.False(t, IsAlreadyMember(&Error{Status: 400, Message: "Invalid object identifier"}))

	require.True(t, IsNotMember(&Error{Op: opRemoveMember, Status: 404, Code: "Request_ResourceNotFound"}))
	require.True(t, IsNotMember(&Error{Op: opRemoveMember, Status: 400,
		Message: "One or more removed object references do not exist for the following modified properties: 'members'."}))
	require.False(t, IsNotMember(&Error{Op: opListMembers, Status: 404}), "a missing group on a read is not 'not a member'")
}
