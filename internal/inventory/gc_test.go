package inventory

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// Overlapping syncs raise the collector's target once and restore it when
// the last one ends; an operator's own setting is left alone. (Not
// parallel: the settings are the process's.)
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	first := tuneGC()
	second := tuneGC()
	require.Equal(t, syncGCPercent, debug.SetGCPercent(syncGCPercent))
	require.EqualValues(t, syncMemoryLimit, debug.SetMemoryLimit(-1))
	first()
	require.Equal(t, syncGCPercent, debug.SetGCPercent(syncGCPercent), "a sync still runs")
	second()
	require.Equal(t, 100, debug.SetGCPercent(100))
	require.EqualValues(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))

	// A live heap past the threshold brings the defaults back for the
	// rest of the running syncs.
	old := relaxAt
	relaxAt = 1
	first, second = tuneGC(), tuneGC()
	runtime.GC() // the live heap is known as of the last collection
	relaxGC()
	require.Equal(t, 100, debug.SetGCPercent(100))
	require.EqualValues(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))
	first()
	third := tuneGC()
	require.Equal(t, 100, debug.SetGCPercent(100), "a sync starting beside them does not raise it again")
	second()
	third()
	relaxAt = old
	tuneGC()()
	require.Equal(t, 100, debug.SetGCPercent(100), "restored when no sync runs")

	debug.SetGCPercent(50) // GOGC=50
	tuneGC()()
	require.Equal(t, 50, debug.SetGCPercent(100), "an operator's GOGC stays")
	debug.SetMemoryLimit(2 << 30) // GOMEMLIMIT=2GiB
	restore := tuneGC()
	require.Equal(t, 100, debug.SetGCPercent(100))
	require.EqualValues(t, 2<<30, debug.SetMemoryLimit(-1), "and so does their GOMEMLIMIT")
	restore()
}
