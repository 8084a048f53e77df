package engine

import (
	"fmt"
	"strings"
)

// Constraints are the service-plan rules Entra enforces on assignLicense and
// group-based licensing. Microsoft does not publish them through Graph, so
// they are policy: the plan blocks an assignment that Entra would reject
// (MutuallyExclusiveViolation, DependencyViolation) instead of letting it
// fail later in fulfilment. Plans and SKUs may be named by id or name.
type Constraints struct {
	// ConflictingPlans are pairs of service plans a user may not hold together.
	ConflictingPlans [][2]string `json:"conflictingPlans,omitempty" yaml:"conflictingPlans,omitempty"`
	// ExclusiveSkus are pairs of SKUs a user may not hold together.
	ExclusiveSkus [][2]string `json:"exclusiveSkus,omitempty" yaml:"exclusiveSkus,omitempty"`
	// Dependencies maps a service plan to the plans of which it needs at
	// least one enabled.
	Dependencies map[string][]string `json:"dependencies,omitempty" yaml:"dependencies,omitempty"`
}

// DefaultConstraints holds the conflict Microsoft documents and admins hit
// most: Exchange Online Plan 1 and Plan 2 cannot be assigned to one user.
func DefaultConstraints() *Constraints {
	return &Constraints{ConflictingPlans: [][2]string{{"EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE"}}}
}

func (c *Constraints) validate(v *validator) {
	for i, p := range c.ConflictingPlans {
		if strings.TrimSpace(p[0]) == "" || strings.TrimSpace(p[1]) == "" || strings.EqualFold(p[0], p[1]) {
			v.add(fmt.Sprintf("constraints.conflictingPlans[%d]", i), "want two different service plans")
		}
	}
	for i, p := range c.ExclusiveSkus {
		if strings.TrimSpace(p[0]) == "" || strings.TrimSpace(p[1]) == "" || strings.EqualFold(p[0], p[1]) {
			v.add(fmt.Sprintf("constraints.exclusiveSkus[%d]", i), "want two different SKUs")
		}
	}
	for _, k := range sortedKeys(c.Dependencies) {
		if len(c.Dependencies[k]) == 0 {
			v.add("constraints.dependencies."+k, "list at least one plan it depends on")
		}
	}
}
