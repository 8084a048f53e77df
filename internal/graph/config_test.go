package graph

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	r, err := Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}.resolve()
	require.NoError(t, err)
	require.Equal(t, "https://graph.microsoft.com/.default", r.GraphScope)
	require.Equal(t, DefaultExchangeURL, r.ExchangeURL)
	require.Equal(t, "https://outlook.office365.com/.default", r.ExchangeScope)
	require.False(t, r.DisableInstanceDiscovery)

	// A simulator: Exchange lives on the Graph host, discovery is off.
	r, err = Config{TenantID: "t", ClientID: "c", ClientSecret: "s", GraphURL: "https://127.0.0.1:8443/v1.0/",
		CAFile: "ca.pem"}.resolve()
	require.NoError(t, err)
	require.Equal(t, "https://graph.microsoft.com/.default", r.GraphScope, "the resource, not the host")
	require.Equal(t, "https://127.0.0.1:8443/adminapi/beta", r.ExchangeURL)
	require.Equal(t, "https://outlook.office365.com/.default", r.ExchangeScope)
	require.True(t, r.DisableInstanceDiscovery)
	require.Equal(t, "https://127.0.0.1:8443/v1.0", r.graphBase.String(), "trailing slash trimmed")

	// A national cloud: its Graph origin is its resource id.
	r, err = Config{TenantID: "t", ClientID: "c", ClientSecret: "s", GraphURL: "https://graph.microsoft.us/v1.0",
		ExchangeURL: "https://outlook.office365.us/adminapi/beta"}.resolve()
	require.NoError(t, err)
	require.Equal(t, "https://graph.microsoft.us/.default", r.GraphScope)
	require.Equal(t, "https://outlook.office365.us/.default", r.ExchangeScope)
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for want, cfg := range map[string]Config{
		"tenant id is required":        {ClientID: "c", ClientSecret: "s"},
		"client id is required":        {TenantID: "t", ClientSecret: "s"},
		"no credential":                {TenantID: "t", ClientID: "c"},
		`graph url "graph.microsoft"`:  {TenantID: "t", ClientID: "c", ClientSecret: "s", GraphURL: "graph.microsoft"},
		`authority host "ftp://login"`: {TenantID: "t", ClientID: "c", ClientSecret: "s", AuthorityHost: "ftp://login"},
	} {
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrConfig, want)
		require.ErrorContains(t, err, want)
	}

	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	_, err := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", CAFile: notPEM})
	require.ErrorContains(t, err, "holds no PEM certificate")
	_, err = New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", CAFile: filepath.Join(dir, "missing.pem")})
	require.ErrorContains(t, err, "reading CA file")
	_, err = New(Config{TenantID: "t", ClientID: "c", CertificateData: []byte("junk")})
	require.ErrorContains(t, err, "certificate")
}
