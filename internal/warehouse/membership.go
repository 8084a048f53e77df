package warehouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// listTable is one side of the stored memberships (see memberlist.go): a
// row per owner (a group, or a member) with its sorted list and its length.
type listTable struct {
	table
	owner, list string
}

var (
	groupMembersTable = listTable{table{name: "group_members",
		cols: []string{"tenant_id", "group_id", "member_count", "members"}, key: []string{"tenant_id", "group_id"}},
		"group_id", "members"}
	memberGroupsTable = listTable{table{name: "member_groups",
		cols: []string{"tenant_id", "member_id", "group_count", "groups"}, key: []string{"tenant_id", "member_id"}},
		"member_id", "groups"}
)

func (q *queries) ScanMemberships(ctx context.Context, tenantID string, fn func(directory.Membership) error) error {
	return scanAll(ctx, q.reader(), "SELECT group_id, members FROM group_members WHERE tenant_id = ? ORDER BY group_id",
		[]any{tenantID}, func(r rows) error {
			var groupID string
			var list []byte
			if err := r.Scan(&groupID, &list); err != nil {
				return fmt.Errorf("scan memberships: %w", err)
			}
			var ferr error
			if err := decodeList(list, func(id string, typ directory.MemberType) bool {
				ferr = fn(directory.Membership{TenantID: tenantID, GroupID: groupID, MemberID: id, MemberType: typ})
				return ferr == nil
			}); err != nil {
				return fmt.Errorf("scan memberships: group %s: %w", groupID, err)
			}
			return ferr
		})
}

func (q *queries) UpsertMemberships(ctx context.Context, tenantID string, ms []directory.Membership) error {
	if len(ms) == 0 {
		return nil
	}
	return q.write(ctx, func(c conn) error { return editMemberships(ctx, c, tenantID, ms, nil) })
}

func (q *queries) DeleteMemberships(ctx context.Context, tenantID string, ms []directory.Membership) error {
	if len(ms) == 0 {
		return nil
	}
	return q.write(ctx, func(c conn) error { return editMemberships(ctx, c, tenantID, nil, ms) })
}

func (q *queries) ReplaceMemberships(ctx context.Context, tenantID string, set *MembershipSet) (int64, error) {
	// Sorting happens before the transaction (or before the call, see
	// MembershipSet.Resolve), so the writer is held only for the writes; a
	// goroutine encodes the lists, group side first,
	// beside the writes, so the writer seldom waits for encoding. One
	// goroutine, not one per side: the member side sorts the pairs the other
	// way round, and doing that in place rather than in a copy keeps 70 MB
	// (and the garbage collector's headroom for it) off a million-user
	// tenant's peak.
	r, err := set.take()
	if err != nil {
		return 0, err
	}
	rows := make(chan listRows, 2)
	go func() {
		defer close(rows)
		for _, side := range []struct {
			t     listTable
			lists func(func(string, []byte, int) error) error
		}{{groupMembersTable, r.groupLists}, {memberGroupsTable, r.memberLists}} {
			batch := listRows{t: side.t}
			_ = side.lists(func(owner string, list []byte, n int) error {
				batch.rows = append(batch.rows, []any{tenantID, owner, n, list})
				if len(batch.rows) == 1024 {
					rows <- batch
					batch = listRows{t: side.t}
				}
				return nil
			})
			if len(batch.rows) > 0 {
				rows <- batch
			}
		}
	}()
	defer func() {
		for range rows { // on a failed write, let the encoder run out
		}
	}()
	err = q.write(ctx, func(c conn) error {
		for _, t := range []listTable{groupMembersTable, memberGroupsTable} {
			if _, err := c.exec(ctx, "DELETE FROM "+t.name+" WHERE tenant_id = ?", tenantID); err != nil {
				return fmt.Errorf("replace memberships: %w", err)
			}
		}
		for batch := range rows {
			if err := c.bulkUpsert(ctx, batch.t.table, batch.rows); err != nil {
				return fmt.Errorf("replace memberships: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int64(len(r.pairs)), nil
}

// listRows is a batch of rows of a list table.
type listRows struct {
	t    listTable
	rows [][]any
}

// editMemberships adds and removes memberships on both sides. A membership
// both added and removed in one call ends up removed.
func editMemberships(ctx context.Context, c conn, tenantID string, adds, dels []directory.Membership) error {
	groups, members := map[string]*listEdit{}, map[string]*listEdit{}
	edit := func(m map[string]*listEdit, owner string) *listEdit {
		e := m[owner]
		if e == nil {
			e = &listEdit{dels: map[string]struct{}{}}
			m[owner] = e
		}
		return e
	}
	for _, m := range adds {
		if m.GroupID == "" || m.MemberID == "" {
			return fmt.Errorf("%w membership: group and member ids are required (got %q, %q)", directory.ErrInvalid,
				m.GroupID, m.MemberID)
		}
		g := edit(groups, m.GroupID)
		g.adds = append(g.adds, listEntry{m.MemberID, m.MemberType})
		mg := edit(members, m.MemberID)
		mg.adds = append(mg.adds, listEntry{id: m.GroupID})
	}
	for _, m := range dels {
		edit(groups, m.GroupID).dels[m.MemberID] = struct{}{}
		edit(members, m.MemberID).dels[m.GroupID] = struct{}{}
	}
	if err := editLists(ctx, c, groupMembersTable, tenantID, groups); err != nil {
		return err
	}
	return editLists(ctx, c, memberGroupsTable, tenantID, members)
}

// listEdit is what to change in one stored list.
type listEdit struct {
	adds []listEntry
	dels map[string]struct{}
}

// apply merges the edit into a stored list (nil for none), reading the
// stored entries in order and copying those it keeps as they are. The
// latest add of an id decides its type; removals win over adds. It returns
// the new list and its length.
func (e *listEdit) apply(stored []byte) ([]byte, int, error) {
	adds := make([]rawEntry, len(e.adds))
	for i, a := range e.adds {
		adds[i] = rawListEntry(a.id, a.typ)
	}
	slices.SortStableFunc(adds, rawEntry.compare)
	gone := func(rawEntry) bool { return false }
	if len(e.dels) > 0 {
		// Removals are looked up by packed GUID, so that no kept entry of a
		// long list has to be turned into text.
		byGUID := make(map[[16]byte]struct{}, len(e.dels))
		for id := range e.dels {
			if g, ok := directory.PackGUID(id); ok {
				byGUID[g] = struct{}{}
			}
		}
		gone = func(r rawEntry) bool {
			if r.guid != nil {
				_, ok := byGUID[[16]byte(r.guid)]
				return ok
			}
			_, ok := e.dels[r.id]
			return ok
		}
	}
	i := 1 // past the version byte
	if stored == nil {
		stored = newList(0)
	} else if err := checkVersion(stored); err != nil {
		return nil, 0, err
	}
	out := append(make([]byte, 0, len(stored)+17*len(adds)), listVersion)
	n, j := 0, 0
	var cur rawEntry // the stored entry at i, once read
	have := false
	for {
		if !have && i < len(stored) {
			var err error
			if cur, _, i, err = nextEntry(stored, i); err != nil {
				return nil, 0, err
			}
			have = true
		}
		if !have && j == len(adds) {
			return out, n, nil
		}
		var next rawEntry
		switch {
		case j == len(adds) || (have && cur.compare(adds[j]) < 0):
			next, have = cur, false
		default:
			// Take the last of the adds for this id, replacing a stored entry.
			for j+1 < len(adds) && adds[j+1].compare(adds[j]) == 0 {
				j++
			}
			next = adds[j]
			if have && cur.compare(next) == 0 {
				have = false
			}
			j++
		}
		if !gone(next) {
			out = append(out, next.b...)
			n++
		}
	}
}

func editLists(ctx context.Context, c conn, t listTable, tenantID string, edits map[string]*listEdit) error {
	owners := make([]string, 0, len(edits))
	for o := range edits {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	stored, err := loadLists(ctx, c, t, tenantID, owners)
	if err != nil {
		return err
	}
	var write [][]any
	var empty []string
	for _, o := range owners {
		edited, n, err := edits[o].apply(stored[o])
		if err != nil {
			return fmt.Errorf("%s of %s: %w", t.list, o, err)
		}
		switch {
		case n > 0:
			write = append(write, []any{tenantID, o, n, edited})
		case stored[o] != nil:
			empty = append(empty, o)
		}
	}
	if err := c.bulkUpsert(ctx, t.table, write); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	return deleteWhereIn(ctx, c, t.name, t.owner, tenantID, empty)
}

// loadLists reads the stored lists of owners (those that have one).
func loadLists(ctx context.Context, c conn, t listTable, tenantID string, owners []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(owners))
	err := chunked(owners, maxInList, func(part []string) error {
		return scanAll(ctx, c, "SELECT "+t.owner+", "+t.list+" FROM "+t.name+" WHERE tenant_id = ? AND "+t.owner+
			" IN ("+placeholders(len(part))+")", append([]any{tenantID}, anys(part)...), func(r rows) error {
			var o string
			var list []byte
			if err := r.Scan(&o, &list); err != nil {
				return err
			}
			out[o] = list
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	return out, nil
}

// dropMemberships removes every membership the given objects take part in:
// as members and, with asGroups, as groups.
func dropMemberships(ctx context.Context, c conn, tenantID string, ids []string, asGroups bool) error {
	var dels []directory.Membership
	sides := []listTable{memberGroupsTable}
	if asGroups {
		sides = append(sides, groupMembersTable)
	}
	for _, t := range sides {
		lists, err := loadLists(ctx, c, t, tenantID, ids)
		if err != nil {
			return err
		}
		for owner, list := range lists {
			if err := decodeList(list, func(id string, _ directory.MemberType) bool {
				if t.name == groupMembersTable.name {
					dels = append(dels, directory.Membership{GroupID: owner, MemberID: id})
				} else {
					dels = append(dels, directory.Membership{GroupID: id, MemberID: owner})
				}
				return true
			}); err != nil {
				return fmt.Errorf("%s of %s: %w", t.list, owner, err)
			}
		}
	}
	return editMemberships(ctx, c, tenantID, nil, dels)
}

// storedList reads one owner's list, nil when it has none.
func storedList(ctx context.Context, c conn, t listTable, tenantID, owner string) ([]listEntry, error) {
	lists, err := loadLists(ctx, c, t, tenantID, []string{owner})
	if err != nil || lists[owner] == nil {
		return nil, err
	}
	entries, err := decodeEntries(lists[owner])
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", t.list, owner, err)
	}
	return entries, nil
}

func (q *queries) UserGroupIDs(ctx context.Context, tenantID, userID string) ([]string, error) {
	entries, err := storedList(ctx, q.reader(), memberGroupsTable, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", userID, err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.id
	}
	return out, nil
}

func (q *queries) GroupMembers(ctx context.Context, tenantID, groupID string) ([]directory.Membership, error) {
	entries, err := storedList(ctx, q.reader(), groupMembersTable, tenantID, groupID)
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	out := make([]directory.Membership, len(entries))
	for i, e := range entries {
		out[i] = directory.Membership{TenantID: tenantID, GroupID: groupID, MemberID: e.id, MemberType: e.typ}
	}
	return out, nil
}

func (q *queries) GroupMembersPage(ctx context.Context, tenantID, groupID string, pq PageQuery) (Page[directory.Membership], error) {
	ks, err := newKeyset(pq, "member_id")
	if err != nil {
		return Page[directory.Membership]{}, err
	}
	entries, err := storedList(ctx, q.reader(), groupMembersTable, tenantID, groupID)
	if err != nil {
		return Page[directory.Membership]{}, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	// The list is sorted: the cursor is found by binary search, and the
	// page is cut the way the keyset queries fetch theirs (one row more
	// than the page, backwards when going back).
	var items []directory.Membership
	emit := func(e listEntry) {
		items = append(items, directory.Membership{TenantID: tenantID, GroupID: groupID, MemberID: e.id, MemberType: e.typ})
	}
	byID := func(e listEntry, id string) int { return strings.Compare(e.id, id) }
	if ks.backward {
		end, _ := slices.BinarySearchFunc(entries, ks.before[0], byID)
		for i := end - 1; i >= 0 && len(items) <= ks.limit; i-- {
			emit(entries[i])
		}
	} else {
		start := 0
		if ks.after != nil {
			var found bool
			if start, found = slices.BinarySearchFunc(entries, ks.after[0], byID); found {
				start++
			}
		}
		for i := start; i < len(entries) && len(items) <= ks.limit; i++ {
			emit(entries[i])
		}
	}
	return keysetPage(ks, items, func(m directory.Membership) []string { return []string{m.MemberID} }), nil
}

func (q *queries) CountMembers(ctx context.Context, tenantID string, groupIDs []string, atMost int) (map[string]int, error) {
	out := make(map[string]int, len(groupIDs))
	err := chunked(slices.Compact(slices.Sorted(slices.Values(groupIDs))), maxInList, func(part []string) error {
		return scanAll(ctx, q.reader(), "SELECT group_id, member_count FROM group_members WHERE tenant_id = ? AND group_id IN ("+
			placeholders(len(part))+")", append([]any{tenantID}, anys(part)...), func(r rows) error {
			var id string
			var n int
			if err := r.Scan(&id, &n); err != nil {
				return err
			}
			if atMost > 0 {
				n = min(n, atMost)
			}
			out[id] = n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count members: %w", err)
	}
	for _, id := range groupIDs {
		if _, ok := out[id]; !ok {
			out[id] = 0
		}
	}
	return out, nil
}
