package graphsim

import (
	"time"
)

// Config describes the tenant to generate and how the simulator behaves.
// The zero value is a small, well-behaved tenant on a random loopback port.
type Config struct {
	// Addr is the listen address; "127.0.0.1:0" (a free port) by default.
	Addr string
	// Users is the number of users to generate (default 100). Groups
	// defaults to Users/10 (at least 20, so every kind of group exists);
	// users hold about ten direct memberships on average.
	Users, Groups int
	// Seed makes generation deterministic: the same seed and sizes give the
	// same ids, names, memberships and licenses.
	Seed int64
	// CAOut is where the CA certificate (PEM) is written. Empty means a
	// temporary file that Close removes.
	CAOut string
	// TimeScale makes throttling windows and asynchronous processing run this
	// many times faster than real time (1, the default, is real time), so
	// tests can exercise a 150-second write window in a second or two.
	TimeScale float64
	// Budget overrides Graph's documented identity budgets. Nil means the
	// budgets of graph.md §6 chosen by tenant size.
	Budget *Budget
	// Faults injects failures at the given rates from the start; they can
	// be changed later with SetFaults or POST /_sim/faults.
	Faults Faults
	// Apps registers extra client applications besides the default one
	// (which holds every permission allot needs). Use it to test 403s with
	// an app that lacks a permission.
	Apps []App
	// LicenseProcessingDelay is how long (in simulated time) group-based
	// license processing takes after POST /groups/{id}/assignLicense.
	// Default 2s, divided by TimeScale.
	LicenseProcessingDelay time.Duration
	// Now is the clock; nil means time.Now. Generation places sign-ins and
	// creation dates relative to it.
	Now func() time.Time
}

// Budget is a throttling budget per app and tenant, as Graph's identity
// service enforces it (token buckets refilled continuously).
type Budget struct {
	// ResourceUnits per ResourceWindow (Graph: 3,500/5,000/8,000 per 10 s by
	// tenant size). Zero disables the resource-unit limit.
	ResourceUnits  int
	ResourceWindow time.Duration
	// Writes per WriteWindow (Graph: 3,000 per 150 s). Zero disables it.
	Writes      int
	WriteWindow time.Duration
}

// DefaultBudget returns Graph's documented identity budget for a tenant with
// the given number of users: small (<50), medium (50–500) or large (>500).
func DefaultBudget(users int) Budget {
	ru := 8000
	switch {
	case users < 50:
		ru = 3500
	case users <= 500:
		ru = 5000
	}
	return Budget{ResourceUnits: ru, ResourceWindow: 10 * time.Second, Writes: 3000, WriteWindow: 150 * time.Second}
}

// Faults are injected failures. Rates are probabilities per request (0–1);
// draws come from a generator seeded from Config.Seed so runs repeat.
type Faults struct {
	// Rate429 answers 429 TooManyRequests (with Retry-After) regardless of budget.
	Rate429 float64 `json:"rate_429"`
	// Rate503 answers 503 ServiceUnavailable.
	Rate503 float64 `json:"rate_503"`
	// RateTimeout processes the request (writes take effect) but withholds
	// the response for TimeoutAfter and then drops the connection, the case
	// where a client cannot know whether its write happened.
	RateTimeout  float64       `json:"rate_timeout"`
	TimeoutAfter time.Duration `json:"timeout_after"`
	// Latency is added to every Graph request.
	Latency time.Duration `json:"latency"`
	// ExpireDeltaTokens makes every delta token presented expired (410 Gone).
	ExpireDeltaTokens bool `json:"expire_delta_tokens"`
	// BatchFailRate fails this fraction of the inner requests of a $batch
	// with 503 (or 429 when BatchThrottle is set) while the batch itself
	// returns 200: a partial failure.
	BatchFailRate float64 `json:"batch_fail_rate"`
	BatchThrottle bool    `json:"batch_throttle"`
}

// App is a registered client application (service principal) of the tenant.
type App struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// CertificatePEM, when set, lets the app authenticate with a signed
	// client assertion (certificate credential) instead of a secret.
	CertificatePEM string `json:"certificate_pem,omitempty"`
	// Roles are the granted application permissions (the token's roles
	// claim), e.g. "User.Read.All". Nil means DefaultRoles.
	Roles []string `json:"roles"`
}

// DefaultRoles are the application permissions the default app holds: all
// that allot needs (graph.md §7).
var DefaultRoles = []string{
	"User.Read.All", "User.ReadWrite.All", "Group.Read.All", "GroupMember.ReadWrite.All",
	"Group.ReadWrite.All", "Directory.Read.All", "LicenseAssignment.ReadWrite.All",
	"Organization.Read.All", "AuditLog.Read.All", "Reports.Read.All", "Exchange.ManageAsApp",
}

// Info is what a client needs to reach the simulated tenant; `allot sim`
// prints it as its ready line (DESIGN.md §7).
type Info struct {
	GraphURL     string `json:"graph_url"`
	AuthorityURL string `json:"authority_url"`
	TenantID     string `json:"tenant_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	CAFile       string `json:"ca_file"`
}

func (c *Config) normalise() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Users <= 0 {
		c.Users = 100
	}
	if c.Groups <= 0 {
		c.Groups = max(c.Users/10, 20)
	}
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	if c.LicenseProcessingDelay <= 0 {
		c.LicenseProcessingDelay = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Faults.TimeoutAfter <= 0 {
		c.Faults.TimeoutAfter = 5 * time.Second
	}
}
