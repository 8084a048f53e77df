package engine_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
)

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		want      []string // each error line, in order
	}{
		{
			name: "rule syntax error names file, line, field and the rule's own position",
			src: `pools:
  - name: ok
    target: {direct: true}
    bundle: [{sku: E3}]
    assignments: {everyone: true}
  - name: bad-rule
    target: {direct: true}
    bundle: [{sku: E3}]
    assignments:
      rules:
        - user.department -eq
`,
			want: []string{`pools.yaml:11: pools[1].assignments.rules[0]: `},
		},
		{
			name: "missing fields point at the pool",
			src: `pools:
  - name: nothing
`,
			want: []string{
				"pools.yaml:2: pools[0].target: is required: a license group (group: <id>) or direct: true",
				"pools.yaml:2: pools[0].assignments: is required: groups, transitiveGroups, rules, users, categories or everyone",
			},
		},
		{
			name: "unknown field",
			src: `pools:
  - name: typo
    target: {direct: true}
    bundel: [{sku: E3}]
`,
			want: []string{"pools.yaml:4: pools[0].bundel: field bundel not found in type Pool"},
		},
		{
			name: "wrong type",
			src: `pools:
  - name: cap
    target: {direct: true}
    bundle: [{sku: E3}]
    assignments: {everyone: true}
    seatCap: lots
`,
			want: []string{"pools.yaml:6: pools[0].seatCap: cannot unmarshal !!str `lots` into int"},
		},
		{
			name: "syntax error",
			src:  "pools: [\n",
			want: []string{"pools.yaml:"},
		},
		{
			name: "empty",
			src:  "",
			want: []string{"pools.yaml:1: the document is empty; want a mapping with pools"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := engine.ParsePolicy("pools.yaml", []byte(tc.src))
			require.Nil(t, p)
			require.ErrorIs(t, err, engine.ErrInvalidPolicy)
			var ve *engine.ValidationError
			require.True(t, errors.As(err, &ve))
			require.GreaterOrEqual(t, len(ve.Errs), len(tc.want), err.Error())
			for i, w := range tc.want {
				require.Contains(t, ve.Errs[i].Error(), w, err.Error())
			}
		})
	}
}

const manyProblems = `pools:
  - name: a
    target: {group: LIC}
    assignments: {categories: [0, 64]}
    exclusions: {everyone: true}
  - name: A
    target: {group: lic}
    assignments: {everyone: true}
mutuallyExclusive:
  - {group: X, excludes: Y}
  - {group: Y, excludes: X}
`

func TestParsePolicyReportsEveryProblem(t *testing.T) {
	t.Parallel()
	// A value that cannot be decoded stops the read at once.
	_, err := engine.ParsePolicy("pools.yaml", []byte("prices:\n  E3: 12.345\n"+manyProblems))
	require.Equal(t, `pools.yaml:2: prices.E3: price "12.345": want a non-negative amount with at most two decimals`, err.Error())

	// Validation reports every problem, in document order.
	_, err = engine.ParsePolicy("pools.yaml", []byte(manyProblems))
	require.Equal(t, `pools.yaml:4: pools[0].assignments.categories[0]: category 0 out of range 1–63
pools.yaml:4: pools[0].assignments.categories[1]: category 64 out of range 1–63
pools.yaml:5: pools[0].exclusions.everyone: cannot exclude everyone; remove the pool instead
pools.yaml:6: pools[1].name: pool name "A" is already used by pools[0]
pools.yaml:7: pools[1].target.group: group "lic" is already the target of pools[0]; one pool manages a license group
pools.yaml:11: mutuallyExclusive[1]: "Y" and "X" would exclude each other (mutuallyExclusive[0] already says "X" excludes "Y")`, err.Error())
}

// Pools are stored in the warehouse as JSON documents: the encoding must
// round-trip exactly, and YAML and JSON must describe the same policy.
func TestPolicyJSONRoundTrip(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/plans/contoso/pools.yaml")
	require.NoError(t, err)
	pol, err := engine.ParsePolicy("pools.yaml", src)
	require.NoError(t, err)
	js, err := json.Marshal(pol)
	require.NoError(t, err)
	var back engine.Policy
	require.NoError(t, json.Unmarshal(js, &back))
	require.Equal(t, *pol, back)
	// JSON is YAML: the same document parses with ParsePolicy.
	again, err := engine.ParsePolicy("pools.json", js)
	require.NoError(t, err)
	require.Equal(t, *pol, *again)
	require.Equal(t, engine.Price(1100), pol.Prices["EMS"])

	one, err := json.Marshal(pol.Pools[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"e3-sales","description":"E3 for sales through group-based licensing",
	  "target":{"group":"LIC E3"},
	  "assignments":{"groups":["Sales team"],"rules":["user.department -eq \"Marketing\""]},
	  "exclusions":{"groups":["Leavers"],"rules":["user.accountEnabled -eq false"]},
	  "categories":[2]}`, string(one))
}

func TestParsePrice(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]engine.Price{"57": 5700, "57.5": 5750, "57.05": 5705, "0.99": 99, " 3 ": 300} {
		got, err := engine.ParsePrice(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1.234", "1.", ".5", "abc", "1e3", "+5", "99999999999999999999"} {
		_, err := engine.ParsePrice(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "-0.05", engine.Price(-5).String())
}
