package inventory

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// A sync makes a great deal of short-lived garbage (decoded pages, rows on
// their way into the warehouse) beside a small live heap: at 100,000 users
// the heap holds well under 100 MB, and with Go's default target the
// collector ran some 130 times in five seconds. While any sync runs, the
// target is raised to syncGCPercent under a memory limit of
// syncMemoryLimit, which caps what the higher target lets the heap grow to
// (a million-user sync peaked at 1,062 MB RSS with it, against 1,317 MB
// under a 1 GiB limit; the bar is 1.5 GB).
//
// A memory limit below the live heap would make the collector run nearly
// without pause. Once the live heap passes half the limit, where the limit
// alone already collects as often as the default target would, the
// defaults come back (relaxGC): a tenant larger than a million users, or
// several large syncs in one process, get Go's usual behaviour.
//
// Settings an operator made (GOGC other than 100, GOMEMLIMIT) are left
// alone.
const (
	syncGCPercent   = 300
	syncMemoryLimit = 768 << 20
)

// relaxAt is the live heap at which relaxGC restores the defaults; a
// variable so that a test can lower it.
var relaxAt uint64 = syncMemoryLimit / 2

var gcTuning gcTuningState

type gcTuningState struct {
	sync.Mutex
	syncs   int   // syncs running
	tuned   bool  // the settings are raised now
	percent int   // what to restore
	limit   int64 // what to restore
}

// tuneGC raises the collector's target for a sync; the function it
// returns undoes that once no sync runs any more.
func tuneGC() (restore func()) {
	g := &gcTuning
	g.Lock()
	defer g.Unlock()
	if g.syncs == 0 {
		g.percent = debug.SetGCPercent(syncGCPercent)
		g.limit = debug.SetMemoryLimit(-1) // reads it
		g.tuned = g.percent == 100 && g.limit == math.MaxInt64
		if g.tuned {
			debug.SetMemoryLimit(syncMemoryLimit)
		} else {
			debug.SetGCPercent(g.percent)
		}
	}
	g.syncs++
	return func() {
		g.Lock()
		defer g.Unlock()
		if g.syncs--; g.syncs == 0 {
			g.untune()
		}
	}
}

// relaxGC restores the collector's defaults for the rest of the running
// syncs once the live heap has passed half the memory limit.
func relaxGC() {
	g := &gcTuning
	g.Lock()
	defer g.Unlock()
	if g.tuned && liveHeap() > relaxAt {
		g.untune()
	}
}

// untune restores the settings tuneGC found, if it changed them.
func (g *gcTuningState) untune() {
	if g.tuned {
		debug.SetGCPercent(g.percent)
		debug.SetMemoryLimit(g.limit)
		g.tuned = false
	}
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
