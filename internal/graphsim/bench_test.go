package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDownload100k measures what an inventory client pays to fetch a
// 100k-user tenant (users pages at $top=999, then groups with members via
// delta at maxpagesize 999), reading and decoding every page.
//
//	go test ./internal/graphsim -run XXX -bench Download100k -benchtime 1x
func BenchmarkDownload100k(b *testing.B) {
	h := setup(b, Config{Users: 100_000})
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		users := fetchAll(b, h, h.info.GraphURL+"/users?$top=999&$select=id,displayName,userPrincipalName,accountEnabled,department,usageLocation,assignedLicenses")
		usersDone := time.Since(start)
		groups := fetchAll(b, h, h.info.GraphURL+"/groups/delta")
		b.ReportMetric(usersDone.Seconds(), "users_s")
		b.ReportMetric(time.Since(start).Seconds(), "total_s")
		b.ReportMetric(float64(users+groups), "objects")
	}
}

func fetchAll(b *testing.B, h *harness, next string) int {
	n := 0
	for next != "" {
		req, _ := http.NewRequest("GET", next, nil)
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("Prefer", "odata.maxpagesize=999")
		res, err := h.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var page struct {
			Next  string            `json:"@odata.nextLink"`
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			b.Fatal(err)
		}
		n += len(page.Value)
		next = page.Next
	}
	return n
}
