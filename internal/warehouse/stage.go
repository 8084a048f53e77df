package warehouse

import (
	"context"
	"fmt"

	"github.com/allot-dev/allot/internal/directory"
)

var membershipStageTable = table{
	name: "membership_stage",
	cols: []string{"tenant_id", "group_id", "member_id", "member_type", "removed"},
}

func (q *queries) StageMemberships(ctx context.Context, tenantID string, adds, removes []directory.Membership) error {
	if len(adds)+len(removes) == 0 {
		return nil
	}
	rs := make([][]any, 0, len(adds)+len(removes))
	for _, set := range []struct {
		ms      []directory.Membership
		removed bool
	}{{adds, false}, {removes, true}} {
		for _, m := range set.ms {
			rs = append(rs, []any{tenantID, m.GroupID, m.MemberID, string(m.MemberType), set.removed})
		}
	}
	return q.write(ctx, func(c conn) error {
		if err := c.bulkInsert(ctx, membershipStageTable, rs); err != nil {
			return fmt.Errorf("stage memberships: %w", err)
		}
		return nil
	})
}

// publishLast keeps, per membership, only the latest staged entry, and only
// if it is not a removal. It runs only when the stage holds removals, which
// a full round rarely does: the window sort costs more than a plain one.
const publishLast = `INSERT INTO memberships (tenant_id, group_id, member_id, member_type)
SELECT tenant_id, group_id, member_id, member_type FROM (
    SELECT tenant_id, group_id, member_id, member_type, removed,
        row_number() OVER (PARTITION BY group_id, member_id ORDER BY seq DESC) AS rn
    FROM membership_stage WHERE tenant_id = ?) AS latest
WHERE rn = 1 AND NOT removed
ORDER BY group_id, member_id`

func (q *queries) PublishStagedMemberships(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := q.write(ctx, func(c conn) error {
		var removals int
		if err := scanAll(ctx, c, "SELECT count(*) FROM membership_stage WHERE tenant_id = ? AND removed", []any{tenantID},
			func(r rows) error { return r.Scan(&removals) }); err != nil {
			return fmt.Errorf("publish memberships: %w", err)
		}
		if _, err := c.exec(ctx, "DELETE FROM memberships WHERE tenant_id = ?", tenantID); err != nil {
			return fmt.Errorf("publish memberships: %w", err)
		}
		// Sorted by key, the rows append to the primary-key B-tree instead
		// of landing on random pages of it. A membership staged twice is
		// skipped rather than removed by DISTINCT, which cost a second sort.
		insert := c.insertIgnoring("INTO memberships (tenant_id, group_id, member_id, member_type) " +
			"SELECT tenant_id, group_id, member_id, member_type FROM membership_stage WHERE tenant_id = ? " +
			"ORDER BY group_id, member_id")
		if removals > 0 {
			insert = publishLast
		}
		var err error
		if n, err = c.exec(ctx, insert, tenantID); err != nil {
			return fmt.Errorf("publish memberships: %w", err)
		}
		if _, err := c.exec(ctx, "DELETE FROM membership_stage WHERE tenant_id = ?", tenantID); err != nil {
			return fmt.Errorf("publish memberships: %w", err)
		}
		return nil
	})
	return n, err
}
