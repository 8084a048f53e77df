package warehouse_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// A warehouse written by an allot with the wide users table (schema 4) keeps
// every user property after migration 5 moves most of them into attrs.
func TestMigrateNarrowUsersKeepsEveryProperty(t *testing.T) {
	t.Parallel()
	created := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC)
	signIn := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	success := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	const insert = `INSERT INTO users (tenant_id, id, user_principal_name, display_name, mail, job_title, department,
		company_name, employee_id, manager_id, country, usage_location, user_type, account_enabled, created_at,
		last_sign_in, last_successful_sign_in, categories, deleted, attrs)
		VALUES ('t', 'u1', 'adele@contoso.com', 'Adele Vance', 'adele@contoso.com', 'Retail Manager', 'Retail',
		'Contoso', 'E123', 'mgr-1', 'United States', 'US', 'Member', TRUE, $1, $2, $3, 5, FALSE,
		'{"givenName":"Adele","extensionAttributes":{"1":"ea1"}}'),
		('t', 'u2', 'bare@contoso.com', '', '', '', '', '', '', '', '', '', '', FALSE, NULL, NULL, NULL, 0, TRUE, '{}')`
	for _, tc := range []struct {
		name    string
		backend warehouse.Backend
		open    func(t *testing.T) (dsn, driver, driverDSN string)
		times   func(...time.Time) []any
	}{
		{"sqlite", warehouse.SQLite, func(t *testing.T) (string, string, string) {
			p := warehousetest.SQLitePath(t)
			return p, "sqlite", p
		}, func(ts ...time.Time) []any {
			var out []any
			for _, x := range ts {
				out = append(out, x.UnixMilli())
			}
			return out
		}},
		{"postgres", warehouse.Postgres, func(t *testing.T) (string, string, string) {
			d := warehousetest.PostgresDSN(t)
			return d, "pgx", d
		}, func(ts ...time.Time) []any {
			var out []any
			for _, x := range ts {
				out = append(out, x)
			}
			return out
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn, driver, driverDSN := tc.open(t)
			db, err := sql.Open(driver, driverDSN)
			require.NoError(t, err)
			require.NoError(t, warehouse.MigrateTo(ctx, db, tc.backend, 4))
			_, err = db.ExecContext(ctx, insert, tc.times(created, signIn, success)...)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			s, err := warehouse.Open(ctx, dsn)
			require.NoError(t, err)
			defer s.Close()
			got, err := s.GetUser(ctx, "t", "u1")
			require.NoError(t, err)
			want := directory.User{TenantID: "t", ID: "u1", UserPrincipalName: "adele@contoso.com",
				DisplayName: "Adele Vance", GivenName: "Adele", Mail: "adele@contoso.com", JobTitle: "Retail Manager",
				Department: "Retail", CompanyName: "Contoso", EmployeeID: "E123", ManagerID: "mgr-1",
				Country: "United States", UsageLocation: "US", UserType: "Member", AccountEnabled: true,
				CreatedDateTime: &created, LastSignIn: &signIn, LastSuccessfulSignIn: &success, Categories: 5}
			want.ExtensionAttributes[0] = "ea1"
			require.Equal(t, want, got)

			bare, err := s.GetUser(ctx, "t", "u2")
			require.NoError(t, err)
			require.Equal(t, directory.User{TenantID: "t", ID: "u2", UserPrincipalName: "bare@contoso.com", Deleted: true}, bare)
		})
	}
}
