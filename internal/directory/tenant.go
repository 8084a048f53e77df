package directory

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Tenant is one Entra tenant (an "account store") that allot manages. An MSP
// registers many. The client secret is never held here: SecretRef names where
// to read it at the moment a token is needed, so the warehouse can be copied or
// backed up without leaking credentials.
type Tenant struct {
	// ID is the Entra tenant id (a GUID) or verified domain used in token URLs.
	ID string `json:"id"`
	// Name is the short, unique handle operators type (`--tenant contoso`).
	Name string `json:"name"`
	// GraphURL is the Graph base including the version segment,
	// e.g. https://graph.microsoft.com/v1.0.
	GraphURL string `json:"graph_url"`
	// AuthorityURL is the token authority host, e.g.
	// https://login.microsoftonline.com/ (the tenant id is appended by the client).
	AuthorityURL string `json:"authority_url"`
	ClientID     string `json:"client_id"`
	// SecretRef is `env:NAME` or `file:/path`; see ParseSecretRef.
	SecretRef string `json:"secret_ref"`
	// CAFile, when set, is a PEM bundle trusted in addition to the system
	// roots. It exists for `allot sim`, which serves TLS with its own CA.
	CAFile    string    `json:"ca_file,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrInvalid is wrapped by every validation error in this package so callers
// can tell bad input from failures of the machinery.
var ErrInvalid = errors.New("invalid")

// Validate reports the first field that would make the tenant unusable.
func (t Tenant) Validate() error {
	switch {
	case strings.TrimSpace(t.Name) == "":
		return fmt.Errorf("%w tenant: name is required", ErrInvalid)
	case strings.ContainsAny(t.Name, " \t\r\n/"):
		return fmt.Errorf("%w tenant: name %q must not contain spaces or slashes", ErrInvalid, t.Name)
	case strings.TrimSpace(t.ID) == "":
		return fmt.Errorf("%w tenant %q: tenant id is required", ErrInvalid, t.Name)
	case strings.TrimSpace(t.ClientID) == "":
		return fmt.Errorf("%w tenant %q: client id is required", ErrInvalid, t.Name)
	}
	for field, raw := range map[string]string{"graph url": t.GraphURL, "authority url": t.AuthorityURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w tenant %q: %s %q is not an http(s) URL", ErrInvalid, t.Name, field, raw)
		}
	}
	if _, err := ParseSecretRef(t.SecretRef); err != nil {
		return fmt.Errorf("tenant %q: %w", t.Name, err)
	}
	return nil
}

// SecretRef says where a secret lives. Only the reference is ever persisted.
type SecretRef struct {
	Kind  string // "env" or "file"
	Value string // variable name or file path
}

// ParseSecretRef accepts `env:NAME` and `file:/path`. A bare string is refused
// on purpose: it is most likely the secret itself pasted by mistake, and
// storing it would defeat the point of references.
func ParseSecretRef(s string) (SecretRef, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok || value == "" {
		return SecretRef{}, fmt.Errorf("%w secret reference: want env:NAME or file:/path (never the secret itself)", ErrInvalid)
	}
	switch kind {
	case "env":
		if strings.ContainsAny(value, "= \t") {
			return SecretRef{}, fmt.Errorf("%w secret reference: %q is not an environment variable name", ErrInvalid, value)
		}
	case "file":
	default:
		return SecretRef{}, fmt.Errorf("%w secret reference: unknown kind %q (want env or file)", ErrInvalid, kind)
	}
	return SecretRef{Kind: kind, Value: value}, nil
}

// String renders the reference in the form ParseSecretRef accepts.
func (r SecretRef) String() string { return r.Kind + ":" + r.Value }
