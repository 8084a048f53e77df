package warehousetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

func testPrincipals(t *testing.T, _ Harness, s warehouse.Store) {
	_, err := s.GetPrincipal(ctx(t), "alice")
	require.ErrorIs(t, err, warehouse.ErrNotFound)

	alice := warehouse.Principal{ID: "p1", Name: "Alice", DisplayName: "Alice A.", Kind: "user",
		PasswordHash: "$argon2id$x", MustChangePassword: true}
	require.NoError(t, s.CreatePrincipal(ctx(t), alice))
	require.ErrorIs(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: "p2", Name: "ALICE", Kind: "user"}),
		warehouse.ErrAlreadyExists, "names are unique regardless of case")
	require.ErrorIs(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: "p3", Kind: "user"}), directory.ErrInvalid)

	got, err := s.GetPrincipal(ctx(t), "aLiCe")
	require.NoError(t, err)
	require.Equal(t, "alice", got.Name)
	require.Equal(t, "$argon2id$x", got.PasswordHash)
	require.True(t, got.MustChangePassword)
	require.False(t, got.Disabled)
	require.False(t, got.CreatedAt.IsZero())
	byID, err := s.GetPrincipal(ctx(t), "p1")
	require.NoError(t, err)
	require.Equal(t, got, byID)

	got.Disabled, got.MustChangePassword, got.PasswordHash = true, false, "$argon2id$y"
	require.NoError(t, s.UpdatePrincipal(ctx(t), got))
	got, err = s.GetPrincipal(ctx(t), "p1")
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.False(t, got.MustChangePassword)
	require.Equal(t, "$argon2id$y", got.PasswordHash)
	require.ErrorIs(t, s.UpdatePrincipal(ctx(t), warehouse.Principal{ID: "nobody"}), warehouse.ErrNotFound)

	require.NoError(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: "p0", Name: "bot", Kind: "service"}))
	all, err := s.ListPrincipals(ctx(t))
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, []string{"alice", "bot"}, []string{all[0].Name, all[1].Name})
}

func testDelegations(t *testing.T, _ Harness, s warehouse.Store) {
	for _, id := range []string{"p1", "p2"} {
		require.NoError(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: id, Name: id, Kind: "user"}))
	}
	d1, err := s.PutDelegation(ctx(t), warehouse.Delegation{PrincipalID: "p1", Role: "administrator", CreatedBy: "setup"})
	require.NoError(t, err)
	require.NotZero(t, d1.ID)
	again, err := s.PutDelegation(ctx(t), warehouse.Delegation{PrincipalID: "p1", Role: "administrator", CreatedBy: "someone else"})
	require.NoError(t, err)
	require.Equal(t, d1.ID, again.ID, "granting twice keeps one delegation")
	require.Equal(t, "setup", again.CreatedBy)

	d2, err := s.PutDelegation(ctx(t), warehouse.Delegation{PrincipalID: "p2", Role: "approver", TenantID: tid, Pool: "E5"})
	require.NoError(t, err)
	_, err = s.PutDelegation(ctx(t), warehouse.Delegation{PrincipalID: "p2", Role: "approver", Pool: "E5"})
	require.ErrorIs(t, err, directory.ErrInvalid, "a pool scope without its tenant is ambiguous")
	_, err = s.PutDelegation(ctx(t), warehouse.Delegation{PrincipalID: "nobody", Role: "approver"})
	require.Error(t, err, "delegations reference existing principals")

	mine, err := s.ListDelegations(ctx(t), "p2")
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Equal(t, "E5", mine[0].Pool)
	require.Equal(t, tid, mine[0].TenantID)
	all, err := s.ListDelegations(ctx(t), "")
	require.NoError(t, err)
	require.Len(t, all, 2)

	require.NoError(t, s.DeleteDelegation(ctx(t), d2.ID))
	require.ErrorIs(t, s.DeleteDelegation(ctx(t), d2.ID), warehouse.ErrNotFound)
	mine, err = s.ListDelegations(ctx(t), "p2")
	require.NoError(t, err)
	require.Empty(t, mine)
}

func testAPITokens(t *testing.T, _ Harness, s warehouse.Store) {
	require.NoError(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: "p1", Name: "p1", Kind: "service"}))
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := warehouse.APIToken{ID: "t1", PrincipalID: "p1", Name: "ci", Hash: "abc", Scopes: []string{"read"}, ExpiresAt: &exp}
	require.NoError(t, s.CreateAPIToken(ctx(t), tok))
	require.ErrorIs(t, s.CreateAPIToken(ctx(t), tok), warehouse.ErrAlreadyExists)
	require.ErrorIs(t, s.CreateAPIToken(ctx(t), warehouse.APIToken{ID: "t2", PrincipalID: "p1"}), directory.ErrInvalid)

	got, err := s.GetAPIToken(ctx(t), "abc")
	require.NoError(t, err)
	require.Equal(t, []string{"read"}, got.Scopes)
	require.Equal(t, exp, *got.ExpiresAt)
	require.Nil(t, got.RevokedAt)
	_, err = s.GetAPIToken(ctx(t), "nope")
	require.ErrorIs(t, err, warehouse.ErrNotFound)

	first := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.RevokeAPIToken(ctx(t), "t1", first))
	require.NoError(t, s.RevokeAPIToken(ctx(t), "t1", first.Add(time.Hour)))
	got, err = s.GetAPIToken(ctx(t), "abc")
	require.NoError(t, err)
	require.Equal(t, first, *got.RevokedAt, "the first revocation time is kept")
	require.ErrorIs(t, s.RevokeAPIToken(ctx(t), "t9", first), warehouse.ErrNotFound)

	list, err := s.ListAPITokens(ctx(t), "p1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = s.ListAPITokens(ctx(t), "")
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func testSessions(t *testing.T, _ Harness, s warehouse.Store) {
	for _, id := range []string{"p1", "p2"} {
		require.NoError(t, s.CreatePrincipal(ctx(t), warehouse.Principal{ID: id, Name: id, Kind: "user"}))
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	live := warehouse.Session{IDHash: "h1", PrincipalID: "p1", CSRF: "c1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	other := warehouse.Session{IDHash: "h2", PrincipalID: "p2", CSRF: "c2", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	stale := warehouse.Session{IDHash: "h3", PrincipalID: "p2", CSRF: "c3", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	for _, ss := range []warehouse.Session{live, other, stale} {
		require.NoError(t, s.CreateSession(ctx(t), ss))
	}
	require.Error(t, s.CreateSession(ctx(t), live), "session ids are unique")
	got, err := s.GetSession(ctx(t), "h1")
	require.NoError(t, err)
	require.Equal(t, live, got)

	n, err := s.DeleteSessions(ctx(t), "p1", now)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "p1's session and the expired one")
	_, err = s.GetSession(ctx(t), "h1")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	_, err = s.GetSession(ctx(t), "h2")
	require.NoError(t, err)
	require.NoError(t, s.DeleteSession(ctx(t), "h2"))
	_, err = s.GetSession(ctx(t), "h2")
	require.ErrorIs(t, err, warehouse.ErrNotFound)
}
