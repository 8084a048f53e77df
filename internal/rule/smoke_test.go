package rule_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
)

func TestSmoke(t *testing.T) {
	for _, src := range []string{
		`user.department -eq "Sales"`,
		`(user.department -eq "Sales") -and -not (user.jobTitle -startsWith "SDE")`,
		`user.city -eq "Lagos" or user.city -startswith "Lag"`,
		`user.assignedPlans -any (assignedPlan.servicePlanId -eq "efb87545-963c-4e0d-99df-69c6916d9eb0" -and assignedPlan.capabilityStatus -eq "Enabled")`,
		`device.devicePhysicalIDs -any _ -startsWith "[ZTDId]"`,
		`user.employeehiredate -ge system.now -plus p1d`,
		"user.mail –ne null",
		`Direct Reports for "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"`,
		`user.memberof -any (group.objectId -in ['groupId'])`,
	} {
		r, err := rule.Parse(src)
		require.NoError(t, err, src)
		t.Log(r.String())
	}
	ix := newIndex([]*directory.User{{ID: "1", Department: "Sales"}, {ID: "2", Department: "sales", JobTitle: "SDE II"}, {ID: "3"}}, "department")
	p := rule.MustCompile(`(user.department -eq "Sales") -and -not (user.jobTitle -startsWith "SDE")`)
	require.Equal(t, []uint32{0}, p.Eval(ix).ToArray())
}
