package warehouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// AccessReader reads principals, delegations, API tokens and sessions. The
// access package owns their meaning (roles, hashing, checks); the warehouse
// only keeps the rows.
type AccessReader interface {
	// GetPrincipal finds a principal by id or by (case-insensitive) name.
	GetPrincipal(ctx context.Context, nameOrID string) (Principal, error)
	ListPrincipals(ctx context.Context) ([]Principal, error)
	// ListDelegations lists a principal's delegations, or everyone's for "".
	ListDelegations(ctx context.Context, principalID string) ([]Delegation, error)
	// GetAPIToken finds a token by the SHA-256 hash of its secret.
	GetAPIToken(ctx context.Context, hash string) (APIToken, error)
	// ListAPITokens lists a principal's tokens, or everyone's for "".
	ListAPITokens(ctx context.Context, principalID string) ([]APIToken, error)
	// GetSession finds a live or expired session by the hash of its id;
	// callers check ExpiresAt.
	GetSession(ctx context.Context, idHash string) (Session, error)
}

// AccessWriter writes them.
type AccessWriter interface {
	// CreatePrincipal fails with ErrAlreadyExists when the id or name is taken.
	CreatePrincipal(ctx context.Context, p Principal) error
	// UpdatePrincipal rewrites display name, password hash, the must-change
	// flag and disabled of the principal with p.ID.
	UpdatePrincipal(ctx context.Context, p Principal) error
	// PutDelegation grants a delegation; granting the same one twice keeps
	// the first and returns it.
	PutDelegation(ctx context.Context, d Delegation) (Delegation, error)
	DeleteDelegation(ctx context.Context, id int64) error
	CreateAPIToken(ctx context.Context, t APIToken) error
	// RevokeAPIToken marks a token revoked at at; revoking twice keeps the
	// first time.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error
	CreateSession(ctx context.Context, s Session) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteSessions ends every session of a principal (disable, password
	// change) and every session that expired before now; it returns how many.
	DeleteSessions(ctx context.Context, principalID string, now time.Time) (int64, error)
}

// Principal is a person or an automation account that can act in allot.
type Principal struct {
	ID   string `json:"id"`
	Name string `json:"name"` // login name, stored lower-case
	// DisplayName is what the console and the audit log show.
	DisplayName string `json:"display_name,omitempty"`
	Kind        string `json:"kind"` // "user" (password sign-in) or "service" (tokens only)
	// PasswordHash is an encoded argon2id hash; never serialised.
	PasswordHash       string    `json:"-"`
	MustChangePassword bool      `json:"must_change_password"`
	Disabled           bool      `json:"disabled"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Delegation grants a role to a principal over a scope: every tenant
// (TenantID ""), one tenant, or one pool or group within a tenant.
type Delegation struct {
	ID          int64     `json:"id"`
	PrincipalID string    `json:"principal_id"`
	Role        string    `json:"role"`
	TenantID    string    `json:"tenant_id,omitempty"`
	Pool        string    `json:"pool,omitempty"`
	GroupID     string    `json:"group_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by,omitempty"`
}

// APIToken is a bearer token. Only the SHA-256 of its secret is stored: the
// secret is shown once, at creation.
type APIToken struct {
	ID          string `json:"id"`
	PrincipalID string `json:"principal_id"`
	Name        string `json:"name,omitempty"`
	Hash        string `json:"-"`
	// Scopes limit what the token may do beyond its principal's roles.
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Session is a signed-in browser. IDHash is the SHA-256 of the cookie value.
type Session struct {
	IDHash      string    `json:"-"`
	PrincipalID string    `json:"principal_id"`
	CSRF        string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

const principalColumns = "id, name, display_name, kind, password_hash, must_change_password, disabled, created_at, updated_at"

func scanPrincipal(r rowScanner) (Principal, error) {
	var p Principal
	var created, updated *time.Time
	err := r.Scan(&p.ID, &p.Name, &p.DisplayName, &p.Kind, &p.PasswordHash, &p.MustChangePassword, &p.Disabled,
		scanTime{&created}, scanTime{&updated})
	p.CreatedAt, p.UpdatedAt = deref(created), deref(updated)
	return p, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (q *queries) GetPrincipal(ctx context.Context, nameOrID string) (Principal, error) {
	var p Principal
	found := false
	err := scanAll(ctx, q.reader(), "SELECT "+principalColumns+" FROM principals WHERE id = ? OR name = ?",
		[]any{nameOrID, strings.ToLower(nameOrID)}, func(r rows) (err error) { p, err = scanPrincipal(r); found = true; return err })
	if err == nil && !found {
		err = fmt.Errorf("principal %q: %w", nameOrID, ErrNotFound)
	}
	return p, err
}

func (q *queries) ListPrincipals(ctx context.Context) ([]Principal, error) {
	var out []Principal
	err := scanAll(ctx, q.reader(), "SELECT "+principalColumns+" FROM principals ORDER BY name", nil, func(r rows) error {
		p, err := scanPrincipal(r)
		out = append(out, p)
		return err
	})
	return out, err
}

func (q *queries) CreatePrincipal(ctx context.Context, p Principal) error {
	if p.ID == "" || strings.TrimSpace(p.Name) == "" || p.Kind == "" {
		return fmt.Errorf("%w principal: id, name and kind are required", directory.ErrInvalid)
	}
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "INSERT INTO principals ("+principalColumns+") VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
			p.ID, strings.ToLower(p.Name), p.DisplayName, p.Kind, p.PasswordHash, p.MustChangePassword, p.Disabled,
			c.time(&now), c.time(&now))
		if err != nil {
			return fmt.Errorf("create principal %q: %w", p.Name, err)
		}
		if n == 0 {
			return fmt.Errorf("principal %q: %w", p.Name, ErrAlreadyExists)
		}
		return nil
	})
}

func (q *queries) UpdatePrincipal(ctx context.Context, p Principal) error {
	now := time.Now().UTC()
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "UPDATE principals SET display_name = ?, password_hash = ?, must_change_password = ?, "+
			"disabled = ?, updated_at = ? WHERE id = ?", p.DisplayName, p.PasswordHash, p.MustChangePassword, p.Disabled,
			c.time(&now), p.ID)
		if err == nil && n == 0 {
			err = fmt.Errorf("principal %s: %w", p.ID, ErrNotFound)
		}
		return err
	})
}

const delegationColumns = "id, principal_id, role, tenant_id, pool, group_id, created_at, created_by"

func (q *queries) ListDelegations(ctx context.Context, principalID string) ([]Delegation, error) {
	where, args := "", []any(nil)
	if principalID != "" {
		where, args = " WHERE principal_id = ?", []any{principalID}
	}
	var out []Delegation
	err := scanAll(ctx, q.reader(), "SELECT "+delegationColumns+" FROM delegations"+where+" ORDER BY principal_id, id", args,
		func(r rows) error {
			var d Delegation
			var created *time.Time
			err := r.Scan(&d.ID, &d.PrincipalID, &d.Role, &d.TenantID, &d.Pool, &d.GroupID, scanTime{&created}, &d.CreatedBy)
			d.CreatedAt = deref(created)
			out = append(out, d)
			return err
		})
	return out, err
}

func (q *queries) PutDelegation(ctx context.Context, d Delegation) (Delegation, error) {
	if d.PrincipalID == "" || d.Role == "" {
		return d, fmt.Errorf("%w delegation: principal and role are required", directory.ErrInvalid)
	}
	if d.TenantID == "" && (d.Pool != "" || d.GroupID != "") {
		return d, fmt.Errorf("%w delegation: a pool or group scope needs its tenant", directory.ErrInvalid)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	err := q.write(ctx, func(c conn) error {
		// The no-op update makes RETURNING yield the existing row's id and
		// creation time on a repeated grant.
		return scanAll(ctx, c, "INSERT INTO delegations (principal_id, role, tenant_id, pool, group_id, created_at, created_by) "+
			"VALUES (?,?,?,?,?,?,?) ON CONFLICT (principal_id, role, tenant_id, pool, group_id) "+
			"DO UPDATE SET created_by = delegations.created_by RETURNING id, created_at, created_by",
			[]any{d.PrincipalID, d.Role, d.TenantID, d.Pool, d.GroupID, c.time(&d.CreatedAt), d.CreatedBy},
			func(r rows) error {
				var created *time.Time
				err := r.Scan(&d.ID, scanTime{&created}, &d.CreatedBy)
				d.CreatedAt = deref(created)
				return err
			})
	})
	if err != nil {
		return d, fmt.Errorf("put delegation: %w", err)
	}
	return d, nil
}

func (q *queries) DeleteDelegation(ctx context.Context, id int64) error {
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "DELETE FROM delegations WHERE id = ?", id)
		if err == nil && n == 0 {
			err = fmt.Errorf("delegation %d: %w", id, ErrNotFound)
		}
		return err
	})
}

const tokenColumns = "id, principal_id, name, hash, scopes, created_at, expires_at, revoked_at"

func (q *queries) tokens(ctx context.Context, where string, args ...any) ([]APIToken, error) {
	var out []APIToken
	err := scanAll(ctx, q.reader(), "SELECT "+tokenColumns+" FROM api_tokens"+where, args, func(r rows) error {
		var t APIToken
		var created *time.Time
		err := r.Scan(&t.ID, &t.PrincipalID, &t.Name, &t.Hash, scanJSON{&t.Scopes}, scanTime{&created},
			scanTime{&t.ExpiresAt}, scanTime{&t.RevokedAt})
		t.CreatedAt = deref(created)
		out = append(out, t)
		return err
	})
	return out, err
}

func (q *queries) GetAPIToken(ctx context.Context, hash string) (APIToken, error) {
	ts, err := q.tokens(ctx, " WHERE hash = ?", hash)
	if err != nil {
		return APIToken{}, err
	}
	if len(ts) == 0 {
		return APIToken{}, fmt.Errorf("api token: %w", ErrNotFound)
	}
	return ts[0], nil
}

func (q *queries) ListAPITokens(ctx context.Context, principalID string) ([]APIToken, error) {
	if principalID == "" {
		return q.tokens(ctx, " ORDER BY created_at, id")
	}
	return q.tokens(ctx, " WHERE principal_id = ? ORDER BY created_at, id", principalID)
}

func (q *queries) CreateAPIToken(ctx context.Context, t APIToken) error {
	if t.ID == "" || t.PrincipalID == "" || t.Hash == "" {
		return fmt.Errorf("%w api token: id, principal and hash are required", directory.ErrInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "INSERT INTO api_tokens ("+tokenColumns+") VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
			t.ID, t.PrincipalID, t.Name, t.Hash, jsonList(t.Scopes), c.time(&t.CreatedAt), c.time(t.ExpiresAt), c.time(t.RevokedAt))
		if err != nil {
			return fmt.Errorf("create api token: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("api token %s: %w", t.ID, ErrAlreadyExists)
		}
		return nil
	})
}

func (q *queries) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	return q.write(ctx, func(c conn) error {
		n, err := c.exec(ctx, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", c.time(&at), id)
		if err == nil && n == 0 {
			err = fmt.Errorf("api token %s: %w", id, ErrNotFound)
		}
		return err
	})
}

func (q *queries) GetSession(ctx context.Context, idHash string) (Session, error) {
	var s Session
	found := false
	err := scanAll(ctx, q.reader(), "SELECT id_hash, principal_id, csrf, created_at, expires_at FROM sessions WHERE id_hash = ?",
		[]any{idHash}, func(r rows) error {
			var created, expires *time.Time
			found = true
			err := r.Scan(&s.IDHash, &s.PrincipalID, &s.CSRF, scanTime{&created}, scanTime{&expires})
			s.CreatedAt, s.ExpiresAt = deref(created), deref(expires)
			return err
		})
	if err == nil && !found {
		err = fmt.Errorf("session: %w", ErrNotFound)
	}
	return s, err
}

func (q *queries) CreateSession(ctx context.Context, s Session) error {
	if s.IDHash == "" || s.PrincipalID == "" || s.CSRF == "" {
		return fmt.Errorf("%w session: id hash, principal and CSRF token are required", directory.ErrInvalid)
	}
	return q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "INSERT INTO sessions (id_hash, principal_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
			s.IDHash, s.PrincipalID, s.CSRF, c.time(&s.CreatedAt), c.time(&s.ExpiresAt))
		return err
	})
}

func (q *queries) DeleteSession(ctx context.Context, idHash string) error {
	return q.write(ctx, func(c conn) error {
		_, err := c.exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash)
		return err
	})
}

func (q *queries) DeleteSessions(ctx context.Context, principalID string, now time.Time) (int64, error) {
	var n int64
	err := q.write(ctx, func(c conn) (err error) {
		n, err = c.exec(ctx, "DELETE FROM sessions WHERE principal_id = ? OR expires_at < ?", principalID, c.time(&now))
		return err
	})
	return n, err
}
