package graph

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// Defaults for Microsoft's public cloud. A tenant in another cloud, or the
// simulator, overrides them in Config.
const (
	DefaultGraphURL      = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	DefaultExchangeURL   = "https://outlook.office365.com/adminapi/beta"
)

// Config describes one tenant connection. Exactly one credential source is
// used: Credential if set, else CertificateData, else ClientSecret.
type Config struct {
	TenantID string
	ClientID string

	// ClientSecret is the app's secret. It is held only in memory and never
	// logged; allot reads it through a secret reference at start-up.
	ClientSecret string
	// CertificateData is a PEM or PKCS#12 bundle holding the app's
	// certificate and private key (azidentity.ParseCertificates).
	CertificateData     []byte
	CertificatePassword string
	// Credential overrides both, e.g. a managed or workload identity.
	Credential azcore.TokenCredential

	// GraphURL is the Graph base including the version segment. Default
	// DefaultGraphURL.
	GraphURL string
	// AuthorityHost is the token authority (the tenant id is appended by
	// azidentity). Default DefaultAuthorityHost.
	AuthorityHost string
	// GraphScope is the client-credentials scope. Default:
	// "<origin of GraphURL>/.default" for Microsoft's Graph hosts (public
	// and national clouds), else "https://graph.microsoft.com/.default":
	// the scope names the resource (Graph's app id URI), not the host, so a
	// simulator or proxy in front of Graph still issues Graph tokens.
	GraphScope string
	// ExchangeURL is the Exchange admin API base; the call path is
	// <ExchangeURL>/<tenant>/InvokeCommand. Default: DefaultExchangeURL for
	// the public Graph, else "<origin of GraphURL>/adminapi/beta" (where the
	// simulator serves it).
	ExchangeURL string
	// ExchangeScope is chosen like GraphScope, defaulting to
	// "https://outlook.office365.com/.default".
	ExchangeScope string

	// CAFile is a PEM bundle trusted in addition to the system roots, for the
	// simulator's self-signed CA (or a TLS-inspecting proxy).
	CAFile string
	// DisableInstanceDiscovery skips Entra's authority validation. It is
	// required for any authority that is not a Microsoft cloud (the
	// simulator) and is switched on automatically when CAFile is set.
	DisableInstanceDiscovery bool
	// Transport replaces the HTTP transport (CAFile is then ignored).
	Transport http.RoundTripper

	Limits Limits
	Retry  RetryPolicy

	// Logger receives debug records per HTTP attempt (request ids and
	// throttling headers, never tokens or secrets). Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives counters for calls, throttles and retries.
	Metrics Metrics
}

// Limits bound what one Client sends to its tenant, so several jobs sharing a
// Client stay inside the tenant's Graph budget instead of being throttled.
// Zero values mean "no limit" for rates and DefaultConcurrency for
// Concurrency.
type Limits struct {
	// Concurrency is the maximum number of requests in flight.
	Concurrency int
	// RequestsPerSecond and Burst form a token bucket over all requests; a
	// $batch costs one token per inner request, as Graph counts them.
	RequestsPerSecond float64
	Burst             int
	// WritesPerSecond and WriteBurst form a second bucket over writes
	// (POST, PATCH, PUT, DELETE, also inside $batch). Graph's identity write
	// budget is 3,000 per 150 s per app and tenant, i.e. 20/s.
	WritesPerSecond float64
	WriteBurst      int
}

// DefaultConcurrency matches the number of parallel requests Graph tolerates
// from one app per tenant without excessive throttling in practice.
const DefaultConcurrency = 8

// RetryPolicy is the one policy for 429, 503 and 504 (and transport failures
// of idempotent calls). A Retry-After from Graph always wins over the computed
// backoff.
type RetryPolicy struct {
	// MaxAttempts counts the first try. Default 8.
	MaxAttempts int
	// BaseDelay is the first backoff step, doubled per attempt. Default 500ms.
	BaseDelay time.Duration
	// MaxDelay caps a computed backoff step. Default 30s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest server-requested wait honoured; a longer
	// Retry-After fails the call at once rather than stalling a job for
	// hours. Default 5m.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds one HTTP attempt, so a hung connection becomes
	// a retry instead of a stuck job. Default 2m (Graph's own gateway gives
	// up after about 100 s).
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 5 * time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 2 * time.Minute
	}
	return p
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("graph: invalid config")

// resolved is a Config with defaults applied and URLs parsed.
type resolved struct {
	Config
	graphBase    *url.URL
	exchangeBase *url.URL
}

func (c Config) resolve() (*resolved, error) {
	if strings.TrimSpace(c.TenantID) == "" {
		return nil, fmt.Errorf("%w: tenant id is required", ErrConfig)
	}
	if c.Credential == nil && strings.TrimSpace(c.ClientID) == "" {
		return nil, fmt.Errorf("%w: client id is required", ErrConfig)
	}
	if c.Credential == nil && c.ClientSecret == "" && len(c.CertificateData) == 0 {
		return nil, fmt.Errorf("%w: no credential: set ClientSecret, CertificateData or Credential", ErrConfig)
	}
	if c.GraphURL == "" {
		c.GraphURL = DefaultGraphURL
	}
	if c.AuthorityHost == "" {
		c.AuthorityHost = DefaultAuthorityHost
	}
	g, err := parseBase("graph url", c.GraphURL)
	if err != nil {
		return nil, err
	}
	if _, err := parseBase("authority host", c.AuthorityHost); err != nil {
		return nil, err
	}
	if c.GraphScope == "" {
		c.GraphScope = resourceScope(g, "https://graph.microsoft.com")
	}
	if c.ExchangeURL == "" {
		c.ExchangeURL = DefaultExchangeURL
		if strings.TrimSuffix(c.GraphURL, "/") != DefaultGraphURL {
			c.ExchangeURL = origin(g) + "/adminapi/beta"
		}
	}
	x, err := parseBase("exchange url", c.ExchangeURL)
	if err != nil {
		return nil, err
	}
	if c.ExchangeScope == "" {
		c.ExchangeScope = resourceScope(x, "https://outlook.office365.com")
	}
	if c.CAFile != "" {
		c.DisableInstanceDiscovery = true
	}
	if c.Limits.Concurrency <= 0 {
		c.Limits.Concurrency = DefaultConcurrency
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	c.Retry = c.Retry.withDefaults()
	return &resolved{Config: c, graphBase: g, exchangeBase: x}, nil
}

func parseBase(field, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s %q is not an http(s) URL", ErrConfig, field, raw)
	}
	return u, nil
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// microsoftHosts are the domain suffixes of Microsoft's Graph and Exchange
// endpoints in the public and national clouds, whose origin is also their
// resource identifier.
var microsoftHosts = []string{".microsoft.com", ".microsoft.us", ".chinacloudapi.cn", ".office365.com", ".office365.us", ".office.com"}

// resourceScope is the ".default" scope for the resource served at u.
func resourceScope(u *url.URL, fallback string) string {
	h := "." + strings.ToLower(u.Hostname())
	for _, suffix := range microsoftHosts {
		if strings.HasSuffix(h, suffix) {
			return origin(u) + "/.default"
		}
	}
	return fallback + "/.default"
}
