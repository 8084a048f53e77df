package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteStore is the single-host backend. SQLite allows one writer at a time,
// so writes (and River, which shares the writer) use a pool of exactly one
// connection, while reads use a separate pool of read-only connections that
// WAL lets run beside the writer.
type SQLiteStore struct {
	queries
	inbox
	path   string
	writer *sql.DB
	reader *sql.DB
	// The inbox file's writing connection and its readers (openSQLiteInbox).
	inboxDB, inboxReader *sql.DB
	ckpt                 *checkpointer
	// bulk holds the writer's prepared statements for bulk writes.
	bulk bulkStmts
}

var _ Store = (*SQLiteStore)(nil)

func sqliteDSN(path string, readOnly bool) string {
	// The writer's 128 MiB page cache keeps a large bulk transaction from
	// spilling pages into the WAL before it commits, and holds the key
	// indexes a sync inserts into at random (users, license states) for a
	// million-user tenant: 64 MiB took its full sync from 119.9 s to 135 s,
	// at 160 MB less peak RSS (1.43 GB; the bar is 1.5). Readers keep SQLite's
	// small default: WAL invalidates a reader's cache after every commit, and
	// tearing down a large one costs more than it saves. Statement journals
	// stay on SQLite's default (memory, spilling to a temp file past 64 KiB):
	// in memory they made modernc's allocator return memory to the OS after
	// every statement, which cost more than the writes.
	//
	// The writer waits up to a minute for the lock: a RESTART checkpoint
	// holds writers off while it copies the WAL's last frames, which on a
	// loaded machine took longer than 10 s and failed a 1M-user sync with
	// SQLITE_BUSY. Waiting is always better than failing a sync.
	busy := "60000"
	if readOnly {
		busy = "10000"
	}
	dsn := path + "?_pragma=busy_timeout(" + busy + ")&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	if readOnly {
		return dsn + "&_pragma=query_only(1)"
	}
	// The writer never checkpoints: a checkpointer goroutine on its own
	// connection does (see checkpointer), so a commit costs only its own WAL
	// frames and the copy into the database file runs on another core.
	// journal_size_limit shrinks the WAL file back after a big sync.
	return dsn + "&_pragma=cache_size(-131072)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)"
}

// sqlitePageSize is the page size of databases allot creates: SQLite's
// largest. SQLite writes each WAL frame with two write calls and a
// checkpoint copies it with a read and a write, one page at a time, so the
// number of system calls of a bulk sync goes with the number of pages. With
// 8 KiB pages a 100,000-user sync made 90,600 pwrite and 29,200 pread
// calls, about a third of its system time; with 64 KiB, 13,700 and 3,000
// (strace -c -f allot bench inventory). 8 KiB had been measured against
// 16 KiB for one in-process upsert, where system calls cost less than they
// do under a whole sync. Small transactions (the change queue) measured the
// same either way (allot bench fulfillment). Existing databases keep the
// page size they were created with.
const sqlitePageSize = 65536

// initSQLite sets the page size of a database that does not exist yet. It
// needs its own connection: SQLite fixes the page size when the file is
// first written, and the driver switches a connection to WAL before it runs
// any other pragma from the DSN.
func initSQLite(ctx context.Context, path string, pageSize int) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", path+"?_pragma=page_size("+strconv.Itoa(pageSize)+")")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	return err
}

// openSQLite opens (creating if needed) and migrates the database at path.
func openSQLite(ctx context.Context, path string) (*SQLiteStore, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("%w: sqlite path %q must not contain '?' or '#'", ErrBadDSN, path)
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	if err := initSQLite(ctx, path, sqlitePageSize); err != nil {
		return nil, fmt.Errorf("create sqlite warehouse %s: %w", path, sqliteCause(err))
	}
	writer, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite warehouse %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite warehouse %s: %w", path, sqliteCause(err))
	}
	reader, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite warehouse %s: %w", path, err)
	}
	reader.SetMaxOpenConns(4)
	s := &SQLiteStore{path: path, writer: writer, reader: reader}
	s.queries = queries{read: sqlConn{db: reader, q: reader}, begin: s}
	if s.inbox, s.inboxDB, s.inboxReader, err = openSQLiteInbox(ctx, path); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite warehouse %s: %w", path, err)
	}
	if err := migrateSQL(ctx, writer, SQLite); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite warehouse %s: %w", path, sqliteCause(err))
	}
	if s.bulk, err = prepareBulk(ctx, writer); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite warehouse %s: %w", path, sqliteCause(err))
	}
	if s.ckpt, err = startCheckpointer(path); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite warehouse %s: %w", path, err)
	}
	return s, nil
}

// checkWritable turns the usual ways a path can be unusable into one clear
// sentence before SQLite reports something cryptic like "out of memory (14)".
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("sqlite warehouse %s: directory %s does not exist", path, dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("sqlite warehouse %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("sqlite warehouse %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("sqlite warehouse %s: not writable: %w", path, errors.Unwrap(err))
		}
		return f.Close()
	}
	// Probe the directory: SQLite must create the database and its -wal file there.
	probe, err := os.CreateTemp(dir, ".allot-probe-*")
	if err != nil {
		return fmt.Errorf("sqlite warehouse %s: directory %s is not writable: %w", path, dir, errors.Unwrap(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// sqliteCause rewords SQLite's result codes that operators actually meet.
func sqliteCause(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY:
			return fmt.Errorf("database is read-only: %w", err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("cannot open database file: %w", err)
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("file is not a SQLite database: %w", err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("database file is corrupt: %w", err)
		}
	}
	return err
}

// Backend reports SQLite.
func (s *SQLiteStore) Backend() Backend { return SQLite }

// DB is the writer pool (one connection). River's SQLite driver uses it, so
// jobs and warehouse writes serialise instead of failing with SQLITE_BUSY.
func (s *SQLiteStore) DB() *sql.DB { return s.writer }

// Path is the database file.
func (s *SQLiteStore) Path() string { return s.path }

// SchemaVersion returns the applied warehouse migration version.
func (s *SQLiteStore) SchemaVersion(ctx context.Context) (int64, error) {
	return schemaVersion(ctx, s.reader, SQLite)
}

// Close stops the checkpointer and closes both pools; SQLite checkpoints
// what is left when the last connection closes.
func (s *SQLiteStore) Close() error {
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	if s.inboxDB != nil {
		err = errors.Join(err, s.inboxReader.Close(), s.inboxDB.Close())
	}
	for _, st := range s.bulk {
		err = errors.Join(err, st.Close())
	}
	return errors.Join(err, s.reader.Close(), s.writer.Close())
}

// InTx runs fn in one write transaction.
func (s *SQLiteStore) InTx(ctx context.Context, fn func(Tx) error) error {
	return s.inTx(ctx, func(c conn) error {
		return fn(&sqliteTx{queries: queries{tx: c}, tx: c.(sqlConn).q.(*sql.Tx)})
	})
}

func (s *SQLiteStore) inTx(ctx context.Context, fn func(c conn) error) error {
	return sqliteWriter{s.writer, s.bulk}.inTx(ctx, fn)
}

// sqliteWriter runs transactions on a pool of one writing connection.
type sqliteWriter struct {
	db   *sql.DB
	bulk bulkStmts
}

func (w sqliteWriter) inTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", sqliteCause(err))
	}
	if err := fn(sqlConn{db: w.db, q: tx, bulk: w.bulk}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", sqliteCause(err))
	}
	return nil
}

// sqliteTx is a Tx on SQLite; SQLTx exposes the transaction so the job
// package can insert River jobs that commit or roll back with it.
type sqliteTx struct {
	queries
	tx *sql.Tx
}

func (t *sqliteTx) SQLTx() *sql.Tx { return t.tx }

// sqlQuerier is what *sql.DB and *sql.Tx have in common.
type sqlQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
}

type sqlConn struct {
	db   *sql.DB
	q    sqlQuerier
	bulk bulkStmts // nil outside the warehouse's writer
}

// bulkStmts are the writer's statements for the chunks of bulk writes (see
// bulkWrite), prepared once when the store opens. A sync wrote a few chunks
// per page, and each call prepared its statements anew: a 256-row statement
// with over two thousand parameters took SQLite about half a millisecond to
// parse, 0.2 s of a 100,000-user sync. They cannot be prepared on first use:
// that happens inside a transaction, which holds the writer's one
// connection. All of them take about 20 ms to prepare.
type bulkStmts map[bulkKey]*sql.Stmt

// bulkTables are the tables written with bulkWrite.
var bulkTables = []table{usersTable, groupsTable, licenseStatesTable, skusTable, mailboxesTable,
	groupMembersTable.table, memberGroupsTable.table}

func prepareBulk(ctx context.Context, db *sql.DB) (bulkStmts, error) {
	stmts := bulkStmts{}
	for _, t := range bulkTables {
		update, insert := t.sqliteUpsert(t.sqliteShared())
		for _, n := range chunkLens(t.sqliteChunk()) {
			for op, build := range map[string]func(int) string{"insert": insert, "update": update} {
				if build == nil {
					continue
				}
				st, err := db.PrepareContext(ctx, build(n))
				if err != nil {
					for _, st := range stmts {
						st.Close()
					}
					return nil, fmt.Errorf("prepare bulk %s of %d rows of %s: %w", op, n, t.name, err)
				}
				stmts[bulkKey{t.bulkName(), op, n}] = st
			}
		}
	}
	return stmts, nil
}

func (c sqlConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, sqliteCause(err)
	}
	return res.RowsAffected()
}

func (c sqlConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := c.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, sqliteCause(err)
	}
	return sqlRows{rs}, nil
}

func (c sqlConn) skipLocked() string { return "" }

// insertIgnoring uses OR IGNORE: unlike ON CONFLICT it never aborts the
// statement, so SQLite needs no statement journal for it.
func (c sqlConn) insertIgnoring(intoSelect string) string { return "INSERT OR IGNORE " + intoSelect }
func (c sqlConn) time(t *time.Time) any                   { return sqliteTime(t) }

// sqliteMaxVars is SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
const sqliteMaxVars = 32766

// bulkUpsert writes rows in chunks of up to 256, each as two statements
// that can never abort: UPDATE OR IGNORE … FROM (VALUES …) for rows that
// exist, then INSERT OR IGNORE … VALUES … for the new ones. A statement that
// may abort half way makes SQLite journal, per statement, every page an
// earlier statement of the transaction touched; with random GUID keys that is
// nearly every page, and it made bulk writes several times slower. (The codecs
// never produce NULL for a NOT NULL column, so IGNORE never drops a row.)
//
// Chunks of 256 rows parse fast enough that preparing the statement once per
// call costs little, and are large enough that the per-statement overhead of
// database/sql stays small. Rows of one call share their tenant, so the
// tenant is bound once per statement as ?1 instead of once per row: every
// text argument costs modernc's driver an allocation and a copy.
func (c sqlConn) bulkUpsert(ctx context.Context, t table, rs [][]any) error {
	if len(rs) == 0 {
		return nil
	}
	shared := t.sqliteShared()
	update, insert := t.sqliteUpsert(shared)
	_, err := c.bulkWrite(ctx, t, rs, shared, insert, update)
	return err
}

// sqliteShared says the table's first column is the tenant, which every row
// of a bulk write shares (see bulkUpsert).
func (t table) sqliteShared() bool { return t.cols[0] == "tenant_id" }

// sqliteChunk is how many rows a full chunk of a bulk write holds.
func (t table) sqliteChunk() int { return min(256, sqliteMaxVars/len(t.cols)) }

// bulkInsert writes new rows in chunks as bulkUpsert. The statement says
// OR IGNORE and conflicts are found by counting: a plain INSERT of many rows
// may abort halfway, so SQLite keeps a statement journal for it, writing
// every page it touches to a temporary file first. That was 40 % of
// inserting a sync's license states.
func (c sqlConn) bulkInsert(ctx context.Context, t table, rs [][]any) error {
	shared := t.sqliteShared()
	_, insert := t.sqliteUpsert(shared)
	inserted, err := c.bulkWrite(ctx, t, rs, shared, insert, nil)
	if err == nil && inserted < int64(len(rs)) {
		err = fmt.Errorf("insert into %s: %d of %d rows %w", t.name, int64(len(rs))-inserted, len(rs), ErrAlreadyExists)
	}
	return err
}

// bulkWrite inserts rs a chunk at a time, and, when update is set and a
// chunk's insert skipped rows that exist already, updates the chunk's rows.
// It returns how many rows the inserts wrote.
// Inserting first means a chunk of new rows (every chunk of a first sync)
// is bound and looked up once; updating first, as this did, paid for a
// second binding and index lookup of every row that did not exist. The
// update also rewrites the rows the insert just wrote, with the same
// values: cheaper than working out which ones they were.
//
// Chunks hold the table's full chunk of rows (sqliteChunk) while there are
// that many, then, for the tables the writer prepared statements for, a
// power of two, so that every chunk runs on one of them (see bulkStmts).
func (c sqlConn) bulkWrite(ctx context.Context, t table, rs [][]any, shared bool, insert, update func(n int) string) (int64, error) {
	per, name := t.sqliteChunk(), t.bulkName()
	// Chunks shorter than a full one are split into powers of two only
	// where the writer has prepared statements for them: elsewhere one
	// statement prepared for the chunk costs less than several.
	_, split := c.bulk[bulkKey{name, "insert", per}]
	stmts := map[bulkKey]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	exec := func(op string, build func(int) string, n int, args []any) (int64, error) {
		k := bulkKey{name, op, n}
		st, ok := stmts[k]
		if !ok {
			var err error
			if st, err = c.bulkStmt(ctx, k, build); err != nil {
				return 0, sqliteCause(err)
			}
			stmts[k] = st
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return 0, sqliteCause(err)
		}
		return res.RowsAffected()
	}
	args := make([]any, 0, 1+per*len(t.cols))
	var total int64
	for len(rs) > 0 {
		n := min(len(rs), per)
		if split {
			n = chunkLen(len(rs), per)
		}
		args = args[:0]
		if shared {
			args = append(args, rs[0][0])
		}
		for _, r := range rs[:n] {
			if shared {
				if r[0] != args[0] {
					return total, fmt.Errorf("warehouse: bulk write into %s mixes tenants %v and %v", t.name, args[0], r[0])
				}
				r = r[1:]
			}
			args = append(args, r...)
		}
		inserted, err := exec("insert", insert, n, args)
		if err != nil {
			return total, err
		}
		total += inserted
		if update != nil && inserted < int64(n) {
			if _, err := exec("update", update, n, args); err != nil {
				return total, err
			}
		}
		rs = rs[n:]
	}
	return total, nil
}

// chunkLen is the length of the next chunk of a bulk write with left rows
// to go: the full chunk, or else the largest power of two that fits.
func chunkLen(left, full int) int {
	if left >= full {
		return full
	}
	return 1 << (bits.Len(uint(left)) - 1)
}

// chunkLens are the lengths chunkLen returns for a full chunk of full rows.
func chunkLens(full int) []int {
	lens := []int{full}
	for n := 1 << (bits.Len(uint(full)) - 1); n >= 1; n /= 2 {
		if n < full {
			lens = append(lens, n)
		}
	}
	return lens
}

// bulkKey names a bulk statement: a table by its name and columns,
// "insert" or "update", and how many rows.
type bulkKey struct {
	table, op string
	rows      int
}

// bulkName names t in a bulkKey by its name and columns, so that a table
// value reusing a name cannot run another's statements.
func (t table) bulkName() string { return t.name + "(" + strings.Join(t.cols, ",") + ")" }

// bulkStmt returns the statement k: the writer's prepared one, bound to
// the transaction, or else one prepared now. Closing what it returns leaves
// the writer's statement open.
func (c sqlConn) bulkStmt(ctx context.Context, k bulkKey, build func(int) string) (*sql.Stmt, error) {
	if st, ok := c.bulk[k]; ok {
		if tx, ok := c.q.(*sql.Tx); ok {
			return tx.StmtContext(ctx, st), nil
		}
	}
	return c.q.PrepareContext(ctx, build(k.rows))
}

// sqliteUpsert returns builders for the UPDATE (nil when every non-key
// column is kept on conflict) and the INSERT of an n-row chunk. With shared,
// the first column is the parameter ?1 in every row.
func (t table) sqliteUpsert(shared bool) (update, insert func(n int) string) {
	values := func(n int) string { return t.sqliteValues(n, shared) }
	var set, match []string
	for i, c := range t.cols {
		// SQLite names the columns of a VALUES list column1, column2, …
		v := "v.column" + strconv.Itoa(i+1)
		switch {
		case contains(t.key, c):
			match = append(match, t.name+"."+c+" = "+v)
		case !contains(t.keep, c):
			set = append(set, c+" = "+v)
		}
	}
	if len(set) > 0 {
		update = func(n int) string {
			return "UPDATE OR IGNORE " + t.name + " SET " + strings.Join(set, ", ") + " FROM (" + values(n) + ") AS v WHERE " +
				strings.Join(match, " AND ")
		}
	}
	insert = func(n int) string {
		return "INSERT OR IGNORE INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") " + values(n)
	}
	return update, insert
}

// sqliteValues renders "VALUES (…), (…)" for n rows; with shared, the first
// column is the parameter ?1 in every row.
func (t table) sqliteValues(n int, shared bool) string {
	row := "(" + placeholders(len(t.cols)) + ")"
	if shared {
		row = "(?1" + strings.Repeat(", ?", len(t.cols)-1) + ")"
	}
	return "VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }
