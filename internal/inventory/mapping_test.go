package inventory

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
)

// A page of license states is rewritten only for users whose states differ;
// order (of states and of disabled plans) is not a difference.
func TestSameLicenseStates(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	later := at.Add(time.Minute)
	e5 := directory.LicenseState{SkuID: "e5", State: "Active", DisabledPlans: []string{"p1", "p2"}, LastUpdated: &at}
	viaGroup := directory.LicenseState{SkuID: "e5", AssignedByGroup: "g1", State: "Active", LastUpdated: &at}
	swapped := e5
	swapped.DisabledPlans = []string{"p2", "p1"}
	require.True(t, sameLicenseStates(nil, nil))
	require.True(t, sameLicenseStates([]directory.LicenseState{e5, viaGroup}, []directory.LicenseState{viaGroup, swapped}))

	for name, other := range map[string]func(l *directory.LicenseState){
		"state":          func(l *directory.LicenseState) { l.State = "Error" },
		"error":          func(l *directory.LicenseState) { l.Error = "CountViolation" },
		"disabled plans": func(l *directory.LicenseState) { l.DisabledPlans = []string{"p1"} },
		"last updated":   func(l *directory.LicenseState) { l.LastUpdated = &later },
		"no time":        func(l *directory.LicenseState) { l.LastUpdated = nil },
		"group":          func(l *directory.LicenseState) { l.AssignedByGroup = "g2" },
	} {
		changed := e5
		other(&changed)
		require.False(t, sameLicenseStates([]directory.LicenseState{e5}, []directory.LicenseState{changed}), name)
	}
	require.False(t, sameLicenseStates([]directory.LicenseState{e5}, []directory.LicenseState{e5, viaGroup}))
	require.False(t, sameLicenseStates([]directory.LicenseState{e5}, nil))
}
