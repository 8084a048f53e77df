package graphsim

import (
	"slices"
	"sync"
	"time"
)

// Write is one effect of a write request as the simulator applied (or
// refused) it. A PATCH that binds 20 members yields 20 Writes; an
// assignLicense adding two SKUs and removing one yields three. Tests judge
// "every change applied exactly once" from these records: count the Applied
// writes per (Op, Target, Object).
type Write struct {
	Seq             int64     `json:"seq"`
	Time            time.Time `json:"time"`
	Method          string    `json:"method"`
	Path            string    `json:"path"`
	ClientRequestID string    `json:"client_request_id"`
	RequestID       string    `json:"request_id"`
	// Source is "graph" for a Graph request, "batch" for a $batch inner
	// request and "sim" for the state API and /_sim (HR playing).
	Source string `json:"source"`
	// Op is addMember, removeMember, addLicense, updateLicense,
	// removeLicense, groupAddLicense, groupRemoveLicense, createUser,
	// updateUser, deleteUser or setMailbox.
	Op string `json:"op"`
	// Target is the group or user changed; Object the member or SKU.
	Target string `json:"target"`
	Object string `json:"object,omitempty"`
	// Outcome is OutcomeApplied, OutcomeDuplicate (no change needed: already
	// a member, not a member, license already identical) or OutcomeRejected
	// (the request failed and changed nothing).
	Outcome string `json:"outcome"`
	Status  int    `json:"status"`
	// TimedOut marks writes applied under an injected timeout: the client
	// never saw the response.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Write outcomes.
const (
	OutcomeApplied   = "applied"
	OutcomeDuplicate = "duplicate"
	OutcomeRejected  = "rejected"
)

// WriteCounts summarises the write log.
type WriteCounts struct {
	Applied   int `json:"applied"`
	Duplicate int `json:"duplicate"`
	Rejected  int `json:"rejected"`
	// ByOp counts applied writes per Op.
	ByOp map[string]int `json:"by_op"`
	// Repeated counts (Op, Target, Object) effects applied more than once,
	// e.g. a member added, removed and added again, or a change a client
	// replayed after a timeout.
	Repeated int `json:"repeated"`
}

type writeLog struct {
	mu     sync.Mutex
	seq    int64
	writes []Write
}

func (l *writeLog) add(ws ...Write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range ws {
		l.seq++
		w.Seq = l.seq
		l.writes = append(l.writes, w)
	}
}

// markTimedOut flags the writes of a request whose response was dropped.
func (l *writeLog) markTimedOut(requestID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.writes) - 1; i >= 0 && i >= len(l.writes)-1000; i-- {
		if l.writes[i].RequestID == requestID {
			l.writes[i].TimedOut = true
		}
	}
}

// WriteLog returns a copy of every write recorded so far, oldest first.
func (s *Server) WriteLog() []Write {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	return slices.Clone(s.writes.writes)
}

// WriteCounts summarises the write log (applied vs duplicate vs rejected).
func (s *Server) WriteCounts() WriteCounts {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	c := WriteCounts{ByOp: map[string]int{}}
	type key struct{ op, target, object string }
	seen := map[key]int{}
	for _, w := range s.writes.writes {
		switch w.Outcome {
		case OutcomeApplied:
			c.Applied++
			c.ByOp[w.Op]++
			k := key{w.Op, w.Target, w.Object}
			seen[k]++
			if seen[k] == 2 {
				c.Repeated++
			}
		case OutcomeDuplicate:
			c.Duplicate++
		case OutcomeRejected:
			c.Rejected++
		}
	}
	return c
}

// ResetWriteLog forgets recorded writes, so a test can measure one phase.
func (s *Server) ResetWriteLog() {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	s.writes.writes = nil
}
