package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationsFS embed.FS

func migrationProvider(db *sql.DB, b Backend) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(b))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithGoMigrations(goMigrations(b)...)}
	if b == Postgres {
		dialect = goose.DialectPostgres
		// Several workers may start at once; the advisory lock makes one of
		// them migrate while the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db, sub, opts...)
}

// migrateSQL applies pending migrations, refusing a database that an allot
// newer than this one has migrated.
func migrateSQL(ctx context.Context, db *sql.DB, b Backend) error {
	p, err := migrationProvider(db, b)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := checkNotNewer(ctx, p); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func checkNotNewer(ctx context.Context, p *goose.Provider) error {
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		// A fresh database has no version table yet; anything worse
		// surfaces from Up right after.
		return nil
	}
	srcs := p.ListSources()
	latest := int64(0)
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	if current > latest {
		return fmt.Errorf("%w: the database is at schema version %d but this allot knows only up to %d; upgrade allot",
			ErrSchemaTooNew, current, latest)
	}
	return nil
}

// LatestSchemaVersion is the newest migration embedded in this binary.
func LatestSchemaVersion(b Backend) int64 {
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(b))
	if err != nil {
		return 0
	}
	var v int64
	for _, m := range goMigrations(b) {
		v = max(v, m.Version)
	}
	srcs, err := fs.Glob(sub, "*.sql")
	if err != nil || len(srcs) == 0 {
		return v
	}
	var sv int64
	fmt.Sscanf(srcs[len(srcs)-1], "%d", &sv)
	return max(v, sv)
}

func schemaVersion(ctx context.Context, db *sql.DB, b Backend) (int64, error) {
	p, err := migrationProvider(db, b)
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}
