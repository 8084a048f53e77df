package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Inbox holds raw Graph pages between the fetchers that store them and the
// processor that applies them (EmpowerID's two steps). It is not part of a
// transaction: on SQLite the pages live beside the warehouse (see
// openSQLiteInbox), so storing a page never waits for the warehouse's
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
	// a tenant, oldest first, to owner until now+lease. The pages come without
	// their bodies: a processor reads each with InboxPageBody when it gets to
	// it, so that a batch of claimed pages is not all in memory at once.
	ClaimInboxPages(ctx context.Context, tenantID, owner string, limit int, lease time.Duration) ([]InboxPage, error)
	// InboxPageBody appends the body of page id to dst and returns it, so
	// that a processor can read page after page into one buffer.
	InboxPageBody(ctx context.Context, id int64, dst []byte) ([]byte, error)
	// DeleteInboxPages removes processed pages; ErrNotFound if one is gone.
	DeleteInboxPages(ctx context.Context, ids []int64) error
	// ReleaseInboxPage gives a claimed page back after a failure, recording it.
	ReleaseInboxPage(ctx context.Context, id int64, lastError string) error
	// PurgeInbox drops a tenant's pages left by an interrupted sync, whose
	// round will be fetched again; it returns how many pages it dropped.
	PurgeInbox(ctx context.Context, tenantID string) (int64, error)
}

// inbox implements Inbox with the warehouse's queries on PostgreSQL, where
// writers do not exclude each other and bodies live in inbox_body. On SQLite
// the claim state lives in a database file of its own and each body in a
// file of its own in dir (see openSQLiteInbox).
type inbox struct {
	q   queries
	dir string
}

// sqliteInboxSchema is the inbox file's layout: the claim state of each
// page, whose body is a file in the inbox directory. The file and the
// directory hold nothing that outlives a sync (each one purges what an
// interrupted one left), so they need no migrations: a file of another
// layout version is emptied and laid out anew, and the directory with it.
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
CREATE INDEX inbox_claim ON inbox (tenant_id, id);`

// sqliteInboxVersion numbers sqliteInboxSchema; it is kept in the file's
// user_version. Version 1 kept Snappy-compressed bodies in a table.
const sqliteInboxVersion = 2

// sqliteInboxPageSize is the page size of the inbox file: SQLite's default.
const sqliteInboxPageSize = 4096

// sqliteInboxPath is the inbox file of the SQLite warehouse at path.
func sqliteInboxPath(path string) string { return path + "-inbox" }

// sqliteInboxDir is the directory of the page bodies of the SQLite
// warehouse at path.
func sqliteInboxDir(path string) string { return path + "-pages" }

// openSQLiteInbox opens (creating if needed) the inbox of the SQLite
// warehouse at path: a database file with one writing connection, on which
// fetchers and the processor take turns in short transactions, and
// read-only ones; and a directory with one file per page body.
//
// Bodies are files because in SQLite every byte of a page went through the
// inbox's WAL, was copied into the database file by a checkpoint, read back
// along a chain of overflow pages and freed: a quarter of a gigabyte per
// 100,000 users, which Snappy compression only made smaller at its own cost
// in CPU. Storing a page took 13–24 ms in a 100,000-user sync, longer than
// fetching it. A file is one write, one read and one unlink.
func openSQLiteInbox(ctx context.Context, path string) (ib inbox, writer, reader *sql.DB, err error) {
	dir := sqliteInboxDir(path)
	path = sqliteInboxPath(path)
	// Small pages: every stored page is a transaction of its own, which
	// writes the few pages it touched, whole, to the WAL.
	if err := initSQLite(ctx, path, sqliteInboxPageSize); err != nil {
		return inbox{}, nil, nil, fmt.Errorf("create inbox %s: %w", path, sqliteCause(err))
	}
	dsn := path + "?_pragma=busy_timeout(60000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	if writer, err = sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=journal_size_limit(67108864)"); err != nil {
		return inbox{}, nil, nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	if err := layOutSQLiteInbox(ctx, writer, dir); err != nil {
		writer.Close()
		return inbox{}, nil, nil, fmt.Errorf("open inbox %s: %w", path, sqliteCause(err))
	}
	if reader, err = sql.Open("sqlite", dsn+"&_pragma=query_only(1)"); err != nil {
		writer.Close()
		return inbox{}, nil, nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	reader.SetMaxOpenConns(2)
	ib = inbox{q: queries{read: sqlConn{db: reader, q: reader}, begin: sqliteWriter{db: writer}}, dir: dir}
	return ib, writer, reader, nil
}

func layOutSQLiteInbox(ctx context.Context, db *sql.DB, dir string) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version == sqliteInboxVersion {
		return os.MkdirAll(dir, 0o700)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
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

// bodyPath is the file of page id's body.
func (ib *inbox) bodyPath(id int64) string {
	return filepath.Join(ib.dir, strconv.FormatInt(id, 10))
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
			switch {
			case err != nil:
			case ib.dir != "":
				// Written before the row commits: a crash in between leaves
				// a file whose id the next page reuses and overwrites, since
				// the id's allocation did not commit either.
				err = os.WriteFile(ib.bodyPath(id), p.Body, 0o600)
			default:
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
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if err != nil {
		return nil, fmt.Errorf("claim inbox pages: %w", err)
	}
	return out, nil
}

func (ib *inbox) InboxPageBody(ctx context.Context, id int64, dst []byte) ([]byte, error) {
	if ib.dir == "" {
		found := false
		err := scanAll(ctx, ib.q.read, "SELECT body FROM inbox_body WHERE id = ?", []any{id}, func(r rows) error {
			var body string
			err := r.Scan(&body)
			dst, found = append(dst, body...), true
			return err
		})
		if err == nil && !found {
			err = ErrNotFound
		}
		if err != nil {
			return dst, fmt.Errorf("inbox page %d: %w", id, err)
		}
		return dst, nil
	}
	f, err := os.Open(ib.bodyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		err = ErrNotFound
	}
	if err != nil {
		return dst, fmt.Errorf("inbox page %d: %w", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return dst, fmt.Errorf("inbox page %d: %w", id, err)
	}
	n := len(dst)
	dst = slices.Grow(dst, int(fi.Size()))[:n+int(fi.Size())]
	if _, err := io.ReadFull(f, dst[n:]); err != nil {
		return dst[:n], fmt.Errorf("inbox page %d: %w", id, err)
	}
	return dst, nil
}

func (ib *inbox) DeleteInboxPages(ctx context.Context, ids []int64) error {
	err := ib.q.write(ctx, func(c conn) error {
		var deleted int64
		err := chunked(ids, maxInList, func(part []int64) error {
			if ib.dir == "" {
				if _, err := c.exec(ctx, "DELETE FROM inbox_body WHERE id IN ("+placeholders(len(part))+")", anys(part)...); err != nil {
					return err
				}
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
	if err != nil || ib.dir == "" {
		return err
	}
	// Bodies go after the rows have: a crash in between leaves files that
	// the next purge sweeps. That sweep also takes any file that cannot be
	// removed now, so failing here would fail a sync whose pages were
	// applied and committed, for a file that harms nothing.
	for _, id := range ids {
		_ = os.Remove(ib.bodyPath(id))
	}
	return nil
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
		if ib.dir == "" {
			_, err = c.exec(ctx, "DELETE FROM inbox_body WHERE id IN (SELECT id FROM inbox WHERE tenant_id = ?)", tenantID)
		}
		if err == nil {
			n, err = c.exec(ctx, "DELETE FROM inbox WHERE tenant_id = ?", tenantID)
		}
		if err == nil && ib.dir != "" {
			err = ib.sweep(ctx, c)
		}
		return err
	})
	return n, err
}

// sweep removes the body files that no page row names any more: the purged
// tenant's, and any that a crash left between a page's deletion and its
// file's. It runs in the inbox's write transaction: another tenant's fetcher
// writes a body before its row commits (see PutInboxPages), and a sweep
// outside the lock took such a file for a leftover and deleted it, so that
// sync then failed with "inbox page N: not found".
func (ib *inbox) sweep(ctx context.Context, c conn) error {
	entries, err := os.ReadDir(ib.dir)
	if err != nil {
		return fmt.Errorf("inbox directory: %w", err)
	}
	live := map[int64]bool{}
	if err := scanAll(ctx, c, "SELECT id FROM inbox", nil, func(r rows) error {
		var id int64
		err := r.Scan(&id)
		live[id] = true
		return err
	}); err != nil {
		return fmt.Errorf("inbox pages: %w", err)
	}
	for _, e := range entries {
		if id, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && live[id] {
			continue
		}
		if err := os.Remove(filepath.Join(ib.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
