package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/allot-dev/allot/internal/directory"
)

// memberListsVersion is the Go migration that moves memberships from one row
// each into the sorted lists of migration 8; SQL cannot build the lists.
const memberListsVersion = 9

// goMigrations are the migrations written in Go, for backend b.
func goMigrations(b Backend) []*goose.Migration {
	bind := func(q string) string { return q }
	if b == Postgres {
		bind = rebind
	}
	return []*goose.Migration{goose.NewGoMigration(memberListsVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return rowsToLists(ctx, tx, bind) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return listsToRows(ctx, tx, b, bind) }})}
}

func rowsToLists(ctx context.Context, tx *sql.Tx, bind func(string) string) error {
	// Read everything before writing: a PostgreSQL connection cannot write
	// while a result is still open on it.
	sets := map[string]*MembershipSet{}
	var tenants []string
	rs, err := tx.QueryContext(ctx, "SELECT tenant_id, group_id, member_id, member_type FROM memberships")
	if err != nil {
		return fmt.Errorf("read memberships: %w", err)
	}
	for rs.Next() {
		var m directory.Membership
		if err := rs.Scan(&m.TenantID, &m.GroupID, &m.MemberID, &m.MemberType); err != nil {
			rs.Close()
			return fmt.Errorf("read memberships: %w", err)
		}
		set := sets[m.TenantID]
		if set == nil {
			set = &MembershipSet{}
			sets[m.TenantID] = set
			tenants = append(tenants, m.TenantID)
		}
		set.Add(m.GroupID, m.MemberID, m.MemberType)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read memberships: %w", err)
	}
	for _, tenant := range tenants {
		r := sets[tenant].resolve()
		for _, side := range []struct {
			t    listTable
			each func(func(string, []byte, int) error) error
		}{{groupMembersTable, r.groupLists}, {memberGroupsTable, r.memberLists}} {
			stmt, err := tx.PrepareContext(ctx, bind("INSERT INTO "+side.t.name+" ("+strings.Join(side.t.cols, ", ")+") VALUES (?, ?, ?, ?)"))
			if err != nil {
				return err
			}
			err = side.each(func(owner string, list []byte, n int) error {
				_, err := stmt.ExecContext(ctx, tenant, owner, n, list)
				return err
			})
			stmt.Close()
			if err != nil {
				return fmt.Errorf("write %s: %w", side.t.name, err)
			}
		}
	}
	for _, q := range []string{"DROP TABLE membership_stage", "DROP TABLE memberships"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// listsToRows undoes rowsToLists, for a downgrade.
func listsToRows(ctx context.Context, tx *sql.Tx, b Backend, bind func(string) string) error {
	withoutRowid, stageKey, boolean := " WITHOUT ROWID", "INTEGER PRIMARY KEY", "INTEGER NOT NULL DEFAULT 0"
	if b == Postgres {
		withoutRowid, stageKey, boolean = "", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BOOLEAN NOT NULL DEFAULT FALSE"
	}
	for _, q := range []string{
		`CREATE TABLE memberships (tenant_id TEXT NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
			member_type TEXT NOT NULL, PRIMARY KEY (tenant_id, group_id, member_id))` + withoutRowid,
		"CREATE INDEX memberships_member ON memberships (tenant_id, member_id)",
		`CREATE TABLE membership_stage (seq ` + stageKey + `, tenant_id TEXT NOT NULL, group_id TEXT NOT NULL,
			member_id TEXT NOT NULL, member_type TEXT NOT NULL, removed ` + boolean + `)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var ms []directory.Membership
	rs, err := tx.QueryContext(ctx, "SELECT tenant_id, group_id, members FROM group_members")
	if err != nil {
		return err
	}
	for rs.Next() {
		var tenant, group string
		var list []byte
		if err := rs.Scan(&tenant, &group, &list); err != nil {
			rs.Close()
			return err
		}
		if err := decodeList(list, func(id string, typ directory.MemberType) bool {
			ms = append(ms, directory.Membership{TenantID: tenant, GroupID: group, MemberID: id, MemberType: typ})
			return true
		}); err != nil {
			rs.Close()
			return fmt.Errorf("members of group %s: %w", group, err)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, bind("INSERT INTO memberships (tenant_id, group_id, member_id, member_type) VALUES (?, ?, ?, ?)"))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, m := range ms {
		if _, err := stmt.ExecContext(ctx, m.TenantID, m.GroupID, m.MemberID, string(m.MemberType)); err != nil {
			return err
		}
	}
	for _, q := range []string{"DELETE FROM group_members", "DELETE FROM member_groups"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
