package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// DefaultLicenseRefresh is how old the last full read of license states may
// grow before a sync reads them all again (Options.LicenseRefresh).
const DefaultLicenseRefresh = 24 * time.Hour

// Graph takes at most 15 values in one "$filter=id in (…)" outside advanced
// queries (Microsoft Graph known issues; graphsim enforces it), and 20
// requests in one $batch. licenseBatches batches go out per Batch call,
// which sends them concurrently; their pages reach the inbox a call at a
// time, so the applier works on them while the next call downloads.
const (
	idsPerFilter   = 15
	licenseBatches = 8
)

// maxTargetedUsers bounds a targeted refresh. Past it a full read is
// cheaper: it costs one GET per 999 licensed users instead of one per 15
// changed ones, and streams in bounded memory. It takes a change that
// touches this many users at once, such as a SKU added to an all-staff
// license group.
const maxTargetedUsers = 50_000

// licensesDue reports whether this sync must read every licensed user's
// states: on request, on a full sync, when never done, and when the last
// full read is older than the refresh interval.
func (r *run) licensesDue(ctx context.Context) (bool, error) {
	if r.opt.Full || r.opt.Licenses {
		return true, nil
	}
	st, err := r.s.Store.GetSyncState(ctx, r.t.ID, ResLicenses)
	switch {
	case errors.Is(err, warehouse.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	case st.LastFullAt == nil:
		return true, nil
	}
	every := r.opt.LicenseRefresh
	if every == 0 {
		every = DefaultLicenseRefresh
	}
	return every > 0 && r.s.now().Sub(*st.LastFullAt) >= every, nil
}

// fetchLicenseChanges is the second step of a sync: once the users and
// groups rounds are applied, it reads the states of the users they touched.
// A round that ran from scratch (an expired link) touched everyone, so it
// reads all of them instead.
func (r *run) fetchLicenseChanges(ctx context.Context) *errgroup.Group {
	fetch, ctx := errgroup.WithContext(ctx)
	r.mu.Lock()
	resynced := r.full[ResUsers] || r.full[ResGroups]
	r.mu.Unlock()
	ids := r.proc.refreshIDs()
	if resynced || len(ids) > maxTargetedUsers {
		if !r.licFull {
			r.licFull = true
			fetch.Go(func() error { return r.fetchLicenses(ctx) })
		}
		return fetch
	}
	// After a full read that ran beside the rounds, this re-reads the users
	// the rounds reported: a change made while the read was under way may
	// be in a round but not in the page that had already passed that user.
	fetch.Go(func() error { return r.fetchLicensesOf(ctx, ids) })
	return fetch
}

// fetchLicenses reads the licenseAssignmentStates of every licensed user.
// users/delta does not track them (reference/graph.md §4). The listing of
// licensed users misses those whose only states are errors (an error takes
// no seat, so assignedLicenses stays empty); the license groups that report
// members in error name them, and fetchLicenseErrors reads them by id.
func (r *run) fetchLicenses(ctx context.Context) error {
	fetch, ctx := errgroup.WithContext(ctx)
	fetch.Go(func() error {
		_, err := r.c.Pages(ctx, graph.Query{Op: "ListLicensedUsers", Path: "/users", Eventual: true,
			Permission: "User.Read.All", Params: url.Values{
				"$select": {"id,licenseAssignmentStates"},
				"$filter": {"assignedLicenses/$count ne 0"},
				"$top":    {"999"},
			}}, func(p *graph.Page) error {
			return r.sink(ctx, ResLicenses, "full", int(r.licSeq.Add(1)), p.Body)
		})
		return err
	})
	fetch.Go(func() error {
		ids, err := r.usersWithLicenseErrors(ctx)
		r.mu.Lock()
		r.licErrors = ids
		r.mu.Unlock()
		return err
	})
	return fetch.Wait()
}

// fetchLicenseErrors is the last step of a sync that read every license
// state: it reads the members in error that the listing of licensed users
// did not return. Most users in error hold another license and were listed;
// reading them all again would cost a request per 15 of them.
func (r *run) fetchLicenseErrors(ctx context.Context) *errgroup.Group {
	fetch, ctx := errgroup.WithContext(ctx)
	r.mu.Lock()
	ids := slices.DeleteFunc(r.licErrors, r.proc.seenLicensed.has)
	r.mu.Unlock()
	if len(ids) > 0 {
		fetch.Go(func() error { return r.fetchLicensesOf(ctx, ids) })
	}
	return fetch
}

// usersWithLicenseErrors lists the members group-based licensing failed for.
func (r *run) usersWithLicenseErrors(ctx context.Context) ([]string, error) {
	var groups []string
	_, err := r.c.Pages(ctx, graph.Query{Op: "ListGroupsWithLicenseErrors", Path: "/groups",
		Permission: "GroupMember.Read.All", Params: url.Values{
			"$filter": {"hasMembersWithLicenseErrors eq true"},
			"$select": {"id"},
			"$top":    {"999"},
		}}, func(p *graph.Page) error {
		gs, err := graph.DecodeItems[graph.Group](p.Body)
		for _, g := range gs {
			groups = append(groups, g.ID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]struct{}{}
	for _, g := range groups {
		_, err := r.c.Pages(ctx, graph.Query{Op: "ListMembersWithLicenseErrors",
			Path: "/groups/" + url.PathEscape(g) + "/membersWithLicenseErrors", Permission: "GroupMember.Read.All",
			Params: url.Values{"$select": {"id"}, "$top": {"999"}}}, func(p *graph.Page) error {
			ms, err := graph.DecodeItems[graph.DirectoryObject](p.Body)
			for _, m := range ms {
				if directory.MemberTypeFromODataType(m.ODataType) == directory.MemberUser {
					seen[m.ID] = struct{}{}
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// fetchLicensesOf reads the states of the given users, 15 to a GET and 20
// GETs to a $batch, into the inbox. A user Graph no longer has is simply
// not returned; one who holds no license comes back with no states, which
// clears those stored.
func (r *run) fetchLicensesOf(ctx context.Context, ids []string) error {
	var reqs []graph.BatchRequest
	for chunk := range slices.Chunk(ids, idsPerFilter) {
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = "'" + strings.ReplaceAll(id, "'", "''") + "'"
		}
		filter := "id in (" + strings.Join(quoted, ",") + ")"
		reqs = append(reqs, graph.BatchRequest{ID: strconv.Itoa(len(reqs)), Method: "GET", Op: "ListUsersByID",
			URL: "/users?$select=id,licenseAssignmentStates&$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")})
	}
	for part := range slices.Chunk(reqs, graph.MaxBatch*licenseBatches) {
		resps, err := r.c.Batch(ctx, part)
		if err != nil {
			return fmt.Errorf("read license states by id: %w", err)
		}
		if err := r.sinkLicenseAnswers(ctx, resps); err != nil {
			return fmt.Errorf("read license states by id: %w", err)
		}
	}
	return nil
}

// sinkLicenseAnswers stores the answers of one Batch call as one inbox page.
// Each answer holds at most 15 users; stored apart, they cost the inbox
// and the applier a write, a claim and a decode per 15 users, on the
// writer that the delta rounds also need.
func (r *run) sinkLicenseAnswers(ctx context.Context, resps []graph.BatchResponse) error {
	users := []json.RawMessage{} // "value":[] when every user is gone, never null
	for _, res := range resps {
		if err := res.Err(); err != nil {
			return err
		}
		var env struct {
			Next  string             `json:"@odata.nextLink"`
			Value *[]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(res.Body, &env); err != nil {
			return fmt.Errorf("%w: %w", graph.ErrMalformed, err)
		}
		if env.Value == nil {
			return fmt.Errorf("%w: no \"value\"", graph.ErrMalformed)
		}
		users = append(users, *env.Value...)
		if env.Next == "" {
			continue
		}
		// Graph never pages fifteen users today; should it start to, the
		// rest arrive as pages of their own.
		_, err := r.c.Pages(ctx, graph.Query{Op: "ListUsersByID", Path: env.Next, Permission: "User.Read.All"},
			func(p *graph.Page) error { return r.sink(ctx, ResLicenses, "ids", int(r.licSeq.Add(1)), p.Body) })
		if err != nil {
			return err
		}
	}
	body, err := json.Marshal(struct {
		Value []json.RawMessage `json:"value"`
	}{users})
	if err != nil {
		return err
	}
	return r.sink(ctx, ResLicenses, "ids", int(r.licSeq.Add(1)), body)
}

// finishLicenses ends the license part of a sync: a full read clears the
// states of users it no longer found, and records when it ran so the next
// syncs know when the following one is due.
func (r *run) finishLicenses(ctx context.Context, now time.Time) error {
	r.res.AllLicenses = r.licFull
	if r.licFull {
		if _, err := r.proc.sweepLicenses(ctx); err != nil {
			return err
		}
	}
	return r.recordRound(ctx, ResLicenses, "", r.licFull, now)
}

// noteUser records, during an incremental users round, a user whose states
// may have changed: the round tracks assignedLicenses, so a direct
// assignment or removal brings the user here.
func (p *processor) noteUser(id string) {
	if _, ok := p.refresh[id]; !ok {
		p.refresh[strings.Clone(id)] = struct{}{} // id may point into a page (see decode)
	}
}

// noteGroup records, during an incremental groups round, the users whose
// states a group's entry may have changed: members who joined or left a
// license group, and every member of a group whose licenses changed or that
// was deleted while it had licenses. old is the group as stored before this
// entry; its members are read before the page's own changes are applied.
func (p *processor) noteGroup(ctx context.Context, tx warehouse.Tx, it *graph.Group, old directory.Group, has func(string) bool) error {
	now := old.AssignedLicenses
	if it.Removed != nil {
		now = nil
	} else if has("assignedLicenses") {
		now = licenses(it.AssignedLicenses)
	}
	if !sameAssignedLicenses(old.AssignedLicenses, now) {
		if err := p.noteMembers(ctx, tx, it.ID); err != nil {
			return err
		}
	}
	if len(old.AssignedLicenses) == 0 && len(now) == 0 {
		return nil
	}
	// Group-based licensing applies to direct user members only: a nested
	// group's members inherit nothing.
	for _, m := range it.MembersDelta {
		if directory.MemberTypeFromODataType(m.ODataType) == directory.MemberUser {
			p.noteUser(m.ID)
		}
	}
	return nil
}

func (p *processor) noteMembers(ctx context.Context, tx warehouse.Tx, groupID string) error {
	members, err := tx.GroupMembers(ctx, p.r.t.ID, groupID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.MemberType == directory.MemberUser {
			p.noteUser(m.MemberID)
		}
	}
	return nil
}

// refreshIDs returns the users noted so far, sorted.
func (p *processor) refreshIDs() []string { return slices.Sorted(maps.Keys(p.refresh)) }

// sameAssignedLicenses compares two groups' licenses as sets of SKUs with
// their disabled plans.
func sameAssignedLicenses(a, b []directory.AssignedLicense) bool {
	key := func(ls []directory.AssignedLicense) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			dp := slices.Clone(l.DisabledPlans)
			slices.Sort(dp)
			out[i] = l.SkuID + ":" + strings.Join(dp, ",")
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}
