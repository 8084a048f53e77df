package warehouse

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// ConsoleReader serves the console's and the API's views of a tenant a page
// at a time. None of its methods reads a whole table: lists are keyset pages
// walked along an index, counts are aggregates in SQL, and per-user details
// are primary-key or index lookups. That is what keeps the console usable on
// a tenant of a million users.
type ConsoleReader interface {
	// UsersPage lists live users in object-id order. With a prefix it keeps
	// those whose user principal name, display name or object id starts
	// with it, ignoring ASCII case.
	//
	// The order is the key's (tenant_id, id), deliberately: an index on names makes
	// every user of a bulk sync pay a random B-tree insert. Measured on
	// SQLite, one index on (tenant_id, display_name COLLATE NOCASE) took a
	// 200,000-user upsert from 1.5–2.0 s to 2.8–3.4 s, past its 2 s bar. A
	// prefix search therefore reads users in id order until it has filled
	// the page: instant for a common prefix, the whole tenant for a rare
	// one (0.7–1 s for a million users on SQLite).
	UsersPage(ctx context.Context, tenantID string, q PageQuery) (Page[directory.User], error)
	// GroupsPage lists live groups by display name (ASCII case ignored, then
	// id), along an index; a prefix keeps names starting with it.
	GroupsPage(ctx context.Context, tenantID string, q PageQuery) (Page[directory.Group], error)
	// GroupMembersPage lists a group's direct members in member-id order.
	GroupMembersPage(ctx context.Context, tenantID, groupID string, q PageQuery) (Page[directory.Membership], error)
	// CountMembers counts the direct members of each group, capped at
	// atMost (0: no cap). Counts are stored with each group's member list,
	// so this reads one row per group.
	CountMembers(ctx context.Context, tenantID string, groupIDs []string, atMost int) (map[string]int, error)
	// LicenseStatesOf returns the license states of the given users, in
	// user, SKU, group order.
	LicenseStatesOf(ctx context.Context, tenantID string, userIDs []string) ([]directory.LicenseState, error)
	// GrantsOf returns what pools granted one user.
	GrantsOf(ctx context.Context, tenantID, userID string) ([]Grant, error)
	// LicenseErrors counts the license states Entra reports as failed and
	// returns the first limit of them in user, SKU order, with their user,
	// SKU, group, state and error.
	LicenseErrors(ctx context.Context, tenantID string, limit int) (int64, []directory.LicenseState, error)
	// DirectoryCounts counts a tenant's live users and groups and its
	// license states. Unlike Counts it leaves memberships alone, the
	// largest table by far.
	DirectoryCounts(ctx context.Context, tenantID string) (DirectoryCounts, error)
	// LicenseGroups lists the live groups that carry licenses, by name.
	LicenseGroups(ctx context.Context, tenantID string) ([]directory.Group, error)
}

// DirectoryCounts is the size of a tenant's directory as the dashboard shows it.
type DirectoryCounts struct {
	Users         int64 `json:"users"`
	Groups        int64 `json:"groups"`
	LicenseStates int64 `json:"license_states"`
}

// PageQuery asks for one page of a list kept in a stable order.
type PageQuery struct {
	// Prefix keeps only rows whose name starts with it, ignoring ASCII
	// case; each method says which names.
	Prefix string
	// After continues after the row a Page's Next cursor names; Before goes
	// back from a Page's Prev cursor. At most one of them is set.
	After, Before string
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Page is one page of a list.
type Page[T any] struct {
	Items []T
	// Next is the cursor of the following page ("" on the last page);
	// Prev is the cursor of the preceding page ("" on the first page).
	Next, Prev string
}

// cursorSep separates the parts of a cursor; no name or id contains it.
const cursorSep = "\x00"

func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, cursorSep)))
}

func decodeCursor(c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w cursor %q: not one this server made", directory.ErrInvalid, c)
	}
	parts := strings.Split(string(b), cursorSep)
	if len(parts) != n {
		return nil, fmt.Errorf("%w cursor %q: not one this list made", directory.ErrInvalid, c)
	}
	return parts, nil
}

// asciiLower folds ASCII letters only, exactly as the SQL of fold does on
// both backends, so that cursors and prefixes compare as the database does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// fold is the SQL for col compared ignoring ASCII case, in byte order. The
// two spellings agree exactly: SQLite's NOCASE folds only ASCII letters,
// and so does PostgreSQL's lower() under the "C" collation (which also
// compares bytes, whatever the database's collation is). Non-ASCII letters
// keep their case on both, so both backends list and match the same rows
// in the same order. The expressions match the indexes of migration 7.
func fold(c conn, col string) string {
	if _, ok := c.(pgConn); ok {
		return "lower(" + col + ` COLLATE "C")`
	}
	return col + " COLLATE NOCASE"
}

// prefixRange is the condition "expr starts with prefix" as a range an
// index can serve: prefix <= expr < prefix+U+10FFFF. Every string starting
// with prefix lies in it (no name continues with U+10FFFF, a noncharacter),
// and every string in it starts with prefix.
func prefixRange(expr, prefix string) (string, []any) {
	return "(" + expr + " >= ? AND " + expr + " < ?)", []any{prefix, prefix + "\U0010FFFF"}
}

// keyset holds what a paged query needs: the key expressions in order and
// the cursor's values for them, if any.
type keyset struct {
	keys     []string // SQL expressions, most significant first
	after    []string
	before   []string
	limit    int
	backward bool
}

func newKeyset(q PageQuery, keys ...string) (keyset, error) {
	ks := keyset{keys: keys, limit: q.Limit}
	if ks.limit <= 0 {
		ks.limit = DefaultPageSize
	}
	if ks.limit > MaxPageSize {
		return ks, fmt.Errorf("%w page size %d: at most %d", directory.ErrInvalid, q.Limit, MaxPageSize)
	}
	var err error
	switch {
	case q.After != "" && q.Before != "":
		return ks, fmt.Errorf("%w page: after and before together", directory.ErrInvalid)
	case q.After != "":
		ks.after, err = decodeCursor(q.After, len(keys))
	case q.Before != "":
		ks.before, err = decodeCursor(q.Before, len(keys))
		ks.backward = true
	}
	return ks, err
}

// where is the cursor condition. For keys (a, b) after (x, y) it is
// a >= x AND (a > x OR b > y): the leading range lets an index on (a, b)
// start at the cursor instead of filtering from the beginning.
func (ks keyset) where() (string, []any) {
	vals, op, opEq := ks.after, ">", ">="
	if ks.backward {
		vals, op, opEq = ks.before, "<", "<="
	}
	if vals == nil {
		return "", nil
	}
	if len(ks.keys) == 1 {
		return " AND " + ks.keys[0] + " " + op + " ?", []any{vals[0]}
	}
	return " AND " + ks.keys[0] + " " + opEq + " ? AND (" + ks.keys[0] + " " + op + " ? OR " + ks.keys[1] + " " + op + " ?)",
		[]any{vals[0], vals[0], vals[1]}
}

func (ks keyset) orderBy() string {
	dir := ""
	if ks.backward {
		dir = " DESC"
	}
	parts := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		parts[i] = k + dir
	}
	return " ORDER BY " + strings.Join(parts, ", ") + " LIMIT ?"
}

// pageSQL is a keyset query: base (a SELECT ending in its WHERE
// conditions) with the cursor's condition, the order and the limit added.
type pageSQL struct {
	ks   keyset
	base string
	args []any
}

// text is the final statement and its arguments. It fetches one row more
// than the page holds, to know whether another page follows.
func (p pageSQL) text() (string, []any) {
	cond, cargs := p.ks.where()
	return p.base + cond + p.ks.orderBy(), append(append(append([]any{}, p.args...), cargs...), p.ks.limit+1)
}

// paged runs a keyset query and turns its rows into a page; key gives a
// row's cursor parts.
func paged[T any](ctx context.Context, c conn, ps pageSQL, scan func(r rows) (T, error), key func(T) []string) (Page[T], error) {
	sqlText, args := ps.text()
	var items []T
	err := scanAll(ctx, c, sqlText, args, func(r rows) error {
		it, err := scan(r)
		items = append(items, it)
		return err
	})
	if err != nil {
		return Page[T]{}, err
	}
	return keysetPage(ps.ks, items, key), nil
}

// keysetPage turns the rows a keyset fetched (up to one more than the page,
// in the fetch direction) into a page with its cursors.
func keysetPage[T any](ks keyset, items []T, key func(T) []string) Page[T] {
	more := len(items) > ks.limit
	if more {
		items = items[:ks.limit]
	}
	if ks.backward {
		slices.Reverse(items)
	}
	p := Page[T]{Items: items}
	if len(items) == 0 {
		return p
	}
	// Going forward, a page reached through a cursor has one before it;
	// going back, the page we came from follows.
	hasNext, hasPrev := more, ks.after != nil
	if ks.backward {
		hasNext, hasPrev = true, more
	}
	if hasNext {
		p.Next = encodeCursor(key(items[len(items)-1])...)
	}
	if hasPrev {
		p.Prev = encodeCursor(key(items[0])...)
	}
	return p
}

// usersPageSQL is the query of UsersPage.
func usersPageSQL(c conn, tenantID string, pq PageQuery) (pageSQL, error) {
	ks, err := newKeyset(pq, "id")
	if err != nil {
		return pageSQL{}, err
	}
	ps := pageSQL{ks: ks, base: "SELECT " + userColumns + " FROM users WHERE tenant_id = ? AND deleted = FALSE", args: []any{tenantID}}
	if p := asciiLower(strings.TrimSpace(pq.Prefix)); p != "" {
		var conds []string
		for _, col := range []string{"user_principal_name", "display_name", "id"} {
			cond, a := prefixRange(fold(c, col), p)
			conds, ps.args = append(conds, cond), append(ps.args, a...)
		}
		ps.base += " AND (" + strings.Join(conds, " OR ") + ")"
	}
	return ps, nil
}

// groupsPageSQL is the query of GroupsPage.
func groupsPageSQL(c conn, tenantID string, pq PageQuery) (pageSQL, error) {
	name := fold(c, "display_name")
	ks, err := newKeyset(pq, name, "id")
	if err != nil {
		return pageSQL{}, err
	}
	ps := pageSQL{ks: ks, base: "SELECT " + groupColumns + " FROM groups WHERE tenant_id = ? AND deleted = FALSE", args: []any{tenantID}}
	if p := asciiLower(strings.TrimSpace(pq.Prefix)); p != "" {
		cond, a := prefixRange(name, p)
		ps.base, ps.args = ps.base+" AND "+cond, append(ps.args, a...)
	}
	return ps, nil
}

func (q *queries) UsersPage(ctx context.Context, tenantID string, pq PageQuery) (Page[directory.User], error) {
	c := q.reader()
	ps, err := usersPageSQL(c, tenantID, pq)
	if err != nil {
		return Page[directory.User]{}, err
	}
	p, err := paged(ctx, c, ps, func(r rows) (directory.User, error) { return scanUser(r) },
		func(u directory.User) []string { return []string{u.ID} })
	if err != nil {
		return p, fmt.Errorf("users page: %w", err)
	}
	return p, nil
}

func (q *queries) GroupsPage(ctx context.Context, tenantID string, pq PageQuery) (Page[directory.Group], error) {
	c := q.reader()
	ps, err := groupsPageSQL(c, tenantID, pq)
	if err != nil {
		return Page[directory.Group]{}, err
	}
	p, err := paged(ctx, c, ps, func(r rows) (directory.Group, error) { return scanGroup(r) },
		func(g directory.Group) []string { return []string{asciiLower(g.DisplayName), g.ID} })
	if err != nil {
		return p, fmt.Errorf("groups page: %w", err)
	}
	return p, nil
}

func (q *queries) LicenseStatesOf(ctx context.Context, tenantID string, userIDs []string) ([]directory.LicenseState, error) {
	var out []directory.LicenseState
	err := chunked(userIDs, maxInList, func(part []string) error {
		return scanAll(ctx, q.reader(), "SELECT "+strings.Join(licenseStatesTable.cols, ", ")+" FROM license_states "+
			"WHERE tenant_id = ? AND user_id IN ("+placeholders(len(part))+") ORDER BY user_id, sku_id, assigned_by_group",
			append([]any{tenantID}, anys(part)...), func(r rows) error {
				l, err := scanLicenseState(r)
				out = append(out, l)
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("license states of users: %w", err)
	}
	return out, nil
}

func (q *queries) GrantsOf(ctx context.Context, tenantID, userID string) ([]Grant, error) {
	var out []Grant
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, pool, user_id, group_id, sku_id, since FROM grants "+
		"WHERE tenant_id = ? AND user_id = ? ORDER BY pool, group_id, sku_id", []any{tenantID, userID}, func(r rows) error {
		var g Grant
		var since *time.Time
		if err := r.Scan(&g.TenantID, &g.Pool, &g.UserID, &g.GroupID, &g.SkuID, scanTime{&since}); err != nil {
			return err
		}
		if since != nil {
			g.Since = *since
		}
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("grants of user %s: %w", userID, err)
	}
	return out, nil
}

// licenseErrorCond is the WHERE clause of the partial index
// license_states_errors, spelled the same way: SQLite uses a partial index
// only for a query that repeats its condition term for term.
const licenseErrorCond = "(error <> '' OR state IN ('" + directory.StateError + "', '" + directory.StateActiveWithError + "'))"

func (q *queries) LicenseErrors(ctx context.Context, tenantID string, limit int) (int64, []directory.LicenseState, error) {
	var n int64
	if err := scanAll(ctx, q.reader(), "SELECT count(*) FROM license_states WHERE tenant_id = ? AND "+licenseErrorCond,
		[]any{tenantID}, func(r rows) error { return r.Scan(&n) }); err != nil {
		return 0, nil, fmt.Errorf("count license errors: %w", err)
	}
	var out []directory.LicenseState
	if limit <= 0 || n == 0 {
		return n, out, nil
	}
	// Only columns the partial index holds: SQLite then reads nothing else.
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, user_id, sku_id, assigned_by_group, state, error FROM license_states "+
		"WHERE tenant_id = ? AND "+licenseErrorCond+" ORDER BY user_id, sku_id LIMIT ?", []any{tenantID, limit},
		func(r rows) error {
			var l directory.LicenseState
			err := r.Scan(&l.TenantID, &l.UserID, &l.SkuID, &l.AssignedByGroup, &l.State, &l.Error)
			out = append(out, l)
			return err
		})
	if err != nil {
		return 0, nil, fmt.Errorf("list license errors: %w", err)
	}
	return n, out, nil
}

func (q *queries) DirectoryCounts(ctx context.Context, tenantID string) (DirectoryCounts, error) {
	var dc DirectoryCounts
	for _, t := range []struct {
		dst *int64
		sql string
	}{
		{&dc.Users, "SELECT count(*) FROM users WHERE tenant_id = ? AND deleted = FALSE"},
		{&dc.Groups, "SELECT count(*) FROM groups WHERE tenant_id = ? AND deleted = FALSE"},
		{&dc.LicenseStates, "SELECT count(*) FROM license_states WHERE tenant_id = ?"},
	} {
		if err := scanAll(ctx, q.reader(), t.sql, []any{tenantID}, func(r rows) error { return r.Scan(t.dst) }); err != nil {
			return dc, fmt.Errorf("directory counts: %w", err)
		}
	}
	return dc, nil
}

func (q *queries) LicenseGroups(ctx context.Context, tenantID string) ([]directory.Group, error) {
	c := q.reader()
	var out []directory.Group
	err := scanAll(ctx, c, "SELECT "+groupColumns+" FROM groups WHERE tenant_id = ? AND deleted = FALSE "+
		"AND is_license_group = TRUE ORDER BY "+fold(c, "display_name")+", id", []any{tenantID}, func(r rows) error {
		g, err := scanGroup(r)
		out = append(out, g)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("license groups: %w", err)
	}
	return out, nil
}
