package web

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Throttle slows down password and token guessing. Failed sign-ins are
// counted per account and per client address; once either reaches its
// limit within Window, further attempts are refused without looking at the
// credentials, for Lockout, doubling with every failure after a lockout up
// to MaxLockout. A correct password ends the account's count; the
// address's count only fades (else one valid account would reset the count
// between guesses at others).
//
// Locking an account means anyone can lock someone else out for a while by
// guessing wrong; the lockouts are short and audited, which is the usual
// trade against unlimited guessing.
type Throttle struct {
	// AccountFailures locks an account; 5 when zero.
	AccountFailures int
	// ClientFailures locks a client address; 20 when zero. It is higher
	// than the account's limit because an office behind one NAT address
	// shares it.
	ClientFailures int
	// Window forgets failures: 15 minutes after the last failure or the end
	// of the last lockout, whichever is later; 15 minutes when zero.
	Window time.Duration
	// Lockout is the first lockout, 1 minute when zero; MaxLockout caps the
	// doubling, 1 hour when zero.
	Lockout, MaxLockout time.Duration
	// MaxEntries bounds the memory the counts take: beyond it the accounts
	// and addresses that failed longest ago are forgotten first; 10,000
	// when zero (about 2 MB).
	MaxEntries int
}

func (t Throttle) withDefaults() Throttle {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.AccountFailures, 5)
	def(&t.ClientFailures, 20)
	def(&t.MaxEntries, 10_000)
	defD(&t.Window, 15*time.Minute)
	defD(&t.Lockout, time.Minute)
	defD(&t.MaxLockout, time.Hour)
	return t
}

// limitKey is one thing failures are counted against.
type limitKey struct {
	name  string // "account:alice", "signin-client:192.0.2.1", "token-client:…"
	limit int
}

type limitEntry struct {
	key      string
	failures int
	last     time.Time // last failure
	until    time.Time // locked until; zero when not locked
}

// forgetAt is when the entry's failures stop counting.
func (e *limitEntry) forgetAt(window time.Duration) time.Time {
	if e.until.After(e.last) {
		return e.until.Add(window)
	}
	return e.last.Add(window)
}

// limiter keeps the failure counts in memory, most recent failure first,
// so the oldest are the first dropped when memory is full. Counts are per
// process: behind a load balancer each server counts its own share, which
// only makes the limits proportionally looser.
type limiter struct {
	cfg     Throttle
	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // of *limitEntry, most recent failure at the front
}

func newLimiter(cfg Throttle) *limiter {
	return &limiter{cfg: cfg.withDefaults(), entries: map[string]*list.Element{}, lru: list.New()}
}

// wait is how long the caller must wait before trying again: the longest
// remaining lockout of the keys, 0 when none is locked.
func (l *limiter) wait(now time.Time, keys ...limitKey) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		if el, ok := l.entries[k.name]; ok {
			d = max(d, el.Value.(*limitEntry).until.Sub(now))
		}
	}
	return d
}

// lockout is a key that just became locked.
type lockout struct {
	key      string
	failures int
	d        time.Duration
}

// fail records a failed attempt against each key and returns the lockouts
// it started.
func (l *limiter) fail(now time.Time, keys ...limitKey) []lockout {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var out []lockout
	for _, k := range keys {
		var e *limitEntry
		if el, ok := l.entries[k.name]; ok {
			e = el.Value.(*limitEntry)
			l.lru.MoveToFront(el)
			if !now.Before(e.forgetAt(l.cfg.Window)) {
				e.failures, e.until = 0, time.Time{}
			}
		} else {
			e = &limitEntry{key: k.name}
			l.entries[k.name] = l.lru.PushFront(e)
		}
		e.failures++
		e.last = now
		if e.failures >= k.limit {
			d := l.lockFor(e.failures - k.limit)
			e.until = now.Add(d)
			out = append(out, lockout{key: k.name, failures: e.failures, d: d})
		}
	}
	for l.lru.Len() > l.cfg.MaxEntries {
		l.remove(l.lru.Back())
	}
	return out
}

// lockFor is the lockout after n failures beyond the limit: Lockout×2ⁿ,
// capped.
func (l *limiter) lockFor(n int) time.Duration {
	if n >= 62 {
		return l.cfg.MaxLockout
	}
	d := float64(l.cfg.Lockout) * math.Pow(2, float64(n))
	if d >= float64(l.cfg.MaxLockout) {
		return l.cfg.MaxLockout
	}
	return time.Duration(d)
}

// succeed forgets a key's failures (a correct password for the account).
func (l *limiter) succeed(k limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[k.name]; ok {
		l.remove(el)
	}
}

// sweep drops entries whose failures no longer count, oldest failure
// first. It stops at the first that still counts (usually the first it
// looks at), so it costs little per call; what it leaves, the size bound
// removes.
func (l *limiter) sweep(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Before(el.Value.(*limitEntry).forgetAt(l.cfg.Window)) {
			return
		}
		l.remove(el)
	}
}

func (l *limiter) remove(el *list.Element) {
	delete(l.entries, el.Value.(*limitEntry).key)
	l.lru.Remove(el)
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// maxNameKey bounds what an unknown sign-in name can make the limiter and
// the audit log hold: names are at most 64 characters.
const maxNameKey = 64

func (s *Server) accountKey(name string) limitKey {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > maxNameKey {
		name = name[:maxNameKey]
	}
	return limitKey{name: "account:" + name, limit: s.limits.cfg.AccountFailures}
}

// clientKey counts failures of one client address on one surface. The
// console's sign-in form and bearer tokens count apart: a script with a
// revoked token must not lock the people of the same office out of the
// console.
func (s *Server) clientKey(surface string, r *http.Request) limitKey {
	return limitKey{name: surface + "-client:" + s.clientAddr(r), limit: s.limits.cfg.ClientFailures}
}

// clientAddr is the address failures are counted against: the peer's
// address, or, when the peer is a trusted proxy, the first address in
// X-Forwarded-For (read right to left) that is not a trusted proxy. Any
// client can write X-Forwarded-For, so it counts only when the operator
// said which proxies add it. IPv6 addresses count per /64, the block one
// machine usually has.
func (s *Server) clientAddr(r *http.Request) string {
	addr, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if s.trusted(addr) {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseAddr(strings.TrimSpace(hops[i]))
			if !ok {
				break // a proxy we trust would not write garbage; stop at what it vouched for
			}
			addr = a
			if !s.trusted(a) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "192.0.2.1", "192.0.2.1:443", "[2001:db8::1]:443" or
// "2001:db8::1".
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err == nil
}

// retrySeconds rounds a wait up to whole seconds, as Retry-After wants.
func retrySeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

func errTooMany(d time.Duration) *Error {
	secs := retrySeconds(d)
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_attempts", RetryAfter: secs,
		Message: fmt.Sprintf("too many failed sign-in attempts; try again in %d s", secs)}
}

// auditLockouts records lockouts as they start. It never fails the
// request: the refusal matters more than its record, and the log says
// when recording failed.
func (s *Server) auditLockouts(ctx context.Context, r *http.Request, surface string, locks []lockout) {
	for _, lk := range locks {
		kind, target, _ := strings.Cut(lk.key, ":")
		typ := "account"
		if kind != "account" {
			typ = "client"
		}
		detail, _ := json.Marshal(map[string]any{"failures": lk.failures, "locked_seconds": retrySeconds(lk.d),
			"client": s.clientAddr(r), "surface": surface})
		rec := warehouse.AuditRecord{At: s.now(), Actor: access.System, Action: "signin.lockout", TargetType: typ,
			TargetID: target, Reason: fmt.Sprintf("%d failed sign-in attempts", lk.failures), Detail: detail}
		if err := s.cfg.Store.AppendAudit(ctx, []warehouse.AuditRecord{rec}); err != nil {
			s.log.Error("audit lockout", "target", target, "err", err)
		}
		s.log.Warn("sign-in locked", "type", typ, "target", target, "failures", lk.failures, "seconds", retrySeconds(lk.d))
	}
}
