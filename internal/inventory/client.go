package inventory

import (
	"fmt"
	"os"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
)

// ResolveSecret reads the secret a tenant's reference points to, at the
// moment it is needed; it is never stored or logged.
func ResolveSecret(ref string) (string, error) {
	r, err := directory.ParseSecretRef(ref)
	if err != nil {
		return "", err
	}
	switch r.Kind {
	case "env":
		v, ok := os.LookupEnv(r.Value)
		if !ok || v == "" {
			return "", fmt.Errorf("secret reference %s: environment variable %s is not set", ref, r.Value)
		}
		return v, nil
	case "file":
		b, err := os.ReadFile(r.Value)
		if err != nil {
			return "", fmt.Errorf("secret reference %s: %w", ref, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", fmt.Errorf("secret reference %s: unsupported", ref)
}

// NewClient builds a Graph client for a registered tenant.
func NewClient(t directory.Tenant) (*graph.Client, error) {
	secret, err := ResolveSecret(t.SecretRef)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	c, err := graph.New(graph.Config{TenantID: t.ID, ClientID: t.ClientID, ClientSecret: secret,
		GraphURL: t.GraphURL, AuthorityHost: t.AuthorityURL, CAFile: t.CAFile})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return c, nil
}
