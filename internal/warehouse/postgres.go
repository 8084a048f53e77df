package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresStore is the scale-out backend: several `allot worker` processes
// share one database, and claims use FOR UPDATE SKIP LOCKED.
type PostgresStore struct {
	queries
	inbox
	pool *pgxpool.Pool
}

var _ Store = (*PostgresStore)(nil)

func openPostgres(ctx context.Context, dsn string) (*PostgresStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadDSN, redactPGError(err))
	}
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %s", where, pgCause(err))
	}
	s := &PostgresStore{pool: pool}
	s.queries = queries{read: pgConn{q: pool}, begin: s}
	s.inbox = inbox{q: s.queries}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := migrateSQL(ctx, db, Postgres); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// pgCause keeps the useful tail of a connection error ("connection refused",
// "database \"x\" does not exist") and drops pgx's long preamble.
func pgCause(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "failed to connect") {
		return msg[i+2:]
	}
	return msg
}

// redactPGError keeps passwords in a malformed DSN out of error messages.
func redactPGError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "(postgres"); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}

// Backend reports PostgreSQL.
func (s *PostgresStore) Backend() Backend { return Postgres }

// Pool is the connection pool, shared with River's pgx driver.
func (s *PostgresStore) Pool() *pgxpool.Pool { return s.pool }

// SchemaVersion returns the applied warehouse migration version.
func (s *PostgresStore) SchemaVersion(ctx context.Context) (int64, error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	return schemaVersion(ctx, db, Postgres)
}

// Close closes the pool.
func (s *PostgresStore) Close() error { s.pool.Close(); return nil }

// InTx runs fn in one transaction.
func (s *PostgresStore) InTx(ctx context.Context, fn func(Tx) error) error {
	return s.inTx(ctx, func(c conn) error {
		return fn(&postgresTx{queries: queries{tx: c}, tx: c.(pgConn).q.(pgx.Tx)})
	})
}

func (s *PostgresStore) inTx(ctx context.Context, fn func(c conn) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(pgConn{q: tx}) })
}

// postgresTx is a Tx on PostgreSQL; PgxTx lets the job package insert River
// jobs in the same transaction.
type postgresTx struct {
	queries
	tx pgx.Tx
}

func (t *postgresTx) PgxTx() pgx.Tx { return t.tx }

type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

type pgConn struct{ q pgQuerier }

// rebind turns `?` placeholders into `$1, $2, …`. Queries in this package
// never contain a literal question mark.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (c pgConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c pgConn) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := c.q.Query(ctx, rebind(q), args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rs}, nil
}

func (c pgConn) skipLocked() string { return " FOR UPDATE SKIP LOCKED" }

func (c pgConn) insertIgnoring(intoSelect string) string {
	return "INSERT " + intoSelect + " ON CONFLICT DO NOTHING"
}
func (c pgConn) time(t *time.Time) any { return postgresTime(t) }

// bulkUpsert COPYs the rows into a temporary staging table and merges them
// with one INSERT … SELECT … ON CONFLICT: COPY is PostgreSQL's fast path, and
// the merge keeps upsert semantics that COPY alone lacks.
func (c pgConn) bulkUpsert(ctx context.Context, t table, rs [][]any) error {
	if len(rs) == 0 {
		return nil
	}
	stage := "stage_" + t.name
	if _, err := c.q.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+stage+" (LIKE "+t.name+" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"); err != nil {
		return err
	}
	if _, err := c.q.Exec(ctx, "TRUNCATE "+stage); err != nil {
		return err
	}
	if _, err := c.q.CopyFrom(ctx, pgx.Identifier{stage}, t.cols, pgx.CopyFromRows(rs)); err != nil {
		return err
	}
	cols := strings.Join(t.cols, ", ")
	_, err := c.q.Exec(ctx, "INSERT INTO "+t.name+" ("+cols+") SELECT "+cols+" FROM "+stage+t.upsertSuffix())
	return err
}

// bulkInsert COPYs rows straight into a table without a key.
func (c pgConn) bulkInsert(ctx context.Context, t table, rs [][]any) error {
	_, err := c.q.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rs))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("insert into %s: %s: %w", t.name, pe.Detail, ErrAlreadyExists)
	}
	return err
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() { r.Rows.Close() }
