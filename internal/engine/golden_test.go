package engine_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "%s differs; run go test -update and review the diff", path)
}

// TestPlanGolden renders the plan of every testdata/plans/<case> (a tenant
// and a pools.yaml) as text and JSON and compares them with golden files.
func TestPlanGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/plans/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			fx := loadFixture(t, filepath.Join(dir, "tenant.yaml"))
			src, err := os.ReadFile(filepath.Join(dir, "pools.yaml"))
			require.NoError(t, err)
			pol, err := engine.ParsePolicy("pools.yaml", src)
			require.NoError(t, err)
			p, _ := plan(t, fx, pol)

			var text, js bytes.Buffer
			require.NoError(t, p.WriteText(&text, engine.RenderOptions{}))
			require.NoError(t, p.WriteJSON(&js))
			golden(t, filepath.Join(dir, "plan.txt.golden"), text.Bytes())
			golden(t, filepath.Join(dir, "plan.json.golden"), js.Bytes())
		})
	}
}
