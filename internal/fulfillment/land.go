package fulfillment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// land records outcomes in one transaction with everything they imply: the
// warehouse's memberships and license states, the pool's grant (what lets
// a pool later remove only what it granted) and one audit record per change.
// Only changes still claimed by this worker move; a change whose lease
// another worker took over is left to that worker.
func (f *Fulfiller) land(ctx context.Context, tenantID string, claimed []warehouse.Change, outs []warehouse.ChangeOutcome) error {
	err := f.store.InTx(ctx, func(tx warehouse.Tx) error {
		moved, err := tx.FinishChanges(ctx, f.cfg.Owner, outs)
		if err != nil {
			return err
		}
		var (
			addM, delM     []directory.Membership
			addL, delL     []directory.LicenseState
			addG, delG     []warehouse.Grant
			users          []string
			audit          []warehouse.AuditRecord
			now            = time.Now().UTC()
			disabled, upds = map[string]bool{}, map[string]json.RawMessage{}
		)
		for i := range moved {
			ch := &moved[i]
			if ch.Status == warehouse.ChangeOpen {
				continue
			}
			audit = append(audit, auditOf(ch, now))
			if ch.Status != warehouse.ChangeDone {
				continue
			}
			grant := warehouse.Grant{Pool: ch.Pool, UserID: ch.UserID, GroupID: ch.GroupID, SkuID: ch.SkuID, Since: now}
			pooled := ch.Origin == "pool" && ch.Pool != ""
			switch {
			case ch.Kind == warehouse.KindGroupMember && ch.Op == warehouse.OpAdd:
				addM = append(addM, directory.Membership{GroupID: ch.GroupID, MemberID: ch.UserID, MemberType: directory.MemberUser})
				if pooled {
					addG = append(addG, grant)
				}
			case ch.Kind == warehouse.KindGroupMember:
				delM = append(delM, directory.Membership{GroupID: ch.GroupID, MemberID: ch.UserID})
				if pooled {
					delG = append(delG, grant)
				}
			case ch.Kind == warehouse.KindDirectLicense && ch.Op == warehouse.OpAdd:
				plans := ch.DisabledPlans
				if plans == nil {
					plans = []string{}
				}
				addL = append(addL, directory.LicenseState{UserID: ch.UserID, SkuID: ch.SkuID, DisabledPlans: plans,
					State: directory.StateActive, LastUpdated: &now})
				if pooled {
					addG = append(addG, grant)
				}
			case ch.Kind == warehouse.KindDirectLicense:
				delL = append(delL, directory.LicenseState{UserID: ch.UserID, SkuID: ch.SkuID})
				if pooled {
					delG = append(delG, grant)
				}
			case ch.Kind == warehouse.KindUser && ch.Op == "disable":
				disabled[ch.UserID] = true
				users = append(users, ch.UserID)
			case ch.Kind == warehouse.KindUser && ch.Op == "update":
				upds[ch.UserID] = ch.Payload
				users = append(users, ch.UserID)
			}
		}
		steps := []func() error{
			func() error { return tx.UpsertMemberships(ctx, tenantID, addM) },
			func() error { return tx.DeleteMemberships(ctx, tenantID, delM) },
			func() error { return tx.PutLicenseStates(ctx, tenantID, addL) },
			func() error { return tx.DeleteLicenseStates(ctx, tenantID, delL) },
			func() error { return putGrants(ctx, tx, tenantID, addG) },
			func() error { return tx.DeleteGrants(ctx, tenantID, delG) },
			func() error { return updateUsers(ctx, tx, tenantID, users, disabled, upds) },
			func() error { return appendAudit(ctx, tx, audit) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record outcomes of %d changes: %w", len(claimed), err)
	}
	return nil
}

func putGrants(ctx context.Context, tx warehouse.Tx, tenantID string, gs []warehouse.Grant) error {
	if len(gs) == 0 {
		return nil
	}
	return tx.PutGrants(ctx, tenantID, gs)
}

func appendAudit(ctx context.Context, tx warehouse.Tx, recs []warehouse.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return tx.AppendAudit(ctx, recs)
}

// updateUsers mirrors user changes that landed into the warehouse, so plans
// see them before the next sync.
func updateUsers(ctx context.Context, tx warehouse.Tx, tenantID string, ids []string, disabled map[string]bool, upds map[string]json.RawMessage) error {
	if len(ids) == 0 {
		return nil
	}
	us, err := tx.GetUsers(ctx, tenantID, ids)
	if err != nil {
		return err
	}
	for i := range us {
		if disabled[us[i].ID] {
			us[i].AccountEnabled = false
		}
		if p, ok := upds[us[i].ID]; ok {
			// Graph's property names are directory.User's JSON names.
			if err := json.Unmarshal(p, &us[i]); err != nil {
				return fmt.Errorf("user change payload: %w", err)
			}
		}
	}
	return tx.UpsertUsers(ctx, tenantID, us)
}

// auditOf is the history record of a change that landed or failed: who
// asked, what, why, the request, and the state before and after.
func auditOf(ch *warehouse.Change, at time.Time) warehouse.AuditRecord {
	action := "change.applied"
	before, after := "absent", "present"
	if ch.Op == warehouse.OpRemove {
		before, after = after, before
	}
	if ch.Result == "already" {
		before = after // Graph reported the desired state already held
	}
	if ch.Status == warehouse.ChangeFailed {
		action, after = "change.failed", before
	}
	target, targetType := ch.GroupID, "group"
	if ch.Kind != warehouse.KindGroupMember {
		target, targetType = ch.UserID, "user"
	}
	detail, _ := json.Marshal(map[string]any{"change": ch.ID, "op": ch.Op, "kind": ch.Kind, "user": ch.UserID,
		"group": ch.GroupID, "sku": ch.SkuID, "pool": ch.Pool, "origin": ch.Origin, "result": ch.Result,
		"attempts": ch.Attempts, "error": ch.LastError, "before": before, "after": after})
	actor := ch.Initiator
	if actor == "" {
		actor = "allot"
	}
	return warehouse.AuditRecord{At: at, TenantID: ch.TenantID, Actor: actor, Action: action, TargetType: targetType,
		TargetID: target, RequestID: ch.RequestID, Reason: ch.Reason, Detail: detail}
}
