package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// Sentinel errors. Backends wrap them so callers can use errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a create collided with an existing key.
	ErrAlreadyExists = errors.New("already exists")
	// ErrSchemaTooNew means the database was migrated by a newer allot;
	// running older code against it could corrupt data, so Open refuses.
	ErrSchemaTooNew = errors.New("database schema is newer than this allot")
	// ErrBadDSN means --db could not be understood.
	ErrBadDSN = errors.New("invalid --db")
)

// Backend names the storage engine behind a Store.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Store is the warehouse. Every method that writes outside InTx runs in its own
// transaction, so a failed call never leaves partial rows behind.
type Store interface {
	Reader
	Writer
	Inbox
	// InTx runs fn in one transaction, committed if fn returns nil. Jobs
	// inserted through the job package with the same Tx commit or roll back
	// together with the warehouse writes.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Backend() Backend
	// SchemaVersion is the applied warehouse migration version.
	SchemaVersion(ctx context.Context) (int64, error)
	Close() error
}

// Tx is a Store bound to one open transaction.
type Tx interface {
	Reader
	Writer
}

// Reader holds the read side of the warehouse.
type Reader interface {
	PolicyReader
	AccessReader
	WorkflowReader
	ConsoleReader
	GetTenant(ctx context.Context, nameOrID string) (directory.Tenant, error)
	ListTenants(ctx context.Context) ([]directory.Tenant, error)

	GetUser(ctx context.Context, tenantID, id string) (directory.User, error)
	GetGroup(ctx context.Context, tenantID, id string) (directory.Group, error)
	// GetUsers and GetGroups return those of ids that exist (deleted or not),
	// in id order; delta processing merges partial objects onto them.
	GetUsers(ctx context.Context, tenantID string, ids []string) ([]directory.User, error)
	GetGroups(ctx context.Context, tenantID string, ids []string) ([]directory.Group, error)
	// LiveIDs lists the ids of live users, live groups, or users holding any
	// license state, for the sweeps that end a full sync.
	LiveIDs(ctx context.Context, tenantID string, kind IDKind) ([]string, error)
	// The Scan methods stream every row of a tenant in primary-key order,
	// including rows marked deleted (callers filter), without loading the
	// whole table into memory.
	ScanUsers(ctx context.Context, tenantID string, fn func(directory.User) error) error
	ScanGroups(ctx context.Context, tenantID string, fn func(directory.Group) error) error
	ScanMemberships(ctx context.Context, tenantID string, fn func(directory.Membership) error) error
	// GroupMembers returns one group's direct members, in member id order,
	// in one read: they are stored as one list.
	GroupMembers(ctx context.Context, tenantID, groupID string) ([]directory.Membership, error)
	ScanLicenseStates(ctx context.Context, tenantID string, fn func(directory.LicenseState) error) error
	ListSkus(ctx context.Context, tenantID string) ([]directory.Sku, error)
	ListMailboxes(ctx context.Context, tenantID string) ([]directory.Mailbox, error)

	GetSyncState(ctx context.Context, tenantID, resource string) (SyncState, error)

	GetPool(ctx context.Context, tenantID, name string) (PoolRecord, error)
	ListPools(ctx context.Context, tenantID string) ([]PoolRecord, error)

	ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)

	// Counts summarises a tenant ("" = all tenants) for `allot status`.
	Counts(ctx context.Context, tenantID string) (Counts, error)
}

// Writer holds the write side of the warehouse.
type Writer interface {
	PolicyWriter
	AccessWriter
	WorkflowWriter
	CreateTenant(ctx context.Context, t directory.Tenant) error

	// Bulk upserts: insert or replace by primary key. An upserted user or
	// group is live again even if it had been marked deleted (Entra restores
	// soft-deleted objects with the same id).
	UpsertUsers(ctx context.Context, tenantID string, users []directory.User) error
	UpsertGroups(ctx context.Context, tenantID string, groups []directory.Group) error
	UpsertMemberships(ctx context.Context, tenantID string, ms []directory.Membership) error
	DeleteMemberships(ctx context.Context, tenantID string, ms []directory.Membership) error
	// ReplaceMemberships makes the set a full groups round read the
	// tenant's memberships, all at once, so readers see either the old ones
	// or the new ones. It returns how many it stored, and leaves the set
	// empty: it reuses the set's memory.
	ReplaceMemberships(ctx context.Context, tenantID string, set *MembershipSet) (int64, error)
	// ReplaceLicenseStates makes the stored license states of each listed user
	// exactly the given ones; Graph reports them per user, all at once.
	ReplaceLicenseStates(ctx context.Context, tenantID string, userIDs []string, states []directory.LicenseState) error
	// AddLicenseStates stores the states of users who have none stored, as
	// a tenant's first sync reads them, without first deleting theirs:
	// that delete was a lookup per user, for nothing. A state whose key is
	// stored already fails the call with ErrAlreadyExists (inside InTx,
	// return the error so that the transaction rolls back).
	AddLicenseStates(ctx context.Context, tenantID string, states []directory.LicenseState) error
	// UpsertSkus stores SKUs as Graph reports them. Like the other upserts it
	// never overwrites attributes allot owns (price, currency, categories) of
	// an existing row; those change only through SetSkuPrice and friends.
	UpsertSkus(ctx context.Context, tenantID string, skus []directory.Sku) error
	SetSkuPrice(ctx context.Context, tenantID, skuID string, cents int64, currency string) error
	UpsertMailboxes(ctx context.Context, tenantID string, mbs []directory.Mailbox) error
	// MarkUsersDeleted / MarkGroupsDeleted keep the rows (history and audit
	// stay explainable) and drop their memberships and license states.
	MarkUsersDeleted(ctx context.Context, tenantID string, ids []string, at time.Time) error
	MarkGroupsDeleted(ctx context.Context, tenantID string, ids []string, at time.Time) error

	PutSyncState(ctx context.Context, s SyncState) error

	PutPool(ctx context.Context, p PoolRecord) (PoolRecord, error)
	DeletePool(ctx context.Context, tenantID, name string) error

	AppendAudit(ctx context.Context, recs []AuditRecord) error
}

// IDKind selects what LiveIDs lists.
type IDKind string

// The kinds of id LiveIDs lists.
const (
	LiveUsers    IDKind = "users"
	LiveGroups   IDKind = "groups"
	LicensedUser IDKind = "licensed"
)

// InboxPage is one raw page fetched from Graph, stored before processing so
// that fetching and processing can overlap and survive a crash.
type InboxPage struct {
	ID       int64  `json:"id"`
	TenantID string `json:"tenant_id"`
	// Resource says how to decode Body, e.g. "users", "groups", "skus".
	Resource string `json:"resource"`
	// Round identifies the sync round the page belongs to; Seq orders pages
	// within it so processing can respect Graph's page order.
	Round      string          `json:"round"`
	Seq        int             `json:"seq"`
	Body       json.RawMessage `json:"body"`
	ReceivedAt time.Time       `json:"received_at"`
	ClaimedBy  string          `json:"claimed_by,omitempty"`
	LeaseUntil *time.Time      `json:"lease_until,omitempty"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"last_error,omitempty"`
}

// SyncState is the resumable position of one resource's sync in a tenant.
type SyncState struct {
	TenantID string `json:"tenant_id"`
	Resource string `json:"resource"` // "users", "groups", …
	// DeltaLink is the URL Graph returned to continue from; it carries an
	// opaque token, not a secret, but is still never logged in full.
	DeltaLink   string     `json:"delta_link,omitempty"`
	LastFullAt  *time.Time `json:"last_full_at,omitempty"`
	LastDeltaAt *time.Time `json:"last_delta_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// PoolRecord stores a license pool definition. The warehouse treats Spec as
// opaque JSON: the engine owns the pool model, and the warehouse must not
// import it (dependencies point one way).
type PoolRecord struct {
	TenantID  string          `json:"tenant_id"`
	Name      string          `json:"name"`
	Spec      json.RawMessage `json:"spec"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// AuditRecord is one row of append-only history: a decision or an applied change.
type AuditRecord struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	TenantID   string          `json:"tenant_id,omitempty"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"` // before/after and anything else worth keeping
}

// AuditFilter narrows ListAudit; zero fields do not filter.
type AuditFilter struct {
	TenantID  string
	Actor     string
	Action    string
	TargetID  string
	RequestID string
	Since     time.Time
	Until     time.Time
	// BeforeID pages backwards: only records with a smaller id.
	BeforeID int64
	Limit    int // default 100, max 1000
}

// Counts is what `allot status` reports.
type Counts struct {
	Tenants       int64 `json:"tenants"`
	Users         int64 `json:"users"`
	Groups        int64 `json:"groups"`
	Memberships   int64 `json:"memberships"`
	Skus          int64 `json:"skus"`
	LicenseStates int64 `json:"license_states"`
	Pools         int64 `json:"pools"`
	OpenChanges   int64 `json:"open_changes"`
}
