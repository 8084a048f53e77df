package warehouse

import (
	"context"
	"time"
)

// conn is the little each backend must provide: statements with `?`
// placeholders (rewritten by the backend), row iteration, and a bulk upsert.
// Everything else is written once, in queries.
type conn interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	// bulkUpsert writes rows (already de-duplicated) into t with upsert
	// semantics. It runs inside the caller's transaction.
	bulkUpsert(ctx context.Context, t table, rows [][]any) error
	// bulkInsert writes new rows (already de-duplicated), which is cheaper
	// than an upsert. A row whose key is stored already makes it fail with
	// ErrAlreadyExists; the caller's transaction then rolls back.
	bulkInsert(ctx context.Context, t table, rows [][]any) error
	// skipLocked is appended to claim sub-selects so concurrent workers on
	// PostgreSQL never claim the same row; SQLite has one writer and needs none.
	skipLocked() string
	// insertIgnoring wraps "INTO t (…) SELECT …" into an INSERT that skips
	// rows whose key already exists, in the backend's dialect.
	insertIgnoring(intoSelect string) string
	time(t *time.Time) any
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// beginner opens a transaction on a Store's writer; inTx runs a callback in it.
type beginner interface {
	inTx(ctx context.Context, fn func(c conn) error) error
}
