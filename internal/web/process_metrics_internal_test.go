package web

import (
	"context"
	"maps"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A command name with spaces and parentheses, as prctl allows.
	const stat = "4242 (allot (a) b) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 114494 1626361856 5344 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(stat))
	require.NoError(t, err)
	require.Equal(t, procStat{cpuSeconds: 3.25, startTicks: 114494, virtualBytes: 1626361856, residentPages: 5344}, st)

	for _, bad := range []string{"", "4242 allot S 1", "4242 (allot) S 1 2 3", "4242 (allot) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 75 0 0 20 0 9 0 114494 1626361856 5344"} {
		_, err := parseProcStat([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}

func TestParseLimitsBootTimeAndNetstat(t *testing.T) {
	t.Parallel()
	const limits = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            20000                1048576              files     
Max address space         unlimited            unlimited            bytes     
`
	v, err := parseLimit([]byte(limits), "Max open files")
	require.NoError(t, err)
	require.Equal(t, 20000.0, v, "the soft limit")
	v, err = parseLimit([]byte(limits), "Max address space")
	require.NoError(t, err)
	require.Equal(t, float64(math.MaxUint64), v)
	_, err = parseLimit([]byte(limits), "Max locked memory")
	require.Error(t, err)

	bt, err := parseBootTime([]byte("cpu  1 2 3\nintr 5\nbtime 1795453606\nprocesses 9\n"))
	require.NoError(t, err)
	require.Equal(t, 1795453606.0, bt)
	_, err = parseBootTime([]byte("cpu 1 2 3\n"))
	require.Error(t, err)

	const netstat = `TcpExt: SyncookiesSent SyncookiesRecv
TcpExt: 0 0
IpExt: InNoRoutes InOctets OutOctets InMcastOctets
IpExt: 0 7480078698 6399939288 12
MPTcpExt: MPCapableSYNRX
MPTcpExt: 0
`
	in, out, err := parseNetstatOctets([]byte(netstat))
	require.NoError(t, err)
	require.Equal(t, 7480078698.0, in)
	require.Equal(t, 6399939288.0, out)
	_, _, err = parseNetstatOctets([]byte("IpExt: InOctets OutOctets\nIpExt: 1\n"))
	require.Error(t, err)
}

// On Linux every process family is there, with values that make sense for
// this very test process.
func TestProcessFamiliesOnLinux(t *testing.T) {
	t.Parallel()
	fams, err := processFamilies(context.Background())
	require.NoError(t, err, "never fails, whatever the OS")
	if runtime.GOOS != "linux" {
		t.Skip("no /proc")
	}
	got := map[string]float64{}
	for _, f := range fams {
		require.Len(t, f.series, 1)
		got[f.name] = f.series[0].value
	}
	require.ElementsMatch(t, []string{"process_cpu_seconds_total", "process_virtual_memory_bytes", "process_resident_memory_bytes",
		"process_start_time_seconds", "process_open_fds", "process_max_fds", "process_virtual_memory_max_bytes",
		"process_network_receive_bytes_total", "process_network_transmit_bytes_total"}, slices.Collect(maps.Keys(got)))
	// CPU time grows as the process works (here: reading /proc in a loop).
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := readProcStat()
		require.NoError(t, err)
		if st.cpuSeconds >= got["process_cpu_seconds_total"]+0.02 {
			break
		}
		require.True(t, time.Now().Before(deadline), "process_cpu_seconds_total stuck at %v", st.cpuSeconds)
	}
	require.Greater(t, got["process_resident_memory_bytes"], float64(1<<20))
	require.GreaterOrEqual(t, got["process_virtual_memory_bytes"], got["process_resident_memory_bytes"])
	require.GreaterOrEqual(t, got["process_open_fds"], 3.0, "stdin, stdout, stderr at least")
	require.GreaterOrEqual(t, got["process_max_fds"], got["process_open_fds"])
	// The process started just before its package variables were set; /proc
	// has the boot time to the second only.
	start := time.Unix(0, int64(got["process_start_time_seconds"]*1e9))
	require.WithinRange(t, start, packageInit.Add(-time.Minute), packageInit.Add(2*time.Second))
}

var packageInit = time.Now()
