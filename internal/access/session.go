package access

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/allot-dev/allot/internal/warehouse"
)

// dummyHash is verified against when a sign-in names an unknown account, so
// the response time does not reveal which names exist. It is made on first
// use: hashing costs tens of milliseconds that commands without sign-ins
// should not pay.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword(GeneratePassword())
	return h
})

// Login checks a name and password and opens a session. It returns the
// session secret (the cookie value, never stored) and the session, whose
// CSRF token the console embeds in every form.
func (s *Service) Login(ctx context.Context, name, password string) (string, warehouse.Session, *Principal, error) {
	wp, err := s.Store.GetPrincipal(ctx, name)
	if err != nil {
		VerifyPassword(dummyHash(), password)
		if errors.Is(err, warehouse.ErrNotFound) {
			err = ErrUnauthenticated
		}
		return "", warehouse.Session{}, nil, err
	}
	if !VerifyPassword(wp.PasswordHash, password) || wp.Disabled || wp.Kind != KindUser {
		s.logger().Warn("sign-in refused", "name", wp.Name)
		return "", warehouse.Session{}, nil, ErrUnauthenticated
	}
	p, err := s.loadActive(ctx, wp.ID)
	if err != nil {
		return "", warehouse.Session{}, nil, err
	}
	secret := rand.Text() + rand.Text()
	ttl := s.SessionTTL
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	now := s.now()
	sess := warehouse.Session{IDHash: hashSecret(secret), PrincipalID: p.ID, CSRF: rand.Text(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	// Creating a session also sweeps the expired ones, so the table stays small
	// without a background job.
	if _, err := s.Store.DeleteSessions(ctx, "", now); err != nil {
		return "", warehouse.Session{}, nil, err
	}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", warehouse.Session{}, nil, err
	}
	return secret, sess, p, nil
}

// Session authenticates a session secret (the cookie value).
func (s *Service) Session(ctx context.Context, secret string) (*Principal, warehouse.Session, error) {
	if secret == "" {
		return nil, warehouse.Session{}, ErrUnauthenticated
	}
	sess, err := s.Store.GetSession(ctx, hashSecret(secret))
	if errors.Is(err, warehouse.ErrNotFound) || (err == nil && !s.now().Before(sess.ExpiresAt)) {
		return nil, warehouse.Session{}, ErrUnauthenticated
	}
	if err != nil {
		return nil, warehouse.Session{}, err
	}
	p, err := s.loadActive(ctx, sess.PrincipalID)
	return p, sess, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, secret string) error {
	return s.Store.DeleteSession(ctx, hashSecret(secret))
}
