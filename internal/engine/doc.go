// Package engine decides who should hold which license and what would change.
//
// It owns the in-memory snapshot of a tenant (dense uint32 user indexes in
// user-id order, columnar user attributes, roaring bitmaps for group members
// and transitive membership, value indexes for rules), license pools and the
// policy document that declares them, the resultant assignment of every pool,
// seat accounting, the plan (adds, removals, updates, blocked, other holders)
// and its monthly cost.
//
// The engine is pure: it performs no I/O and never reads the clock. The
// caller streams directory state into a Builder (users and groups first),
// passes the evaluation time to Build, and gets a Plan that is byte-identical
// for identical inputs, whatever order they arrived in:
//
//	b := engine.NewBuilder()
//	b.AddUser(&u) … b.AddGroup(&g) … b.AddSku(&s) … b.AddMembership(m) …
//	b.AddLicenseState(&l) … b.AddGrant(engine.Grant{…})
//	snap := b.Build(now)
//	policy, err := engine.ParsePolicy("pools.yaml", data) // or json.Unmarshal
//	plan, err := engine.Evaluate(snap, policy)
//	plan.WriteText(os.Stdout, engine.RenderOptions{}) // or plan.WriteJSON
//
// A policy document (YAML; JSON is accepted too):
//
//	currency: USD
//	prices: {ENTERPRISEPACK: 23.00}          # override the SKU's own price
//	mutuallyExclusive:
//	  - {group: LIC E5, excludes: LIC E3}    # One Identity Manager semantics
//	pools:
//	  - name: e3-sales
//	    target: {group: LIC E3}              # or {direct: true} with a bundle
//	    assignments:
//	      groups: [Sales team]               # direct members
//	      transitiveGroups: [R&D]            # members of nested groups too
//	      rules: ['user.department -eq "Marketing"']
//	      users: [ceo@contoso.com]           # direct: ignores categories
//	      categories: [3]
//	      everyone: false
//	    exclusions: {groups: [Leavers], rules: ['user.accountEnabled -eq false']}
//	    categories: [1, 2]
//	    seatCap: 500
//	    priority: 10                         # higher wins scarce seats
//	    removalApproval: true
//	  - name: visio
//	    target: {direct: true}
//	    bundle: [{sku: VISIOCLIENT, disabledPlans: [VISIOONLINE]}]
//	    assignments: {users: [ana@contoso.com]}
//
// Semantics follow DESIGN.md §4: resultant = (union of assignments) − (union
// of exclusions), after categories and mutually exclusive groups are applied,
// limited by seats (higher priority first, then longest holders, then user
// id). A pool removes only what it granted (the ownership record, Grant);
// other holders are reported, never removed. Engine.ReplanUser re-plans one
// changed user against the last full plan without re-evaluating the tenant.
package engine
