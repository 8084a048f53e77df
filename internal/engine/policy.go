package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// Policy is everything an operator declares for one tenant (policy as code):
// the license pools, the mutually exclusive group declarations, monthly
// prices and the licensing constraints Entra enforces. It is what
// `allot apply -f pools.yaml` loads and what the warehouse stores as JSON.
type Policy struct {
	Pools []Pool `json:"pools" yaml:"pools"`
	// MutuallyExclusive declares "group excludes group" pairs
	// (One Identity Manager semantics, DESIGN.md §4).
	MutuallyExclusive []MutualExclusion `json:"mutuallyExclusive,omitempty" yaml:"mutuallyExclusive,omitempty"`
	// Prices override the SKU's own monthly price, keyed by SKU id or part
	// number, in the tenant's currency.
	Prices   map[string]Price `json:"prices,omitempty" yaml:"prices,omitempty"`
	Currency string           `json:"currency,omitempty" yaml:"currency,omitempty"`
	// Constraints are Entra's service-plan rules the plan checks before
	// proposing an assignment; nil means DefaultConstraints.
	Constraints *Constraints `json:"constraints,omitempty" yaml:"constraints,omitempty"`
}

// Pool is one license pool: a bundle, a target, who should hold it
// (assignments) and who never should (exclusions), with optional seat cap,
// priority among pools competing for seats and removal approval.
type Pool struct {
	Name        string       `json:"name" yaml:"name"`
	Description string       `json:"description,omitempty" yaml:"description,omitempty"`
	Bundle      []BundleItem `json:"bundle,omitempty" yaml:"bundle,omitempty"`
	Target      Target       `json:"target" yaml:"target"`
	Assignments Selector     `json:"assignments" yaml:"assignments"`
	Exclusions  Selector     `json:"exclusions,omitzero" yaml:"exclusions,omitempty"`
	// Categories (positions 1–63) of the pool itself; an indirect
	// assignment reaches a user only if directory.Inherits allows it.
	Categories []int `json:"categories,omitempty" yaml:"categories,omitempty"`
	// SeatCap limits how many users the pool may hold at once; 0 = no cap.
	SeatCap int `json:"seatCap,omitempty" yaml:"seatCap,omitempty"`
	// Priority orders pools competing for the same seats: higher first.
	Priority int `json:"priority,omitempty" yaml:"priority,omitempty"`
	// Schedule is when the pool is evaluated (cron syntax); the engine
	// does not read it, the job scheduler does.
	Schedule string `json:"schedule,omitempty" yaml:"schedule,omitempty"`
	// RemovalApproval routes this pool's removals through approval.
	RemovalApproval bool `json:"removalApproval,omitempty" yaml:"removalApproval,omitempty"`
}

// BundleItem is one SKU (id or part number) with the service plans (ids or
// names) switched off.
type BundleItem struct {
	Sku           string   `json:"sku" yaml:"sku"`
	DisabledPlans []string `json:"disabledPlans,omitempty" yaml:"disabledPlans,omitempty"`
}

// Target is where a pool's decisions land: the membership of an Entra license
// group (group-based licensing; allot manages who is in it) or direct
// per-user assignLicense. Exactly one is set.
type Target struct {
	Group  string `json:"group,omitempty" yaml:"group,omitempty"`
	Direct bool   `json:"direct,omitempty" yaml:"direct,omitempty"`
}

// String renders the target as shown in plans.
func (t Target) String() string {
	if t.Direct {
		return "direct"
	}
	return "group " + t.Group
}

// Selector picks users. As assignments every field applies; as exclusions
// only groups, transitiveGroups, rules and users do.
type Selector struct {
	// Groups selects direct members; TransitiveGroups also members of
	// nested groups. Both by group id or unique display name.
	Groups           []string `json:"groups,omitempty" yaml:"groups,omitempty"`
	TransitiveGroups []string `json:"transitiveGroups,omitempty" yaml:"transitiveGroups,omitempty"`
	// Rules are Entra dynamic-membership rules.
	Rules []string `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Users by id or user principal name. As assignments these are direct
	// assignments: they ignore categories.
	Users []string `json:"users,omitempty" yaml:"users,omitempty"`
	// Categories selects users carrying any of these positions.
	Categories []int `json:"categories,omitempty" yaml:"categories,omitempty"`
	// Everyone selects every user in the tenant.
	Everyone bool `json:"everyone,omitempty" yaml:"everyone,omitempty"`
}

func (s Selector) empty() bool {
	return len(s.Groups) == 0 && len(s.TransitiveGroups) == 0 && len(s.Rules) == 0 &&
		len(s.Users) == 0 && len(s.Categories) == 0 && !s.Everyone
}

// MutualExclusion declares that membership in Group takes Excludes out of
// effect for the same user.
type MutualExclusion struct {
	Group    string `json:"group" yaml:"group"`
	Excludes string `json:"excludes" yaml:"excludes"`
}

// Price is a monthly price in minor units (cents) so sums are exact. It reads
// and writes as a decimal ("57.00").
type Price int64

// ParsePrice reads "57", "57.5" or "57.00" without going through floats.
func ParsePrice(s string) (Price, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("price %q: want a non-negative amount with at most two decimals", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<40 {
		return 0, fmt.Errorf("price %q: want a non-negative amount with at most two decimals", s)
	}
	var f int64
	if hasFrac {
		for len(frac) < 2 {
			frac += "0"
		}
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || f < 0 {
			return 0, fmt.Errorf("price %q: want a non-negative amount with at most two decimals", s)
		}
	}
	return Price(w*100 + f), nil
}

// String renders the price with two decimals, e.g. "57.00".
func (p Price) String() string {
	sign := ""
	v := int64(p)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalText writes the decimal form.
func (p Price) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads the decimal form.
func (p *Price) UnmarshalText(b []byte) error {
	v, err := ParsePrice(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalJSON writes the price as a JSON number with two decimals.
func (p Price) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON accepts a number or a string.
func (p *Price) UnmarshalJSON(b []byte) error {
	return p.UnmarshalText([]byte(strings.Trim(string(b), `"`)))
}

// Validate checks the policy on its own (no snapshot needed): required
// fields, categories in range, rule syntax, one target per pool, unique pool
// names and targets, and mutual-exclusion pairs that do not exclude each
// other. Every problem is reported, each with its field path.
func (p *Policy) Validate() error {
	v := &validator{}
	names := map[string]int{}
	targets := map[string]int{}
	for i := range p.Pools {
		pool := &p.Pools[i]
		at := fmt.Sprintf("pools[%d]", i)
		pool.validate(v, at)
		if pool.Name != "" {
			if j, dup := names[strings.ToLower(pool.Name)]; dup {
				v.add(at+".name", "pool name %q is already used by pools[%d]", pool.Name, j)
			} else {
				names[strings.ToLower(pool.Name)] = i
			}
		}
		if g := strings.ToLower(pool.Target.Group); g != "" {
			if j, dup := targets[g]; dup {
				v.add(at+".target.group", "group %q is already the target of pools[%d]; one pool manages a license group", pool.Target.Group, j)
			} else {
				targets[g] = i
			}
		}
	}
	pairs := map[[2]string]int{}
	for i, me := range p.MutuallyExclusive {
		at := fmt.Sprintf("mutuallyExclusive[%d]", i)
		g, x := strings.ToLower(strings.TrimSpace(me.Group)), strings.ToLower(strings.TrimSpace(me.Excludes))
		switch {
		case g == "":
			v.add(at+".group", "is required")
		case x == "":
			v.add(at+".excludes", "is required")
		case g == x:
			v.add(at+".excludes", "a group cannot exclude itself")
		default:
			if j, ok := pairs[[2]string{x, g}]; ok {
				v.add(at, "%q and %q would exclude each other (mutuallyExclusive[%d] already says %q excludes %q)", me.Group, me.Excludes, j, me.Excludes, me.Group)
			} else if j, ok := pairs[[2]string{g, x}]; ok {
				v.add(at, "duplicate of mutuallyExclusive[%d]", j)
			} else {
				pairs[[2]string{g, x}] = i
			}
		}
	}
	for _, k := range sortedKeys(p.Prices) {
		if p.Prices[k] < 0 {
			v.add("prices."+k, "must not be negative")
		}
	}
	if p.Constraints != nil {
		p.Constraints.validate(v)
	}
	return v.err()
}

func (pool *Pool) validate(v *validator, at string) {
	if strings.TrimSpace(pool.Name) == "" {
		v.add(at+".name", "is required")
	} else if strings.ContainsAny(pool.Name, "\x00\n\r\t") {
		v.add(at+".name", "must not contain control characters")
	}
	switch {
	case pool.Target.Direct && pool.Target.Group != "":
		v.add(at+".target", "set either group or direct, not both")
	case !pool.Target.Direct && strings.TrimSpace(pool.Target.Group) == "":
		v.add(at+".target", "is required: a license group (group: <id>) or direct: true")
	}
	if pool.Target.Direct && len(pool.Bundle) == 0 {
		v.add(at+".bundle", "a direct pool needs at least one SKU")
	}
	seen := map[string]bool{}
	for j, item := range pool.Bundle {
		ia := fmt.Sprintf("%s.bundle[%d]", at, j)
		if strings.TrimSpace(item.Sku) == "" {
			v.add(ia+".sku", "is required (SKU id or part number)")
		} else if seen[strings.ToLower(item.Sku)] {
			v.add(ia+".sku", "SKU %q appears twice in the bundle", item.Sku)
		}
		seen[strings.ToLower(item.Sku)] = true
		for k, dp := range item.DisabledPlans {
			if strings.TrimSpace(dp) == "" {
				v.add(fmt.Sprintf("%s.disabledPlans[%d]", ia, k), "must not be empty")
			}
		}
	}
	if pool.Assignments.empty() {
		v.add(at+".assignments", "is required: groups, transitiveGroups, rules, users, categories or everyone")
	}
	pool.Assignments.validate(v, at+".assignments", true)
	pool.Exclusions.validate(v, at+".exclusions", false)
	validCategories(v, at+".categories", pool.Categories)
	if pool.SeatCap < 0 {
		v.add(at+".seatCap", "must not be negative")
	}
}

func (s *Selector) validate(v *validator, at string, assignments bool) {
	list := func(name string, xs []string) {
		for i, x := range xs {
			if strings.TrimSpace(x) == "" {
				v.add(fmt.Sprintf("%s.%s[%d]", at, name, i), "must not be empty")
			}
		}
	}
	list("groups", s.Groups)
	list("transitiveGroups", s.TransitiveGroups)
	list("users", s.Users)
	for i, src := range s.Rules {
		if err := checkRule(src); err != nil {
			v.addErr(fmt.Sprintf("%s.rules[%d]", at, i), err)
		}
	}
	if !assignments {
		if s.Everyone {
			v.add(at+".everyone", "cannot exclude everyone; remove the pool instead")
		}
		if len(s.Categories) > 0 {
			v.add(at+".categories", "exclusions take groups, transitiveGroups, rules and users")
		}
		return
	}
	validCategories(v, at+".categories", s.Categories)
}

func validCategories(v *validator, at string, cs []int) {
	for i, c := range cs {
		if c < 1 || c > directory.MaxCategory {
			v.add(fmt.Sprintf("%s[%d]", at, i), "category %d out of range 1–%d", c, directory.MaxCategory)
		}
	}
}

func categoriesOf(cs []int) directory.Categories {
	c, _ := directory.CategoriesOf(cs...) // validated earlier
	return c
}

// validator collects field errors.
type validator struct{ errs []*FieldError }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) addErr(path string, err error) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: err.Error(), Err: err})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errs: v.errs}
}
