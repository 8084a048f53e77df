package graphsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running simulated tenant. All methods are safe for concurrent
// use.
type Server struct {
	cfg  Config
	t    *tenant
	info Info
	base string // https://host:port, no trailing slash

	ln     net.Listener
	srv    *http.Server
	caFile string
	ownCA  bool

	appsMu sync.RWMutex
	apps   map[string]*App // by client id

	key    *rsa.PrivateKey
	kid    string
	tokens sync.Map // access token → *tokenClaims

	throttle *throttler
	faults   *faultState
	writes   writeLog

	// deltaExpiredBefore invalidates every delta token issued before it
	// (unix nanoseconds); set through ExpireDeltaTokens.
	deltaExpiredBefore atomic.Int64
	// tokensExpiredBefore (unix seconds) expires older access tokens.
	tokensExpiredBefore atomic.Int64

	bg        sync.WaitGroup
	pending   atomic.Int64 // group license jobs not yet finished
	kickMu    sync.Mutex
	kick      chan struct{} // closed to end pending license processing delays
	done      chan struct{}
	closeOnce sync.Once
}

// Start generates the tenant, starts serving TLS on cfg.Addr and returns once
// requests can be served.
func Start(cfg Config) (*Server, error) {
	cfg.normalise()
	t, err := generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("graphsim: generate tenant: %w", err)
	}
	if cfg.Users >= 100_000 {
		// Generation ran with collection paused; collect once now, before
		// serving, rather than under the first client's requests.
		runtime.GC()
	}
	s := &Server{cfg: cfg, t: t, apps: map[string]*App{}, done: make(chan struct{})}
	s.faults = newFaultState(cfg.Seed, cfg.Faults)
	budget := DefaultBudget(cfg.Users)
	if cfg.Budget != nil {
		budget = *cfg.Budget
	}
	s.throttle = newThrottler(budget, cfg.TimeScale)

	if s.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, fmt.Errorf("graphsim: signing key: %w", err)
	}
	s.kid = newUUID(newRand(cfg.Seed + 1))[:27]

	def := App{ClientID: newUUID(newRand(cfg.Seed + 2)), ClientSecret: "sim~" + strings.ReplaceAll(newUUID(newRand(cfg.Seed+3)), "-", ""), Roles: DefaultRoles}
	s.apps[def.ClientID] = &def
	for i := range cfg.Apps {
		a := cfg.Apps[i]
		if a.ClientID == "" {
			return nil, errors.New("graphsim: Config.Apps: client id is required")
		}
		if a.Roles == nil {
			a.Roles = DefaultRoles
		}
		s.apps[strings.ToLower(a.ClientID)] = &a
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("graphsim: listen %s: %w", cfg.Addr, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	urlHost := host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		urlHost = "127.0.0.1"
	}
	tlsCfg, caPEM, err := newTLS(time.Now(), host)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("graphsim: tls: %w", err)
	}
	if err := s.writeCA(caPEM); err != nil {
		ln.Close()
		return nil, err
	}
	s.base = "https://" + net.JoinHostPort(urlHost, port)
	s.info = Info{
		GraphURL:     s.base + "/v1.0",
		AuthorityURL: s.base + "/",
		TenantID:     t.id,
		ClientID:     def.ClientID,
		ClientSecret: def.ClientSecret,
		CAFile:       s.caFile,
	}
	s.ln = tls.NewListener(ln, tlsCfg)
	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          quietLogger(), // dropped connections (timeout faults) are expected
	}
	go func() { _ = s.srv.Serve(s.ln) }()
	return s, nil
}

func (s *Server) writeCA(pemBytes []byte) error {
	path := s.cfg.CAOut
	if path == "" {
		f, err := os.CreateTemp("", "allot-sim-ca-*.pem")
		if err != nil {
			return fmt.Errorf("graphsim: ca file: %w", err)
		}
		path = f.Name()
		f.Close()
		s.ownCA = true
	} else if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("graphsim: ca dir: %w", err)
		}
	}
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		return fmt.Errorf("graphsim: write ca %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	s.caFile = abs
	return nil
}

// Info returns the endpoints and default credentials of the tenant.
func (s *Server) Info() Info { return s.info }

// Close stops serving, waits for background license processing and removes
// the CA file when the Server created it.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e := s.srv.Shutdown(ctx); e != nil {
			err = s.srv.Close()
		}
		s.bg.Wait()
		if s.ownCA {
			_ = os.Remove(s.caFile)
		}
	})
	return err
}

// now is the simulator's clock.
func (s *Server) now() time.Time { return s.cfg.Now() }

// scaled converts a simulated duration to real time.
func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.cfg.TimeScale)
}

// handler routes the four surfaces sharing one address. It is hand-written
// because the tenant segment of the token paths overlaps /v1.0/ in
// ServeMux's pattern language.
func (s *Server) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/v1.0/") || strings.HasPrefix(p, "/beta/"):
			s.serveGraph(w, r)
			return
		case strings.HasPrefix(p, "/_sim/"):
			s.serveControl(w, r)
			return
		case p == "/common/discovery/instance" && r.Method == http.MethodGet:
			s.serveInstanceDiscovery(w, r)
			return
		}
		segs := strings.Split(strings.Trim(p, "/"), "/")
		if len(segs) == 4 && segs[0] == "adminapi" && segs[1] == "beta" && segs[3] == "InvokeCommand" && r.Method == http.MethodPost {
			r.SetPathValue("tenant", segs[2])
			s.serveExchange(w, r)
			return
		}
		if len(segs) >= 2 {
			r.SetPathValue("tenant", segs[0])
			rest := strings.Join(segs[1:], "/")
			switch {
			case (rest == "oauth2/v2.0/token" || rest == "oauth2/token") && r.Method == http.MethodPost:
				s.serveToken(w, r)
				return
			case (rest == "v2.0/.well-known/openid-configuration" || rest == ".well-known/openid-configuration") && r.Method == http.MethodGet:
				s.serveDiscovery(w, r)
				return
			case rest == "discovery/v2.0/keys" && r.Method == http.MethodGet:
				s.serveKeys(w, r)
				return
			}
		}
		ri := s.newReqInfo(r)
		writeError(w, ri, gerr(http.StatusNotFound, "BadRequest", "Invalid version: %s", segs[0]))
	})
}
