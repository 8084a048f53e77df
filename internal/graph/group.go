package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// GroupSelect is every group property licensing and rules read.
var GroupSelect = []string{
	"id", "displayName", "description", "mail", "mailNickname", "mailEnabled", "securityEnabled",
	"groupTypes", "membershipRule", "membershipRuleProcessingState", "onPremisesSyncEnabled",
	"assignedLicenses", "licenseProcessingState", "createdDateTime",
}

// MemberSelect keeps member pages small: the id and @odata.type (always
// returned) are all a membership row needs.
var MemberSelect = []string{"id"}

// MaxBindPerPatch is how many members Graph accepts in one
// members@odata.bind PATCH.
const MaxBindPerPatch = 20

const (
	opListGroups            = "ListGroups"
	opListMembers           = "ListMembers"
	opListTransitiveMembers = "ListTransitiveMembers"
	opAddMember             = "AddMember"
	opAddMembers            = "AddMembers"
	opRemoveMember          = "RemoveMember"
	opAssignGroupLicense    = "AssignGroupLicense"

	permGroupRead          = "GroupMember.Read.All"
	permGroupMemberWrite   = "GroupMember.ReadWrite.All"
	permGroupLicenseAssign = "LicenseAssignment.ReadWrite.All (or Group.ReadWrite.All)"

	// maxPageTop is the largest $top of /groups and member listings.
	maxPageTop = 999
)

// GroupListOptions shape a groups listing; the zero value lists every group
// with GroupSelect.
type GroupListOptions struct {
	Select   []string
	Filter   string
	Eventual bool
}

// ListGroups streams groups page by page.
func (c *Client) ListGroups(ctx context.Context, opt GroupListOptions, fn PageFunc[Group]) error {
	sel := opt.Select
	if sel == nil {
		sel = GroupSelect
	}
	q := Query{Op: opListGroups, Path: "/groups", Eventual: opt.Eventual, Permission: permGroupRead,
		Params: url.Values{"$select": {strings.Join(sel, ",")}, "$top": {strconv.Itoa(maxPageTop)}}}
	if opt.Filter != "" {
		q.Params.Set("$filter", opt.Filter)
	}
	_, err := forEachPage(ctx, c, q, fn)
	return err
}

// ListMembers streams a group's direct members.
func (c *Client) ListMembers(ctx context.Context, groupID string, fn PageFunc[DirectoryObject]) error {
	return c.listMembers(ctx, opListMembers, "/members", groupID, fn)
}

// ListTransitiveMembers streams a group's members including those of nested
// groups (nested groups themselves are listed too).
func (c *Client) ListTransitiveMembers(ctx context.Context, groupID string, fn PageFunc[DirectoryObject]) error {
	return c.listMembers(ctx, opListTransitiveMembers, "/transitiveMembers", groupID, fn)
}

func (c *Client) listMembers(ctx context.Context, op, rel, groupID string, fn PageFunc[DirectoryObject]) error {
	if err := needID(op, "group id", groupID); err != nil {
		return err
	}
	_, err := forEachPage(ctx, c, Query{Op: op, Path: "/groups/" + url.PathEscape(groupID) + rel, Permission: permGroupRead,
		Params: url.Values{"$select": {strings.Join(MemberSelect, ",")}, "$top": {strconv.Itoa(maxPageTop)}}}, fn)
	return err
}

// objectRef is the @odata.id Graph wants for a member reference.
func (c *Client) objectRef(id string) string {
	return c.cfg.graphBase.String() + "/directoryObjects/" + url.PathEscape(id)
}

// AddMember adds one directory object to a group. If it is already a member
// the error satisfies IsAlreadyMember, which callers treat as done.
func (c *Client) AddMember(ctx context.Context, groupID, memberID string) error {
	if err := needIDs(opAddMember, groupID, memberID); err != nil {
		return err
	}
	return c.post(ctx, opAddMember, permGroupMemberWrite, "/groups/"+url.PathEscape(groupID)+"/members/$ref",
		map[string]string{"@odata.id": c.objectRef(memberID)}, nil)
}

// RemoveMember removes one directory object from a group. If it is not a
// member the error satisfies IsNotMember, which callers treat as done.
func (c *Client) RemoveMember(ctx context.Context, groupID, memberID string) error {
	if err := needIDs(opRemoveMember, groupID, memberID); err != nil {
		return err
	}
	cl, err := c.newCall(opRemoveMember, permGroupMemberWrite, http.MethodDelete,
		"/groups/"+url.PathEscape(groupID)+"/members/"+url.PathEscape(memberID)+"/$ref", nil, nil)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, cl)
	return err
}

// AddMembers adds many objects to a group with members@odata.bind PATCHes of
// up to MaxBindPerPatch each, a twentieth of the writes of one-by-one adds.
// Graph fails a whole PATCH when any one object is already a member; that
// chunk is then retried one by one and existing members count as added. It
// returns how many ids are now confirmed members; on error, those before the
// failing chunk are.
func (c *Client) AddMembers(ctx context.Context, groupID string, memberIDs []string) (int, error) {
	if err := needID(opAddMembers, "group id", groupID); err != nil {
		return 0, err
	}
	ids := make([]string, 0, len(memberIDs))
	seen := make(map[string]bool, len(memberIDs))
	for _, id := range memberIDs {
		if err := needID(opAddMembers, "member id", id); err != nil {
			return 0, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	done := 0
	for chunk := range slices.Chunk(ids, MaxBindPerPatch) {
		refs := make([]string, len(chunk))
		for i, id := range chunk {
			refs[i] = c.objectRef(id)
		}
		cl, err := c.newCall(opAddMembers, permGroupMemberWrite, http.MethodPatch, "/groups/"+url.PathEscape(groupID), nil,
			map[string][]string{"members@odata.bind": refs})
		if err != nil {
			return done, err
		}
		_, err = c.do(ctx, cl)
		if IsAlreadyMember(err) {
			err = c.addOneByOne(ctx, groupID, chunk)
		}
		if err != nil {
			return done, fmt.Errorf("graph: %s: %d of %d added before: %w", opAddMembers, done, len(ids), err)
		}
		done += len(chunk)
	}
	return done, nil
}

func (c *Client) addOneByOne(ctx context.Context, groupID string, ids []string) error {
	for _, id := range ids {
		if err := c.AddMember(ctx, groupID, id); err != nil && !IsAlreadyMember(err) {
			return err
		}
	}
	return nil
}

// AssignGroupLicense sets group-based licenses. Graph accepts it (202) and
// applies it to members asynchronously; per-member failures appear later in
// the members' licenseAssignmentStates, not here.
func (c *Client) AssignGroupLicense(ctx context.Context, groupID string, add []AssignedLicense, remove []string) error {
	if err := needID(opAssignGroupLicense, "group id", groupID); err != nil {
		return err
	}
	return c.post(ctx, opAssignGroupLicense, permGroupLicenseAssign, "/groups/"+url.PathEscape(groupID)+"/assignLicense",
		assignLicenseBody(add, remove), nil)
}

func needIDs(op, groupID, memberID string) error {
	if err := needID(op, "group id", groupID); err != nil {
		return err
	}
	return needID(op, "member id", memberID)
}
