package graphsim_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/allot-dev/allot/internal/graphsim"
)

// Start a small tenant, get a token with the client-credentials grant and
// list users over HTTPS, trusting only the simulator's CA.
func Example() {
	srv, err := graphsim.Start(graphsim.Config{Users: 50, Seed: 1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	info := srv.Info()

	pem, _ := os.ReadFile(info.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	res, err := client.PostForm(info.AuthorityURL+info.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID},
		"client_secret": {info.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()

	req, _ := http.NewRequest("GET", info.GraphURL+"/users?$top=5&$select=id,userPrincipalName", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var page struct {
		Value []map[string]any `json:"value"`
	}
	_ = json.NewDecoder(res.Body).Decode(&page)
	fmt.Println(res.StatusCode, len(page.Value), len(srv.Users()))
	// Output: 200 5 50
}
