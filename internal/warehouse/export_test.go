package warehouse

import (
	"context"
	"database/sql"
)

// MigrateTo applies migrations up to version, so a test can build a database
// as an older allot left it and check what a later migration makes of it.
func MigrateTo(ctx context.Context, db *sql.DB, b Backend, version int64) error {
	p, err := migrationProvider(db, b)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// MigrateDownTo rolls migrations back to version.
func MigrateDownTo(ctx context.Context, db *sql.DB, b Backend, version int64) error {
	p, err := migrationProvider(db, b)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
