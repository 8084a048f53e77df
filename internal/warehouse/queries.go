package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// queries implements Reader and Writer once for both backends. Outside a
// transaction, reads go to read (SQLite: a pool of read-only connections that
// WAL lets run beside the writer) and each write opens its own transaction
// through begin; inside a transaction both use the transaction's conn.
type queries struct {
	read  conn
	begin beginner // nil inside a transaction
	tx    conn     // the open transaction, when begin is nil
}

func (q *queries) write(ctx context.Context, fn func(c conn) error) error {
	if q.begin == nil {
		return fn(q.tx)
	}
	return q.begin.inTx(ctx, fn)
}

func (q *queries) reader() conn {
	if q.begin == nil {
		return q.tx
	}
	return q.read
}

// maxInList bounds `IN (…)` lists; SQLite allows 32,766 parameters per statement.
const maxInList = 500

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// chunked calls fn with consecutive slices of at most size elements.
func chunked[T any](items []T, size int, fn func([]T) error) error {
	for len(items) > 0 {
		n := min(size, len(items))
		if err := fn(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

func anys[T any](ss []T) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ---- tenants ----

const tenantColumns = "id, name, graph_url, authority_url, client_id, secret_ref, ca_file, created_at"

func scanTenant(r rowScanner) (directory.Tenant, error) {
	var t directory.Tenant
	var created *time.Time
	err := r.Scan(&t.ID, &t.Name, &t.GraphURL, &t.AuthorityURL, &t.ClientID, &t.SecretRef, &t.CAFile, scanTime{&created})
	if created != nil {
		t.CreatedAt = *created
	}
	return t, err
}

func (q *queries) CreateTenant(ctx context.Context, t directory.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "INSERT INTO tenants ("+tenantColumns+") VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
			t.ID, t.Name, t.GraphURL, t.AuthorityURL, t.ClientID, t.SecretRef, t.CAFile, c.time(&t.CreatedAt))
		if err != nil {
			return fmt.Errorf("create tenant %q: %w", t.Name, err)
		}
		if n == 0 {
			return fmt.Errorf("tenant %q (id %s): %w", t.Name, t.ID, ErrAlreadyExists)
		}
		return nil
	})
}

func (q *queries) GetTenant(ctx context.Context, nameOrID string) (directory.Tenant, error) {
	ts, err := q.tenants(ctx, " WHERE name = ? OR id = ?", nameOrID, nameOrID)
	if err != nil {
		return directory.Tenant{}, err
	}
	if len(ts) == 0 {
		return directory.Tenant{}, fmt.Errorf("tenant %q: %w", nameOrID, ErrNotFound)
	}
	return ts[0], nil
}

func (q *queries) ListTenants(ctx context.Context) ([]directory.Tenant, error) {
	return q.tenants(ctx, " ORDER BY name")
}

func (q *queries) tenants(ctx context.Context, where string, args ...any) ([]directory.Tenant, error) {
	var out []directory.Tenant
	err := scanAll(ctx, q.reader(), "SELECT "+tenantColumns+" FROM tenants"+where, args, func(r rows) error {
		t, err := scanTenant(r)
		out = append(out, t)
		return err
	})
	return out, err
}

// scanAll runs a query and calls fn for each row, closing the rows whatever happens.
func scanAll(ctx context.Context, c conn, q string, args []any, fn func(r rows) error) error {
	rs, err := c.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// ---- users, groups, memberships ----

func (q *queries) GetUser(ctx context.Context, tenantID, id string) (directory.User, error) {
	var u directory.User
	found := false
	err := scanAll(ctx, q.reader(), "SELECT "+userColumns+" FROM users WHERE tenant_id = ? AND id = ?",
		[]any{tenantID, id}, func(r rows) (err error) { u, err = scanUser(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	return u, err
}

func (q *queries) GetGroup(ctx context.Context, tenantID, id string) (directory.Group, error) {
	var g directory.Group
	found := false
	err := scanAll(ctx, q.reader(), "SELECT "+groupColumns+" FROM groups WHERE tenant_id = ? AND id = ?",
		[]any{tenantID, id}, func(r rows) (err error) { g, err = scanGroup(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("group %s: %w", id, ErrNotFound)
	}
	return g, err
}

func (q *queries) GetUsers(ctx context.Context, tenantID string, ids []string) ([]directory.User, error) {
	var out []directory.User
	err := chunked(ids, maxInList, func(part []string) error {
		return scanAll(ctx, q.reader(), "SELECT "+userColumns+" FROM users WHERE tenant_id = ? AND id IN ("+placeholders(len(part))+")",
			append([]any{tenantID}, anys(part)...), func(r rows) error {
				u, err := scanUser(r)
				out = append(out, u)
				return err
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (q *queries) GetGroups(ctx context.Context, tenantID string, ids []string) ([]directory.Group, error) {
	var out []directory.Group
	err := chunked(ids, maxInList, func(part []string) error {
		return scanAll(ctx, q.reader(), "SELECT "+groupColumns+" FROM groups WHERE tenant_id = ? AND id IN ("+placeholders(len(part))+")",
			append([]any{tenantID}, anys(part)...), func(r rows) error {
				g, err := scanGroup(r)
				out = append(out, g)
				return err
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (q *queries) LiveIDs(ctx context.Context, tenantID string, kind IDKind) ([]string, error) {
	var sqlText string
	switch kind {
	case LiveUsers:
		sqlText = "SELECT id FROM users WHERE tenant_id = ? AND deleted = FALSE ORDER BY id"
	case LiveGroups:
		sqlText = "SELECT id FROM groups WHERE tenant_id = ? AND deleted = FALSE ORDER BY id"
	case LicensedUser:
		sqlText = "SELECT DISTINCT user_id FROM license_states WHERE tenant_id = ? ORDER BY user_id"
	default:
		return nil, fmt.Errorf("%w id kind %q", directory.ErrInvalid, kind)
	}
	var out []string
	err := scanAll(ctx, q.reader(), sqlText, []any{tenantID}, func(r rows) error {
		var id string
		err := r.Scan(&id)
		out = append(out, id)
		return err
	})
	return out, err
}

func (q *queries) ScanUsers(ctx context.Context, tenantID string, fn func(directory.User) error) error {
	return scanAll(ctx, q.reader(), "SELECT "+userColumns+" FROM users WHERE tenant_id = ? ORDER BY id",
		[]any{tenantID}, func(r rows) error {
			u, err := scanUser(r)
			if err != nil {
				return fmt.Errorf("scan users: %w", err)
			}
			return fn(u)
		})
}

func (q *queries) ScanGroups(ctx context.Context, tenantID string, fn func(directory.Group) error) error {
	return scanAll(ctx, q.reader(), "SELECT "+groupColumns+" FROM groups WHERE tenant_id = ? ORDER BY id",
		[]any{tenantID}, func(r rows) error {
			g, err := scanGroup(r)
			if err != nil {
				return fmt.Errorf("scan groups: %w", err)
			}
			return fn(g)
		})
}

func (q *queries) ScanLicenseStates(ctx context.Context, tenantID string, fn func(directory.LicenseState) error) error {
	return scanAll(ctx, q.reader(), "SELECT "+strings.Join(licenseStatesTable.cols, ", ")+" FROM license_states "+
		"WHERE tenant_id = ? ORDER BY user_id, sku_id, assigned_by_group", []any{tenantID}, func(r rows) error {
		l, err := scanLicenseState(r)
		if err != nil {
			return fmt.Errorf("scan license states: %w", err)
		}
		return fn(l)
	})
}

func (q *queries) ListSkus(ctx context.Context, tenantID string) ([]directory.Sku, error) {
	var out []directory.Sku
	err := scanAll(ctx, q.reader(), "SELECT "+strings.Join(skusTable.cols, ", ")+" FROM skus WHERE tenant_id = ? "+
		"ORDER BY sku_part_number, sku_id", []any{tenantID}, func(r rows) error {
		s, err := scanSku(r)
		out = append(out, s)
		return err
	})
	return out, err
}

func (q *queries) ListMailboxes(ctx context.Context, tenantID string) ([]directory.Mailbox, error) {
	var out []directory.Mailbox
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, user_id, primary_smtp, type FROM mailboxes WHERE tenant_id = ? "+
		"ORDER BY user_id", []any{tenantID}, func(r rows) error {
		var m directory.Mailbox
		err := r.Scan(&m.TenantID, &m.UserID, &m.PrimarySMTPAddress, &m.Type)
		out = append(out, m)
		return err
	})
	return out, err
}

// upsertChunk bounds how many rows are encoded ahead of the database.
const upsertChunk = 4096

// upsert encodes items and bulk-writes them in one transaction, in primary-key
// order (key appends an item's key parts, see appendSortKey) and with a later
// duplicate winning over an earlier one. Key order matters for speed: Entra
// ids are random GUIDs, and writing them sorted appends to each B-tree instead
// of touching a random page per row. Encoding runs one chunk ahead in its own
// goroutine so that, on a multi-core machine, it overlaps with the database's
// work instead of adding to it.
func upsert[T any](ctx context.Context, q *queries, t table, items []T, key func(b []byte, it *T) []byte, enc func(c conn, it *T) []any) error {
	if len(items) == 0 {
		return nil
	}
	order := sortedUnique(items, key)
	return q.write(ctx, func(c conn) error {
		chunks := make(chan [][]any, 1)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(chunks)
			_ = chunked(order, upsertChunk, func(part []int32) error {
				rs := make([][]any, len(part))
				for i, j := range part {
					rs[i] = enc(c, &items[j])
				}
				select {
				case chunks <- rs:
					return nil
				case <-stop:
					return errStopped
				}
			})
		}()
		for rs := range chunks {
			if err := c.bulkUpsert(ctx, t, rs); err != nil {
				return fmt.Errorf("upsert %s: %w", t.name, err)
			}
		}
		return nil
	})
}

var errStopped = errors.New("stopped")

func (q *queries) UpsertUsers(ctx context.Context, tenantID string, users []directory.User) error {
	var scratch []byte // upsert encodes from one goroutine
	return upsert(ctx, q, usersTable, users, func(b []byte, u *directory.User) []byte { return appendSortKey(b, u.ID) },
		func(_ conn, u *directory.User) []any { return encodeUser(tenantID, u, &scratch) })
}

func (q *queries) UpsertGroups(ctx context.Context, tenantID string, groups []directory.Group) error {
	return upsert(ctx, q, groupsTable, groups, func(b []byte, g *directory.Group) []byte { return appendSortKey(b, g.ID) },
		func(c conn, g *directory.Group) []any { return encodeGroup(c.time, tenantID, g) })
}

// deleteWhereIn deletes rows of table whose column is in ids, in chunks.
func deleteWhereIn(ctx context.Context, c conn, tbl, column, tenantID string, ids []string) error {
	return chunked(ids, maxInList, func(part []string) error {
		args := append([]any{tenantID}, anys(part)...)
		_, err := c.exec(ctx, "DELETE FROM "+tbl+" WHERE tenant_id = ? AND "+column+" IN ("+placeholders(len(part))+")", args...)
		if err != nil {
			return fmt.Errorf("delete from %s: %w", tbl, err)
		}
		return nil
	})
}

func (q *queries) ReplaceLicenseStates(ctx context.Context, tenantID string, userIDs []string, states []directory.LicenseState) error {
	listed := make(map[string]struct{}, len(userIDs))
	for _, id := range userIDs {
		listed[id] = struct{}{}
	}
	for i := range states {
		if _, ok := listed[states[i].UserID]; !ok {
			return fmt.Errorf("%w license state: user %q is not among the users whose states are replaced", directory.ErrInvalid,
				states[i].UserID)
		}
	}
	return q.write(ctx, func(c conn) error {
		if err := deleteWhereIn(ctx, c, "license_states", "user_id", tenantID, userIDs); err != nil {
			return err
		}
		// Every listed user's states were just deleted and no state belongs
		// to anyone else: a plain insert cannot conflict, and costs half an
		// upsert, which on SQLite binds every row twice.
		return insertLicenseStates(ctx, c, tenantID, states)
	})
}

func (q *queries) AddLicenseStates(ctx context.Context, tenantID string, states []directory.LicenseState) error {
	return q.write(ctx, func(c conn) error { return insertLicenseStates(ctx, c, tenantID, states) })
}

func insertLicenseStates(ctx context.Context, c conn, tenantID string, states []directory.LicenseState) error {
	order := sortedUnique(states, licenseStateKey)
	rs := make([][]any, len(order))
	for i, j := range order {
		rs[i] = encodeLicenseState(c.time, tenantID, &states[j])
	}
	if err := c.bulkInsert(ctx, licenseStatesTable, rs); err != nil {
		return fmt.Errorf("license states: %w", err)
	}
	return nil
}

func (q *queries) UpsertSkus(ctx context.Context, tenantID string, skus []directory.Sku) error {
	return upsert(ctx, q, skusTable, skus, func(b []byte, s *directory.Sku) []byte { return appendSortKey(b, s.SkuID) },
		func(_ conn, s *directory.Sku) []any { return encodeSku(tenantID, s) })
}

func (q *queries) SetSkuPrice(ctx context.Context, tenantID, skuID string, cents int64, currency string) error {
	if cents < 0 {
		return fmt.Errorf("%w sku price: %d is negative", directory.ErrInvalid, cents)
	}
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "UPDATE skus SET monthly_price_cents = ?, currency = ? WHERE tenant_id = ? AND sku_id = ?",
			cents, currency, tenantID, skuID)
		if err == nil && n == 0 {
			err = fmt.Errorf("sku %s: %w", skuID, ErrNotFound)
		}
		return err
	})
}

func (q *queries) UpsertMailboxes(ctx context.Context, tenantID string, mbs []directory.Mailbox) error {
	return upsert(ctx, q, mailboxesTable, mbs, func(b []byte, m *directory.Mailbox) []byte { return appendSortKey(b, m.UserID) },
		func(_ conn, m *directory.Mailbox) []any {
			return []any{tenantID, m.UserID, m.PrimarySMTPAddress, string(m.Type)}
		})
}

func (q *queries) MarkUsersDeleted(ctx context.Context, tenantID string, ids []string, at time.Time) error {
	return q.write(ctx, func(c conn) error {
		if err := chunked(ids, maxInList, func(part []string) error {
			args := append([]any{c.time(&at), tenantID}, anys(part)...)
			_, err := c.exec(ctx, "UPDATE users SET deleted = TRUE, deleted_at = ? WHERE tenant_id = ? AND id IN ("+
				placeholders(len(part))+")", args...)
			return err
		}); err != nil {
			return fmt.Errorf("mark users deleted: %w", err)
		}
		if err := dropMemberships(ctx, c, tenantID, ids, false); err != nil {
			return err
		}
		if err := deleteWhereIn(ctx, c, "license_states", "user_id", tenantID, ids); err != nil {
			return err
		}
		return deleteWhereIn(ctx, c, "mailboxes", "user_id", tenantID, ids)
	})
}

func (q *queries) MarkGroupsDeleted(ctx context.Context, tenantID string, ids []string, at time.Time) error {
	return q.write(ctx, func(c conn) error {
		if err := chunked(ids, maxInList, func(part []string) error {
			args := append([]any{c.time(&at), tenantID}, anys(part)...)
			_, err := c.exec(ctx, "UPDATE groups SET deleted = TRUE, deleted_at = ? WHERE tenant_id = ? AND id IN ("+
				placeholders(len(part))+")", args...)
			return err
		}); err != nil {
			return fmt.Errorf("mark groups deleted: %w", err)
		}
		return dropMemberships(ctx, c, tenantID, ids, true)
	})
}

// ---- sync state ----

func (q *queries) GetSyncState(ctx context.Context, tenantID, resource string) (SyncState, error) {
	var s SyncState
	found := false
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, resource, delta_link, last_full_at, last_delta_at, last_error, "+
		"updated_at FROM sync_state WHERE tenant_id = ? AND resource = ?", []any{tenantID, resource}, func(r rows) error {
		found = true
		var updated *time.Time
		err := r.Scan(&s.TenantID, &s.Resource, &s.DeltaLink, scanTime{&s.LastFullAt}, scanTime{&s.LastDeltaAt},
			&s.LastError, scanTime{&updated})
		if updated != nil {
			s.UpdatedAt = *updated
		}
		return err
	})
	if err == nil && !found {
		err = fmt.Errorf("sync state %s/%s: %w", tenantID, resource, ErrNotFound)
	}
	return s, err
}

func (q *queries) PutSyncState(ctx context.Context, s SyncState) error {
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = time.Now().UTC()
	}
	return q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "INSERT INTO sync_state (tenant_id, resource, delta_link, last_full_at, last_delta_at, "+
			"last_error, updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (tenant_id, resource) DO UPDATE SET "+
			"delta_link = excluded.delta_link, last_full_at = excluded.last_full_at, last_delta_at = excluded.last_delta_at, "+
			"last_error = excluded.last_error, updated_at = excluded.updated_at",
			s.TenantID, s.Resource, s.DeltaLink, c.time(s.LastFullAt), c.time(s.LastDeltaAt), s.LastError, c.time(&s.UpdatedAt))
		return err
	})
}

// ---- pools ----

func scanPool(r rowScanner) (PoolRecord, error) {
	var p PoolRecord
	var spec string
	var updated *time.Time
	err := r.Scan(&p.TenantID, &p.Name, &spec, &p.Version, scanTime{&updated})
	p.Spec = json.RawMessage(spec)
	if updated != nil {
		p.UpdatedAt = *updated
	}
	return p, err
}

func (q *queries) GetPool(ctx context.Context, tenantID, name string) (PoolRecord, error) {
	var p PoolRecord
	found := false
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, name, spec, version, updated_at FROM pools WHERE tenant_id = ? AND name = ?",
		[]any{tenantID, name}, func(r rows) (err error) { p, err = scanPool(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("pool %q: %w", name, ErrNotFound)
	}
	return p, err
}

func (q *queries) ListPools(ctx context.Context, tenantID string) ([]PoolRecord, error) {
	var out []PoolRecord
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, name, spec, version, updated_at FROM pools WHERE tenant_id = ? ORDER BY name",
		[]any{tenantID}, func(r rows) error {
			p, err := scanPool(r)
			out = append(out, p)
			return err
		})
	return out, err
}

// PutPool stores a pool and bumps its version, so plans can say which
// revision of a pool they were computed from.
func (q *queries) PutPool(ctx context.Context, p PoolRecord) (PoolRecord, error) {
	if strings.TrimSpace(p.Name) == "" {
		return p, fmt.Errorf("%w pool: name is required", directory.ErrInvalid)
	}
	if !json.Valid(p.Spec) {
		return p, fmt.Errorf("%w pool %q: spec is not valid JSON", directory.ErrInvalid, p.Name)
	}
	p.UpdatedAt = time.Now().UTC()
	err := q.write(ctx, func(c conn) error {
		return scanAll(ctx, c, "INSERT INTO pools (tenant_id, name, spec, version, updated_at) VALUES (?,?,?,1,?) "+
			"ON CONFLICT (tenant_id, name) DO UPDATE SET spec = excluded.spec, version = pools.version + 1, "+
			"updated_at = excluded.updated_at RETURNING version", []any{p.TenantID, p.Name, string(p.Spec), c.time(&p.UpdatedAt)},
			func(r rows) error { return r.Scan(&p.Version) })
	})
	return p, err
}

func (q *queries) DeletePool(ctx context.Context, tenantID, name string) error {
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "DELETE FROM pools WHERE tenant_id = ? AND name = ?", tenantID, name)
		if err == nil && n == 0 {
			err = fmt.Errorf("pool %q: %w", name, ErrNotFound)
		}
		return err
	})
}

// ---- audit ----

func (q *queries) AppendAudit(ctx context.Context, recs []AuditRecord) error {
	return q.write(ctx, func(c conn) error {
		for _, r := range recs {
			if r.Actor == "" || r.Action == "" {
				return fmt.Errorf("%w audit record: actor and action are required", directory.ErrInvalid)
			}
			if r.At.IsZero() {
				r.At = time.Now().UTC()
			}
			detail := ""
			if len(r.Detail) > 0 {
				if !json.Valid(r.Detail) {
					return fmt.Errorf("%w audit record: detail is not valid JSON", directory.ErrInvalid)
				}
				detail = string(r.Detail)
			}
			if _, err := c.exec(ctx, "INSERT INTO audit (at, tenant_id, actor, action, target_type, target_id, request_id, "+
				"reason, detail) VALUES (?,?,?,?,?,?,?,?,?)", c.time(&r.At), r.TenantID, r.Actor, r.Action, r.TargetType,
				r.TargetID, r.RequestID, r.Reason, detail); err != nil {
				return fmt.Errorf("append audit: %w", err)
			}
		}
		return nil
	})
}

func (q *queries) ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	c := q.reader()
	if f.TenantID != "" {
		add("tenant_id = ?", f.TenantID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", c.time(&f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", c.time(&f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	sqlText := "SELECT id, at, tenant_id, actor, action, target_type, target_id, request_id, reason, detail FROM audit"
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	var out []AuditRecord
	err := scanAll(ctx, c, sqlText, args, func(r rows) error {
		var a AuditRecord
		var at *time.Time
		var detail string
		if err := r.Scan(&a.ID, scanTime{&at}, &a.TenantID, &a.Actor, &a.Action, &a.TargetType, &a.TargetID,
			&a.RequestID, &a.Reason, &detail); err != nil {
			return err
		}
		if at != nil {
			a.At = *at
		}
		if detail != "" {
			a.Detail = json.RawMessage(detail)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// ---- counts ----

func (q *queries) Counts(ctx context.Context, tenantID string) (Counts, error) {
	var c Counts
	filter, args := "", []any(nil)
	if tenantID != "" {
		filter, args = " AND tenant_id = ?", []any{tenantID}
	}
	targets := []struct {
		dst *int64
		sql string
	}{
		{&c.Users, "SELECT count(*) FROM users WHERE deleted = FALSE" + filter},
		{&c.Groups, "SELECT count(*) FROM groups WHERE deleted = FALSE" + filter},
		{&c.Memberships, "SELECT coalesce(sum(member_count), 0) FROM group_members WHERE 1=1" + filter},
		{&c.Skus, "SELECT count(*) FROM skus WHERE 1=1" + filter},
		{&c.LicenseStates, "SELECT count(*) FROM license_states WHERE 1=1" + filter},
		{&c.Pools, "SELECT count(*) FROM pools WHERE 1=1" + filter},
		{&c.OpenChanges, "SELECT count(*) FROM changes WHERE status IN ('pending_approval','open','claimed')" + filter},
	}
	tenantFilter := ""
	if tenantID != "" {
		tenantFilter = " WHERE id = ?"
	}
	targets = append(targets, struct {
		dst *int64
		sql string
	}{&c.Tenants, "SELECT count(*) FROM tenants" + tenantFilter})
	for _, t := range targets {
		if err := scanAll(ctx, q.reader(), t.sql, args, func(r rows) error { return r.Scan(t.dst) }); err != nil {
			return c, fmt.Errorf("counts: %w", err)
		}
	}
	return c, nil
}
