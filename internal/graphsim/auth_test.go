package graphsim

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"
)

func azOptions(h *harness) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: h.info.AuthorityURL},
		Transport: h.client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

// The production auth path: azidentity's ClientSecretCredential with a
// custom authority host and instance discovery disabled obtains a token from
// the simulator (after reading its OpenID configuration) and Graph accepts it.
func TestAzidentityClientSecretCredential(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cred, err := azidentity.NewClientSecretCredential(h.info.TenantID, h.info.ClientID, h.info.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azOptions(h), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	require.NoError(t, err)
	require.True(t, tok.ExpiresOn.After(time.Now().Add(50*time.Minute)))

	r := h.callAs(tok.Token, "GET", "/users?$top=5", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	require.Len(t, r.values(), 5)

	bad, err := azidentity.NewClientSecretCredential(h.info.TenantID, h.info.ClientID, "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azOptions(h), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	_, err = bad.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	require.ErrorContains(t, err, "AADSTS7000215")
}

// Certificate credentials: azidentity signs a client assertion with the
// app's key; the simulator verifies it against the registered certificate.
func TestAzidentityClientCertificateCredential(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "allot-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	const appID = "11111111-2222-4333-8444-555555555555"
	h := setup(t, Config{Users: 30, Apps: []App{{ClientID: appID, CertificatePEM: certPEM, Roles: []string{"User.Read.All"}}}})

	cred, err := azidentity.NewClientCertificateCredential(h.info.TenantID, appID, []*x509.Certificate{cert}, crypto.PrivateKey(key),
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: azOptions(h), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, h.callAs(tok.Token, "GET", "/users?$top=1", nil).status)
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30})
	form := func(kv ...string) url.Values {
		v := url.Values{"client_id": {h.info.ClientID}, "client_secret": {h.info.ClientSecret},
			"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		tenant string
		form   url.Values
		status int
		err    string
		code   float64
	}{
		{"wrong secret", h.info.TenantID, form("client_secret", "nope"), 401, "invalid_client", 7000215},
		{"unknown client", h.info.TenantID, form("client_id", "00000000-0000-4000-8000-000000000000"), 400, "unauthorized_client", 700016},
		{"unknown tenant", "f00df00d-0000-4000-8000-000000000000", form(), 400, "invalid_tenant", 90002},
		{"no credential", h.info.TenantID, form("client_secret", ""), 401, "invalid_client", 7000218},
		{"scope without .default", h.info.TenantID, form("scope", "https://graph.microsoft.com/User.Read.All"), 400, "invalid_scope", 1002012},
		{"unknown resource", h.info.TenantID, form("scope", "https://example.com/.default"), 400, "invalid_resource", 500011},
		{"wrong grant", h.info.TenantID, form("grant_type", "password"), 400, "unsupported_grant_type", 70003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.tokenResp(tc.tenant, tc.form)
			require.Equal(t, tc.status, st)
			require.Equal(t, tc.err, body["error"])
			require.Equal(t, []any{tc.code}, body["error_codes"])
			for _, k := range []string{"error_description", "timestamp", "trace_id", "correlation_id"} {
				require.NotEmpty(t, body[k], k)
			}
		})
	}
}

func TestGraphRequiresValidBearerToken(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30})
	for name, tok := range map[string]string{"missing": "", "garbage": "abc.def.ghi", "exchange audience": h.mustToken(h.info.ClientID, h.info.ClientSecret, "https://outlook.office365.com/.default")} {
		r := h.callAs(tok, "GET", "/users", nil, "client-request-id", "cr-1")
		require.Equal(t, http.StatusUnauthorized, r.status, name)
		require.Equal(t, "InvalidAuthenticationToken", r.errCode(), name)
		inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
		require.Equal(t, "cr-1", inner["client-request-id"], name)
		require.NotEmpty(t, inner["request-id"], name)
		require.NotEmpty(t, inner["date"], name)
	}
}

// An app consented only User.Read.All may read users but not groups,
// SKUs, license or membership writes: 403 Authorization_RequestDenied.
func TestPermissionsFromTokenRoles(t *testing.T) {
	t.Parallel()
	const appID = "22222222-3333-4444-8555-666666666666"
	h := setup(t, Config{Users: 30, Apps: []App{{ClientID: appID, ClientSecret: "s3cret", Roles: []string{"User.Read.All"}}}})
	tok := h.mustToken(appID, "s3cret", "https://graph.microsoft.com/.default")
	u := h.firstUser(func(u *user) bool { return u.usageLocation != "" })
	require.Equal(t, http.StatusOK, h.callAs(tok, "GET", "/users", nil).status)
	for _, c := range []struct{ method, path string }{
		{"GET", "/groups"},
		{"GET", "/subscribedSkus"},
		{"GET", "/users?$select=id,signInActivity"},
		{"POST", "/users/" + u.id + "/assignLicense"},
		{"POST", "/groups/" + h.groupNamed("LIC - Power BI Pro") + "/members/$ref"},
	} {
		r := h.callAs(tok, c.method, c.path, map[string]any{"addLicenses": []any{}, "removeLicenses": []any{}})
		require.Equal(t, http.StatusForbidden, r.status, c.path)
		require.Equal(t, "Authorization_RequestDenied", r.errCode(), c.path)
		require.Equal(t, "Insufficient privileges to complete the operation.", r.errMessage())
	}
}

func TestOpenIDConfigurationMatchesHost(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30})
	res, err := h.client.Get(h.info.AuthorityURL + h.info.TenantID + "/v2.0/.well-known/openid-configuration")
	require.NoError(t, err)
	defer res.Body.Close()
	var doc map[string]any
	require.NoError(t, jsonDecode(res.Body, &doc))
	require.Equal(t, h.info.AuthorityURL+h.info.TenantID+"/oauth2/v2.0/token", doc["token_endpoint"])
	require.Equal(t, h.info.AuthorityURL+h.info.TenantID+"/v2.0", doc["issuer"])
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 30})
	require.Equal(t, http.StatusOK, h.call("GET", "/users?$top=1", nil).status)
	h.srv.ExpireTokens()
	r := h.call("GET", "/users?$top=1", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "InvalidAuthenticationToken", r.errCode())
	require.Contains(t, r.errMessage(), "expired")
	fresh := h.mustToken(h.info.ClientID, h.info.ClientSecret, "https://graph.microsoft.com/.default")
	require.Equal(t, http.StatusOK, h.callAs(fresh, "GET", "/users?$top=1", nil).status)
}
