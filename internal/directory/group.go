package directory

import (
	"slices"
	"time"
)

// Group is an Entra group. Kind is derived from the Graph flags rather than
// stored so that it can never disagree with them.
type Group struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenant_id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	Mail        string `json:"mail,omitempty"`
	// MailNickname is required by Graph on create; kept for round-tripping.
	MailNickname    string   `json:"mailNickname,omitempty"`
	MailEnabled     bool     `json:"mailEnabled"`
	SecurityEnabled bool     `json:"securityEnabled"`
	GroupTypes      []string `json:"groupTypes,omitempty"` // "Unified", "DynamicMembership"
	// MembershipRule is the Entra dynamic membership rule; non-empty only for
	// dynamic groups, whose members are never changed by hand.
	MembershipRule                string `json:"membershipRule,omitempty"`
	MembershipRuleProcessingState string `json:"membershipRuleProcessingState,omitempty"` // On or Paused

	// AssignedLicenses are the SKUs Entra assigns to members through
	// group-based licensing; a non-empty list makes this a license group.
	AssignedLicenses       []AssignedLicense `json:"assignedLicenses,omitempty"`
	LicenseProcessingState string            `json:"licenseProcessingState,omitempty"`

	OwnerIDs []string `json:"ownerIds,omitempty"`

	// Categories and ITShopOnly are allot's own attributes, not Graph's.
	Categories Categories `json:"categories,omitempty"`
	// ITShopOnly groups are obtained only through an IT shop request, never
	// by direct assignment.
	ITShopOnly bool `json:"itShopOnly,omitempty"`

	CreatedDateTime *time.Time `json:"createdDateTime,omitempty"`
	Deleted         bool       `json:"deleted,omitempty"`
	DeletedAt       *time.Time `json:"deletedAt,omitempty"`
}

// GroupKind classifies a group the way the Entra admin center does.
type GroupKind string

// The kinds of group Entra distinguishes.
const (
	GroupSecurity              GroupKind = "security"
	GroupMailEnabledSecurity   GroupKind = "mail-enabled-security"
	GroupDistribution          GroupKind = "distribution"
	GroupMicrosoft365          GroupKind = "microsoft365"
	GroupUnknown               GroupKind = "unknown"
	groupTypeUnified                     = "Unified"
	groupTypeDynamicMembership           = "DynamicMembership"
)

// Kind derives the group's kind from groupTypes, mailEnabled and securityEnabled.
func (g *Group) Kind() GroupKind {
	switch {
	case slices.Contains(g.GroupTypes, groupTypeUnified):
		return GroupMicrosoft365
	case g.SecurityEnabled && g.MailEnabled:
		return GroupMailEnabledSecurity
	case g.SecurityEnabled:
		return GroupSecurity
	case g.MailEnabled:
		return GroupDistribution
	}
	return GroupUnknown
}

// IsDynamic reports whether membership is computed by Entra from a rule.
func (g *Group) IsDynamic() bool { return slices.Contains(g.GroupTypes, groupTypeDynamicMembership) }

// IsLicenseGroup reports whether the group carries group-based licenses.
func (g *Group) IsLicenseGroup() bool { return len(g.AssignedLicenses) > 0 }

// MemberType is the kind of directory object in a membership.
type MemberType string

// The member types allot tracks. Devices and service principals can be group
// members in Entra; they are kept so counts match, but never licensed.
const (
	MemberUser             MemberType = "user"
	MemberGroup            MemberType = "group"
	MemberDevice           MemberType = "device"
	MemberServicePrincipal MemberType = "servicePrincipal"
	MemberOrgContact       MemberType = "orgContact"
)

// MemberTypeFromODataType maps "#microsoft.graph.user" and friends to a MemberType.
func MemberTypeFromODataType(t string) MemberType {
	switch t {
	case "#microsoft.graph.user":
		return MemberUser
	case "#microsoft.graph.group":
		return MemberGroup
	case "#microsoft.graph.device":
		return MemberDevice
	case "#microsoft.graph.servicePrincipal":
		return MemberServicePrincipal
	case "#microsoft.graph.orgContact":
		return MemberOrgContact
	}
	return MemberType(t)
}

// Membership is one direct (non-transitive) member of a group. Transitive
// membership is computed by the engine, never stored, so it cannot go stale.
type Membership struct {
	TenantID   string     `json:"tenant_id"`
	GroupID    string     `json:"group_id"`
	MemberID   string     `json:"member_id"`
	MemberType MemberType `json:"member_type"`
}
