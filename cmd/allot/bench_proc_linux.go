package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// processCPU is the CPU another process (the benchmark's simulator) has
// used so far. Both the download and the sync share the machine's cores
// with the simulator, so its share says how much of a phase's wall time
// was allot's to cut.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces; utime and
	// stime are the 12th and 13th fields after it, in clock ticks (100 a
	// second on Linux).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * (time.Second / 100)
}
