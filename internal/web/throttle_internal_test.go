package web

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A flood of failed sign-ins under ever new names or addresses must not
// grow the server's memory without bound, and what no longer counts is
// dropped as time passes.
func TestLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := newLimiter(Throttle{MaxEntries: 100})
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10_000; i++ {
		l.fail(now, limitKey{name: fmt.Sprintf("account:guess%d", i), limit: 5})
		require.LessOrEqual(t, l.size(), 100)
	}
	require.Equal(t, 100, l.size())

	// The most recent failures are the ones kept: four more for the last
	// name lock it.
	last := limitKey{name: "account:guess9999", limit: 5}
	for i := 0; i < 3; i++ {
		require.Empty(t, l.fail(now, last))
	}
	require.Len(t, l.fail(now, last), 1)
	require.Equal(t, time.Minute, l.wait(now, last))

	// Fifteen minutes after the last failure (and the lockout), one new
	// failure sweeps everything that no longer counts.
	now = now.Add(time.Minute + 15*time.Minute)
	l.fail(now, limitKey{name: "account:someone", limit: 5})
	require.Equal(t, 1, l.size())
	require.Zero(t, l.wait(now, last))
}

func TestLimiterLockoutDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	l := newLimiter(Throttle{Lockout: time.Minute, MaxLockout: 10 * time.Minute})
	for n, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		require.Equal(t, want, l.lockFor(n), "after %d more failures", n)
	}
	require.Equal(t, 10*time.Minute, l.lockFor(1000), "no overflow")
}

// Which address failed sign-ins count against.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"peer address", "192.0.2.1:5000", nil, nil, "192.0.2.1"},
		{"X-Forwarded-For ignored without trusted proxies", "192.0.2.1:5000", []string{"198.51.100.2"}, nil, "192.0.2.1"},
		{"X-Forwarded-For ignored from an untrusted peer", "192.0.2.1:5000", []string{"198.51.100.2"}, proxies, "192.0.2.1"},
		{"client behind a trusted proxy", "10.1.2.3:5000", []string{"198.51.100.2"}, proxies, "198.51.100.2"},
		{"forged entries left of the last untrusted hop are ignored", "10.1.2.3:5000", []string{"203.0.113.9, 198.51.100.2"}, proxies, "198.51.100.2"},
		{"a chain of trusted proxies", "10.1.2.3:5000", []string{"198.51.100.2, 10.9.9.9", "10.8.8.8"}, proxies, "198.51.100.2"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"198.51.100.2, not-an-ip"}, proxies, "10.1.2.3"},
		{"IPv6 counts per /64", "[2001:db8:1:2:aaaa::1]:443", nil, nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:192.0.2.1]:443", nil, nil, "192.0.2.1"},
		{"IPv6 proxy, port in the header", "[::1]:443", []string{"192.0.2.7:61000"}, proxies, "192.0.2.7"},
	}
	for _, tc := range cases {
		s := &Server{cfg: Config{TrustedProxies: tc.trusted}}
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		require.Equal(t, tc.want, s.clientAddr(r), tc.name)
	}
}
