package warehouse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// benchUsers builds users shaped like a real tenant's: most licensing fields
// set, a few proxy addresses and plans, some extension attributes.
func benchUsers(n int) []directory.User {
	depts := []string{"Sales", "Finance", "Engineering", "Retail", "Legal", "Marketing", "Operations", "HR"}
	created := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	users := make([]directory.User, n)
	for i := range users {
		// Entra object ids are random GUIDs: insert order is random, as in a real sync.
		h := uint64(i+1) * 0x9e3779b97f4a7c15
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), h&0xfff, (h>>12)&0xfff, h*31&0xffffffffffff)
		u := &users[i]
		*u = directory.User{
			ID: id, UserPrincipalName: fmt.Sprintf("user%d@contoso.com", i), DisplayName: fmt.Sprintf("User %d", i),
			GivenName: "User", Surname: fmt.Sprint(i), Mail: fmt.Sprintf("user%d@contoso.com", i),
			JobTitle: "Analyst", Department: depts[i%len(depts)], CompanyName: "Contoso", EmployeeID: fmt.Sprint(100000 + i),
			Country: "United States", UsageLocation: "US", City: "Seattle", UserType: "Member", AccountEnabled: i%20 != 0,
			CreatedDateTime: &created, LastSignIn: &created, LastSuccessfulSignIn: &created,
			ProxyAddresses: []string{fmt.Sprintf("SMTP:user%d@contoso.com", i)},
		}
		u.ExtensionAttributes[0] = depts[(i+3)%len(depts)]
	}
	return users
}

// benchUpsert times write into a fresh SQLite warehouse, once per
// iteration; opening and closing the warehouse are not timed.
func benchUpsert(b *testing.B, users []directory.User, write func(ctx context.Context, s warehouse.Store) error) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s, err := warehouse.Open(ctx, warehousetest.SQLitePath(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := write(ctx, s); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(users))*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkUpsertUsersSQLite measures the issue #2 bar: 200,000 users in one
// bulk upsert into a fresh SQLite warehouse in under 2 s.
func BenchmarkUpsertUsersSQLite(b *testing.B) {
	users := benchUsers(200_000)
	benchUpsert(b, users, func(ctx context.Context, s warehouse.Store) error { return s.UpsertUsers(ctx, "t", users) })
}

// BenchmarkUpsertUsersPagedSQLite upserts 100,000 users a Graph page (999)
// at a time, in transactions of 32 pages (a sync's drains held 32 pages when
// this was measured; they now gather up to 128).
func BenchmarkUpsertUsersPagedSQLite(b *testing.B) {
	users := benchUsers(100_000)
	benchUpsert(b, users, func(ctx context.Context, s warehouse.Store) error {
		for start := 0; start < len(users); start += 32 * 999 {
			err := s.InTx(ctx, func(tx warehouse.Tx) error {
				for p := start; p < min(start+32*999, len(users)); p += 999 {
					if err := tx.UpsertUsers(ctx, "t", users[p:min(p+999, len(users))]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
