package planning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/warehouse"
)

// LoadSnapshot streams one tenant from the warehouse into an engine snapshot
// taken at now. Deleted users and groups are skipped: they hold nothing.
//
// Users' assigned plans are derived here from their license states and the
// SKUs' service plans: the sync does not download them (they would make every
// licensed user ten times larger on the wire) and they follow exactly.
func LoadSnapshot(ctx context.Context, r warehouse.Reader, tenantID string, now time.Time) (*engine.Snapshot, engine.Stats, error) {
	b := engine.NewBuilder()
	skus, err := r.ListSkus(ctx, tenantID)
	if err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load skus: %w", err)
	}
	plans, err := assignedPlans(ctx, r, tenantID, skus)
	if err != nil {
		return nil, engine.Stats{}, err
	}
	if err := r.ScanUsers(ctx, tenantID, func(u directory.User) error {
		if !u.Deleted {
			if len(u.AssignedPlans) == 0 {
				u.AssignedPlans = plans[u.ID]
			}
			b.AddUser(&u)
		}
		return nil
	}); err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load users: %w", err)
	}
	if err := r.ScanGroups(ctx, tenantID, func(g directory.Group) error {
		if !g.Deleted {
			b.AddGroup(&g)
		}
		return nil
	}); err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load groups: %w", err)
	}
	for i := range skus {
		b.AddSku(&skus[i])
	}
	if err := r.ScanMemberships(ctx, tenantID, func(m directory.Membership) error {
		b.AddMembership(m)
		return nil
	}); err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load memberships: %w", err)
	}
	if err := r.ScanLicenseStates(ctx, tenantID, func(l directory.LicenseState) error {
		b.AddLicenseState(&l)
		return nil
	}); err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load license states: %w", err)
	}
	if err := r.ScanGrants(ctx, tenantID, func(g warehouse.Grant) error {
		b.AddGrant(engine.Grant{Pool: g.Pool, UserID: g.UserID, GroupID: g.GroupID, SkuID: g.SkuID, Since: g.Since})
		return nil
	}); err != nil {
		return nil, engine.Stats{}, fmt.Errorf("load grants: %w", err)
	}
	return b.Build(now), b.Stats(), nil
}

// LoadPolicy assembles the tenant's policy: its stored pools (by name) and
// its settings. A tenant with nothing stored has an empty, valid policy.
func LoadPolicy(ctx context.Context, r warehouse.Reader, tenantID string) (*engine.Policy, error) {
	p := &engine.Policy{}
	st, err := r.GetPolicySettings(ctx, tenantID)
	switch {
	case errors.Is(err, warehouse.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("load policy settings: %w", err)
	default:
		if err := json.Unmarshal(st.Spec, p); err != nil {
			return nil, fmt.Errorf("stored policy settings of %s are corrupt: %w", tenantID, err)
		}
		p.Pools = nil
	}
	recs, err := r.ListPools(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load pools: %w", err)
	}
	for _, rec := range recs {
		var pool engine.Pool
		if err := json.Unmarshal(rec.Spec, &pool); err != nil {
			return nil, fmt.Errorf("stored pool %q is corrupt: %w", rec.Name, err)
		}
		pool.Name = rec.Name
		p.Pools = append(p.Pools, pool)
	}
	return p, nil
}

// Plan loads the tenant and its policy and evaluates them at now.
func Plan(ctx context.Context, r warehouse.Reader, tenantID string, now time.Time) (*engine.Plan, error) {
	policy, err := LoadPolicy(ctx, r, tenantID)
	if err != nil {
		return nil, err
	}
	snap, _, err := LoadSnapshot(ctx, r, tenantID, now)
	if err != nil {
		return nil, err
	}
	plan, err := engine.Evaluate(snap, policy)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return plan, nil
}

// assignedPlans computes, per user, the service plans their active licenses
// grant: every plan of each held SKU, "Enabled" unless disabled in that
// assignment. A plan granted by several assignments is listed once, enabled
// if any assignment enables it.
func assignedPlans(ctx context.Context, r warehouse.Reader, tenantID string, skus []directory.Sku) (map[string][]directory.AssignedPlan, error) {
	bySku := make(map[string]*directory.Sku, len(skus))
	for i := range skus {
		bySku[skus[i].SkuID] = &skus[i]
	}
	out := map[string][]directory.AssignedPlan{}
	err := r.ScanLicenseStates(ctx, tenantID, func(l directory.LicenseState) error {
		if l.State != directory.StateActive && l.State != directory.StateActiveWithError {
			return nil
		}
		sku := bySku[l.SkuID]
		if sku == nil {
			return nil
		}
		have := out[l.UserID]
		for _, p := range sku.ServicePlans {
			status := "Enabled"
			for _, d := range l.DisabledPlans {
				if d == p.ServicePlanID {
					status = "Disabled"
					break
				}
			}
			merged := false
			for i := range have {
				if have[i].ServicePlanID == p.ServicePlanID {
					if status == "Enabled" {
						have[i].CapabilityStatus = status
					}
					merged = true
					break
				}
			}
			if !merged {
				have = append(have, directory.AssignedPlan{ServicePlanID: p.ServicePlanID, CapabilityStatus: status,
					AssignedDateTime: l.LastUpdated})
			}
		}
		out[l.UserID] = have
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load license states: %w", err)
	}
	return out, nil
}
