package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// processFamilies reports the process's CPU time, memory, file descriptors,
// start time and network traffic from Linux's /proc, under the names and
// meanings of client_golang's process collector, which allot used before.
// What cannot be read (no /proc on macOS or Windows, or a locked-down
// container) is left out and the scrape still succeeds, as it did with
// client_golang: the Go and allot metrics matter more than these.
func processFamilies(context.Context) ([]metricFamily, error) {
	var fams []metricFamily
	if st, err := readProcStat(); err == nil {
		fams = append(fams,
			singleValue("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", counterType, st.cpuSeconds),
			singleValue("process_virtual_memory_bytes", "Virtual memory size in bytes.", gaugeType, st.virtualBytes),
			singleValue("process_resident_memory_bytes", "Resident memory size in bytes.", gaugeType, st.residentPages*float64(os.Getpagesize())))
		if boot, err := os.ReadFile("/proc/stat"); err == nil {
			if bt, err := parseBootTime(boot); err == nil {
				fams = append(fams, singleValue("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
					gaugeType, bt+st.startTicks/userHZ))
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		// The listing includes the descriptor ReadDir holds on the
		// directory, as client_golang's count did.
		fams = append(fams, singleValue("process_open_fds", "Number of open file descriptors.", gaugeType, float64(len(fds))))
	}
	if data, err := os.ReadFile("/proc/self/limits"); err == nil {
		if v, err := parseLimit(data, "Max open files"); err == nil {
			fams = append(fams, singleValue("process_max_fds", "Maximum number of open file descriptors.", gaugeType, v))
		}
		if v, err := parseLimit(data, "Max address space"); err == nil {
			fams = append(fams, singleValue("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", gaugeType, v))
		}
	}
	if data, err := os.ReadFile("/proc/self/net/netstat"); err == nil {
		if in, out, err := parseNetstatOctets(data); err == nil {
			fams = append(fams,
				singleValue("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", counterType, in),
				singleValue("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", counterType, out))
		}
	}
	return fams, nil
}

// userHZ is the unit of the times in /proc/<pid>/stat. The kernel exports
// it as 100 on every architecture whatever its internal tick (sysconf's
// _SC_CLK_TCK), which is what procfs assumes too.
const userHZ = 100

// procStat is what allot reads of /proc/self/stat.
type procStat struct {
	cpuSeconds    float64 // utime + stime
	startTicks    float64 // since boot, in 1/userHZ s
	virtualBytes  float64
	residentPages float64
}

func readProcStat() (procStat, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(data)
}

// parseProcStat reads proc(5)'s fields 14 (utime), 15 (stime), 22
// (starttime), 23 (vsize) and 24 (rss). Field 2, the command name, is in
// parentheses and may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, errors.New("/proc/self/stat: no command name")
	}
	f := strings.Fields(string(data[end+1:])) // f[0] is field 3
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("/proc/self/stat: %d fields after the command name, want at least 22", len(f))
	}
	var n [5]float64
	for i, field := range []int{14, 15, 22, 23, 24} {
		v, err := strconv.ParseUint(f[field-3], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/self/stat field %d: %w", field, err)
		}
		n[i] = float64(v)
	}
	return procStat{cpuSeconds: (n[0] + n[1]) / userHZ, startTicks: n[2], virtualBytes: n[3], residentPages: n[4]}, nil
}

// parseBootTime reads the btime line of /proc/stat: when the machine booted,
// in seconds since the epoch.
func parseBootTime(data []byte) (float64, error) {
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
			return float64(v), err
		}
	}
	return 0, errors.New("/proc/stat: no btime")
}

// parseLimit reads the soft limit of one row of /proc/self/limits;
// "unlimited" is the largest uint64, as procfs (and so client_golang)
// reported it.
func parseLimit(data []byte, name string) (float64, error) {
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		if f[0] == "unlimited" {
			return math.MaxUint64, nil
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		return float64(v), err
	}
	return 0, fmt.Errorf("/proc/self/limits: no %q", name)
}

// parseNetstatOctets reads InOctets and OutOctets of the IpExt section of
// /proc/self/net/netstat, a header line of names followed by a line of
// values. They count the traffic of the whole network namespace, not only
// this process's (client_golang's did the same); in a container of its own
// that is allot's.
func parseNetstatOctets(data []byte) (in, out float64, err error) {
	var names []string
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "IpExt:")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		values := strings.Fields(rest)
		if len(values) != len(names) {
			return 0, 0, errors.New("/proc/self/net/netstat: IpExt names and values differ in number")
		}
		found := 0
		for i, n := range names {
			if n != "InOctets" && n != "OutOctets" {
				continue
			}
			v, err := strconv.ParseUint(values[i], 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/self/net/netstat %s: %w", n, err)
			}
			if n == "InOctets" {
				in = float64(v)
			} else {
				out = float64(v)
			}
			found++
		}
		if found != 2 {
			return 0, 0, errors.New("/proc/self/net/netstat: no InOctets and OutOctets")
		}
		return in, out, nil
	}
	return 0, 0, errors.New("/proc/self/net/netstat: no IpExt values")
}
