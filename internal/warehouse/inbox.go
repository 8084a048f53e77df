package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Inbox holds raw Graph pages between the fetchers that store them and the
// processor that applies them (EmpowerID's two steps). It is not part of a
// transaction: on SQLite the pages live in a database file of their own
// beside the warehouse, so storing a page never waits for the warehouse's
// single writer. When both shared one file, fetchers stood still while a
// batch of pages was being applied, and a 100,000-user sync downloaded its
// pages in 8.6 s instead of 2.7 s.
//
// A processed page is therefore deleted after the transaction that applied
// it has committed, not inside it. A crash in between leaves pages that were
// already applied; they cannot be applied twice, because a sync starts by
// purging what an interrupted one left (PurgeInbox) and fetches its rounds
// again.
type Inbox interface {
	PutInboxPages(ctx context.Context, pages []InboxPage) ([]int64, error)
	// ClaimInboxPages leases up to limit unclaimed (or lease-expired) pages of
	// a tenant, oldest first, to owner until now+lease.
	ClaimInboxPages(ctx context.Context, tenantID, owner string, limit int, lease time.Duration) ([]InboxPage, error)
	// DeleteInboxPages removes processed pages; ErrNotFound if one is gone.
	DeleteInboxPages(ctx context.Context, ids []int64) error
	// ReleaseInboxPage gives a claimed page back after a failure, recording it.
	ReleaseInboxPage(ctx context.Context, id int64, lastError string) error
	// PurgeInbox drops a tenant's pages left by an interrupted sync, whose
	// round will be fetched again; it returns how many pages it dropped.
	PurgeInbox(ctx context.Context, tenantID string) (int64, error)
}

// inbox implements Inbox with the warehouse's queries on PostgreSQL, where
// writers do not exclude each other, and with its own file on SQLite.
type inbox struct{ q queries }

// sqliteInboxSchema is the inbox file's layout, as on PostgreSQL: claim
// state in inbox and page bodies in inbox_body, so that claiming a page (an
// UPDATE of its lease) does not rewrite the page; SQLite rewrites a whole
// record when its size changes, and the claim read 60 MB back into the WAL
// in a 100,000-user sync. The file holds nothing that outlives a sync (each
// one purges what an interrupted one left), so it needs no migrations: a
// file of another layout version is emptied and laid out anew.
const sqliteInboxSchema = `
DROP TABLE IF EXISTS inbox;
DROP TABLE IF EXISTS inbox_body;
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    round       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    claimed_by  TEXT NOT NULL DEFAULT '',
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbox_claim ON inbox (tenant_id, id);
CREATE TABLE inbox_body (
    id   INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);`

// sqliteInboxVersion numbers sqliteInboxSchema; it is kept in the file's
// user_version.
const sqliteInboxVersion = 1

// sqliteInboxPath is the inbox file of the SQLite warehouse at path.
func sqliteInboxPath(path string) string { return path + "-inbox" }

// openSQLiteInbox opens (creating if needed) the inbox file of the SQLite
// warehouse at path. One connection: fetchers and the processor take turns
// on it in short transactions.
func openSQLiteInbox(ctx context.Context, path string) (*sql.DB, error) {
	path = sqliteInboxPath(path)
	if err := initSQLite(ctx, path); err != nil {
		return nil, fmt.Errorf("create inbox %s: %w", path, sqliteCause(err))
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(60000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate&_pragma=journal_size_limit(67108864)")
	if err != nil {
		return nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := layOutSQLiteInbox(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open inbox %s: %w", path, sqliteCause(err))
	}
	return db, nil
}

func layOutSQLiteInbox(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version == sqliteInboxVersion {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, sqliteInboxSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", sqliteInboxVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

func (ib *inbox) PutInboxPages(ctx context.Context, pages []InboxPage) ([]int64, error) {
	ids := make([]int64, 0, len(pages))
	err := ib.q.write(ctx, func(c conn) error {
		for _, p := range pages {
			if p.ReceivedAt.IsZero() {
				p.ReceivedAt = time.Now().UTC()
			}
			var id int64
			err := scanAll(ctx, c, "INSERT INTO inbox (tenant_id, resource, round, seq, received_at) "+
				"VALUES (?,?,?,?,?) RETURNING id", []any{p.TenantID, p.Resource, p.Round, p.Seq,
				c.time(&p.ReceivedAt)}, func(r rows) error { return r.Scan(&id) })
			if err == nil {
				_, err = c.exec(ctx, "INSERT INTO inbox_body (id, body) VALUES (?, ?)", id, string(p.Body))
			}
			if err != nil {
				return fmt.Errorf("put inbox page: %w", err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

const inboxColumns = "id, tenant_id, resource, round, seq, received_at, claimed_by, lease_until, attempts, last_error"

func (ib *inbox) ClaimInboxPages(ctx context.Context, tenantID, owner string, limit int, lease time.Duration) ([]InboxPage, error) {
	if limit <= 0 {
		limit = 1
	}
	var out []InboxPage
	err := ib.q.write(ctx, func(c conn) error {
		now := time.Now().UTC()
		until := now.Add(lease)
		err := scanAll(ctx, c, "UPDATE inbox SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 "+
			"WHERE id IN (SELECT id FROM inbox WHERE tenant_id = ? AND (lease_until IS NULL OR lease_until < ?) "+
			"ORDER BY id LIMIT ?"+c.skipLocked()+") RETURNING "+inboxColumns,
			[]any{owner, c.time(&until), tenantID, c.time(&now), limit}, func(r rows) error {
				var p InboxPage
				var received *time.Time
				if err := r.Scan(&p.ID, &p.TenantID, &p.Resource, &p.Round, &p.Seq, scanTime{&received},
					&p.ClaimedBy, scanTime{&p.LeaseUntil}, &p.Attempts, &p.LastError); err != nil {
					return err
				}
				if received != nil {
					p.ReceivedAt = *received
				}
				out = append(out, p)
				return nil
			})
		if err != nil || len(out) == 0 {
			return err
		}
		at := make(map[int64]int, len(out))
		ids := make([]int64, len(out))
		for i := range out {
			at[out[i].ID], ids[i] = i, out[i].ID
		}
		return scanAll(ctx, c, "SELECT id, body FROM inbox_body WHERE id IN ("+placeholders(len(ids))+")", anys(ids),
			func(r rows) error {
				var id int64
				var body string
				if err := r.Scan(&id, &body); err != nil {
					return err
				}
				out[at[id]].Body = json.RawMessage(body)
				return nil
			})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if err != nil {
		return nil, fmt.Errorf("claim inbox pages: %w", err)
	}
	return out, nil
}

func (ib *inbox) DeleteInboxPages(ctx context.Context, ids []int64) error {
	return ib.q.write(ctx, func(c conn) error {
		var deleted int64
		err := chunked(ids, maxInList, func(part []int64) error {
			if _, err := c.exec(ctx, "DELETE FROM inbox_body WHERE id IN ("+placeholders(len(part))+")", anys(part)...); err != nil {
				return err
			}
			n, err := c.exec(ctx, "DELETE FROM inbox WHERE id IN ("+placeholders(len(part))+")", anys(part)...)
			deleted += n
			return err
		})
		if err == nil && deleted < int64(len(ids)) {
			err = fmt.Errorf("inbox pages: %d of %d %w", int64(len(ids))-deleted, len(ids), ErrNotFound)
		}
		return err
	})
}

func (ib *inbox) ReleaseInboxPage(ctx context.Context, id int64, lastError string) error {
	return ib.q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "UPDATE inbox SET claimed_by = '', lease_until = NULL, last_error = ? WHERE id = ?", lastError, id)
		return err
	})
}

func (ib *inbox) PurgeInbox(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := ib.q.write(ctx, func(c conn) (err error) {
		_, err = c.exec(ctx, "DELETE FROM inbox_body WHERE id IN (SELECT id FROM inbox WHERE tenant_id = ?)", tenantID)
		if err == nil {
			n, err = c.exec(ctx, "DELETE FROM inbox WHERE tenant_id = ?", tenantID)
		}
		return err
	})
	return n, err
}
