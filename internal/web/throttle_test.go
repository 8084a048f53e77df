package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
	"github.com/allot-dev/allot/internal/web"
)

// fakeClock is the server's clock in these tests: lockouts expire when the
// test says so, without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// throttled is a server without a tenant, enough to sign in and call the
// API, on a fake clock.
type throttled struct {
	t      *testing.T
	url    string
	clock  *fakeClock
	store  warehouse.Store
	access *access.Service
}

func newThrottled(t *testing.T, cfg web.Config) *throttled {
	t.Helper()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	acc := &access.Service{Store: s}
	for _, name := range []string{"alice", "bob", "carol"} {
		_, _, err := acc.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: name, Password: testPassword})
		require.NoError(t, err)
		_, err = acc.Grant(ctx, "test", name, access.Auditor, access.Scope{})
		require.NoError(t, err)
	}
	clock := &fakeClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	cfg.Store, cfg.Access, cfg.Now = s, acc, clock.now
	srv, err := web.New(cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &throttled{t: t, url: ts.URL, clock: clock, store: s, access: acc}
}

// signInAttempt submits the sign-in form once, as a browser would (form
// token and cookie included), optionally through a proxy that says the
// client is xff. It returns the status, the Retry-After header and the
// page's error message.
func (th *throttled) signInAttempt(name, password, xff string) (int, string, string) {
	th.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(th.url + "/login")
	require.NoError(th.t, err)
	m := csrfRe.FindStringSubmatch(readAll(th.t, resp))
	require.NotNil(th.t, m)
	form := url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}, "next": {"/api/v1/me"}}
	req, err := http.NewRequest("POST", th.url+"/login", strings.NewReader(form.Encode()))
	require.NoError(th.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err = c.Do(req)
	require.NoError(th.t, err)
	body := readAll(th.t, resp)
	msg := ""
	if m := flashRe.FindStringSubmatch(body); m != nil {
		msg = m[1]
	}
	if resp.StatusCode == http.StatusSeeOther {
		// Signed in: the session cookie works.
		me, err := c.Get(th.url + "/api/v1/me")
		require.NoError(th.t, err)
		require.Equal(th.t, http.StatusOK, me.StatusCode, "the new session is good")
		me.Body.Close()
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), msg
}

var flashRe = regexp.MustCompile(`<p class="flash error" role="alert">([^<]*)</p>`)

func (th *throttled) lockouts() []warehouse.AuditRecord {
	th.t.Helper()
	recs, err := th.store.ListAudit(context.Background(), warehouse.AuditFilter{Action: "signin.lockout"})
	require.NoError(th.t, err)
	return recs
}

func TestSignInLockout(t *testing.T) {
	t.Parallel()
	th := newThrottled(t, web.Config{})

	for i := 1; i <= 4; i++ {
		status, _, msg := th.signInAttempt("alice", "wrong password", "")
		require.Equal(t, http.StatusUnauthorized, status, "failure %d", i)
		require.Contains(t, msg, "Wrong name or password")
	}
	status, retry, msg := th.signInAttempt("alice", "wrong password", "")
	require.Equal(t, http.StatusTooManyRequests, status, "the fifth failure in 15 minutes locks the account")
	require.Equal(t, "60", retry)
	require.Equal(t, "Too many failed sign-in attempts. Try again in 60 s.", msg)

	// Locked: even the right password does not get in, and says how long to wait.
	th.clock.advance(59 * time.Second)
	status, retry, msg = th.signInAttempt("alice", testPassword, "")
	require.Equal(t, http.StatusTooManyRequests, status, "the right password while locked is refused")
	require.Equal(t, "1", retry)
	require.Contains(t, msg, "Try again in 1 s")
	// Other accounts from the same address still sign in.
	status, _, _ = th.signInAttempt("bob", testPassword, "")
	require.Equal(t, http.StatusSeeOther, status)

	// Once the lockout is over, the right password works and clears the count.
	th.clock.advance(time.Second)
	status, _, _ = th.signInAttempt("alice", testPassword, "")
	require.Equal(t, http.StatusSeeOther, status, "signed in after the lockout")
	for i := 1; i <= 4; i++ {
		status, _, _ = th.signInAttempt("alice", "wrong again", "")
		require.Equal(t, http.StatusUnauthorized, status, "the count started again after the sign-in (failure %d)", i)
	}

	// Each failure after a lockout doubles the next one.
	for i := 1; i <= 5; i++ {
		status, retry, _ = th.signInAttempt("carol", "nope", "")
	}
	require.Equal(t, "60", retry)
	for _, want := range []int{120, 240, 480} {
		th.clock.advance(time.Duration(want/2) * time.Second) // the previous lockout is over
		status, retry, _ = th.signInAttempt("carol", "nope", "")
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Equal(t, fmt.Sprint(want), retry)
	}
	// Fifteen quiet minutes after a lockout ends, the failures are forgotten.
	th.clock.advance(8*time.Minute + 15*time.Minute)
	status, _, _ = th.signInAttempt("carol", "nope", "")
	require.Equal(t, http.StatusUnauthorized, status, "an old lockout no longer counts")

	// Accounts that do not exist lock the same way: the answer does not
	// tell which names exist.
	for i := 1; i <= 5; i++ {
		status, retry, _ = th.signInAttempt("nobody", "x", "")
	}
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "60", retry)

	recs := th.lockouts()
	var targets []string
	for _, r := range recs {
		targets = append(targets, r.TargetType+":"+r.TargetID)
		require.Equal(t, access.System, r.Actor)
		var d map[string]any
		require.NoError(t, json.Unmarshal(r.Detail, &d))
		require.Equal(t, "127.0.0.1", d["client"])
	}
	require.ElementsMatch(t, []string{"account:alice", "account:carol", "account:carol", "account:carol", "account:carol", "account:nobody"}, targets,
		"every lockout is audited")
}

func TestSignInLockoutPerClientAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		// evades: a client that changes its X-Forwarded-For escapes the
		// lock only when the header comes from a trusted proxy.
		evades bool
	}{
		{"X-Forwarded-For ignored by default", nil, false},
		{"X-Forwarded-For believed from a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := newThrottled(t, web.Config{TrustedProxies: tc.trusted})
			// Twenty failures from one address, each against a different
			// name, lock the address out, whichever account it tries next.
			for i := 1; i <= 20; i++ {
				status, _, _ := th.signInAttempt(fmt.Sprintf("guess%d", i), "x", "203.0.113.7")
				if i < 20 {
					require.Equal(t, http.StatusUnauthorized, status, "failure %d", i)
				} else {
					require.Equal(t, http.StatusTooManyRequests, status, "the twentieth failure locks the address")
				}
			}
			status, _, _ := th.signInAttempt("alice", testPassword, "203.0.113.7")
			require.Equal(t, http.StatusTooManyRequests, status, "the locked address cannot sign in at all")
			status, _, _ = th.signInAttempt("alice", testPassword, "198.51.100.9")
			if tc.evades {
				require.Equal(t, http.StatusSeeOther, status, "another client behind the trusted proxy is not locked")
			} else {
				require.Equal(t, http.StatusTooManyRequests, status, "a forged X-Forwarded-For does not escape the lock")
			}
			recs := th.lockouts()
			require.Len(t, recs, 1)
			want := "127.0.0.1"
			if tc.evades {
				want = "203.0.113.7"
			}
			require.Equal(t, "client", recs[0].TargetType)
			require.Equal(t, want, recs[0].TargetID, "the lockout names the address it counted")
		})
	}
}

// Wrong bearer tokens lock the address out of the API with a 429 and
// Retry-After; the console's sign-in from that address is not affected.
func TestBearerTokenLockout(t *testing.T) {
	t.Parallel()
	th := newThrottled(t, web.Config{})
	good, _, err := th.access.CreateToken(context.Background(), "test", access.NewToken{Principal: "alice", Scopes: []string{"read"}})
	require.NoError(t, err)
	call := func(token string) (int, string, string) {
		req, err := http.NewRequest("GET", th.url+"/api/v1/audit", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), body.Error.Code
	}
	status, _, _ := call(good)
	require.Equal(t, http.StatusOK, status)
	for i := 1; i < 20; i++ {
		status, _, code := call(fmt.Sprintf("allot_guess%d", i))
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, "unauthenticated", code)
	}
	status, retry, code := call("allot_guess20")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "too_many_attempts", code)
	require.Equal(t, "60", retry)
	status, _, code = call(good)
	require.Equal(t, http.StatusTooManyRequests, status, "while locked even a good token is refused")
	require.Equal(t, "too_many_attempts", code)

	signIn, _, _ := th.signInAttempt("bob", testPassword, "")
	require.Equal(t, http.StatusSeeOther, signIn, "people signing in from the same address are not locked out by a script")

	th.clock.advance(time.Minute)
	status, _, _ = call(good)
	require.Equal(t, http.StatusOK, status, "after the lockout the good token works")
	require.Len(t, th.lockouts(), 1)
}

// Guessing the current password on the change-password form, with a
// stolen session, is throttled like signing in.
func TestChangePasswordGuessesLockTheAccount(t *testing.T) {
	t.Parallel()
	th := newThrottled(t, web.Config{})
	c := (&env{t: t, url: th.url}).signIn("alice", testPassword)
	change := func(current string) (int, string) {
		resp := c.post(t, "/account/password", url.Values{"current": {current}, "new": {"a new long password"},
			"confirm": {"a new long password"}}, true)
		body := readAll(t, resp)
		m := regexp.MustCompile(`class="flash[^"]*"[^>]*>([^<]*)<`).FindStringSubmatch(body)
		msg := ""
		if m != nil {
			msg = m[1]
		}
		return resp.StatusCode, msg
	}
	for i := 1; i <= 4; i++ {
		status, msg := change("a guess")
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, msg, "current password is wrong")
	}
	change("a guess")
	status, msg := change(testPassword)
	require.Equal(t, http.StatusTooManyRequests, status, "the right password while locked changes nothing")
	require.Contains(t, msg, "Try again in 60 s")
	signIn, _, _ := th.signInAttempt("alice", testPassword, "")
	require.Equal(t, http.StatusTooManyRequests, signIn, "the account is locked for signing in too")

	th.clock.advance(time.Minute)
	status, _ = change(testPassword)
	require.Equal(t, http.StatusSeeOther, status, "after the lockout the password changes")
	require.Len(t, th.lockouts(), 1)
}
