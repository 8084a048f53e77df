package inventory

import (
	"context"
	"fmt"
	"sync"
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
// (see warehouse.Inbox for why that is safe). Decoding a page's JSON costs
// about as much as writing it, so a goroutine decodes the next pages, and
// prepares what it can of applying them (see prepare), while the
// transaction writes earlier ones, on the machine's other core. It returns
// how many pages it applied.
func (p *processor) drain(ctx context.Context) (int, error) {
	start := time.Now()
	pages, err := p.r.s.Store.ClaimInboxPages(ctx, p.r.t.ID, p.owner, drainBatch, 10*time.Minute)
	if err != nil || len(pages) == 0 {
		return 0, err
	}
	decoded := make(chan decodedPage, 4)
	stop := make(chan struct{})
	var decoding sync.WaitGroup
	defer decoding.Wait() // prepare writes the processor's state
	defer close(stop)
	decoding.Go(func() {
		defer close(decoded)
		for i := range pages {
			// A buffer of its own per page: the decoded strings point into
			// it (see decode).
			var d decodedPage
			body, err := p.r.s.Store.InboxPageBody(ctx, pages[i].ID, nil)
			if err != nil {
				d = decodedPage{pg: &pages[i], err: err}
			} else {
				d = decode(&pages[i], body)
			}
			p.prepare(&d)
			select {
			case decoded <- d:
			case <-stop:
				return
			}
		}
	})
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
	p.r.log.Debug("applied inbox pages", "pages", len(pages), "objects", total.total(),
		"seconds", time.Since(start).Seconds(), "fetched", p.r.fetched.Load(), "applied", p.r.applied.Load())
	p.r.progress()
	return len(pages), nil
}

// decodedPage is an inbox page with its JSON decoded, ready to be applied.
type decodedPage struct {
	pg   *warehouse.InboxPage
	full bool
	// items holds the page's entries: []userItem, []graph.Group,
	// []licenseItem, []graph.User (sign-ins), []graph.SubscribedSku or
	// []graph.Mailbox.
	items any
	// has reports, per entry of an incremental round, which properties the
	// entry carried.
	has []func(string) bool
	// rows is what applying the page will write, when prepare could work
	// it out before the page is applied.
	rows *pageRows
	err  error
}

// pageRows is what applying a page writes, as far as it can be known
// without reading the warehouse.
type pageRows struct {
	users   []directory.User
	groups  []directory.Group
	removed []string // ids the page reports deleted
	// License pages: the users listed, each one's states, and whether none
	// of them can have states stored (see licenseRows).
	ids    []string
	states map[string][]directory.LicenseState
	fresh  bool
	n      counts
}

// prepare works out, on the decoding goroutine, what applying a page will
// write wherever that does not depend on the warehouse: a full round
// replaces users and groups whole and collects memberships in memory, and
// license pages list complete states. The single writer then only writes:
// merging decoded entries into rows was a quarter of its time in a first
// sync. Incremental users and groups merge onto stored objects and are
// worked out as they are applied. Pages are prepared in the order they are
// applied, so the round's bookkeeping (ids seen, memberships) sees them in
// that order too.
func (p *processor) prepare(d *decodedPage) {
	if d.err != nil {
		return
	}
	switch items := d.items.(type) {
	case []userItem:
		if d.full {
			d.rows, d.err = p.fullUsers(items)
		}
	case []graph.Group:
		if d.full {
			d.rows, d.err = p.fullGroups(items)
			p.r.groupPages.prepared.Add(1)
		}
	case []licenseItem:
		d.rows, d.err = p.licenseRows(items)
	}
}

func (p *processor) apply(ctx context.Context, tx warehouse.Tx, d decodedPage) (counts, error) {
	if d.err != nil {
		return counts{}, d.err
	}
	switch items := d.items.(type) {
	case []userItem:
		if d.rows != nil {
			return p.writeUsers(ctx, tx, d.rows)
		}
		return p.users(ctx, tx, items, d.has)
	case []graph.Group:
		if d.rows != nil {
			return p.writeGroups(ctx, tx, d.rows, nil, nil)
		}
		return p.groups(ctx, tx, items, d.has)
	case []graph.User:
		return p.signIns(ctx, tx, items)
	case []licenseItem:
		return p.licenses(ctx, tx, d.rows)
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

// fullUsers prepares a full round's page of users.
func (p *processor) fullUsers(items []userItem) (*pageRows, error) {
	rows := &pageRows{users: make([]directory.User, 0, len(items))}
	for i := range items {
		it := &items[i]
		if it.ID == "" {
			return nil, fmt.Errorf("malformed user: no id")
		}
		if it.Removed != nil {
			rows.removed = append(rows.removed, it.ID)
			continue
		}
		rows.users = append(rows.users, userOf(directory.User{}, it, always))
		p.seenUsers.add(it.ID)
	}
	return rows, nil
}

// users applies an incremental round's page of users, merging each entry
// onto the stored user.
func (p *processor) users(ctx context.Context, tx warehouse.Tx, items []userItem, has []func(string) bool) (counts, error) {
	rows := &pageRows{}
	var ids []string
	for i := range items {
		if items[i].ID == "" {
			return counts{}, fmt.Errorf("malformed user: no id")
		}
		if items[i].Removed != nil {
			rows.removed = append(rows.removed, items[i].ID)
		} else {
			ids = append(ids, items[i].ID)
			p.noteUser(items[i].ID)
		}
	}
	existing := map[string]directory.User{}
	if len(ids) > 0 {
		olds, err := tx.GetUsers(ctx, p.r.t.ID, ids)
		if err != nil {
			return counts{}, err
		}
		for _, u := range olds {
			existing[u.ID] = u
		}
	}
	for i := range items {
		if items[i].Removed == nil {
			rows.users = append(rows.users, userOf(existing[items[i].ID], &items[i], has[i]))
		}
	}
	return p.writeUsers(ctx, tx, rows)
}

// userOf merges an entry onto u (the stored user, or none).
func userOf(u directory.User, it *userItem, has func(string) bool) directory.User {
	applyUser(&u, &it.User, has)
	if has("manager@delta") {
		u.ManagerID = ""
		for _, m := range it.ManagerDelta {
			if m.Removed == nil {
				u.ManagerID = m.ID
			}
		}
	}
	return u
}

func (p *processor) writeUsers(ctx context.Context, tx warehouse.Tx, rows *pageRows) (counts, error) {
	var n counts
	if err := tx.UpsertUsers(ctx, p.r.t.ID, rows.users); err != nil {
		return n, err
	}
	if len(rows.removed) > 0 {
		if err := tx.MarkUsersDeleted(ctx, p.r.t.ID, rows.removed, p.r.s.now()); err != nil {
			return n, err
		}
	}
	n.users, n.deleted = int64(len(rows.users)), int64(len(rows.removed))
	return n, nil
}

// fullGroups prepares a full round's page of groups. It collects the
// page's memberships: a full round replaces every membership of the tenant
// when it ends (see finish), as a large group's members span several pages
// and no single page could replace them.
func (p *processor) fullGroups(items []graph.Group) (*pageRows, error) {
	rows := &pageRows{}
	for i := range items {
		it := &items[i]
		if it.ID == "" {
			return nil, fmt.Errorf("malformed group: no id")
		}
		if it.Removed != nil {
			rows.removed = append(rows.removed, it.ID)
			continue
		}
		if !p.seenGroups.has(it.ID) {
			// Later entries of the same group in a round continue its
			// member list and carry no properties: only the first sets them.
			rows.groups = append(rows.groups, directory.Group{})
			applyGroup(&rows.groups[len(rows.groups)-1], it, always)
			p.seenGroups.add(it.ID)
		}
		for _, m := range it.MembersDelta {
			if m.Removed != nil {
				p.members.Remove(it.ID, m.ID)
			} else {
				p.members.Add(it.ID, m.ID, directory.MemberTypeFromODataType(m.ODataType))
			}
		}
		rows.n.members += int64(len(it.MembersDelta))
	}
	return rows, nil
}

// groups applies an incremental round's page of groups, merging each entry
// onto the stored group and applying its member changes.
func (p *processor) groups(ctx context.Context, tx warehouse.Tx, items []graph.Group, has []func(string) bool) (counts, error) {
	rows := &pageRows{}
	var ids []string
	for i := range items {
		if items[i].ID == "" {
			return counts{}, fmt.Errorf("malformed group: no id")
		}
		ids = append(ids, items[i].ID) // noteGroup needs a deleted group's licenses too
		if items[i].Removed != nil {
			rows.removed = append(rows.removed, items[i].ID)
		}
	}
	existing := map[string]directory.Group{}
	if len(ids) > 0 {
		olds, err := tx.GetGroups(ctx, p.r.t.ID, ids)
		if err != nil {
			return counts{}, err
		}
		for _, g := range olds {
			existing[g.ID] = g
		}
	}
	var adds, dels []directory.Membership
	for i := range items {
		it := &items[i]
		if err := p.noteGroup(ctx, tx, it, existing[it.ID], has[i]); err != nil {
			return counts{}, err
		}
		if it.Removed != nil {
			continue
		}
		if carriesGroupProperties(has[i]) {
			g := existing[it.ID]
			applyGroup(&g, it, has[i])
			rows.groups = append(rows.groups, g)
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
	rows.n.members = int64(len(adds) + len(dels))
	return p.writeGroups(ctx, tx, rows, adds, dels)
}

// writeGroups stores a page's groups, membership changes (an incremental
// round's; a full round's are collected, see fullGroups) and deletions.
func (p *processor) writeGroups(ctx context.Context, tx warehouse.Tx, rows *pageRows, adds, dels []directory.Membership) (counts, error) {
	n := rows.n
	if err := tx.UpsertGroups(ctx, p.r.t.ID, rows.groups); err != nil {
		return n, err
	}
	if err := tx.UpsertMemberships(ctx, p.r.t.ID, adds); err != nil {
		return n, err
	}
	if err := tx.DeleteMemberships(ctx, p.r.t.ID, dels); err != nil {
		return n, err
	}
	if len(rows.removed) > 0 {
		if err := tx.MarkGroupsDeleted(ctx, p.r.t.ID, rows.removed, p.r.s.now()); err != nil {
			return n, err
		}
	}
	n.groups, n.deleted = int64(len(rows.groups)), int64(len(rows.removed))
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

// licenseRows prepares a page of users' license states. A tenant that had
// no states when the sync began (its first sync) has nothing to compare
// with or delete, unless a user comes round twice.
func (p *processor) licenseRows(items []licenseItem) (*pageRows, error) {
	rows := &pageRows{ids: make([]string, 0, len(items)), states: make(map[string][]directory.LicenseState, len(items)),
		fresh: p.counted && p.before.LicenseStates == 0}
	for i := range items {
		id := items[i].ID
		if id == "" {
			return nil, fmt.Errorf("malformed user: no id")
		}
		rows.ids = append(rows.ids, id)
		rows.states[id] = licenseStates(id, items[i].LicenseAssignmentStates)
		rows.n.states += int64(len(rows.states[id]))
		if p.seenLicensed.has(id) {
			rows.fresh = false
		}
		p.seenLicensed.add(id)
	}
	return rows, nil
}

// licenses stores the license states of a page of users. A full read
// returns every licensed user, and few of them change between reads: only
// users whose states differ from the stored ones are rewritten, which turned
// a million deletes and inserts per full read of a large tenant into a read
// of the same rows.
func (p *processor) licenses(ctx context.Context, tx warehouse.Tx, rows *pageRows) (counts, error) {
	if rows.fresh {
		var all []directory.LicenseState
		for _, id := range rows.ids {
			all = append(all, rows.states[id]...)
		}
		return rows.n, tx.AddLicenseStates(ctx, p.r.t.ID, all)
	}
	olds, err := tx.LicenseStatesOf(ctx, p.r.t.ID, rows.ids)
	if err != nil {
		return rows.n, err
	}
	stored := make(map[string][]directory.LicenseState, len(rows.ids))
	for _, l := range olds {
		stored[l.UserID] = append(stored[l.UserID], l)
	}
	var changedIDs []string
	var changed []directory.LicenseState
	for _, id := range rows.ids {
		if !sameLicenseStates(stored[id], rows.states[id]) {
			changedIDs = append(changedIDs, id)
			changed = append(changed, rows.states[id]...)
		}
	}
	if len(changedIDs) > 0 {
		if err := tx.ReplaceLicenseStates(ctx, p.r.t.ID, changedIDs, changed); err != nil {
			return rows.n, err
		}
	}
	return rows.n, nil
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
