package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// The listing benchmarks measure what the inventory's download step costs:
// 100k users with every licensing property, over loopback HTTPS from the
// simulator, reported as users/s.
//
//	go test ./internal/graph -run '^$' -bench 'Users100k' -benchtime 2x
func benchListing(b *testing.B, list func(context.Context, *graph.Client) (int, error)) {
	sim, c := setup(b, graphsim.Config{Users: 100_000, TimeScale: 1000, Budget: &graphsim.Budget{}})
	ctx := context.Background()
	want := len(sim.Users())
	if _, err := list(ctx, c); err != nil { // warm the token and connections
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		n, err := list(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("listed %d users, want %d", n, want)
		}
	}
	b.ReportMetric(float64(want*b.N)/time.Since(start).Seconds(), "users/s")
}

func BenchmarkListUsers100k(b *testing.B) {
	for name, sel := range map[string][]string{"compact": simUserSelectCompact, "full": simUserSelect} {
		b.Run(name, func(b *testing.B) {
			benchListing(b, func(ctx context.Context, c *graph.Client) (int, error) {
				n := 0
				err := c.ListUsers(ctx, graph.UserListOptions{Select: sel}, func(_ *graph.Page, us []graph.User) error {
					n += len(us)
					return nil
				})
				return n, err
			})
		})
	}
}

// BenchmarkRawPagesUsers100k is the compact download without decoding users:
// what a caller that only stores raw pages pays.
func BenchmarkRawPagesUsers100k(b *testing.B) {
	benchListing(b, func(ctx context.Context, c *graph.Client) (int, error) {
		n := 0
		_, err := c.Pages(ctx, graph.Query{Op: "ListUsers", Path: "/users", Params: url.Values{
			"$select": {strings.Join(simUserSelectCompact, ",")}, "$top": {"999"}}}, func(p *graph.Page) error {
			n += p.Items
			return nil
		})
		return n, err
	})
}

func BenchmarkUsersDelta100k(b *testing.B) {
	benchListing(b, func(ctx context.Context, c *graph.Client) (int, error) {
		n := 0
		_, err := c.UsersDelta(ctx, graph.DeltaOptions{Select: graph.UserSelectCompact}, func(_ *graph.Page, us []graph.User) error {
			n += len(us)
			return nil
		})
		return n, err
	})
}

// samplePages fetches the first page of each listing the inventory stores,
// as the simulator serves it: 999 users of a users/delta round (the
// inventory's properties and manager), a groups/delta page with its
// members@delta, and 999 licensed users with their license states.
func samplePages(b *testing.B) map[string][]byte {
	_, c := setup(b, graphsim.Config{Users: 2000, TimeScale: 1000, Budget: &graphsim.Budget{}})
	prefer := http.Header{"Prefer": {"odata.maxpagesize=999"}}
	userSel := append(slices.DeleteFunc(slices.Clone(graph.UserDeltaSelect), func(p string) bool {
		return p == "assignedLicenses" || p == "assignedPlans" || p == "provisionedPlans"
	}), "manager")
	queries := map[string]graph.Query{
		"users-delta": {Op: "UsersDelta", Path: "/users/delta", Header: prefer,
			Params: url.Values{"$select": {strings.Join(userSel, ",")}}},
		"groups-delta": {Op: "GroupsDelta", Path: "/groups/delta", Header: prefer,
			Params: url.Values{"$select": {strings.Join(graph.GroupDeltaSelect, ",")}}},
		"licensed-users": {Op: "ListLicensedUsers", Path: "/users", Eventual: true, Params: url.Values{
			"$select": {"id,licenseAssignmentStates"}, "$filter": {"assignedLicenses/$count ne 0"}, "$top": {"999"}}},
	}
	pages := map[string][]byte{}
	for name, q := range queries {
		stop := errors.New("first page is enough")
		_, err := c.Pages(context.Background(), q, func(p *graph.Page) error {
			pages[name] = p.Body
			return stop
		})
		if !errors.Is(err, stop) {
			b.Fatal(err)
		}
	}
	return pages
}

// BenchmarkScanPage is what Pages costs per page beyond the download:
// finding the links and checking the JSON, against the json.Unmarshal into
// envelope[struct{}] it replaced.
//
//	go test ./internal/graph -run '^$' -bench ScanPage
func BenchmarkScanPage(b *testing.B) {
	for name, body := range samplePages(b) {
		for reader, read := range map[string]func([]byte) error{
			"scan":          func(body []byte) error { _, err := graph.ScanPage(body); return err },
			"encoding-json": graph.EnvelopePage,
		} {
			b.Run(name+"/"+reader, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if err := read(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
