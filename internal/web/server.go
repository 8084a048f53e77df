package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

// Config wires a Server.
type Config struct {
	Store  warehouse.Store
	Access *access.Service
	// Metrics is served at /metrics; New creates one when nil.
	Metrics *Metrics
	Logger  *slog.Logger
	// Secure marks cookies Secure. Set it when the server is reached over
	// TLS, directly or through a proxy; browsers then never send the session
	// over plain HTTP.
	Secure bool
	// Ready reports whether the server can do useful work (database
	// reachable, workers started); /readyz answers 503 until it returns nil.
	Ready func(ctx context.Context) error
	// Sync, when set, starts a sync of a tenant now (the console's
	// "Sync now" button and POST /api/v1/tenants/{t}/sync).
	Sync func(ctx context.Context, tenantID string) error
	// Pipeline receives plans as requests and approvers' decisions. Without
	// it those routes answer 501 and say so; everything else works.
	Pipeline *workflow.Pipeline
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Throttle limits failed sign-ins and failed bearer tokens; the zero
	// value means the defaults.
	Throttle Throttle
	// TrustedProxies are the proxies whose X-Forwarded-For is believed when
	// counting failed sign-ins per client address. Without them the peer's
	// own address counts, whatever the request claims.
	TrustedProxies []netip.Prefix
	// MetricsPublic serves /metrics to anyone, for a Prometheus that
	// scrapes over a private network without a token. Otherwise /metrics
	// needs a principal allowed to read metrics on every tenant.
	MetricsPublic bool
}

// Server serves the API, the console and the operational endpoints.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	log    *slog.Logger
	pages  *pages
	snaps  snapshots
	counts countCache
	limits *limiter
}

// New builds a server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Access == nil {
		return nil, errors.New("web: Store and Access are required")
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(cfg.Store)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ps, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger, pages: ps, limits: newLimiter(cfg.Throttle)}
	s.routes()
	return s, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// ServeHTTP adds the security headers every response carries and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// request is what a handler gets: the HTTP request, the authenticated
// principal, the session's CSRF token (console only) and the tenant named in
// the path, if any.
type request struct {
	*http.Request
	me     *access.Principal
	csrf   string
	tenant directory.Tenant
}

// scope is the tenant-wide scope of the request's tenant.
func (r *request) scope() access.Scope { return access.Scope{TenantID: r.tenant.ID} }

// actor is the name recorded in the audit log and on requests.
func (r *request) actor() string { return r.me.Name }

type handler func(w http.ResponseWriter, r *request) error

// gate says how a route is authorised before its handler runs.
type gate int

const (
	// tenantWide: the action must be allowed on the whole tenant in the path
	// (or on allot itself for routes without a tenant).
	tenantWide gate = iota
	// partOfTenant: the action must be allowed somewhere in the tenant; the
	// handler checks each pool or group it touches and filters lists.
	partOfTenant
	// signedIn: any authenticated principal (their own account, sign-out).
	signedIn
)

// route registers an authenticated handler. API routes answer JSON errors;
// console routes redirect to the sign-in page and render error pages.
func (s *Server) route(pattern string, action access.Action, g gate, h handler) {
	s.handle(pattern, strings.Contains(pattern, "/api/"), action, g, h)
}

// handle registers an authenticated handler that answers errors as the API
// does (api) or as the console does.
func (s *Server) handle(pattern string, api bool, action access.Action, g gate, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, hr *http.Request) {
		r, err := s.authenticate(w, hr, api)
		if err == nil && g != signedIn && r.me.MustChangePassword && !api {
			http.Redirect(w, hr, "/account/password", http.StatusSeeOther)
			return
		}
		if err == nil && hr.PathValue("tenant") != "" {
			r.tenant, err = s.cfg.Store.GetTenant(hr.Context(), hr.PathValue("tenant"))
		}
		if err == nil {
			err = s.authorize(r, action, g)
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.fail(w, hr, r, api, err)
		}
	})
}

func (s *Server) authorize(r *request, action access.Action, g gate) error {
	switch g {
	case tenantWide:
		return s.cfg.Access.Check(r.Context(), r.me, action, r.scope())
	case partOfTenant:
		if access.Anywhere(r.me, action, r.tenant.ID) {
			return nil
		}
		return s.cfg.Access.Check(r.Context(), r.me, action, r.scope()) // explains the refusal
	}
	return nil
}

// check is what handlers call for a pool or group inside the tenant.
func (s *Server) check(r *request, action access.Action, pool, groupID string) error {
	return s.cfg.Access.Check(r.Context(), r.me, action, access.Scope{TenantID: r.tenant.ID, Pool: pool, GroupID: groupID})
}

func (s *Server) fail(w http.ResponseWriter, hr *http.Request, r *request, api bool, err error) {
	e := asError(err)
	if e.Status >= 500 && e.Status != http.StatusNotImplemented {
		s.log.Error("request failed", "method", hr.Method, "path", hr.URL.Path, "err", err)
	}
	if api {
		writeAPIError(w, e)
		return
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		http.Redirect(w, hr, "/login?next="+urlQueryEscape(hr.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if hr.Header.Get("HX-Request") == "true" {
		// htmx swaps only 2xx by default; a small fragment in the status
		// region tells the user what went wrong.
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "innerHTML")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `<p class="flash error" role="alert">%s</p>`, htmlEscape(e.Message))
		return
	}
	s.renderError(w, r, e)
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	m.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.MetricsPublic {
		m.Handle("GET /metrics", s.cfg.Metrics.Handler())
	} else {
		// Prometheus sends a bearer token; a signed-in administrator's
		// browser sends the session. Errors are the API's: a scraper reads
		// a status, not a sign-in page.
		metrics := s.cfg.Metrics.Handler()
		s.handle("GET /metrics", true, access.ReadMetrics, tenantWide, func(w http.ResponseWriter, r *request) error {
			metrics.ServeHTTP(w, r.Request)
			return nil
		})
	}
	m.Handle("GET /static/", staticHandler())
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})

	s.consoleRoutes()
	s.apiRoutes()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.SchemaVersion(ctx); err != nil {
		writeAPIError(w, errorf(http.StatusServiceUnavailable, "not_ready", "warehouse unreachable"))
		return
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(ctx); err != nil {
			writeAPIError(w, errorf(http.StatusServiceUnavailable, "not_ready", err.Error()))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
