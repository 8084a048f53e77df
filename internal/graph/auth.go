package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// newTransport returns the transport for both the token endpoint and Graph,
// so a private CA (the simulator's) is trusted on the whole auth path.
func newTransport(cfg *resolved) (http.RoundTripper, error) {
	if cfg.Transport != nil {
		return cfg.Transport, nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Enough idle connections that every concurrent request reuses one
	// instead of paying a TLS handshake.
	t.MaxIdleConnsPerHost = cfg.Limits.Concurrency + 4
	t.ForceAttemptHTTP2 = true
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: reading CA file: %w", ErrConfig, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, cfg.CAFile)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return t, nil
}

// newCredential builds the azidentity credential with a custom cloud whose
// authority is the tenant's (the simulator's, in tests).
func newCredential(cfg *resolved, hc *http.Client) (azcore.TokenCredential, error) {
	if cfg.Credential != nil {
		return cfg.Credential, nil
	}
	opts := policy.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: hc,
	}
	if len(cfg.CertificateData) > 0 {
		certs, key, err := azidentity.ParseCertificates(cfg.CertificateData, []byte(cfg.CertificatePassword))
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %w", ErrConfig, err)
		}
		cred, err := azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: cfg.DisableInstanceDiscovery})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return cred, nil
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: cfg.DisableInstanceDiscovery})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return cred, nil
}

// tokenSource caches one scope's access token. azidentity caches too, but a
// lock-free-ish fast path here keeps the hot paging loop off its locks and
// lets a 401 force a fresh token.
type tokenSource struct {
	cred  azcore.TokenCredential
	scope string

	mu  sync.Mutex
	tok azcore.AccessToken
}

// refreshMargin renews a token this long before it expires so a request never
// leaves with a token that dies in flight.
const refreshMargin = 2 * time.Minute

func (t *tokenSource) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.Token != "" && time.Until(t.tok.ExpiresOn) > refreshMargin {
		return t.tok.Token, nil
	}
	tok, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if err != nil {
		return "", &AuthError{Scope: t.scope, Err: err}
	}
	t.tok = tok
	return tok.Token, nil
}

// invalidate drops the cached token after Graph rejected it with 401.
func (t *tokenSource) invalidate(bad string) {
	t.mu.Lock()
	if t.tok.Token == bad {
		t.tok = azcore.AccessToken{}
	}
	t.mu.Unlock()
}

// AuthError is a failure to obtain a token. It is kept apart from *Error
// because no Graph call was made: the fix is in the tenant registration
// (client id, secret, certificate, authority), not in the request.
type AuthError struct {
	Scope string
	Err   error
}

// Error names the scope; azidentity's message says what Entra refused.
func (e *AuthError) Error() string {
	return fmt.Sprintf("graph: acquiring token for %s: %v", e.Scope, e.Err)
}

// Unwrap exposes azidentity's error (e.g. *azidentity.AuthenticationFailedError).
func (e *AuthError) Unwrap() error { return e.Err }
