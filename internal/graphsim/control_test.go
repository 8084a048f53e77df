package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The /_sim API lets tools in other processes play HR and read the write
// log; its changes show up in Graph delta like any other.
func TestControlAPI(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 200})
	base := h.info.AuthorityURL + "_sim/"
	do := func(method, path string, body any) (int, []byte) {
		var buf bytes.Buffer
		if body != nil {
			require.NoError(t, json.NewEncoder(&buf).Encode(body))
		}
		req, err := http.NewRequest(method, base+path, &buf)
		require.NoError(t, err)
		res, err := h.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(res.Body)
		return res.StatusCode, out.Bytes()
	}
	_, latest := deltaRound(t, h, "/users/delta?$deltatoken=latest")

	st, raw := do("POST", "users", directoryUser("hr.joiner@"+h.srv.Domain(), "IT"))
	require.Equal(t, 200, st, string(raw))
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created))
	st, _ = do("PATCH", "users/"+created.ID, map[string]any{"department": "Finance", "jobTitle": "Analyst"})
	require.Equal(t, 204, st)
	g := h.groupNamed("LIC - Power BI Pro")
	st, _ = do("POST", "groups/"+g+"/members", map[string]string{"id": created.ID})
	require.Equal(t, 204, st)
	st, _ = do("POST", "groups/"+g+"/members", map[string]string{"id": created.ID})
	require.Equal(t, 409, st, "already a member")
	st, raw = do("GET", "users/nope", nil)
	require.Equal(t, 404, st)
	require.Contains(t, string(raw), `"code":"not_found"`)
	st, raw = do("POST", "faults", map[string]any{"rate_503": 1})
	require.Equal(t, 200, st, string(raw))
	require.Equal(t, 503, h.call("GET", "/users", nil).status)
	st, _ = do("POST", "faults", map[string]any{"rate_503": 0})
	require.Equal(t, 200, st)

	items, _ := deltaRound(t, h, latest)
	got := byID(items)
	require.Contains(t, got, created.ID)
	require.Equal(t, "Analyst", got[created.ID]["jobTitle"])

	st, raw = do("GET", "writes/counts", nil)
	require.Equal(t, 200, st)
	var c WriteCounts
	require.NoError(t, json.Unmarshal(raw, &c))
	require.Equal(t, 1, c.ByOp["addMember"])
	require.Equal(t, 1, c.Duplicate)
	require.Equal(t, 1, c.ByOp["createUser"])
}
