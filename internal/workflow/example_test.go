package workflow_test

import (
	"fmt"

	"github.com/allot-dev/allot/internal/workflow"
)

// A workflow that asks the department's approvers before anyone outside
// Sales joins a group from the IT shop; a bad rule is refused when the
// definition is validated, naming the field.
func ExampleDefinition_Validate() {
	d := workflow.Definition{
		Name: "non-sales need approval", Enabled: true, Priority: 200,
		When: workflow.Conditions{
			Operations: []workflow.Operation{workflow.AddGroupMember},
			Origins:    []workflow.Origin{workflow.FromShop},
			Filter:     `user.department -ne "Sales"`,
		},
		Activities: []workflow.Activity{
			{Kind: workflow.KindApproval, Approvers: workflow.ApproverDelegation, DenyIfNone: true},
			{Kind: workflow.KindNotify, Phase: workflow.PostRun, To: []string{"requester"},
				Subject: "Done: {{.Group.DisplayName}}", Body: "Request {{.Request.ID}} was applied."},
		},
	}
	fmt.Println(d.Validate())
	d.When.Filter = `user.department -eq`
	fmt.Println(d.Validate() != nil)
	// Output:
	// <nil>
	// true
}

// The built-in workflows every tenant has until it stores its own.
func ExampleBuiltins() {
	for _, d := range workflow.Builtins() {
		fmt.Println(d.Priority, d.Name)
	}
	// Output:
	// 100 license removal needs approval
	// 500 group owner approves additions
}
