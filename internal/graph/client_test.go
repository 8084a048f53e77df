package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

func TestFullListingSurvivesInjectedFaults(t *testing.T) {
	t.Parallel()
	var m counters
	sim, c := setup(t, graphsim.Config{Users: 1500, Faults: graphsim.Faults{Rate429: 0.05, Rate503: 0.01}},
		func(cfg *graph.Config) { cfg.Metrics = m.funcs() })
	ctx := context.Background()
	users := 0
	require.NoError(t, c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, Top: 25},
		func(_ *graph.Page, us []graph.User) error { users += len(us); return nil }))
	require.Equal(t, len(sim.Users()), users)

	var groups []graph.Group
	require.NoError(t, c.ListGroups(ctx, graph.GroupListOptions{Select: []string{"id"}}, graph.Collect(&groups)))
	members := 0
	for _, g := range groups {
		require.NoError(t, c.ListMembers(ctx, g.ID, func(_ *graph.Page, ms []graph.DirectoryObject) error {
			members += len(ms)
			return nil
		}))
	}
	require.Equal(t, sim.MembershipCount(), members)
	require.Greater(t, m.requests.Load(), int64(200))
	require.Positive(t, m.throttled.Load())
	require.GreaterOrEqual(t, m.retried.Load(), m.throttled.Load())
}

func TestTimedOutReadsAreRetried(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 300, Faults: graphsim.Faults{RateTimeout: 0.3, TimeoutAfter: 50 * time.Millisecond}})
	var users []graph.User
	require.NoError(t, c.ListUsers(context.Background(), graph.UserListOptions{Select: []string{"id"}, Top: 50}, graph.Collect(&users)))
	require.Len(t, users, len(sim.Users()))
}

func TestForbiddenNamesThePermission(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t, graphsim.Config{Users: 30, Apps: []graphsim.App{
		{ClientID: "22222222-2222-2222-2222-222222222222", ClientSecret: "reader", Roles: []string{"User.Read.All"}},
	}})
	c := newClient(t, sim, func(cfg *graph.Config) {
		cfg.ClientID, cfg.ClientSecret = "22222222-2222-2222-2222-222222222222", "reader"
	})
	ctx := context.Background()
	var users []graph.User
	require.NoError(t, c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}}, graph.Collect(&users)))

	err := c.ListSubscribedSkus(ctx, Discard[graph.SubscribedSku])
	require.ErrorIs(t, err, graph.ErrForbidden)
	require.ErrorContains(t, err, "ListSubscribedSkus: 403 Authorization_RequestDenied")
	require.ErrorContains(t, err, "Organization.Read.All")

	err = c.AddMember(ctx, sim.Groups()[0].ID, users[0].ID)
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	require.Equal(t, "AddMember", ge.Op)
	require.Equal(t, "GroupMember.ReadWrite.All", ge.Permission)
	require.ErrorContains(t, err, "GroupMember.ReadWrite.All")
	require.NotEmpty(t, ge.RequestID)
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	sim, _ := setup(t, graphsim.Config{Users: 20})
	c := newClient(t, sim, func(cfg *graph.Config) { cfg.ClientSecret = "wrong" })
	err := c.ListSubscribedSkus(context.Background(), Discard[graph.SubscribedSku])
	var ae *graph.AuthError
	require.ErrorAs(t, err, &ae)
	require.ErrorContains(t, err, "ListSubscribedSkus")
	require.ErrorContains(t, err, "7000215", "Entra's reason is kept")
	require.NotContains(t, err.Error(), "wrong", "the secret is not echoed")
}

func TestCertificateCredential(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSigned(t)
	const appID = "33333333-3333-3333-3333-333333333333"
	sim, _ := setup(t, graphsim.Config{Users: 20, Apps: []graphsim.App{{ClientID: appID, CertificatePEM: string(certPEM)}}})
	c := newClient(t, sim, func(cfg *graph.Config) {
		cfg.ClientID, cfg.ClientSecret = appID, ""
		cfg.CertificateData = append(certPEM, keyPEM...)
	})
	var skus []graph.SubscribedSku
	require.NoError(t, c.ListSubscribedSkus(context.Background(), graph.Collect(&skus)))
	require.Len(t, skus, len(sim.Skus()))
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "allot test app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	t.Run("slow server", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, graphsim.Config{Users: 50, Faults: graphsim.Faults{Latency: 5 * time.Second}})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}}, Discard[graph.User])
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("while backing off", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, graphsim.Config{Users: 50, TimeScale: 1, Faults: graphsim.Faults{Rate429: 1}})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}}, Discard[graph.User])
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second, "a 2 s Retry-After does not outlive the context")
	})
	t.Run("from the page callback", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, graphsim.Config{Users: 500})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pages := 0
		stop := errors.New("stop")
		err := c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, Top: 100}, func(*graph.Page, []graph.User) error {
			pages++
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, pages)
	})
}

func TestExchangeMailboxes(t *testing.T) {
	t.Parallel()
	sim, c := setup(t, graphsim.Config{Users: 1300})
	ctx := context.Background()
	var all []graph.Mailbox
	pages := 0
	require.NoError(t, c.ListMailboxes(ctx, func(_ *graph.Page, ms []graph.Mailbox) error {
		pages++
		all = append(all, ms...)
		return nil
	}))
	require.Len(t, all, len(sim.Mailboxes()))
	require.Greater(t, pages, 1, "Exchange pages too")

	mb := all[0]
	require.Equal(t, "UserMailbox", mb.RecipientTypeDetails)
	require.NoError(t, c.SetMailboxType(ctx, mb.UserPrincipalName, graph.MailboxTypeShared))
	got, err := c.GetMailbox(ctx, mb.ExternalDirectoryObjectID)
	require.NoError(t, err)
	require.Equal(t, "SharedMailbox", got.RecipientTypeDetails)
	simMB, err := sim.Mailbox(mb.ExternalDirectoryObjectID)
	require.NoError(t, err)
	require.EqualValues(t, "Shared", simMB.Type)
	require.NoError(t, c.SetMailboxType(ctx, mb.UserPrincipalName, graph.MailboxTypeRegular))

	err = c.SetMailboxType(ctx, mb.UserPrincipalName, "Room")
	require.ErrorIs(t, err, graph.ErrInvalidInput)
	_, err = c.GetMailbox(ctx, "nobody@"+sim.Domain())
	require.True(t, graph.IsNotFound(err), "%v", err)
	require.ErrorContains(t, err, "GetMailbox")
}

// syncBuffer is a bytes.Buffer safe for concurrent slog writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDebugLogsCarryIDsButNoSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	sim, c := setup(t, graphsim.Config{Users: 200, Faults: graphsim.Faults{Rate429: 0.3}}, func(cfg *graph.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	require.NoError(t, c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, Top: 20}, Discard[graph.User]))
	const password = "Very-Secret-Initial-Pw1!"
	_, err := c.CreateUser(ctx, graph.NewUser{AccountEnabled: true, DisplayName: "Log Test", MailNickname: "log.test",
		UserPrincipalName: "log.test@" + sim.Domain(), PasswordProfile: &graph.PasswordProfile{Password: password}})
	if err != nil {
		require.True(t, graph.IsThrottled(err), "%v", err)
	}
	out := logs.String()
	require.Contains(t, out, "request_id=")
	require.Contains(t, out, "client_request_id=")
	require.Contains(t, out, "status=429")
	require.Contains(t, out, "throttle_scope=Tenant_Application/")
	for _, secret := range []string{sim.Info().ClientSecret, password, "Bearer", "eyJ"} {
		require.False(t, strings.Contains(out, secret), "log leaks %q", secret)
	}
}

// A client tuned to the tenant's budget is never throttled; the same
// listing unthrottled by the client runs into the budget.
func TestRateLimitKeepsWithinBudget(t *testing.T) {
	t.Parallel()
	budget := &graphsim.Budget{ResourceUnits: 40, ResourceWindow: time.Second}
	// Four callers page at once through one client: the limiter is per
	// tenant, so together they must stay within the budget, while without it
	// four streams outrun 40 requests a second even on a loaded machine.
	list := func(limits graph.Limits) (throttles int64, took time.Duration, err error) {
		var m counters
		_, c := setup(t, graphsim.Config{Users: 150, TimeScale: 1, Budget: budget}, func(cfg *graph.Config) {
			cfg.Metrics, cfg.Limits = m.funcs(), limits
		})
		start := time.Now()
		var g errgroup.Group
		for range 4 {
			g.Go(func() error {
				return c.ListUsers(context.Background(), graph.UserListOptions{Select: []string{"id"}, Top: 10}, Discard[graph.User])
			})
		}
		err = g.Wait()
		return m.throttled.Load(), time.Since(start), err
	}
	throttles, took, err := list(graph.Limits{RequestsPerSecond: 30, Burst: 5})
	require.NoError(t, err)
	require.Zero(t, throttles)
	require.Greater(t, took, 1500*time.Millisecond, "60 pages at 30/s after a burst of 5")

	// Without the limiter the budget runs out; the retries may give up too.
	throttles, _, _ = list(graph.Limits{})
	require.Positive(t, throttles, "without the limiter the budget runs out")
}
