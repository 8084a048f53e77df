package graph

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
)

// envelopeHead is what pages were read with before scanPage: a full
// json.Unmarshal into envelope[struct{}]. scanPage must agree with it.
func envelopeHead(body []byte) (pageHead, error) {
	var env envelope[struct{}]
	if err := json.Unmarshal(body, &env); err != nil {
		return pageHead{}, err
	}
	if env.Value == nil {
		return pageHead{}, errNoValue
	}
	h := pageHead{nextLink: env.NextLink, deltaLink: env.DeltaLink, count: -1, items: len(*env.Value)}
	if env.Count != nil {
		h.count = *env.Count
	}
	return h, nil
}

var pageSeeds = []string{
	`{"@odata.context":"x","@odata.nextLink":"https://graph.example/v1.0/users?$skiptoken=a","value":[{"id":"1"},{"id":"2","a":[1,{"b":null}]}]}`,
	`{"@odata.deltaLink":"https://graph.example/v1.0/users/delta?$deltatoken=b","value":[]}`,
	`{"@odata.count":2313,"value":[null,{}]}`,
	`{"@odata.count":null,"value":[]}`, `{"@odata.count":1.5,"value":[]}`, `{"@odata.count":"1","value":[]}`,
	`{"@odata.count":99999999999999999999,"value":[]}`, `{"@odata.count":-0,"value":[]}`,
	`{"VALUE":[{}],"@ODATA.NEXTLINK":"n","@odata.deltaLin\u212a":"d"}`,
	`{"value":[{}],"value":[{},{}]}`, `{"value":[{}],"value":null}`, `{"@odata.nextLink":"a","@odata.nextLink":null,"value":[]}`,
	`{"\u0076alue":[],"@odata.nextLink":"a\u0026b\/c"}`,
	`{"value":[1]}`, `{"value":["x"]}`, `{"value":[[]]}`, `{"value":{}}`, `{"value":"x"}`, `{"@odata.nextLink":5,"value":[]}`,
	`{}`, `null`, `[]`, `"x"`, `{"value":[]} x`, `{"value":[{]}`, `{"value":[`, ``, `{"error":{"code":"x"}}`,
}

func TestScanPageAgreesWithEnvelope(t *testing.T) {
	t.Parallel()
	for _, s := range pageSeeds {
		checkScanPage(t, []byte(s))
	}
}

func checkScanPage(t *testing.T, body []byte) {
	got, err := scanPage(body)
	want, wantErr := envelopeHead(body)
	if wantErr != nil {
		require.Error(t, err, "%q: encoding/json says %v", body, wantErr)
		return
	}
	require.NoError(t, err, "%q", body)
	require.True(t, json.Valid(body), "%q accepted", body)
	require.Equal(t, want, got, "%q", body)
}

// FuzzScanPage: whatever a server sends, scanPage never panics, never
// accepts what json.Valid rejects, and reads the same links, count and
// number of entries as decoding the page with encoding/json.
func FuzzScanPage(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScanPage(t, body)
	})
}

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// cannedPages answers every GET with the next body in turn.
type cannedPages []string

func (c *cannedPages) RoundTrip(req *http.Request) (*http.Response, error) {
	body := (*c)[0]
	*c = (*c)[1:]
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// A page that is not the JSON Graph documents fails the listing with
// ErrMalformed, naming the call and the page, whether the caller wants raw
// pages (scanned) or users (decoded by encoding/json).
func TestMalformedPages(t *testing.T) {
	t.Parallel()
	first := `{"@odata.nextLink":"https://graph.example/v1.0/users?$skiptoken=2","value":[{"id":"a"}]}`
	for name, body := range map[string]string{
		"truncated":         `{"value":[{"id":"b"`,
		"not JSON":          `<html>gateway error</html>`,
		"no value":          `{"@odata.nextLink":"https://graph.example/v1.0/users?$skiptoken=3"}`,
		"value not array":   `{"value":{"id":"b"}}`,
		"entry not object":  `{"value":["b"]}`,
		"link not a string": `{"@odata.nextLink":true,"value":[]}`,
		"trailing garbage":  `{"value":[]}]`,
		"bad escape":        `{"value":[{"id":"\x"}]}`,
	} {
		for _, raw := range []bool{true, false} {
			canned := cannedPages{first, body}
			c, err := New(Config{TenantID: "t", ClientID: "c", GraphURL: "https://graph.example/v1.0",
				Credential: staticToken{}, Transport: &canned})
			require.NoError(t, err)
			pages := 0
			if raw {
				_, err = c.Pages(context.Background(), Query{Op: "ListUsers", Path: "/users"}, func(*Page) error {
					pages++
					return nil
				})
			} else {
				err = c.ListUsers(context.Background(), UserListOptions{}, func(*Page, []User) error {
					pages++
					return nil
				})
			}
			require.ErrorIs(t, err, ErrMalformed, name)
			require.ErrorContains(t, err, "graph: ListUsers: page 2: graph: malformed response: ", name)
			require.Equal(t, 1, pages, name)
		}
	}
}
