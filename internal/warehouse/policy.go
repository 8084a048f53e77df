package warehouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/directory"
)

// PolicyReader reads tenant policy settings and the ownership record.
type PolicyReader interface {
	// GetPolicySettings returns ErrNotFound when none were ever saved.
	GetPolicySettings(ctx context.Context, tenantID string) (PolicySettings, error)
	// ScanGrants streams a tenant's grants ordered by pool, user, group, SKU.
	ScanGrants(ctx context.Context, tenantID string, fn func(Grant) error) error
}

// PolicyWriter writes them.
type PolicyWriter interface {
	PutPolicySettings(ctx context.Context, p PolicySettings) (PolicySettings, error)
	// PutGrants records grants; an existing grant keeps its original Since,
	// because "longest holder keeps the seat" must survive re-recording.
	PutGrants(ctx context.Context, tenantID string, gs []Grant) error
	DeleteGrants(ctx context.Context, tenantID string, gs []Grant) error
}

// PolicySettings is the tenant-wide part of a policy (mutually exclusive
// groups, prices, licensing constraints), opaque JSON owned by the engine.
type PolicySettings struct {
	TenantID  string          `json:"tenant_id"`
	Spec      json.RawMessage `json:"spec"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Grant records that a pool put a user into a license group (GroupID) or
// assigned a SKU directly (SkuID). It is what lets a pool remove only what it
// granted; fulfilment writes it when a pool's add lands and deletes it when
// the pool's removal lands.
type Grant struct {
	TenantID string    `json:"tenant_id"`
	Pool     string    `json:"pool"`
	UserID   string    `json:"user_id"`
	GroupID  string    `json:"group_id,omitempty"`
	SkuID    string    `json:"sku_id,omitempty"`
	Since    time.Time `json:"since"`
}

var grantsTable = table{
	name: "grants",
	cols: []string{"tenant_id", "pool", "user_id", "group_id", "sku_id", "since"},
	key:  []string{"tenant_id", "pool", "user_id", "group_id", "sku_id"},
	keep: []string{"since"},
}

func (q *queries) GetPolicySettings(ctx context.Context, tenantID string) (PolicySettings, error) {
	var p PolicySettings
	found := false
	err := scanAll(ctx, q.reader(), "SELECT tenant_id, spec, version, updated_at FROM policy_settings WHERE tenant_id = ?",
		[]any{tenantID}, func(r rows) error {
			found = true
			var spec string
			var updated *time.Time
			err := r.Scan(&p.TenantID, &spec, &p.Version, scanTime{&updated})
			p.Spec = json.RawMessage(spec)
			if updated != nil {
				p.UpdatedAt = *updated
			}
			return err
		})
	if err == nil && !found {
		err = fmt.Errorf("policy settings of %s: %w", tenantID, ErrNotFound)
	}
	return p, err
}

func (q *queries) PutPolicySettings(ctx context.Context, p PolicySettings) (PolicySettings, error) {
	if !json.Valid(p.Spec) {
		return p, fmt.Errorf("%w policy settings: spec is not valid JSON", directory.ErrInvalid)
	}
	p.UpdatedAt = time.Now().UTC()
	err := q.write(ctx, func(c conn) error {
		return scanAll(ctx, c, "INSERT INTO policy_settings (tenant_id, spec, version, updated_at) VALUES (?,?,1,?) "+
			"ON CONFLICT (tenant_id) DO UPDATE SET spec = excluded.spec, version = policy_settings.version + 1, "+
			"updated_at = excluded.updated_at RETURNING version", []any{p.TenantID, string(p.Spec), c.time(&p.UpdatedAt)},
			func(r rows) error { return r.Scan(&p.Version) })
	})
	return p, err
}

func (q *queries) ScanGrants(ctx context.Context, tenantID string, fn func(Grant) error) error {
	return scanAll(ctx, q.reader(), "SELECT tenant_id, pool, user_id, group_id, sku_id, since FROM grants WHERE tenant_id = ? "+
		"ORDER BY pool, user_id, group_id, sku_id", []any{tenantID}, func(r rows) error {
		var g Grant
		var since *time.Time
		if err := r.Scan(&g.TenantID, &g.Pool, &g.UserID, &g.GroupID, &g.SkuID, scanTime{&since}); err != nil {
			return fmt.Errorf("scan grants: %w", err)
		}
		if since != nil {
			g.Since = *since
		}
		return fn(g)
	})
}

func (q *queries) PutGrants(ctx context.Context, tenantID string, gs []Grant) error {
	for _, g := range gs {
		if g.Pool == "" || g.UserID == "" || (g.GroupID == "") == (g.SkuID == "") {
			return fmt.Errorf("%w grant %+v: needs a pool, a user and exactly one of group or SKU", directory.ErrInvalid, g)
		}
	}
	return upsert(ctx, q, grantsTable, gs, func(b []byte, g *Grant) []byte {
		return appendSortKey(b, g.Pool, g.UserID, g.GroupID, g.SkuID)
	}, func(c conn, g *Grant) []any {
		since := g.Since
		if since.IsZero() {
			since = time.Now().UTC()
		}
		return []any{tenantID, g.Pool, g.UserID, g.GroupID, g.SkuID, c.time(&since)}
	})
}

func (q *queries) DeleteGrants(ctx context.Context, tenantID string, gs []Grant) error {
	return q.write(ctx, func(c conn) error {
		for _, g := range gs {
			if _, err := c.exec(ctx, "DELETE FROM grants WHERE tenant_id = ? AND pool = ? AND user_id = ? AND group_id = ? AND sku_id = ?",
				tenantID, g.Pool, g.UserID, g.GroupID, g.SkuID); err != nil {
				return fmt.Errorf("delete grant: %w", err)
			}
		}
		return nil
	})
}
