package web

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// goRuntimeFamilies reports the Go runtime under the names, types and
// meanings of client_golang's Go collector, which allot used before, so
// dashboards and alerts written for any Go service keep working. It costs
// one runtime.ReadMemStats per scrape: a stop-the-world of microseconds,
// nothing at Prometheus's scrape interval.
func goRuntimeFamilies(context.Context) ([]metricFamily, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// [min, 25 %, 50 %, 75 %, max] of the recent pauses, per ReadGCStats.
	gc := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
	debug.ReadGCStats(&gc)
	threads, _ := runtime.ThreadCreateProfile(nil)

	pauses := metricSeries{sum: gc.PauseTotal.Seconds(), count: uint64(gc.NumGC)}
	for i, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
		pauses.quantiles = append(pauses.quantiles, quantileValue{q: q, v: gc.PauseQuantiles[i].Seconds()})
	}
	fams := []metricFamily{
		{name: "go_gc_duration_seconds", typ: summaryType, series: []metricSeries{pauses},
			help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."},
		{name: "go_info", typ: gaugeType, labels: []string{"version"}, series: []metricSeries{{values: []string{runtime.Version()}, value: 1}},
			help: "Information about the Go environment."},
		singleValue("go_goroutines", "Number of goroutines that currently exist.", gaugeType, float64(runtime.NumGoroutine())),
		singleValue("go_threads", "Number of OS threads created.", gaugeType, float64(threads)),
		singleValue("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting: the number of OS threads that can execute Go code simultaneously.",
			gaugeType, float64(runtime.GOMAXPROCS(0))),
	}

	memstats := []struct {
		name, help string
		typ        metricType
		v          uint64
	}{
		{"alloc_bytes", "Number of heap bytes allocated and still in use.", gaugeType, ms.Alloc},
		{"alloc_bytes_total", "Total number of heap bytes allocated, even if freed.", counterType, ms.TotalAlloc},
		{"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", gaugeType, ms.BuckHashSys},
		{"frees_total", "Total number of heap objects freed.", counterType, ms.Frees},
		{"gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", gaugeType, ms.GCSys},
		{"heap_alloc_bytes", "Number of heap bytes allocated and still in use, same as go_memstats_alloc_bytes.", gaugeType, ms.HeapAlloc},
		{"heap_idle_bytes", "Number of heap bytes waiting to be used.", gaugeType, ms.HeapIdle},
		{"heap_inuse_bytes", "Number of heap bytes that are in use.", gaugeType, ms.HeapInuse},
		{"heap_objects", "Number of allocated objects.", gaugeType, ms.HeapObjects},
		{"heap_released_bytes", "Number of heap bytes released to the OS.", gaugeType, ms.HeapReleased},
		{"heap_sys_bytes", "Number of heap bytes obtained from the system.", gaugeType, ms.HeapSys},
		{"mallocs_total", "Total number of heap objects allocated, both live and freed.", counterType, ms.Mallocs},
		{"mcache_inuse_bytes", "Number of bytes in use by mcache structures.", gaugeType, ms.MCacheInuse},
		{"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from the system.", gaugeType, ms.MCacheSys},
		{"mspan_inuse_bytes", "Number of bytes in use by mspan structures.", gaugeType, ms.MSpanInuse},
		{"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from the system.", gaugeType, ms.MSpanSys},
		{"next_gc_bytes", "Number of heap bytes when the next garbage collection will take place.", gaugeType, ms.NextGC},
		{"other_sys_bytes", "Number of bytes used for other system allocations.", gaugeType, ms.OtherSys},
		{"stack_inuse_bytes", "Number of bytes in use by the stack allocator.", gaugeType, ms.StackInuse},
		{"stack_sys_bytes", "Number of bytes obtained from the system for the stack allocator.", gaugeType, ms.StackSys},
		{"sys_bytes", "Number of bytes obtained from the system.", gaugeType, ms.Sys},
	}
	for _, m := range memstats {
		fams = append(fams, singleValue("go_memstats_"+m.name, m.help, m.typ, float64(m.v)))
	}
	fams = append(fams, singleValue("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of the last garbage collection.",
		gaugeType, float64(ms.LastGC)/1e9))

	// GOGC and GOMEMLIMIT can only be read through runtime/metrics without
	// changing them (debug.SetGCPercent would).
	settings := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(settings)
	if v, ok := uint64Sample(settings[0]); ok {
		fams = append(fams, singleValue("go_gc_gogc_percent", "Heap size target percentage set by GOGC or debug.SetGCPercent, otherwise 100.",
			gaugeType, float64(v)))
	}
	if v, ok := uint64Sample(settings[1]); ok {
		fams = append(fams, singleValue("go_gc_gomemlimit_bytes", "Go runtime memory limit set by GOMEMLIMIT or debug.SetMemoryLimit, otherwise math.MaxInt64.",
			gaugeType, float64(v)))
	}
	return fams, nil
}

// uint64Sample is a runtime/metrics value, if this Go has that metric.
func uint64Sample(s metrics.Sample) (uint64, bool) {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s.Value.Uint64(), true
}
