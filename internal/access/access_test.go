package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := access.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	require.True(t, access.VerifyPassword(h, "correct horse battery"))
	require.False(t, access.VerifyPassword(h, "correct horse batterY"))
	h2, err := access.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "each hash has its own salt")

	parts := strings.Split(h, "$")
	tampered := map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(h, "argon2id", "argon2i", 1),
		"old version":    strings.Replace(h, "v=19", "v=16", 1),
		"huge memory":    strings.Join([]string{"", parts[1], parts[2], "m=99999999,t=2,p=1", parts[4], parts[5]}, "$"),
		"zero time":      strings.Join([]string{"", parts[1], parts[2], "m=19456,t=0,p=1", parts[4], parts[5]}, "$"),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"truncated key":  strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], parts[5][:8]}, "$"),
		"missing fields": "$argon2id$v=19$m=19456,t=2,p=1",
	}
	for name, enc := range tampered {
		require.False(t, access.VerifyPassword(enc, "correct horse battery"), name)
	}
}

func TestPasswordStrength(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, access.CheckPasswordStrength("short"), access.ErrInvalid)
	require.NoError(t, access.CheckPasswordStrength("twelve chars"))
	require.Len(t, access.GeneratePassword(), 26)
	require.NotEqual(t, access.GeneratePassword(), access.GeneratePassword())
}

func TestBootstrapCreatesOneAdministratorOnce(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	name, pw, err := svc.Bootstrap(ctx)
	require.NoError(t, err)
	require.Equal(t, "admin", name)
	require.Len(t, pw, 26)

	again, pw2, err := svc.Bootstrap(ctx)
	require.NoError(t, err)
	require.Empty(t, again+pw2, "a second start prints nothing and changes nothing")

	_, _, admin, err := svc.Login(ctx, "admin", pw)
	require.NoError(t, err)
	require.True(t, admin.MustChangePassword)
	require.ErrorIs(t, svc.Check(ctx, admin, access.ReadDirectory, access.Scope{TenantID: "contoso-id"}),
		access.ErrPasswordChangeRequired, "the one-time password only lets the admin choose a new one")

	require.ErrorIs(t, svc.ChangePassword(ctx, admin.ID, "wrong", "a much better password"), access.ErrUnauthenticated)
	require.ErrorIs(t, svc.ChangePassword(ctx, admin.ID, pw, "short"), access.ErrInvalid)
	require.NoError(t, svc.ChangePassword(ctx, admin.ID, pw, "a much better password"))
	_, _, _, err = svc.Login(ctx, "admin", pw)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "the one-time password is gone")
	_, _, admin, err = svc.Login(ctx, "admin", "a much better password")
	require.NoError(t, err)
	for _, a := range access.Actions {
		require.NoError(t, svc.Check(ctx, admin, a, access.Scope{}), a)
		require.NoError(t, svc.Check(ctx, admin, a, access.Scope{TenantID: "fabrikam-id", Pool: "E5"}), a)
	}
}

// Each role can do exactly its actions, on exactly its scope.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	want := map[access.Role][]access.Action{
		access.Administrator:  access.Actions,
		access.LicenseManager: {access.ReadDirectory, access.ReadPolicy, access.WritePolicy, access.ApplyPlan, access.SubmitRequest, access.ReadRequests, access.ReadAudit},
		access.Approver:       {access.ReadDirectory, access.ReadPolicy, access.ReadRequests, access.DecideApproval},
		access.Helpdesk:       {access.ReadDirectory, access.ReadPolicy, access.SubmitRequest, access.ReadRequests},
		access.Requester:      {access.SubmitRequest, access.ReadRequests},
		access.Auditor:        {access.ReadDirectory, access.ReadPolicy, access.ReadRequests, access.ReadAudit, access.ReadMetrics},
	}
	svc, _, ctx := setup(t)
	poolE5 := access.Scope{TenantID: "contoso-id", Pool: "E5"}
	groupSales := access.Scope{TenantID: "contoso-id", GroupID: "g-sales"}
	targets := map[string]access.Scope{
		"allot":             {},
		"contoso":           {TenantID: "contoso-id"},
		"contoso E5":        poolE5,
		"contoso E3":        {TenantID: "contoso-id", Pool: "E3"},
		"contoso E5→sales":  {TenantID: "contoso-id", Pool: "E5", GroupID: "g-e5"},
		"contoso sales":     groupSales,
		"fabrikam":          {TenantID: "fabrikam-id"},
		"fabrikam E5 (dup)": {TenantID: "fabrikam-id", Pool: "E5"},
	}
	scopes := map[string]struct {
		scope  access.Scope
		covers []string
	}{
		"all":     {access.Scope{}, []string{"allot", "contoso", "contoso E5", "contoso E3", "contoso E5→sales", "contoso sales", "fabrikam", "fabrikam E5 (dup)"}},
		"tenant":  {access.Scope{TenantID: "contoso-id"}, []string{"contoso", "contoso E5", "contoso E3", "contoso E5→sales", "contoso sales"}},
		"pool E5": {poolE5, []string{"contoso E5", "contoso E5→sales"}},
		"group":   {groupSales, []string{"contoso sales"}},
	}
	for role, actions := range want {
		for sname, sc := range scopes {
			p := principal(t, svc, strings.ReplaceAll(string(role)+"."+strings.ReplaceAll(sname, " ", ""), "-", ""), grant{role, sc.scope})
			for tname, target := range targets {
				for _, a := range access.Actions {
					expect := contains(actions, a) && contains(sc.covers, tname)
					err := svc.Check(ctx, p, a, target)
					if expect {
						require.NoError(t, err, "%s over %s: %s on %s", role, sname, a, tname)
					} else {
						require.ErrorIs(t, err, access.ErrForbidden, "%s over %s: %s on %s", role, sname, a, tname)
					}
				}
			}
		}
	}
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestRevokedDelegationStopsAtOnce(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	p := principal(t, svc, "lm", grant{access.LicenseManager, access.Scope{TenantID: "contoso-id"}})
	require.NoError(t, svc.CheckPrincipal(ctx, "lm", access.WritePolicy, access.Scope{TenantID: "contoso-id"}))
	require.NoError(t, svc.Revoke(ctx, "test", p.Delegations[0].ID))
	require.ErrorIs(t, svc.CheckPrincipal(ctx, "lm", access.WritePolicy, access.Scope{TenantID: "contoso-id"}), access.ErrForbidden)
	require.NoError(t, svc.SetDisabled(ctx, "test", "lm", true))
	require.ErrorIs(t, svc.CheckPrincipal(ctx, "lm", access.WritePolicy, access.Scope{}), access.ErrUnauthenticated)
}

func TestGrantValidation(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	principal(t, svc, "xy")
	_, err := svc.Grant(ctx, "test", "xy", "superuser", access.Scope{})
	require.ErrorIs(t, err, access.ErrInvalid)
	_, err = svc.Grant(ctx, "test", "xy", access.Approver, access.Scope{TenantID: "nope"})
	require.ErrorIs(t, err, access.ErrInvalid, "a delegation must name a registered tenant")
	_, err = svc.Grant(ctx, "test", "nobody", access.Approver, access.Scope{})
	require.ErrorIs(t, err, warehouse.ErrNotFound)
	r, err := access.ParseRole("License_Manager")
	require.NoError(t, err)
	require.Equal(t, access.LicenseManager, r)
}

func TestCreatePrincipalValidation(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	for _, np := range []access.NewPrincipal{
		{Name: "a"},
		{Name: "has space"},
		{Name: "ok", Kind: "robot"},
		{Name: "weak", Password: "short"},
		{Name: "svc", Kind: access.KindService, Password: "a long enough password"},
	} {
		_, _, err := svc.CreatePrincipal(ctx, "test", np)
		require.ErrorIs(t, err, access.ErrInvalid, np.Name)
	}
	_, pw, err := svc.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: "Bob.Smith@corp"})
	require.NoError(t, err)
	require.NotEmpty(t, pw, "no password given: a one-time one is generated")
	_, _, err = svc.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: "bob.smith@CORP"})
	require.ErrorIs(t, err, warehouse.ErrAlreadyExists)
	audit, err := svc.Store.ListAudit(ctx, warehouse.AuditFilter{Action: "principal.create"})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "bob.smith@corp", audit[0].TargetID)
}

func TestSessions(t *testing.T) {
	t.Parallel()
	svc, clk, ctx := setup(t)
	principal(t, svc, "carol", grant{access.Auditor, access.Scope{}})
	_, _, _, err := svc.Login(ctx, "carol", "wrong password!")
	require.ErrorIs(t, err, access.ErrUnauthenticated)
	_, _, _, err = svc.Login(ctx, "nobody", "correct horse battery")
	require.ErrorIs(t, err, access.ErrUnauthenticated)

	secret, sess, p, err := svc.Login(ctx, "CAROL", "correct horse battery")
	require.NoError(t, err)
	require.Equal(t, "carol", p.Name)
	require.NotEmpty(t, sess.CSRF)
	got, gotSess, err := svc.Session(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, p.ID, got.ID)
	require.Equal(t, sess.CSRF, gotSess.CSRF)
	_, _, err = svc.Session(ctx, secret+"x")
	require.ErrorIs(t, err, access.ErrUnauthenticated)

	clk.t = clk.t.Add(13 * time.Hour)
	_, _, err = svc.Session(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "sessions expire")

	secret, _, _, err = svc.Login(ctx, "carol", "correct horse battery")
	require.NoError(t, err)
	require.NoError(t, svc.SetDisabled(ctx, "test", "carol", true))
	_, _, err = svc.Session(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "disabling ends sessions")
	_, _, _, err = svc.Login(ctx, "carol", "correct horse battery")
	require.ErrorIs(t, err, access.ErrUnauthenticated)

	require.NoError(t, svc.SetDisabled(ctx, "test", "carol", false))
	secret, _, _, err = svc.Login(ctx, "carol", "correct horse battery")
	require.NoError(t, err)
	require.NoError(t, svc.Logout(ctx, secret))
	_, _, err = svc.Session(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	svc, clk, ctx := setup(t)
	_, _, err := svc.CreatePrincipal(ctx, "test", access.NewPrincipal{Name: "ci", Kind: access.KindService})
	require.NoError(t, err)
	_, err = svc.Grant(ctx, "test", "ci", access.LicenseManager, access.Scope{TenantID: "contoso-id"})
	require.NoError(t, err)

	_, _, err = svc.CreateToken(ctx, "test", access.NewToken{Principal: "ci", Scopes: []string{"write-everything"}})
	require.ErrorIs(t, err, access.ErrInvalid)
	_, _, err = svc.CreateToken(ctx, "test", access.NewToken{Principal: "ci"})
	require.ErrorIs(t, err, access.ErrInvalid)

	readSecret, readTok, err := svc.CreateToken(ctx, "test", access.NewToken{Principal: "ci", Name: "dash", Scopes: []string{"read"}})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(readSecret, access.TokenPrefix))
	stored, err := svc.Store.GetAPIToken(ctx, readTok.Hash)
	require.NoError(t, err)
	require.NotContains(t, stored.Hash, readSecret[len(access.TokenPrefix):], "only a hash is stored")

	p, err := svc.TokenPrincipal(ctx, readSecret)
	require.NoError(t, err)
	contoso := access.Scope{TenantID: "contoso-id"}
	require.NoError(t, svc.Check(ctx, p, access.ReadPolicy, contoso))
	require.ErrorIs(t, svc.Check(ctx, p, access.WritePolicy, contoso), access.ErrForbidden, "a read token cannot write")
	require.ErrorIs(t, svc.Check(ctx, p, access.ReadPolicy, access.Scope{TenantID: "fabrikam-id"}), access.ErrForbidden,
		"a token never exceeds its principal's scope")

	allSecret, _, err := svc.CreateToken(ctx, "test", access.NewToken{Principal: "ci", Scopes: []string{"*"}, TTL: time.Hour})
	require.NoError(t, err)
	p, err = svc.TokenPrincipal(ctx, allSecret)
	require.NoError(t, err)
	require.NoError(t, svc.Check(ctx, p, access.WritePolicy, contoso))
	require.ErrorIs(t, svc.Check(ctx, p, access.ManageAccess, access.Scope{}), access.ErrForbidden,
		"* means everything the principal may do, not everything")

	require.NoError(t, svc.RevokeToken(ctx, "test", readTok.ID))
	_, err = svc.TokenPrincipal(ctx, readSecret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "a revoked token stops at once")

	clk.t = clk.t.Add(time.Hour)
	_, err = svc.TokenPrincipal(ctx, allSecret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "tokens expire")

	for _, bad := range []string{"", "Bearer x", access.TokenPrefix, access.TokenPrefix + "AAAA"} {
		_, err = svc.TokenPrincipal(ctx, bad)
		require.ErrorIs(t, err, access.ErrUnauthenticated, bad)
	}
	_, _, _, err = svc.Login(ctx, "ci", "")
	require.ErrorIs(t, err, access.ErrUnauthenticated, "service accounts never sign in with a password")
}

func TestApprovers(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	principal(t, svc, "global", grant{access.Approver, access.Scope{}})
	principal(t, svc, "e5only", grant{access.Approver, access.Scope{TenantID: "contoso-id", Pool: "E5"}})
	principal(t, svc, "fab", grant{access.Approver, access.Scope{TenantID: "fabrikam-id"}})
	principal(t, svc, "helper", grant{access.Helpdesk, access.Scope{}})
	principal(t, svc, "gone", grant{access.Approver, access.Scope{}})
	require.NoError(t, svc.SetDisabled(ctx, "test", "gone", true))

	names := func(s access.Scope) []string {
		ps, err := svc.Approvers(ctx, s)
		require.NoError(t, err)
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	require.ElementsMatch(t, []string{"global", "e5only"}, names(access.Scope{TenantID: "contoso-id", Pool: "E5"}))
	require.ElementsMatch(t, []string{"global"}, names(access.Scope{TenantID: "contoso-id", Pool: "E3"}))
	require.ElementsMatch(t, []string{"global", "fab"}, names(access.Scope{TenantID: "fabrikam-id", Pool: "E5"}))
}

// The pipeline's access check is the same decision as Check.
func TestPipelineAdapter(t *testing.T) {
	t.Parallel()
	svc, _, ctx := setup(t)
	principal(t, svc, "lm-e5", grant{access.LicenseManager, access.Scope{TenantID: "contoso-id", Pool: "E5"}})
	principal(t, svc, "appr@corp.example", grant{access.Approver, access.Scope{TenantID: "contoso-id", Pool: "E5"}})
	pa := access.Pipeline{S: svc}
	require.NoError(t, pa.Check(ctx, "lm-e5", workflow.ActionRequest, "contoso-id", workflow.Scope{Pool: "E5", UserID: "u1"}))
	require.ErrorIs(t, pa.Check(ctx, "lm-e5", workflow.ActionRequest, "contoso-id", workflow.Scope{Pool: "E3"}), workflow.ErrDenied)
	require.ErrorIs(t, pa.Check(ctx, "lm-e5", workflow.ActionApprove, "contoso-id", workflow.Scope{Pool: "E5"}), workflow.ErrDenied)
	require.ErrorIs(t, pa.Check(ctx, "nobody", workflow.ActionRequest, "contoso-id", workflow.Scope{Pool: "E5"}), workflow.ErrDenied)
	require.NoError(t, pa.Check(ctx, "appr@corp.example", workflow.ActionApprove, "contoso-id", workflow.Scope{Pool: "E5"}))

	who, err := pa.Approvers(ctx, "contoso-id", workflow.Scope{Pool: "E5"})
	require.NoError(t, err)
	require.Equal(t, []workflow.Principal{{ID: "appr@corp.example", Email: "appr@corp.example"}}, who)
	who, err = pa.Approvers(ctx, "contoso-id", workflow.Scope{Pool: "E3"})
	require.NoError(t, err)
	require.Empty(t, who)
}
