package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/warehouse"
)

// Service is access control over one warehouse.
type Service struct {
	Store warehouse.Store
	// SessionTTL is how long a console sign-in lasts; 12 hours when zero.
	SessionTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Principal is an authenticated (or loaded) principal with its delegations
// as they are in the warehouse right now.
type Principal struct {
	warehouse.Principal
	Delegations []warehouse.Delegation `json:"delegations"`
	// Token is set when the principal authenticated with an API token; its
	// scopes narrow what the principal's roles allow.
	Token *warehouse.APIToken `json:"-"`
}

// The kinds of principal.
const (
	KindUser    = "user"    // signs in with a password; may also hold tokens
	KindService = "service" // automation: tokens only, never a password
)

// System is the actor name recorded for what allot does by itself.
const System = "system"

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) audit(ctx context.Context, actor, action, targetType, targetID string, detail any) error {
	rec := warehouse.AuditRecord{At: s.now(), Actor: actor, Action: action, TargetType: targetType, TargetID: targetID}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		rec.Detail = b
	}
	return s.Store.AppendAudit(ctx, []warehouse.AuditRecord{rec})
}

// Load reads a principal and its delegations by id or name.
func (s *Service) Load(ctx context.Context, nameOrID string) (*Principal, error) {
	wp, err := s.Store.GetPrincipal(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	ds, err := s.Store.ListDelegations(ctx, wp.ID)
	if err != nil {
		return nil, err
	}
	return &Principal{Principal: wp, Delegations: ds}, nil
}

// validName keeps login names typeable and unambiguous in URLs and logs.
func validName(name string) error {
	if len(name) < 2 || len(name) > 64 {
		return fmt.Errorf("%w name %q: 2 to 64 characters", ErrInvalid, name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return fmt.Errorf("%w name %q: use letters, digits and . _ @ -", ErrInvalid, name)
		}
	}
	return nil
}

// NewPrincipal describes an account to create.
type NewPrincipal struct {
	Name        string
	DisplayName string
	Kind        string // KindUser (default) or KindService
	// Password, when empty for a user, is generated and must be changed at
	// first sign-in. A given password is used as is and need not change.
	Password string
}

// CreatePrincipal creates an account and returns the one-time password when
// it generated one ("" otherwise).
func (s *Service) CreatePrincipal(ctx context.Context, actor string, np NewPrincipal) (*Principal, string, error) {
	if np.Kind == "" {
		np.Kind = KindUser
	}
	if err := validName(np.Name); err != nil {
		return nil, "", err
	}
	if np.Kind != KindUser && np.Kind != KindService {
		return nil, "", fmt.Errorf("%w kind %q: want %s or %s", ErrInvalid, np.Kind, KindUser, KindService)
	}
	wp := warehouse.Principal{ID: newID("p"), Name: strings.ToLower(np.Name), DisplayName: np.DisplayName, Kind: np.Kind}
	oneTime := ""
	if np.Kind == KindUser {
		pw := np.Password
		if pw == "" {
			pw = GeneratePassword()
			oneTime, wp.MustChangePassword = pw, true
		} else if err := CheckPasswordStrength(pw); err != nil {
			return nil, "", err
		}
		hash, err := HashPassword(pw)
		if err != nil {
			return nil, "", err
		}
		wp.PasswordHash = hash
	} else if np.Password != "" {
		return nil, "", fmt.Errorf("%w service account %q: uses API tokens, not a password", ErrInvalid, np.Name)
	}
	if err := s.Store.CreatePrincipal(ctx, wp); err != nil {
		return nil, "", err
	}
	if err := s.audit(ctx, actor, "principal.create", "principal", wp.Name, map[string]string{"kind": wp.Kind}); err != nil {
		return nil, "", err
	}
	p, err := s.Load(ctx, wp.ID)
	return p, oneTime, err
}

// Bootstrap creates the first administrator when no principal exists yet,
// returning its name and one-time password to print once. Later starts
// return an empty password and change nothing.
func (s *Service) Bootstrap(ctx context.Context) (name, password string, err error) {
	ps, err := s.Store.ListPrincipals(ctx)
	if err != nil || len(ps) > 0 {
		return "", "", err
	}
	p, pw, err := s.CreatePrincipal(ctx, System, NewPrincipal{Name: "admin", DisplayName: "Administrator"})
	if err != nil {
		return "", "", fmt.Errorf("create first administrator: %w", err)
	}
	if _, err := s.Grant(ctx, System, p.ID, Administrator, Scope{}); err != nil {
		return "", "", err
	}
	return p.Name, pw, nil
}

// SetDisabled disables or re-enables an account. Disabling ends its
// sessions at once; its tokens stop working because every authentication
// re-reads the account.
func (s *Service) SetDisabled(ctx context.Context, actor, nameOrID string, disabled bool) error {
	p, err := s.Store.GetPrincipal(ctx, nameOrID)
	if err != nil {
		return err
	}
	p.Disabled = disabled
	if err := s.Store.UpdatePrincipal(ctx, p); err != nil {
		return err
	}
	if disabled {
		if _, err := s.Store.DeleteSessions(ctx, p.ID, s.now()); err != nil {
			return err
		}
	}
	action := "principal.enable"
	if disabled {
		action = "principal.disable"
	}
	return s.audit(ctx, actor, action, "principal", p.Name, nil)
}

// ChangePassword sets a new password after checking the current one, clears
// the must-change flag, and ends the account's sessions.
func (s *Service) ChangePassword(ctx context.Context, principalID, current, next string) error {
	p, err := s.Store.GetPrincipal(ctx, principalID)
	if err != nil {
		return err
	}
	if p.Kind != KindUser || !VerifyPassword(p.PasswordHash, current) {
		return fmt.Errorf("%w: current password is wrong", ErrUnauthenticated)
	}
	if err := CheckPasswordStrength(next); err != nil {
		return err
	}
	if next == current {
		return fmt.Errorf("%w password: the new password must differ from the current one", ErrInvalid)
	}
	if p.PasswordHash, err = HashPassword(next); err != nil {
		return err
	}
	p.MustChangePassword = false
	if err := s.Store.UpdatePrincipal(ctx, p); err != nil {
		return err
	}
	// Every session ends, including the caller's: the console signs in again
	// with the new password, which also rotates the session id.
	if _, err := s.Store.DeleteSessions(ctx, p.ID, s.now()); err != nil {
		return err
	}
	return s.audit(ctx, p.Name, "principal.password", "principal", p.Name, nil)
}

// Grant gives a principal a role over a scope.
func (s *Service) Grant(ctx context.Context, actor, nameOrID string, role Role, scope Scope) (warehouse.Delegation, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return warehouse.Delegation{}, err
	}
	p, err := s.Store.GetPrincipal(ctx, nameOrID)
	if err != nil {
		return warehouse.Delegation{}, err
	}
	if scope.TenantID != "" {
		if _, err := s.Store.GetTenant(ctx, scope.TenantID); err != nil {
			return warehouse.Delegation{}, fmt.Errorf("%w delegation: %w", ErrInvalid, err)
		}
	}
	d, err := s.Store.PutDelegation(ctx, warehouse.Delegation{PrincipalID: p.ID, Role: string(role), TenantID: scope.TenantID,
		Pool: scope.Pool, GroupID: scope.GroupID, CreatedBy: actor})
	if err != nil {
		return d, err
	}
	return d, s.audit(ctx, actor, "delegation.grant", "principal", p.Name, map[string]any{"role": role, "scope": scope})
}

// Revoke removes a delegation; it stops applying on the next check.
func (s *Service) Revoke(ctx context.Context, actor string, delegationID int64) error {
	if err := s.Store.DeleteDelegation(ctx, delegationID); err != nil {
		return err
	}
	return s.audit(ctx, actor, "delegation.revoke", "delegation", fmt.Sprint(delegationID), nil)
}

// newID returns a random identifier with a readable prefix ("p-…", "tok-…").
func newID(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()[:16]) }

// hashSecret is how sessions and tokens are stored: a database dump holds
// no usable credential. The secrets carry 128+ bits, so a plain SHA-256
// (no salt, no stretching) is enough and allows lookup by hash.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// loadActive loads a principal for authentication, refusing disabled ones.
func (s *Service) loadActive(ctx context.Context, id string) (*Principal, error) {
	p, err := s.Load(ctx, id)
	if errors.Is(err, warehouse.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if p.Disabled {
		return nil, ErrUnauthenticated
	}
	return p, nil
}
