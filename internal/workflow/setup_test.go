package workflow_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/fulfillment"
	"github.com/allot-dev/allot/internal/graphsim"
	"github.com/allot-dev/allot/internal/inventory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
	"github.com/allot-dev/allot/internal/workflow"
)

// env is a simulated tenant synced into a fresh SQLite warehouse, with a
// pipeline, a fulfiller and a real SMTP listener on loopback.
type env struct {
	sim    *graphsim.Server
	store  warehouse.Store
	tenant directory.Tenant
	access *workflow.StaticAccess
	p      *workflow.Pipeline
	f      *fulfillment.Fulfiller
	mail   *smtpSink
	mailer *workflow.Mailer
	admin  workflow.Principal
}

func setup(t *testing.T, cfg graphsim.Config) *env {
	t.Helper()
	ctx := context.Background()
	sim, err := graphsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(info.ClientSecret), 0o600))
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	tn := directory.Tenant{ID: info.TenantID, Name: "sim", GraphURL: info.GraphURL, AuthorityURL: info.AuthorityURL,
		ClientID: info.ClientID, SecretRef: "file:" + secret, CAFile: info.CAFile}
	require.NoError(t, s.CreateTenant(ctx, tn))

	admin := workflow.Principal{ID: "admin", Name: "Ada Admin", Email: "ada@example.com"}
	access := workflow.NewStaticAccess(workflow.Delegation{Principal: admin, Actions: []string{workflow.ActionRequest}})
	sink := startSMTP(t)
	e := &env{sim: sim, store: s, tenant: tn, access: access, mail: sink, admin: admin,
		p:      &workflow.Pipeline{Store: s, Access: access},
		f:      fulfillment.New(s, nil, fulfillment.Config{Lease: 5 * time.Second, Backoff: 50 * time.Millisecond}, nil),
		mailer: &workflow.Mailer{SMTPAddr: sink.addr, From: "allot@example.com", Backoff: 20 * time.Millisecond}}
	e.resync(t)
	return e
}

// resync reads the simulated tenant into the warehouse again, as the
// periodic inventory would.
func (e *env) resync(t *testing.T) {
	t.Helper()
	_, err := (&inventory.Syncer{Store: e.store}).Sync(context.Background(), e.tenant.ID, inventory.Options{Full: true})
	require.NoError(t, err)
}

func (e *env) drain(t *testing.T) fulfillment.Stats {
	t.Helper()
	st, err := e.f.Drain(context.Background(), e.tenant.ID)
	require.NoError(t, err)
	return st
}

// tick runs the pipeline's background round: post-run, routing, mail.
func (e *env) tick(t *testing.T) {
	t.Helper()
	require.NoError(t, e.p.Tick(context.Background(), e.tenant.ID, "test", e.mailer, 0))
}

// smtpSink is a real SMTP server that keeps what it receives, and can be
// told to refuse mail as a broken relay would.
type smtpSink struct {
	addr    string
	refuse  atomic.Bool
	mu      sync.Mutex
	letters []letter
}

type letter struct {
	To   []string
	Data string
}

func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sink.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }

func (s *smtpSink) received() []letter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]letter(nil), s.letters...)
}

// to returns the letters sent to addr.
func (s *smtpSink) to(addr string) []letter {
	var out []letter
	for _, l := range s.received() {
		for _, r := range l.To {
			if strings.EqualFold(r, addr) {
				out = append(out, l)
			}
		}
	}
	return out
}

type session struct {
	sink *smtpSink
	to   []string
}

func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	if s.sink.refuse.Load() {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relay refused"}
	}
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	s.sink.mu.Lock()
	s.sink.letters = append(s.sink.letters, letter{To: s.to, Data: string(b)})
	s.sink.mu.Unlock()
	return nil
}
