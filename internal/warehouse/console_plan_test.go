package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The console's lists must be served by an index in the order they are
// shown, or a page of a million-user tenant would read and sort the whole
// tenant. SQLite says how it will run a statement; this holds it to that.
func TestConsoleQueriesUseIndexesSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := openSQLite(ctx, filepath.Join(t.TempDir(), "allot.db"))
	require.NoError(t, err)
	defer s.Close()
	c := s.queries.read
	plan := func(sqlText string, args []any) string {
		rs, err := s.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlText, args...)
		require.NoError(t, err)
		defer rs.Close()
		var lines []string
		for rs.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rs.Scan(&id, &parent, &unused, &detail))
			lines = append(lines, detail)
		}
		require.NoError(t, rs.Err())
		return strings.Join(lines, "\n")
	}
	cursor2 := encodeCursor("sales", "g1")
	cases := []struct {
		name  string
		build func() (pageSQL, error)
		want  string
	}{
		{"users", func() (pageSQL, error) { return usersPageSQL(c, "t", PageQuery{}) }, "USING INDEX users_key"},
		{"users after", func() (pageSQL, error) { return usersPageSQL(c, "t", PageQuery{After: encodeCursor("u1")}) }, "USING INDEX users_key (tenant_id=? AND id>?)"},
		{"users before", func() (pageSQL, error) { return usersPageSQL(c, "t", PageQuery{Before: encodeCursor("u1")}) }, "USING INDEX users_key (tenant_id=? AND id<?)"},
		{"users search", func() (pageSQL, error) {
			return usersPageSQL(c, "t", PageQuery{Prefix: "ad", After: encodeCursor("u1")})
		}, "USING INDEX users_key (tenant_id=? AND id>?)"},
		{"groups", func() (pageSQL, error) { return groupsPageSQL(c, "t", PageQuery{}) }, "USING INDEX groups_name (tenant_id=?)"},
		{"groups after", func() (pageSQL, error) { return groupsPageSQL(c, "t", PageQuery{After: cursor2}) }, "USING INDEX groups_name (tenant_id=? AND display_name>?)"},
		{"groups before", func() (pageSQL, error) { return groupsPageSQL(c, "t", PageQuery{Before: cursor2}) }, "USING INDEX groups_name (tenant_id=? AND display_name<?)"},
		{"groups search", func() (pageSQL, error) { return groupsPageSQL(c, "t", PageQuery{Prefix: "sal", After: cursor2}) }, "USING INDEX groups_name (tenant_id=? AND display_name>? AND display_name<?)"},
	}
	for _, tc := range cases {
		ps, err := tc.build()
		require.NoError(t, err)
		got := plan(ps.text())
		require.Contains(t, got, tc.want, tc.name)
		require.NotContains(t, got, "TEMP B-TREE", "%s: the index gives the order, nothing is sorted", tc.name)
	}
	got := plan("SELECT count(*) FROM license_states WHERE tenant_id = ? AND "+licenseErrorCond, []any{"t"})
	require.Contains(t, got, "license_states_errors", "license errors are counted from their partial index")
	got = plan("SELECT tenant_id, user_id, sku_id, assigned_by_group, state, error FROM license_states WHERE tenant_id = ? AND "+licenseErrorCond+" ORDER BY user_id, sku_id LIMIT 20", []any{"t"})
	require.Contains(t, got, "license_states_errors")
	require.NotContains(t, got, "TEMP B-TREE")
}
