package planning

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Change says what saving a policy did to one stored pool.
type Change struct {
	Pool   string `json:"pool"`
	Action string `json:"action"` // created, updated, unchanged, deleted
}

// SaveOptions tune SavePolicy.
type SaveOptions struct {
	// Prune deletes stored pools the policy does not mention, making the
	// file the whole truth (policy as code). Off, the file adds and updates.
	Prune bool
	// DryRun reports what would change without writing.
	DryRun bool
}

// SavePolicy validates a policy and stores its pools and settings in one
// transaction, reporting per pool what changed. An invalid policy writes
// nothing.
func SavePolicy(ctx context.Context, s warehouse.Store, tenantID string, p *engine.Policy, opt SaveOptions) ([]Change, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	settings := *p
	settings.Pools = nil
	settingsJSON, err := json.Marshal(settings)
	if err != nil {
		return nil, fmt.Errorf("encode policy settings: %w", err)
	}
	var changes []Change
	err = s.InTx(ctx, func(tx warehouse.Tx) error {
		existing, err := tx.ListPools(ctx, tenantID)
		if err != nil {
			return err
		}
		old := map[string]json.RawMessage{}
		for _, r := range existing {
			old[r.Name] = r.Spec
		}
		seen := map[string]bool{}
		for _, pool := range p.Pools {
			spec, err := json.Marshal(pool)
			if err != nil {
				return fmt.Errorf("encode pool %q: %w", pool.Name, err)
			}
			seen[pool.Name] = true
			action := "created"
			if prev, ok := old[pool.Name]; ok {
				action = "updated"
				if sameJSON(prev, spec) {
					action = "unchanged"
				}
			}
			changes = append(changes, Change{Pool: pool.Name, Action: action})
			if action != "unchanged" && !opt.DryRun {
				if _, err := tx.PutPool(ctx, warehouse.PoolRecord{TenantID: tenantID, Name: pool.Name, Spec: spec}); err != nil {
					return err
				}
			}
		}
		if opt.Prune {
			for name := range old {
				if seen[name] {
					continue
				}
				changes = append(changes, Change{Pool: name, Action: "deleted"})
				if !opt.DryRun {
					if err := tx.DeletePool(ctx, tenantID, name); err != nil {
						return err
					}
				}
			}
		}
		if opt.DryRun {
			return nil
		}
		_, err = tx.PutPolicySettings(ctx, warehouse.PolicySettings{TenantID: tenantID, Spec: settingsJSON})
		return err
	})
	sort.Slice(changes, func(i, j int) bool { return changes[i].Pool < changes[j].Pool })
	return changes, err
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
