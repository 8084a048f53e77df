package access

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/warehouse"
)

// TokenPrefix starts every API token, so secret scanners and people can
// recognise one in a log or a commit.
const TokenPrefix = "allot_"

// Token scopes beyond single actions.
const (
	// ScopeAll lets a token do whatever its principal's roles allow.
	ScopeAll = "*"
	// ScopeRead allows only the reading actions.
	ScopeRead = "read"
)

var readActions = []Action{ReadDirectory, ReadPolicy, ReadRequests, ReadAudit, ReadMetrics}

// ParseScopes validates token scopes: "*", "read", or action names.
func ParseScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w token: at least one scope is needed (%s, %s, or an action such as %s)",
			ErrInvalid, ScopeAll, ScopeRead, ReadDirectory)
	}
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if sc != ScopeAll && sc != ScopeRead && !slices.Contains(Actions, Action(sc)) {
			return nil, fmt.Errorf("%w token scope %q: want %s, %s or an action (%s)", ErrInvalid, sc, ScopeAll, ScopeRead, actionList())
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out, nil
}

func actionList() string {
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// tokenAllows reports whether token scopes permit an action.
func tokenAllows(scopes []string, a Action) bool {
	for _, sc := range scopes {
		if sc == ScopeAll || Action(sc) == a || (sc == ScopeRead && slices.Contains(readActions, a)) {
			return true
		}
	}
	return false
}

// NewToken describes a token to create.
type NewToken struct {
	Principal string // name or id of the owner
	Name      string // what it is for, e.g. "ci"
	Scopes    []string
	// TTL, when positive, makes the token expire.
	TTL time.Duration
}

// CreateToken issues an API token and returns its secret, which is shown
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, actor string, nt NewToken) (string, warehouse.APIToken, error) {
	scopes, err := ParseScopes(nt.Scopes)
	if err != nil {
		return "", warehouse.APIToken{}, err
	}
	if nt.TTL < 0 {
		return "", warehouse.APIToken{}, fmt.Errorf("%w token: expiry must not be negative", ErrInvalid)
	}
	p, err := s.Store.GetPrincipal(ctx, nt.Principal)
	if err != nil {
		return "", warehouse.APIToken{}, err
	}
	if p.Disabled {
		return "", warehouse.APIToken{}, fmt.Errorf("%w token: principal %s is disabled", ErrInvalid, p.Name)
	}
	secret := TokenPrefix + rand.Text() + rand.Text()
	t := warehouse.APIToken{ID: newID("tok"), PrincipalID: p.ID, Name: nt.Name, Hash: hashSecret(secret), Scopes: scopes,
		CreatedAt: s.now()}
	if nt.TTL > 0 {
		exp := t.CreatedAt.Add(nt.TTL)
		t.ExpiresAt = &exp
	}
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return "", t, err
	}
	err = s.audit(ctx, actor, "token.create", "principal", p.Name, map[string]any{"token": t.ID, "name": t.Name, "scopes": scopes})
	return secret, t, err
}

// RevokeToken revokes a token by id; the next request using it is refused.
func (s *Service) RevokeToken(ctx context.Context, actor, id string) error {
	if err := s.Store.RevokeAPIToken(ctx, id, s.now()); err != nil {
		return err
	}
	return s.audit(ctx, actor, "token.revoke", "token", id, nil)
}

// TokenPrincipal authenticates a bearer token. Revoked, expired and unknown
// tokens, and tokens of disabled principals, all give ErrUnauthenticated.
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, ErrUnauthenticated
	}
	t, err := s.Store.GetAPIToken(ctx, hashSecret(secret))
	if errors.Is(err, warehouse.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt)) {
		return nil, ErrUnauthenticated
	}
	p, err := s.loadActive(ctx, t.PrincipalID)
	if err != nil {
		return nil, err
	}
	p.Token = &t
	return p, nil
}
