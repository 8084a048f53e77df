package warehouse

import (
	"context"
	"fmt"
	"strings"
)

// Open opens the warehouse named by dsn and applies pending migrations:
//
//	allot.db, ./data/allot.db, sqlite://path, sqlite:path   → SQLite
//	postgres://… , postgresql://…                            → PostgreSQL
//
// Any other scheme is refused with ErrBadDSN rather than guessed at, since a
// typo would otherwise silently create a SQLite file named after the URL.
func Open(ctx context.Context, dsn string) (Store, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return nil, fmt.Errorf("%w: empty (want a path, sqlite://path or postgres://…)", ErrBadDSN)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite://"):
		return openSQLitePath(ctx, strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLitePath(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		return nil, fmt.Errorf("%w: unsupported scheme %q in %q (want a path, sqlite://path or postgres://…)",
			ErrBadDSN, dsn[:i], dsn)
	}
	return openSQLitePath(ctx, dsn)
}

func openSQLitePath(ctx context.Context, path string) (Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: sqlite path is empty", ErrBadDSN)
	}
	return openSQLite(ctx, path)
}
