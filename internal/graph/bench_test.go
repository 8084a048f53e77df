package graph_test

import (
	"context"
	"net/url"
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
