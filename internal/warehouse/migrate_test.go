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
	for _, tc := range migrationBackends() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn, db := tc.at(t, 4)
			_, err := db.ExecContext(ctx, insert, tc.times(created, signIn, success)...)
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

// migrationBackend builds a database as an older allot left it.
type migrationBackend struct {
	name    string
	backend warehouse.Backend
	open    func(t *testing.T) (dsn, driver, driverDSN string)
	times   func(...time.Time) []any
}

// at creates a database at schema version and opens it without allot.
func (b migrationBackend) at(t *testing.T, version int64) (string, *sql.DB) {
	dsn, driver, driverDSN := b.open(t)
	db, err := sql.Open(driver, driverDSN)
	require.NoError(t, err)
	require.NoError(t, warehouse.MigrateTo(context.Background(), db, b.backend, version))
	return dsn, db
}

func migrationBackends() []migrationBackend {
	return []migrationBackend{
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
	}
}

// Migration 9 turns one row per membership into one sorted list per group
// and per member, keeping every membership and member type, on both
// backends; a downgrade turns the lists back into rows.
func TestMigrateMembershipRowsToLists(t *testing.T) {
	t.Parallel()
	const guid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	const insert = `INSERT INTO memberships (tenant_id, group_id, member_id, member_type) VALUES
		('t', 'g1', 'u1', 'user'), ('t', 'g1', '` + guid + `', 'device'), ('t', 'g1', 'g2', 'group'),
		('t', 'g2', 'u1', 'user'), ('other', 'g1', 'x', 'orgContact')`
	for _, tc := range migrationBackends() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn, db := tc.at(t, 8)
			defer db.Close()
			_, err := db.ExecContext(ctx, insert)
			require.NoError(t, err)

			s, err := warehouse.Open(ctx, dsn)
			require.NoError(t, err)
			scan := func(tenant string) []string {
				var out []string
				require.NoError(t, s.ScanMemberships(ctx, tenant, func(m directory.Membership) error {
					out = append(out, m.GroupID+">"+m.MemberID+":"+string(m.MemberType))
					return nil
				}))
				return out
			}
			require.Equal(t, []string{"g1>" + guid + ":device", "g1>g2:group", "g1>u1:user", "g2>u1:user"}, scan("t"))
			require.Equal(t, []string{"g1>x:orgContact"}, scan("other"))
			groups, err := s.UserGroupIDs(ctx, "t", "u1")
			require.NoError(t, err)
			require.Equal(t, []string{"g1", "g2"}, groups)
			require.NoError(t, s.Close())

			require.NoError(t, warehouse.MigrateDownTo(ctx, db, tc.backend, 8))
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM memberships").Scan(&n))
			require.Equal(t, 5, n, "a downgrade turns the lists back into rows")
		})
	}
}

// Migration 12 moves inbox page bodies out of the rows a claim updates. On
// PostgreSQL a page left by an interrupted sync keeps its body through the
// upgrade and the downgrade; on SQLite the inbox moves to a file of its own,
// and a downgrade gives the database its inbox table back.
func TestMigrateInboxBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range migrationBackends() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn, db := tc.at(t, 11)
			defer db.Close()
			param := "?"
			if tc.backend == warehouse.Postgres {
				param = "$1"
			}
			_, err := db.ExecContext(ctx, "INSERT INTO inbox (tenant_id, resource, round, seq, body, received_at) "+
				"VALUES ('t', 'users', 'r', 1, '{\"value\":[]}', "+param+")", tc.times(time.Now())...)
			require.NoError(t, err)

			s, err := warehouse.Open(ctx, dsn)
			require.NoError(t, err)
			pages, err := s.ClaimInboxPages(ctx, "t", "w", 5, time.Minute)
			require.NoError(t, err)
			if tc.backend == warehouse.Postgres {
				require.Len(t, pages, 1)
				body, err := s.InboxPageBody(ctx, pages[0].ID, nil)
				require.NoError(t, err)
				require.JSONEq(t, `{"value":[]}`, string(body))
			} else {
				require.Empty(t, pages, "the SQLite inbox starts empty in its own file")
			}
			require.NoError(t, s.Close())

			require.NoError(t, warehouse.MigrateDownTo(ctx, db, tc.backend, 11))
			var bodies []string
			rs, err := db.QueryContext(ctx, "SELECT body FROM inbox")
			require.NoError(t, err)
			for rs.Next() {
				var b string
				require.NoError(t, rs.Scan(&b))
				bodies = append(bodies, b)
			}
			require.NoError(t, rs.Err())
			if tc.backend == warehouse.Postgres {
				require.Equal(t, []string{`{"value":[]}`}, bodies)
			} else {
				require.Empty(t, bodies)
			}
		})
	}
}
