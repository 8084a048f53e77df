package graphsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Resources a token can be issued for, keyed by the accepted scope prefixes.
const (
	audGraph    = "https://graph.microsoft.com"
	audExchange = "https://outlook.office365.com"
)

var resourceByScope = map[string]string{
	"https://graph.microsoft.com":          audGraph,
	"00000003-0000-0000-c000-000000000000": audGraph,
	"https://outlook.office365.com":        audExchange,
	"https://outlook.office.com":           audExchange,
	"00000002-0000-0ff1-ce00-000000000000": audExchange,
}

// tokenLifetime matches Entra's app-only access tokens.
const tokenLifetime = 3599 * time.Second

type tokenClaims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
	Exp   int64    `json:"exp"`
	AppID string   `json:"appid"`
	Azp   string   `json:"azp,omitempty"`
	Idtyp string   `json:"idtyp"`
	Oid   string   `json:"oid"`
	Roles []string `json:"roles"`
	Sub   string   `json:"sub"`
	Tid   string   `json:"tid"`
	Ver   string   `json:"ver"`
	Uti   string   `json:"uti"`
}

// aadError writes an Entra token-endpoint error (AADSTS code, trace ids,
// timestamps) exactly as MSAL and azidentity parse it.
func (s *Server) aadError(w http.ResponseWriter, status int, errCode string, aadsts int, msg string) {
	now := time.Now().UTC()
	trace := newUUID(newRand(now.UnixNano()))
	corr := newUUID(newRand(now.UnixNano() + 1))
	body := map[string]any{
		"error": errCode,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, msg, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", s.base, aadsts),
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) knownTenant(t string) bool {
	return strings.EqualFold(t, s.t.id) || strings.EqualFold(t, s.t.domain)
}

// serveToken is POST /{tenant}/oauth2/v2.0/token for the client credentials
// grant, with a client secret (form or HTTP Basic) or a certificate-signed
// client assertion.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if !s.knownTenant(tenant) {
		s.aadError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	gt := r.PostForm.Get("grant_type")
	if gt == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if gt != "client_credentials" {
		s.aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if clientID == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	app := s.app(clientID)
	if app == nil {
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, s.t.orgName))
		return
	}
	assertion := r.PostForm.Get("client_assertion")
	switch {
	case secret != "":
		if app.ClientSecret == "" || secret != app.ClientSecret {
			s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID))
			return
		}
	case assertion != "":
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			s.aadError(w, http.StatusBadRequest, "invalid_request", 50027, "Invalid JWT token. The client assertion type is not supported.")
			return
		}
		if err := s.verifyAssertion(app, assertion); err != nil {
			s.aadError(w, http.StatusUnauthorized, "invalid_client", 700027,
				"Client assertion failed signature validation. "+err.Error())
			return
		}
	default:
		s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	// MSAL adds the OIDC scopes to every request; Entra ignores them for
	// client credentials.
	var scopes []string
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
		default:
			scopes = append(scopes, sc)
		}
	}
	scope := strings.Join(scopes, " ")
	if scope == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	}
	if !strings.HasSuffix(scope, "/.default") || strings.Contains(scope, " ") {
		s.aadError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	aud, ok := resourceByScope[strings.TrimSuffix(strings.TrimSuffix(scope, "/.default"), "/")]
	if !ok {
		s.aadError(w, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", strings.TrimSuffix(scope, "/.default"), s.t.orgName))
		return
	}
	tok, err := s.issueToken(app, aud)
	if err != nil {
		s.aadError(w, http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime.Seconds()),
		"ext_expires_in": int(tokenLifetime.Seconds()),
		"access_token":   tok,
	})
}

func (s *Server) app(clientID string) *App {
	s.appsMu.RLock()
	defer s.appsMu.RUnlock()
	return s.apps[strings.ToLower(clientID)]
}

var b64 = base64.RawURLEncoding

func (s *Server) issueToken(app *App, aud string) (string, error) {
	now := time.Now()
	c := tokenClaims{
		Aud: aud, Iss: "https://sts.windows.net/" + s.t.id + "/", Iat: now.Unix(), Nbf: now.Unix() - 300,
		Exp: now.Add(tokenLifetime).Unix(), AppID: app.ClientID, Idtyp: "app",
		Oid: spObjectID(app.ClientID), Roles: slices.Clone(app.Roles), Sub: spObjectID(app.ClientID),
		Tid: s.t.id, Ver: "1.0", Uti: b64.EncodeToString([]byte(newUUID(newRand(now.UnixNano())))[:16]),
	}
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "x5t": s.kid, "kid": s.kid})
	body, _ := json.Marshal(c)
	signing := b64.EncodeToString(hdr) + "." + b64.EncodeToString(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	tok := signing + "." + b64.EncodeToString(sig)
	s.tokens.Store(tok, &c)
	return tok, nil
}

// ExpireTokens makes every access token issued so far expired, so a test
// can check that its client fetches a new one after a 401.
func (s *Server) ExpireTokens() {
	s.tokensExpiredBefore.Store(time.Now().Unix() + 1)
	// Tokens are stamped in whole seconds: wait for the next second so
	// tokens fetched from now on are not caught by the cutoff.
	time.Sleep(time.Until(time.Unix(time.Now().Unix()+1, 0)))
}

// spObjectID is the service principal's object id, derived from the app id.
func spObjectID(clientID string) string { return requestID(clientID, 1) }

// authenticate validates the bearer token of a request for the audience.
// Tokens are checked against the signing key once and then cached.
func (s *Server) authenticate(r *http.Request, aud string) (*App, *GraphError) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	}
	tok := strings.TrimSpace(h[len(prefix):])
	v, ok := s.tokens.Load(tok)
	if !ok {
		c, err := s.verifyToken(tok)
		if err != nil {
			return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", err.Error())
		}
		s.tokens.Store(tok, c)
		v = c
	}
	c := v.(*tokenClaims)
	if time.Now().Unix() >= c.Exp || c.Iat < s.tokensExpiredBefore.Load() {
		return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	}
	if c.Aud != aud {
		return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Invalid audience.")
	}
	if c.Tid != s.t.id {
		return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	app := s.app(c.AppID)
	if app == nil {
		return nil, gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
	}
	// The token's roles, not the app's current grants, are what Graph
	// checks: permissions change only with a new token.
	return &App{ClientID: app.ClientID, Roles: c.Roles}, nil
}

func (s *Server) verifyToken(tok string) (*tokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("IDX14100: JWT is not well formed, there are no dots (.).")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("Access token validation failure. Invalid signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, errors.New("Access token validation failure. Invalid signature.")
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("Access token validation failure.")
	}
	var c tokenClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("Access token validation failure.")
	}
	return &c, nil
}

// verifyAssertion checks a certificate credential: a JWT signed by the key of
// the app's registered certificate, identified by its thumbprint (x5t or
// x5t#S256), with the app as issuer and subject and this tenant's token
// endpoint as audience.
func (s *Server) verifyAssertion(app *App, assertion string) error {
	if app.CertificatePEM == "" {
		return errors.New("The application has no certificate credentials.")
	}
	blk, _ := pem.Decode([]byte(app.CertificatePEM))
	if blk == nil {
		return errors.New("Registered certificate is not PEM.")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return errors.New("Registered certificate cannot be parsed.")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return errors.New("Invalid JWT token.")
	}
	var hdr struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return err
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return err
	}
	s1 := sha1.Sum(cert.Raw)
	s256 := sha256.Sum256(cert.Raw)
	// MSAL sends standard base64 (RFC 7515 says base64url); accept both.
	thumbOK := func(got string, sum []byte) bool {
		return got != "" && (got == b64.EncodeToString(sum) || got == base64.StdEncoding.EncodeToString(sum))
	}
	if !thumbOK(hdr.X5t, s1[:]) && !thumbOK(hdr.X5tS256, s256[:]) {
		return errors.New("Key was not found (thumbprint mismatch).")
	}
	if !strings.EqualFold(claims.Iss, app.ClientID) || !strings.EqualFold(claims.Sub, app.ClientID) {
		return errors.New("Issuer and subject must be the client id.")
	}
	if claims.Exp != 0 && time.Now().Unix() > claims.Exp {
		return errors.New("The client assertion is expired.")
	}
	if !strings.Contains(claims.Aud, "/oauth2/") {
		return errors.New("Invalid audience.")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return errors.New("Invalid signature encoding.")
	}
	signed := []byte(parts[0] + "." + parts[1])
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch hdr.Alg {
		case "RS256":
			h := sha256.Sum256(signed)
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
		case "PS256":
			h := sha256.Sum256(signed)
			err = rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, nil)
		default:
			err = fmt.Errorf("unsupported alg %q", hdr.Alg)
		}
	case *ecdsa.PublicKey:
		h := sha256.Sum256(signed)
		if len(sig) != 64 {
			return errors.New("Invalid ES256 signature.")
		}
		if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			err = errors.New("bad signature")
		}
	default:
		err = errors.New("unsupported key type")
	}
	if err != nil {
		return errors.New("Signature is invalid.")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	raw, err := b64.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return errors.New("Invalid JWT token segment.")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("Invalid JWT token segment.")
	}
	return nil
}

// serveDiscovery is the OpenID configuration azidentity/MSAL fetch before
// asking for a token. Its issuer is on the simulator's own host, which MSAL
// accepts for a custom authority.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if !s.knownTenant(tenant) && tenant != "common" && tenant != "organizations" {
		s.aadError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	b := s.base + "/" + tenant
	doc := map[string]any{
		"token_endpoint":                        b + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              b + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                s.base + "/" + s.t.id + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.base + "/oidc/userinfo",
		"authorization_endpoint":                b + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         b + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  b + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "tid", "roles"},
		"kerberos_endpoint":                     b + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   strings.TrimPrefix(s.base, "https://"),
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          strings.TrimPrefix(s.base, "https://"),
		"rbac_url":                              "https://pas.windows.net",
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

func (s *Server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	pub := s.key.PublicKey
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": s.kid, "x5t": s.kid,
		"n": b64.EncodeToString(pub.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// serveInstanceDiscovery answers MSAL's instance discovery, for clients that
// do not disable it: the simulator's host is its own only alias.
func (s *Server) serveInstanceDiscovery(w http.ResponseWriter, _ *http.Request) {
	host := strings.TrimPrefix(s.base, "https://")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"tenant_discovery_endpoint": s.base + "/" + s.t.id + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []map[string]any{{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
	})
}
