package graph

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseRetryAfter: whatever a server sends, the wait is never negative
// and never absurd, and parsing never panics.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"10", "0.5", "Sat, 01 Mar 2025 12:00:30 GMT", "", "-1", "NaN", "1e9"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("negative wait %v for %q", d, v)
		}
		if !ok && d != 0 {
			t.Fatalf("wait %v reported for unreadable %q", d, v)
		}
	})
}

// FuzzNextURL: a link Graph returns is only followed when it stays on the
// tenant's Graph origin, since the bearer token goes with it.
func FuzzNextURL(f *testing.F) {
	for _, s := range []string{
		"https://graph.example/v1.0/users?$skiptoken=abc",
		"https://evil.example/v1.0/users",
		"https://graph.example@evil.example/v1.0",
		"//evil.example/x", "/v1.0/users", "https://graph.example:443/v1.0/users",
	} {
		f.Add(s, false)
	}
	c, err := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", GraphURL: "https://graph.example/v1.0"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, link string, eventual bool) {
		got, err := c.nextURL(Query{Op: "Fuzz", Eventual: eventual}, link)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("followed unparsable %q", got)
		}
		if u.Scheme != "https" || !strings.EqualFold(u.Host, "graph.example") {
			t.Fatalf("followed %q to %s://%s", link, u.Scheme, u.Host)
		}
	})
}

// FuzzPlanBatches: any request list either is refused with ErrInvalidInput
// or is packed into batches of at most MaxBatch that hold every request
// once, with each request's dependencies in its own batch.
func FuzzPlanBatches(f *testing.F) {
	f.Add(25, "3>2,10>9,9>8", "")
	f.Add(5, "1>1", "2")
	f.Add(40, "0>39,20>0", "")
	f.Fuzz(func(t *testing.T, n int, deps string, dupe string) {
		if n < 0 || n > 200 {
			return
		}
		rs := reqs(n)
		for _, d := range strings.Split(deps, ",") {
			a, b, ok := strings.Cut(d, ">")
			if !ok {
				continue
			}
			for i := range rs {
				if rs[i].ID == a {
					rs[i].DependsOn = append(rs[i].DependsOn, b)
				}
			}
		}
		if dupe != "" && n > 0 {
			rs[0].ID = dupe
		}
		batches, err := planBatches(rs)
		if err != nil {
			return
		}
		where := map[string]int{}
		for bi, b := range batches {
			if len(b) == 0 || len(b) > MaxBatch {
				t.Fatalf("batch %d has %d requests", bi, len(b))
			}
			for _, r := range b {
				if _, dup := where[r.ID]; dup {
					t.Fatalf("request %q twice", r.ID)
				}
				where[r.ID] = bi
			}
		}
		if len(where) != len(rs) {
			t.Fatalf("%d of %d requests planned", len(where), len(rs))
		}
		for _, r := range rs {
			for _, d := range r.DependsOn {
				if where[d] != where[r.ID] {
					t.Fatalf("%q and its dependency %q in different batches", r.ID, d)
				}
			}
		}
	})
}
