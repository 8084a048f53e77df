package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// processor applies inbox pages to the warehouse and remembers, for full
// rounds, what it has seen so the round's end can sweep the rest.
type processor struct {
	r     *run
	owner string

	seenUsers    idSet
	seenGroups   idSet
	seenLicensed idSet
	// members collects a full groups round's memberships; they replace the
	// tenant's when the round ends (see finish).
	members warehouse.MembershipSet
	// before counts the tenant's live users and groups and its license
	// states as the sync began, when counted: a full license read counts
	// them, as a full sync has one. Where there was nothing, there is
	// nothing to compare with, delete or sweep: a first sync skips that.
	before  warehouse.DirectoryCounts
	counted bool
	// refresh holds the users incremental rounds touched, whose license
	// states are read once the rounds are applied (noteUser, noteGroup).
	refresh map[string]struct{}
}

func newProcessor(r *run) *processor {
	return &processor{r: r, owner: "sync-" + r.id, seenUsers: newIDSet(), seenGroups: newIDSet(),
		seenLicensed: newIDSet(), refresh: map[string]struct{}{}}
}

// drain applies the pages currently in the inbox, oldest first, all in one
// transaction: every page is applied whole or not at all, and fewer, larger
// commits write each hot B-tree page to the WAL once per batch instead of once
// per page. The pages leave the inbox once the transaction has committed
// (see warehouse.Inbox for why that is safe). Decoding a page's JSON costs about as much as writing it, so a
// goroutine decodes the next pages while the transaction writes earlier ones,
// on the machine's other core. It returns how many pages it applied.
func (p *processor) drain(ctx context.Context) (int, error) {
	pages, err := p.r.s.Store.ClaimInboxPages(ctx, p.r.t.ID, p.owner, drainBatch, 10*time.Minute)
	if err != nil || len(pages) == 0 {
		return 0, err
	}
	decoded := make(chan decodedPage, 4)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(decoded)
		for i := range pages {
			select {
			case decoded <- decode(&pages[i]):
			case <-stop:
				return
			}
		}
	}()
	var total counts
	var failed *warehouse.InboxPage
	err = p.r.s.Store.InTx(ctx, func(tx warehouse.Tx) error {
		for d := range decoded {
			n, err := p.apply(ctx, tx, d)
			if err != nil {
				failed = d.pg
				return fmt.Errorf("apply %s page %d: %w", d.pg.Resource, d.pg.Seq, err)
			}
			total.add(n)
		}
		return nil
	})
	if err != nil {
		if failed != nil {
			_ = p.r.s.Store.ReleaseInboxPage(context.WithoutCancel(ctx), failed.ID, err.Error())
		}
		return 0, err
	}
	ids := make([]int64, len(pages))
	for i := range pages {
		ids[i] = pages[i].ID
	}
	if err := p.r.s.Store.DeleteInboxPages(ctx, ids); err != nil {
		return 0, err
	}
	total.addTo(&p.r.res)
	p.r.objects.Add(total.total())
	p.r.applied.Add(int64(len(pages)))
	p.r.progress()
	return len(pages), nil
}

// decodedPage is an inbox page with its JSON decoded, ready to be applied.
type decodedPage struct {
	pg   *warehouse.InboxPage
	full bool
	// items holds the page's entries: []userItem, []graph.Group,
	// []graph.User, []graph.SubscribedSku or []graph.Mailbox.
	items any
	// has reports, per entry of an incremental round, which properties the
	// entry carried.
	has []func(string) bool
	err error
}

func (p *processor) apply(ctx context.Context, tx warehouse.Tx, d decodedPage) (counts, error) {
	if d.err != nil {
		return counts{}, d.err
	}
	switch items := d.items.(type) {
	case []userItem:
		return p.users(ctx, tx, items, d.has, d.full)
	case []graph.Group:
		return p.groups(ctx, tx, items, d.has, d.full)
	case []graph.User:
		if d.pg.Resource == ResSignIns {
			return p.signIns(ctx, tx, items)
		}
		return p.licenses(ctx, tx, items)
	case []graph.SubscribedSku:
		return p.skus(ctx, tx, items)
	case []graph.Mailbox:
		return p.mailboxes(ctx, tx, items)
	}
	return counts{}, nil
}

type counts struct{ users, groups, members, states, skus, mailboxes, deleted int64 }

func (c *counts) add(o counts) {
	c.users += o.users
	c.groups += o.groups
	c.members += o.members
	c.states += o.states
	c.skus += o.skus
	c.mailboxes += o.mailboxes
	c.deleted += o.deleted
}

func (c counts) total() int64 {
	return c.users + c.groups + c.members + c.states + c.skus + c.mailboxes
}

func (c counts) addTo(r *Result) {
	r.Users += c.users
	r.Groups += c.groups
	r.Memberships += c.members
	r.LicenseStates += c.states
	r.Skus += c.skus
	r.Mailboxes += c.mailboxes
	r.Deleted += c.deleted
}

// userItem is a users/delta entry: the user plus its manager reference.
type userItem struct {
	graph.User
	ManagerDelta []graph.DirectoryObject `json:"manager@delta"`
}

func (p *processor) users(ctx context.Context, tx warehouse.Tx, items []userItem, has []func(string) bool, full bool) (counts, error) {
	var n counts
	var removed, ids []string
	for i := range items {
		if items[i].ID == "" {
			return n, fmt.Errorf("malformed user: no id")
		}
		if items[i].Removed != nil {
			removed = append(removed, items[i].ID)
		} else if !full {
			ids = append(ids, items[i].ID)
			p.noteUser(items[i].ID)
		}
	}
	existing := map[string]directory.User{}
	if len(ids) > 0 {
		olds, err := tx.GetUsers(ctx, p.r.t.ID, ids)
		if err != nil {
			return n, err
		}
		for _, u := range olds {
			existing[u.ID] = u
		}
	}
	users := make([]directory.User, 0, len(items))
	for i := range items {
		it := &items[i]
		if it.Removed != nil {
			continue
		}
		u := existing[it.ID]
		applyUser(&u, &it.User, has[i])
		if has[i]("manager@delta") || full {
			u.ManagerID = ""
			for _, m := range it.ManagerDelta {
				if m.Removed == nil {
					u.ManagerID = m.ID
				}
			}
		}
		users = append(users, u)
		if full {
			p.seenUsers.add(u.ID)
		}
	}
	if err := tx.UpsertUsers(ctx, p.r.t.ID, users); err != nil {
		return n, err
	}
	if len(removed) > 0 {
		if err := tx.MarkUsersDeleted(ctx, p.r.t.ID, removed, p.r.s.now()); err != nil {
			return n, err
		}
	}
	n.users, n.deleted = int64(len(users)), int64(len(removed))
	return n, nil
}

func (p *processor) groups(ctx context.Context, tx warehouse.Tx, items []graph.Group, has []func(string) bool, full bool) (counts, error) {
	var n counts
	var removed, ids []string
	for i := range items {
		if items[i].ID == "" {
			return n, fmt.Errorf("malformed group: no id")
		}
		if items[i].Removed != nil {
			removed = append(removed, items[i].ID)
		} else if !full {
			ids = append(ids, items[i].ID)
		}
	}
	if !full {
		ids = append(ids, removed...) // noteGroup needs a deleted group's licenses
	}
	existing := map[string]directory.Group{}
	if len(ids) > 0 {
		olds, err := tx.GetGroups(ctx, p.r.t.ID, ids)
		if err != nil {
			return n, err
		}
		for _, g := range olds {
			existing[g.ID] = g
		}
	}
	var groups []directory.Group
	var adds, dels []directory.Membership
	for i := range items {
		it := &items[i]
		if !full {
			if err := p.noteGroup(ctx, tx, it, existing[it.ID], has[i]); err != nil {
				return n, err
			}
		}
		if it.Removed != nil {
			continue
		}
		seen := p.seenGroups.has(it.ID)
		if full && !seen {
			// Later entries of the same group in a round continue its
			// member list and carry no properties: only the first sets them.
			groups = append(groups, directory.Group{})
			applyGroup(&groups[len(groups)-1], it, always)
			p.seenGroups.add(it.ID)
		} else if !full && carriesGroupProperties(has[i]) {
			g := existing[it.ID]
			applyGroup(&g, it, has[i])
			groups = append(groups, g)
		}
		for _, m := range it.MembersDelta {
			ms := directory.Membership{GroupID: it.ID, MemberID: m.ID, MemberType: directory.MemberTypeFromODataType(m.ODataType)}
			if m.Removed != nil {
				dels = append(dels, ms)
			} else {
				adds = append(adds, ms)
			}
		}
	}
	if err := tx.UpsertGroups(ctx, p.r.t.ID, groups); err != nil {
		return n, err
	}
	// A full round replaces every membership of the tenant: it collects
	// them and the round's end stores them (see finish). A large group's
	// members span several pages, so no single page could replace them.
	if full {
		for _, m := range adds {
			p.members.Add(m.GroupID, m.MemberID, m.MemberType)
		}
		for _, m := range dels {
			p.members.Remove(m.GroupID, m.MemberID)
		}
	} else {
		if err := tx.UpsertMemberships(ctx, p.r.t.ID, adds); err != nil {
			return n, err
		}
		if err := tx.DeleteMemberships(ctx, p.r.t.ID, dels); err != nil {
			return n, err
		}
	}
	if len(removed) > 0 {
		if err := tx.MarkGroupsDeleted(ctx, p.r.t.ID, removed, p.r.s.now()); err != nil {
			return n, err
		}
	}
	n.groups, n.members, n.deleted = int64(len(groups)), int64(len(adds)+len(dels)), int64(len(removed))
	return n, nil
}

// carriesGroupProperties tells an incremental entry that changed the group
// itself from one that only reports member changes.
func carriesGroupProperties(has func(string) bool) bool {
	for _, k := range []string{"displayName", "description", "mail", "mailNickname", "mailEnabled", "securityEnabled",
		"groupTypes", "membershipRule", "membershipRuleProcessingState", "assignedLicenses", "licenseProcessingState"} {
		if has(k) {
			return true
		}
	}
	return false
}

// licenses stores the license states of a page of users. A full read
// returns every licensed user, and few of them change between reads: only
// users whose states differ from the stored ones are rewritten, which turned
// a million deletes and inserts per full read of a large tenant into a read
// of the same rows.
func (p *processor) licenses(ctx context.Context, tx warehouse.Tx, items []graph.User) (counts, error) {
	var n counts
	ids := make([]string, 0, len(items))
	fetched := make(map[string][]directory.LicenseState, len(items))
	// A tenant that had no states when the sync began (its first sync) has
	// nothing to compare with or delete, unless a user comes round twice.
	fresh := p.counted && p.before.LicenseStates == 0
	for i := range items {
		if items[i].ID == "" {
			return n, fmt.Errorf("malformed user: no id")
		}
		ids = append(ids, items[i].ID)
		fetched[items[i].ID] = licenseStates(items[i].ID, items[i].LicenseAssignmentStates)
		n.states += int64(len(fetched[items[i].ID]))
		if p.seenLicensed.has(items[i].ID) {
			fresh = false
		}
		p.seenLicensed.add(items[i].ID)
	}
	if fresh {
		var all []directory.LicenseState
		for _, id := range ids {
			all = append(all, fetched[id]...)
		}
		return n, tx.AddLicenseStates(ctx, p.r.t.ID, all)
	}
	olds, err := tx.LicenseStatesOf(ctx, p.r.t.ID, ids)
	if err != nil {
		return n, err
	}
	stored := make(map[string][]directory.LicenseState, len(items))
	for _, l := range olds {
		stored[l.UserID] = append(stored[l.UserID], l)
	}
	var changedIDs []string
	var changed []directory.LicenseState
	for _, id := range ids {
		if !sameLicenseStates(stored[id], fetched[id]) {
			changedIDs = append(changedIDs, id)
			changed = append(changed, fetched[id]...)
		}
	}
	if len(changedIDs) > 0 {
		if err := tx.ReplaceLicenseStates(ctx, p.r.t.ID, changedIDs, changed); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *processor) skus(ctx context.Context, tx warehouse.Tx, items []graph.SubscribedSku) (counts, error) {
	var n counts
	skus := make([]directory.Sku, len(items))
	for i := range items {
		skus[i] = sku(&items[i])
	}
	if err := tx.UpsertSkus(ctx, p.r.t.ID, skus); err != nil {
		return n, err
	}
	n.skus = int64(len(skus))
	return n, nil
}

func (p *processor) mailboxes(ctx context.Context, tx warehouse.Tx, items []graph.Mailbox) (counts, error) {
	var n counts
	var mbs []directory.Mailbox
	for _, m := range items {
		if m.ExternalDirectoryObjectID == "" {
			continue // not tied to an Entra user (e.g. a room created in Exchange only)
		}
		mbs = append(mbs, directory.Mailbox{UserID: m.ExternalDirectoryObjectID, PrimarySMTPAddress: m.PrimarySMTPAddress,
			Type: mailboxType(m.RecipientTypeDetails)})
	}
	if err := tx.UpsertMailboxes(ctx, p.r.t.ID, mbs); err != nil {
		return n, err
	}
	n.mailboxes = int64(len(mbs))
	return n, nil
}

func (p *processor) signIns(ctx context.Context, tx warehouse.Tx, items []graph.User) (counts, error) {
	var n counts
	byID := map[string]*graph.User{}
	ids := make([]string, 0, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
		ids = append(ids, items[i].ID)
	}
	users, err := tx.GetUsers(ctx, p.r.t.ID, ids)
	if err != nil {
		return n, err
	}
	only := func(k string) bool { return k == "signInActivity" }
	for i := range users {
		applyUser(&users[i], byID[users[i].ID], only)
	}
	if err := tx.UpsertUsers(ctx, p.r.t.ID, users); err != nil {
		return n, err
	}
	return n, nil
}

// sweep marks deleted what a full round of resource did not return.
func (p *processor) sweep(ctx context.Context, resource string, now time.Time) (int64, error) {
	kind, seen, had := warehouse.LiveUsers, p.seenUsers, p.before.Users
	if resource == ResGroups {
		kind, seen, had = warehouse.LiveGroups, p.seenGroups, p.before.Groups
	}
	if p.counted && had == 0 {
		return 0, nil
	}
	live, err := p.r.s.Store.LiveIDs(ctx, p.r.t.ID, kind)
	if err != nil {
		return 0, err
	}
	var gone []string
	for _, id := range live {
		if !seen.has(id) {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	if resource == ResGroups {
		err = p.r.s.Store.MarkGroupsDeleted(ctx, p.r.t.ID, gone, now)
	} else {
		err = p.r.s.Store.MarkUsersDeleted(ctx, p.r.t.ID, gone, now)
	}
	return int64(len(gone)), err
}

// sweepLicenses clears the license states of users who no longer hold any
// license: the listing of licensed users no longer returns them.
func (p *processor) sweepLicenses(ctx context.Context) (int64, error) {
	if p.counted && p.before.LicenseStates == 0 {
		return 0, nil
	}
	held, err := p.r.s.Store.LiveIDs(ctx, p.r.t.ID, warehouse.LicensedUser)
	if err != nil {
		return 0, err
	}
	var gone []string
	for _, id := range held {
		if !p.seenLicensed.has(id) {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	return int64(len(gone)), p.r.s.Store.ReplaceLicenseStates(ctx, p.r.t.ID, gone, nil)
}
