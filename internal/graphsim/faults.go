package graphsim

import (
	"math/rand/v2"
	"sync"
)

// faultState holds the current fault settings and the seeded generator the
// draws come from, so a failing run can be repeated.
type faultState struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)*0x9e3779b97f4a7c15+1))
}

func newFaultState(seed int64, f Faults) *faultState {
	return &faultState{f: f, rng: newRand(seed ^ 0x5eed)}
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
}

// fault kinds drawn per request.
const (
	faultNone = iota
	fault429
	fault503
	faultTimeout
)

// draw picks at most one fault for a request.
func (fs *faultState) draw() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	if f.Rate429 == 0 && f.Rate503 == 0 && f.RateTimeout == 0 {
		return faultNone
	}
	x := fs.rng.Float64()
	switch {
	case x < f.Rate429:
		return fault429
	case x < f.Rate429+f.Rate503:
		return fault503
	case x < f.Rate429+f.Rate503+f.RateTimeout:
		return faultTimeout
	}
	return faultNone
}

// drawBatchFailure reports whether one inner $batch request fails.
func (fs *faultState) drawBatchFailure() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f.BatchFailRate > 0 && fs.rng.Float64() < fs.f.BatchFailRate
}

// SetFaults replaces the injected faults from now on.
func (s *Server) SetFaults(f Faults) {
	if f.TimeoutAfter <= 0 {
		f.TimeoutAfter = s.cfg.Faults.TimeoutAfter
	}
	s.faults.set(f)
}

// Faults returns the faults currently injected.
func (s *Server) Faults() Faults { return s.faults.get() }
