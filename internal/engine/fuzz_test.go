package engine_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

// FuzzParsePolicy feeds arbitrary documents to ParsePolicy and, when one is
// accepted, evaluates it against a small tenant: neither may panic, an
// accepted policy must round-trip through JSON, and a rejected one must say
// where.
func FuzzParsePolicy(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/policies/*.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"pools":[{"name":"x","target":{"direct":true},"bundle":[{"sku":"E3"}],"assignments":{"everyone":true}}]}`))
	f.Add([]byte("pools:\n  - name: p\n    seatCap: -1\n"))
	fx, _ := exclusiveExample()
	fx.Skus = []fxSku{{ID: "sku-e3", Part: "ENTERPRISEPACK", Prepaid: 3, Plans: []string{"p1 EXCHANGE_S_ENTERPRISE"}}}
	snap := fx.build(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		pol, err := engine.ParsePolicy("fuzz.yaml", data)
		if err != nil {
			require.ErrorIs(t, err, engine.ErrInvalidPolicy)
			require.Contains(t, err.Error(), "fuzz.yaml:")
			return
		}
		js, err := json.Marshal(pol)
		require.NoError(t, err)
		var back engine.Policy
		require.NoError(t, json.Unmarshal(js, &back))
		e, err := engine.New(snap, pol)
		if err != nil {
			return
		}
		p := e.Plan()
		require.NoError(t, p.WriteJSON(discard{}))
	})
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
