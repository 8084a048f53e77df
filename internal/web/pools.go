package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/planning"
	"github.com/allot-dev/allot/internal/rule"
	"github.com/allot-dev/allot/internal/warehouse"
)

func (s *Server) pools(ctx context.Context, tenantID string) ([]engine.Pool, error) {
	p, err := planning.LoadPolicy(ctx, s.cfg.Store, tenantID)
	if err != nil {
		return nil, err
	}
	return p.Pools, nil
}

// snapshots caches the tenant snapshot that previews evaluate against:
// typing in the pool editor asks for a preview every few hundred
// milliseconds, and loading a large tenant takes longer than that. An entry
// is reused only while the directory is unchanged: no sync and no landed
// change since it was loaded (the fingerprint), and for a few minutes at most.
type snapshots struct {
	mu sync.Mutex
	m  map[string]cachedSnap
}

type cachedSnap struct {
	snap        *engine.Snapshot
	fingerprint string
	at          time.Time
}

const maxSnapshotAge = 5 * time.Minute

// fingerprint changes whenever the warehouse copy of a tenant's directory
// does: a sync writes sync state, fulfilment settles changes. It returns
// the change queue's counts by status too, read on the way.
func (s *Server) fingerprint(ctx context.Context, tenantID string) (string, map[string]int64, error) {
	counts, err := s.cfg.Store.CountChanges(ctx, warehouse.ChangeFilter{TenantID: tenantID})
	if err != nil {
		return "", nil, err
	}
	fp := fmt.Sprintf("done=%d failed=%d", counts[warehouse.ChangeDone], counts[warehouse.ChangeFailed])
	for _, res := range syncResources {
		st, err := s.cfg.Store.GetSyncState(ctx, tenantID, res)
		if errors.Is(err, warehouse.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		fp += " " + res + "=" + st.UpdatedAt.String()
	}
	return fp, counts, nil
}

func (s *Server) snapshot(ctx context.Context, tenantID string) (*engine.Snapshot, error) {
	fp, _, err := s.fingerprint(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	now := s.now()
	if c, ok := s.snaps.m[tenantID]; ok && c.fingerprint == fp && now.Sub(c.at) < maxSnapshotAge {
		return c.snap, nil
	}
	snap, _, err := planning.LoadSnapshot(ctx, s.cfg.Store, tenantID, now)
	if err != nil {
		return nil, err
	}
	if s.snaps.m == nil {
		s.snaps.m = map[string]cachedSnap{}
	}
	s.snaps.m[tenantID] = cachedSnap{snap: snap, fingerprint: fp, at: now}
	return snap, nil
}

// directoryState is what the dashboard and the lists count: the size of the
// directory, cached like snapshots (counting a million users reads them
// all, and the answer changes only when the fingerprint does), and the
// change queue by status, read fresh.
type directoryState struct {
	counts  warehouse.DirectoryCounts
	changes map[string]int64
}

// countCache has its own lock: a snapshot load holds the snapshots' lock
// for seconds, and the dashboard must not wait for it.
type countCache struct {
	mu sync.Mutex
	m  map[string]cachedCounts
}

type cachedCounts struct {
	counts      warehouse.DirectoryCounts
	fingerprint string
	at          time.Time
}

func (s *Server) directory(ctx context.Context, tenantID string) (directoryState, error) {
	fp, changes, err := s.fingerprint(ctx, tenantID)
	if err != nil {
		return directoryState{}, err
	}
	now := s.now()
	s.counts.mu.Lock()
	c, ok := s.counts.m[tenantID]
	s.counts.mu.Unlock()
	if ok && c.fingerprint == fp && now.Sub(c.at) < maxSnapshotAge {
		return directoryState{counts: c.counts, changes: changes}, nil
	}
	counts, err := s.cfg.Store.DirectoryCounts(ctx, tenantID)
	if err != nil {
		return directoryState{}, err
	}
	s.counts.mu.Lock()
	if s.counts.m == nil {
		s.counts.m = map[string]cachedCounts{}
	}
	s.counts.m[tenantID] = cachedCounts{counts: counts, fingerprint: fp, at: now}
	s.counts.mu.Unlock()
	return directoryState{counts: counts, changes: changes}, nil
}

// plan evaluates the stored policy against the (cached) snapshot: what the
// plan page shows and what applying submits.
func (s *Server) plan(ctx context.Context, tenantID string) (*engine.Plan, *engine.Policy, error) {
	policy, err := planning.LoadPolicy(ctx, s.cfg.Store, tenantID)
	if err != nil {
		return nil, nil, err
	}
	snap, err := s.snapshot(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	plan, err := engine.Evaluate(snap, policy)
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate: %w", err)
	}
	return plan, policy, nil
}

// withPool returns the stored policy with pool in place of the pool called
// replaces (or added, when replaces is "" or unknown).
func withPool(p *engine.Policy, pool engine.Pool, replaces string) *engine.Policy {
	out := *p
	out.Pools = nil
	placed := false
	for _, old := range p.Pools {
		if replaces != "" && strings.EqualFold(old.Name, replaces) {
			out.Pools = append(out.Pools, pool)
			placed = true
			continue
		}
		out.Pools = append(out.Pools, old)
	}
	if !placed {
		out.Pools = append(out.Pools, pool)
	}
	return &out
}

// Preview is what saving a pool would do, computed without saving: the
// pool's own adds, removals and blocked users, and how the tenant's monthly
// cost would move compared with the stored policy.
type Preview struct {
	Pool      string         `json:"pool"`
	Valid     bool           `json:"valid"`
	Problems  []FieldProblem `json:"problems,omitempty"`
	Error     string         `json:"error,omitempty"` // the engine could not evaluate the pool (unknown group, SKU)
	Warnings  []string       `json:"warnings,omitempty"`
	Resultant int            `json:"resultant"`
	Unchanged int            `json:"unchanged"`
	AddCount  int            `json:"add_count"`
	RemCount  int            `json:"removal_count"`
	BlkCount  int            `json:"blocked_count"`
	// Adds, Removals and Blocked list the first previewRows of each.
	Adds     []engine.Change `json:"adds"`
	Removals []engine.Change `json:"removals"`
	Blocked  []engine.Change `json:"blocked"`
	// MonthlyDelta is the change in the whole plan's monthly cost that this
	// edit causes.
	MonthlyDelta engine.Price `json:"monthly_delta"`
	Currency     string       `json:"currency,omitempty"`
}

const previewRows = 25

func (s *Server) preview(ctx context.Context, tenantID string, pool engine.Pool, replaces string) (*Preview, error) {
	pv := &Preview{Pool: pool.Name}
	stored, err := planning.LoadPolicy(ctx, s.cfg.Store, tenantID)
	if err != nil {
		return nil, err
	}
	cand := withPool(stored, pool, replaces)
	if err := cand.Validate(); err != nil {
		e := asError(err)
		if e.Status != http.StatusUnprocessableEntity {
			return nil, err
		}
		pv.Problems = poolProblems(e.Fields, cand, pool.Name)
		if len(pv.Problems) == 0 {
			pv.Problems = []FieldProblem{{Message: err.Error()}}
		}
		return pv, nil
	}
	snap, err := s.snapshot(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	after, err := engine.Evaluate(snap, cand)
	if err != nil {
		return nil, err
	}
	before, err := engine.Evaluate(snap, stored)
	if err != nil {
		return nil, err
	}
	pp := after.Pool(pool.Name)
	if pp == nil {
		return nil, fmt.Errorf("preview: pool %q missing from its own plan", pool.Name)
	}
	pv.Valid = pp.Error == ""
	pv.Error, pv.Warnings = pp.Error, pp.Warnings
	pv.Resultant, pv.Unchanged = pp.Resultant, pp.Unchanged
	pv.AddCount, pv.RemCount, pv.BlkCount = len(pp.Adds), len(pp.Removals), len(pp.Blocked)
	pv.Adds, pv.Removals, pv.Blocked = head(pp.Adds), head(pp.Removals), head(pp.Blocked)
	pv.MonthlyDelta, pv.Currency = after.MonthlyDelta-before.MonthlyDelta, after.Currency
	return pv, nil
}

func head(cs []engine.Change) []engine.Change {
	if cs == nil {
		return []engine.Change{}
	}
	return cs[:min(len(cs), previewRows)]
}

// poolProblems keeps the validation problems of the edited pool (other
// stored pools are not the editor's concern) and strips their pools[i]
// prefix so paths read as the form's fields.
func poolProblems(fs []FieldProblem, p *engine.Policy, name string) []FieldProblem {
	idx := -1
	for i, pool := range p.Pools {
		if pool.Name == name {
			idx = i
		}
	}
	prefix := fmt.Sprintf("pools[%d]", idx)
	var out []FieldProblem
	for _, f := range fs {
		switch {
		case f.Path == prefix:
			f.Path = ""
		case strings.HasPrefix(f.Path, prefix+"."):
			f.Path = strings.TrimPrefix(f.Path, prefix+".")
		case strings.HasPrefix(f.Path, "pools["):
			continue
		}
		out = append(out, f)
	}
	return out
}

// savePool validates a pool against the stored policy and the directory and
// stores it (renaming when replaces names another pool), auditing the save.
func (s *Server) savePool(ctx context.Context, actor, tenantID string, pool engine.Pool, replaces string) (*Preview, error) {
	pv, err := s.preview(ctx, tenantID, pool, replaces)
	if err != nil {
		return nil, err
	}
	if len(pv.Problems) > 0 {
		return pv, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "the pool is not valid", Fields: pv.Problems}
	}
	if pv.Error != "" {
		return pv, errorf(http.StatusUnprocessableEntity, "unresolved", pv.Error)
	}
	spec, err := json.Marshal(pool)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(tx warehouse.Tx) error {
		action := "pool.create"
		if _, err := tx.GetPool(ctx, tenantID, pool.Name); err == nil {
			action = "pool.update"
		} else if !errors.Is(err, warehouse.ErrNotFound) {
			return err
		}
		if replaces != "" && replaces != pool.Name {
			if err := tx.DeletePool(ctx, tenantID, replaces); err != nil && !errors.Is(err, warehouse.ErrNotFound) {
				return err
			}
			action = "pool.rename"
		}
		rec, err := tx.PutPool(ctx, warehouse.PoolRecord{TenantID: tenantID, Name: pool.Name, Spec: spec})
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"version": rec.Version, "spec": json.RawMessage(spec), "previous_name": replaces})
		return tx.AppendAudit(ctx, []warehouse.AuditRecord{{TenantID: tenantID, Actor: actor, Action: action,
			TargetType: "pool", TargetID: pool.Name, Detail: detail}})
	})
	return pv, err
}

func (s *Server) deletePool(ctx context.Context, actor, tenantID, name string) error {
	return s.cfg.Store.InTx(ctx, func(tx warehouse.Tx) error {
		if err := tx.DeletePool(ctx, tenantID, name); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, []warehouse.AuditRecord{{TenantID: tenantID, Actor: actor, Action: "pool.delete",
			TargetType: "pool", TargetID: name}})
	})
}

// RuleCheck is the answer to "is this rule valid?" while typing.
type RuleCheck struct {
	Rule       string        `json:"rule"`
	Valid      bool          `json:"valid"`
	Normalised string        `json:"normalised,omitempty"`
	Problem    *FieldProblem `json:"problem,omitempty"`
}

func checkRule(src string) RuleCheck {
	rc := RuleCheck{Rule: src}
	r, err := rule.Parse(src)
	if err == nil {
		rc.Valid, rc.Normalised = true, r.String()
		return rc
	}
	var re *rule.Error
	if errors.As(err, &re) {
		rc.Problem = &FieldProblem{Path: "rule", Message: re.Message, Line: re.Line, Column: re.Column}
	} else {
		rc.Problem = &FieldProblem{Path: "rule", Message: err.Error()}
	}
	return rc
}
