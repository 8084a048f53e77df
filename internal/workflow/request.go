package workflow

import (
	"errors"
	"fmt"
	"slices"

	"github.com/allot-dev/allot/internal/directory"
)

// Operation is what a request asks for.
type Operation string

// The operations a request can carry.
const (
	AddGroupMember    Operation = "add_group_member"
	RemoveGroupMember Operation = "remove_group_member"
	AddLicense        Operation = "add_license"
	RemoveLicense     Operation = "remove_license"
	CreateUser        Operation = "create_user"
	UpdateUser        Operation = "update_user"
	DisableUser       Operation = "disable_user"
	ConvertMailbox    Operation = "convert_mailbox"
)

var operations = []Operation{AddGroupMember, RemoveGroupMember, AddLicense, RemoveLicense, CreateUser, UpdateUser,
	DisableUser, ConvertMailbox}

// Removal reports whether the operation takes something away.
func (o Operation) Removal() bool { return o == RemoveGroupMember || o == RemoveLicense }

// Origin says where a request came from.
type Origin string

// The origins of requests.
const (
	FromPool   Origin = "pool"
	FromShop   Origin = "shop"
	FromSCIM   Origin = "scim"
	FromWizard Origin = "wizard"
	FromAPI    Origin = "api"
)

var origins = []Origin{FromPool, FromShop, FromSCIM, FromWizard, FromAPI}

// TargetType is the kind of object a request changes.
type TargetType string

// Target types: membership requests change a group, all others a user.
const (
	TargetUser  TargetType = "user"
	TargetGroup TargetType = "group"
)

// Request is one requested change, as submitters build it.
type Request struct {
	Initiator Principal `json:"initiator"`
	Origin    Origin    `json:"origin"`
	Operation Operation `json:"operation"`
	// UserID is the user the request concerns: the member to add or
	// remove, the user to license, update, disable or whose mailbox to
	// convert. Empty only for CreateUser.
	UserID  string `json:"userId,omitempty"`
	GroupID string `json:"groupId,omitempty"`
	// Licenses are the SKUs of a license request, with disabled plans.
	Licenses []directory.AssignedLicense `json:"licenses,omitempty"`
	// Properties are Graph user properties for CreateUser and UpdateUser.
	Properties map[string]any `json:"properties,omitempty"`
	// MailboxType is the target type of ConvertMailbox ("Shared" or "Regular").
	MailboxType string `json:"mailboxType,omitempty"`
	// Pool names the license pool whose plan proposed the request.
	Pool string `json:"pool,omitempty"`
	// RemovalApproval is set when that pool requires approval of removals.
	RemovalApproval bool   `json:"removalApproval,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

// Target returns the type and id of the object the request changes.
func (r *Request) Target() (TargetType, string) {
	if r.Operation == AddGroupMember || r.Operation == RemoveGroupMember {
		return TargetGroup, r.GroupID
	}
	return TargetUser, r.UserID
}

// scope is what the access check and approver lookup see.
func (r *Request) scope() Scope { return Scope{Pool: r.Pool, GroupID: r.GroupID, UserID: r.UserID} }

// ErrInvalidRequest is wrapped by every validation error of a submission.
var ErrInvalidRequest = errors.New("invalid request")

// FieldError names the request (by its position in the batch) and the field
// that is wrong.
type FieldError struct {
	Index int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("request %d: %s: %s", e.Index+1, e.Field, e.Msg)
}

func (e *FieldError) Unwrap() error { return ErrInvalidRequest }

func (r *Request) validate(i int) error {
	bad := func(field, msg string, args ...any) error {
		return &FieldError{Index: i, Field: field, Msg: fmt.Sprintf(msg, args...)}
	}
	switch {
	case r.Initiator.ID == "":
		return bad("initiator", "is required")
	case !slices.Contains(origins, r.Origin):
		return bad("origin", "%q is not one of pool, shop, scim, wizard, api", r.Origin)
	case !slices.Contains(operations, r.Operation):
		return bad("operation", "%q is not a known operation", r.Operation)
	case r.Operation != CreateUser && r.UserID == "":
		return bad("userId", "is required for %s", r.Operation)
	}
	switch r.Operation {
	case AddGroupMember, RemoveGroupMember:
		if r.GroupID == "" {
			return bad("groupId", "is required for %s", r.Operation)
		}
	case AddLicense, RemoveLicense:
		if len(r.Licenses) == 0 {
			return bad("licenses", "at least one SKU is required for %s", r.Operation)
		}
		for j, l := range r.Licenses {
			if l.SkuID == "" {
				return bad(fmt.Sprintf("licenses[%d].skuId", j), "is required")
			}
		}
	case CreateUser, UpdateUser:
		if len(r.Properties) == 0 {
			return bad("properties", "are required for %s", r.Operation)
		}
	case ConvertMailbox:
		if r.MailboxType != "Shared" && r.MailboxType != "Regular" {
			return bad("mailboxType", "%q is not Shared or Regular", r.MailboxType)
		}
	}
	return nil
}
