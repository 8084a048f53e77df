package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const (
	opUsersDelta  = "UsersDelta"
	opGroupsDelta = "GroupsDelta"
)

// UserDeltaSelect is what a users/delta round tracks. licenseAssignmentStates
// is absent on purpose: delta does not track it (reference/graph.md §4), so
// the inventory reads license states separately, by a listing of licensed
// users or by id.
var UserDeltaSelect = slices.DeleteFunc(slices.Clone(UserSelect), func(p string) bool { return p == "licenseAssignmentStates" })

// GroupDeltaSelect tracks group properties and, through "members",
// membership changes as members@delta.
var GroupDeltaSelect = append(slices.Clone(GroupSelect), "members")

// DeltaOptions start or continue a delta round.
type DeltaOptions struct {
	// Link is the deltaLink returned by the previous round, or a nextLink
	// saved mid-round. Empty starts a full round.
	Link string
	// Select replaces the default tracked properties of a new round
	// (ignored with Link: the link encodes them).
	Select []string
}

// UsersDelta runs one users/delta round: it follows nextLinks until Graph
// returns a deltaLink, and returns that link for the next round. Deleted
// users arrive with Removed set. If the link has expired the error
// satisfies errors.Is(err, ErrDeltaExpired): start again with an empty Link.
func (c *Client) UsersDelta(ctx context.Context, opt DeltaOptions, fn PageFunc[User]) (deltaLink string, err error) {
	sel := opt.Select
	if sel == nil {
		sel = UserDeltaSelect
	}
	return deltaRound(ctx, c, c.deltaQuery(opUsersDelta, "/users/delta", permUserRead, opt.Link, sel), fn)
}

// GroupsDelta runs one groups/delta round; membership changes arrive in
// Group.MembersDelta. Same contract as UsersDelta.
func (c *Client) GroupsDelta(ctx context.Context, opt DeltaOptions, fn PageFunc[Group]) (deltaLink string, err error) {
	sel := opt.Select
	if sel == nil {
		sel = GroupDeltaSelect
	}
	return deltaRound(ctx, c, c.deltaQuery(opGroupsDelta, "/groups/delta", permGroupRead, opt.Link, sel), fn)
}

func (c *Client) deltaQuery(op, path, perm, link string, sel []string) Query {
	q := Query{Op: op, Path: path, Permission: perm,
		// Delta ignores $top; this header is how to ask for big pages.
		Header: http.Header{"Prefer": {"odata.maxpagesize=999"}}}
	if link != "" {
		q.Path = link
	} else {
		q.Params = url.Values{"$select": {strings.Join(sel, ",")}}
	}
	return q
}

func deltaRound[T any](ctx context.Context, c *Client, q Query, fn PageFunc[T]) (string, error) {
	link, err := forEachPage(ctx, c, q, fn)
	if err != nil {
		return "", err // a 410 or expired token already satisfies ErrDeltaExpired
	}
	if link == "" {
		return "", fmt.Errorf("graph: %s: %w: round ended without @odata.deltaLink", q.Op, ErrMalformed)
	}
	return link, nil
}
