package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
)

func init() {
	var users, pools, replans int
	var cpuProfile, memProfile string
	registerBench("engine", benchScenario{
		short: "Evaluate license pools over a synthetic tenant and plan; re-plan single users",
		flags: func(cmd *cobra.Command) {
			cmd.Flags().IntVar(&users, "users", 1_000_000, "users in the synthetic tenant")
			cmd.Flags().IntVar(&pools, "pools", 100, "license pools")
			cmd.Flags().IntVar(&replans, "replans", 200, "single users to re-plan")
			cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile, taken after the re-plans, to this file")
			cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the measured part (snapshot, plan, re-plans) to this file")
		},
		run: func(cmd *cobra.Command, c *cli) (benchResult, error) {
			if users < 100 || pools < 1 || replans < 1 {
				return benchResult{}, fmt.Errorf("want --users ≥ 100, --pools ≥ 1, --replans ≥ 1")
			}
			return benchEngine(synthTenant{users: users, pools: pools}, replans, cpuProfile, memProfile)
		},
	})
}

// benchEngine measures DESIGN.md §8 "engine": a steady-state tenant (the
// directory already matches 97 % of what the pools want, with drift, stale
// grants and manual holders) is planned in full, then single movers are
// re-planned. Peak RSS is the high-water mark from the snapshot build on
// (the set-up that derives the steady state runs first and is excluded by
// resetting the kernel's counter).
func benchEngine(t synthTenant, replans int, cpuProfile, memProfile string) (benchResult, error) {
	policy := t.policy()
	steady, err := t.steadyState(policy)
	if err != nil {
		return benchResult{}, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM

	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return benchResult{}, err
	}
	defer stopProfile()
	start := time.Now()
	snap := t.snapshot(steady, true)
	snapSeconds := time.Since(start).Seconds()
	buildPeak := peakRSSMB()

	start, cpu := time.Now(), cpuTime()
	e, err := engine.New(snap, policy)
	if err != nil {
		return benchResult{}, err
	}
	plan := e.Plan()
	totals, delta := plan.Totals, plan.MonthlyDelta
	planSeconds, planCPU := time.Since(start).Seconds(), (cpuTime() - cpu).Seconds()
	planPeak := peakRSSMB()

	plan = nil // a caller keeps one plan at a time
	start, cpu = time.Now(), cpuTime()
	again := e.Plan()
	warmSeconds, warmCPU := time.Since(start).Seconds(), (cpuTime() - cpu).Seconds()
	if again.Totals != totals {
		return benchResult{}, fmt.Errorf("a second plan over the same snapshot differs: %+v vs %+v", again.Totals, totals)
	}

	// Movers: a user changes department (and so department group).
	durs := make([]time.Duration, 0, replans)
	cpu = cpuTime()
	changes := 0
	for k := range replans {
		i := uint32((uint64(k)*2654435761 + 12345) % uint64(t.users))
		u := t.user(i)
		u.Department = departments[(t.dept(i)+1+k%7)%len(departments)]
		memberOf := t.staticGroups(i, u.Department)
		for _, g := range t.licenseGroupIDs() {
			if snap.Members(g).Contains(i) {
				memberOf = append(memberOf, g)
			}
		}
		start := time.Now()
		up, err := e.ReplanUser(&u, memberOf)
		durs = append(durs, time.Since(start))
		if err != nil {
			return benchResult{}, err
		}
		changes += len(up.Adds) + len(up.Removals) + len(up.Blocked)
	}
	replanCPU := cpuTime() - cpu
	slices.Sort(durs)
	var total time.Duration
	for _, d := range durs {
		total += d
	}
	if memProfile != "" {
		runtime.GC()
		f, err := os.Create(memProfile)
		if err != nil {
			return benchResult{}, err
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			return benchResult{}, err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(snap)

	return benchResult{
		Scenario: "engine",
		Params:   map[string]any{"users": t.users, "pools": t.pools, "replans": replans, "gomaxprocs": runtime.GOMAXPROCS(0)},
		Metrics: map[string]any{
			"plan_seconds":          round3(planSeconds),
			"plan_warm_seconds":     round3(warmSeconds),
			"plan_cpu_seconds":      round3(planCPU),
			"plan_warm_cpu_seconds": round3(warmCPU),
			"replan_cpu_ms":         round3(float64(replanCPU.Microseconds()) / float64(len(durs)) / 1000),
			"snapshot_seconds":      round3(snapSeconds),
			"replan_ms":             round3(float64(total.Microseconds()) / float64(len(durs)) / 1000),
			"replan_p99_ms":         round3(float64(durs[len(durs)*99/100].Microseconds()) / 1000),
			"replan_max_ms":         round3(float64(durs[len(durs)-1].Microseconds()) / 1000),
			"replan_changes":        changes,
			"peak_rss_mb":           peakRSSMB(),
			"peak_rss_build_mb":     buildPeak,
			"peak_rss_plan_mb":      planPeak,
			"heap_inuse_mb":         ms.HeapInuse >> 20,
			"adds":                  totals.Adds,
			"removals":              totals.Removals,
			"updates":               totals.Updates,
			"blocked":               totals.Blocked,
			"unchanged":             totals.Unchanged,
			"monthly_delta":         delta.String(),
			"memberships":           snap.Stats().Memberships,
			"license_states":        snap.Stats().LicenseStates,
		},
	}, nil
}

// synthTenant generates a realistic tenant deterministically from user
// indexes, so the same user can be regenerated instead of stored.
type synthTenant struct {
	users, pools int
}

var (
	departments = []string{"Sales", "Engineering", "Operations", "Finance", "Marketing", "Support", "Legal", "HR",
		"IT", "Research", "Manufacturing", "Logistics", "Procurement", "Customer Success", "Product", "Design",
		"Security", "Facilities", "Quality", "Training", "Sales Ops", "Partner", "Field Service", "Retail",
		"Data", "Platform", "Mobile", "Web", "Treasury", "Tax", "Audit", "Communications", "Strategy",
		"Compliance", "Risk", "Analytics", "Infrastructure", "Hardware", "Services", "Consulting"}
	countries = []string{"US", "GB", "DE", "FR", "NL", "SE", "ES", "IT", "PL", "IE", "CA", "MX", "BR", "IN", "JP",
		"AU", "SG", "CH", "AT", "BE"}
	regions   = []string{"Americas", "EMEA", "APAC", "Nordics"}
	titles    = []string{"Engineer", "Senior Engineer", "Manager", "Senior Manager", "Analyst", "Senior Analyst", "Director", "Specialist", "Associate", "Consultant", "Senior Consultant", "Technician", "Administrator", "Coordinator", "Lead"}
	companies = []string{"Contoso Ltd", "Contoso GmbH", "Fabrikam Inc", "Northwind Traders", "Tailspin Toys"}
)

const projectGroups = 5000

// mix is splitmix64: a fast, well-distributed hash for per-user choices.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func pick(i uint32, salt uint64, n int) int { return int(mix(uint64(i)<<8^salt) % uint64(n)) }

func pct(i uint32, salt uint64) int { return pick(i, salt, 100) }

func userID(i uint32) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, uint64(i)*7919) }

func (t synthTenant) dept(i uint32) int {
	// Skewed: the first departments are much larger, as in real tenants.
	a, b := pick(i, 1, len(departments)), pick(i, 2, len(departments))
	return min(a, b)
}

func (t synthTenant) user(i uint32) directory.User {
	country := countries[min(pick(i, 3, len(countries)), pick(i, 4, len(countries)))]
	u := directory.User{
		ID:                userID(i),
		UserPrincipalName: fmt.Sprintf("user%07d@contoso.com", i),
		DisplayName:       fmt.Sprintf("User %d", i),
		Department:        departments[t.dept(i)],
		JobTitle:          titles[pick(i, 5, len(titles))],
		CompanyName:       companies[pick(i, 6, len(companies))],
		Country:           country,
		UsageLocation:     country,
		UserType:          "Member",
		AccountEnabled:    pct(i, 7) >= 3,
	}
	u.Mail = u.UserPrincipalName
	if pct(i, 8) < 2 {
		u.UsageLocation = ""
	}
	if pct(i, 9) < 5 {
		u.UserType = "Guest"
	}
	u.ExtensionAttributes[0] = fmt.Sprintf("CC%03d", pick(i, 10, 500))
	u.ExtensionAttributes[1] = "FTE"
	if pct(i, 11) < 20 {
		u.ExtensionAttributes[1] = "Contractor"
	}
	if pct(i, 12) < 20 {
		u.Categories = directory.Categories(1) << pick(i, 13, 4)
	}
	return u
}

// Static groups: department, country, region (nests countries), all
// employees (nests regions), cost centers, projects, leavers.
func deptGroup(d string) string {
	return "grp-dept-" + strings.ToLower(strings.ReplaceAll(d, " ", "-"))
}
func countryGroup(c string) string { return "grp-country-" + strings.ToLower(c) }
func regionGroup(r string) string  { return "grp-region-" + strings.ToLower(r) }
func ccGroup(cc string) string     { return "grp-cc-" + strings.ToLower(cc) }
func projectGroup(p int) string    { return fmt.Sprintf("grp-project-%04d", p) }
func licenseGroup(k int) string    { return fmt.Sprintf("grp-license-%03d", k) }

const leaversGroup = "grp-leavers"

func (t synthTenant) staticGroups(i uint32, dept string) []string {
	u := t.user(i)
	gs := []string{deptGroup(dept), countryGroup(u.Country), ccGroup(u.ExtensionAttributes[0])}
	for k := range 3 {
		gs = append(gs, projectGroup(pick(i, 20+uint64(k), projectGroups)))
	}
	if pct(i, 30) < 1 {
		gs = append(gs, leaversGroup)
	}
	return gs
}

func (t synthTenant) groups() []directory.Group {
	var gs []directory.Group
	add := func(id, name string) {
		gs = append(gs, directory.Group{ID: id, DisplayName: name, SecurityEnabled: true})
	}
	for _, d := range departments {
		add(deptGroup(d), "Department "+d)
	}
	for _, c := range countries {
		add(countryGroup(c), "Country "+c)
	}
	for _, r := range regions {
		add(regionGroup(r), "Region "+r)
	}
	add("grp-all", "All employees")
	for cc := range 500 {
		add(ccGroup(fmt.Sprintf("CC%03d", cc)), fmt.Sprintf("Cost center CC%03d", cc))
	}
	for p := range projectGroups {
		add(projectGroup(p), fmt.Sprintf("Project %04d", p))
	}
	add(leaversGroup, "Leavers")
	for k := range t.pools {
		if k%10 == 0 || k%10 == 4 || k%10 == 7 {
			g := directory.Group{ID: licenseGroup(k), DisplayName: fmt.Sprintf("License group %03d", k), SecurityEnabled: true}
			g.AssignedLicenses = []directory.AssignedLicense{{SkuID: synthSkus[groupSku(k)].id, DisabledPlans: []string{}}}
			gs = append(gs, g)
		}
	}
	return gs
}

func (t synthTenant) licenseGroupIDs() []string {
	var out []string
	for k := range t.pools {
		if k%10 == 0 || k%10 == 4 || k%10 == 7 {
			out = append(out, licenseGroup(k))
		}
	}
	return out
}

func groupSku(k int) int {
	switch k % 10 {
	case 0:
		return 0 // E3
	case 4:
		return 4 // EMS
	}
	return 8 // Project
}

type synthSku struct {
	id, part string
	price    string
	plans    []string
	tight    bool // fewer seats than wanted: blocked adds
}

var synthSkus = []synthSku{
	{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "23.00", []string{"EXCHANGE_S_ENTERPRISE", "TEAMS1", "SHAREPOINTENTERPRISE", "OFFICESUBSCRIPTION", "YAMMER_ENTERPRISE"}, false},
	{"c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM", "38.00", []string{"EXCHANGE_S_ENTERPRISE", "TEAMS1", "SHAREPOINTENTERPRISE", "OFFICESUBSCRIPTION", "MCOEV", "ATP_ENTERPRISE"}, false},
	{"f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER_BI_PRO", "10.00", []string{"BI_AZURE_P2"}, false},
	{"4b585984-651b-448a-9e53-3b10f069cf7f", "DESKLESSPACK", "8.00", []string{"EXCHANGE_S_DESKLESS", "TEAMS1", "SHAREPOINTDESKLESS"}, false},
	{"efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS", "10.60", []string{"AAD_PREMIUM", "INTUNE_A", "RMS_S_PREMIUM"}, false},
	{"c5928f49-12ba-48f7-ada3-0d743a3601d5", "VISIOCLIENT", "15.00", []string{"VISIO_CLIENT_SUBSCRIPTION", "VISIOONLINE"}, true},
	{"e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MCOEV", "8.00", []string{"MCOEV"}, false},
	{"4b9405b0-7788-4568-add1-99614e613b69", "EXCHANGESTANDARD", "4.00", []string{"EXCHANGE_S_STANDARD"}, false},
	{"53818b1b-4a27-454b-8896-0dba576410e6", "PROJECTPROFESSIONAL", "30.00", []string{"PROJECT_PROFESSIONAL", "SHAREPOINTWAC"}, true},
}

func planID(part, name string) string {
	h := mix(uint64(len(name))*1315423911 ^ hashString(name))
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>48)&0xfff, uint16(h>>20)&0xfff, h&0xffffffffffff)
}

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// policy builds --pools pools from ten realistic templates.
func (t synthTenant) policy() *engine.Policy {
	p := &engine.Policy{Currency: "USD"}
	for k := range t.pools {
		d := departments[k%len(departments)]
		c := countries[k%len(countries)]
		pool := engine.Pool{Name: fmt.Sprintf("pool-%03d", k), Priority: k % 4}
		direct := func(sku int, disabled ...string) {
			pool.Target = engine.Target{Direct: true}
			pool.Bundle = []engine.BundleItem{{Sku: synthSkus[sku].part, DisabledPlans: disabled}}
		}
		switch k % 10 {
		case 0: // department E3 through a license group
			pool.Target = engine.Target{Group: licenseGroup(k)}
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.department -eq "%s" -and user.accountEnabled -eq true`, d)}
			pool.Exclusions.Groups = []string{leaversGroup}
		case 1: // E5 for senior staff of a department
			direct(1)
			pool.Priority = 10
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.department -eq "%s" -and user.jobTitle -startsWith "Senior"`, d)}
		case 2: // E3 by country, members only, without Yammer
			direct(0, "YAMMER_ENTERPRISE")
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.country -eq "%s" -and user.userType -eq "Member"`, c)}
			pool.Exclusions.Rules = []string{`user.accountEnabled -eq false`}
			pool.Exclusions.Groups = []string{leaversGroup}
		case 3: // Power BI for a set of cost centers
			direct(2)
			ccs := make([]string, 10)
			for j := range ccs {
				ccs[j] = fmt.Sprintf(`"CC%03d"`, (k*10+j)%500)
			}
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.extensionAttribute1 -in [%s]`, strings.Join(ccs, ","))}
		case 4: // EMS for a region (nested groups) through a license group
			pool.Target = engine.Target{Group: licenseGroup(k)}
			pool.Assignments.TransitiveGroups = []string{regionGroup(regions[k%len(regions)])}
			pool.Categories = []int{1 + k%4}
		case 5: // Visio for named users, capped
			direct(5)
			for j := range 300 {
				pool.Assignments.Users = append(pool.Assignments.Users, userID(uint32((k*7919+j*104729)%t.users)))
			}
			pool.SeatCap = 250
		case 6: // F3 for contractors of one company
			direct(3)
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.extensionAttribute2 -eq "Contractor" -and user.companyName -eq "%s"`, companies[k%len(companies)])}
			pool.Categories = []int{2}
		case 7: // Project for members of project groups, through a license group
			pool.Target = engine.Target{Group: licenseGroup(k)}
			for j := range 20 {
				pool.Assignments.Groups = append(pool.Assignments.Groups, projectGroup((k*31+j)%projectGroups))
			}
			pool.RemovalApproval = true
		case 8: // Teams Phone for sales in two countries
			direct(6)
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.usageLocation -in ["%s","GB"] -and user.department -eq "Sales"`, c)}
		case 9: // Exchange Plan 1 for guests' sponsors… and kiosk staff by title prefix
			direct(7)
			pool.Assignments.Rules = []string{fmt.Sprintf(`user.jobTitle -eq "Technician" -and user.country -eq "%s"`, c)}
			pool.RemovalApproval = true
		}
		p.Pools = append(p.Pools, pool)
	}
	// A few mutually exclusive license groups (E3 group excludes the
	// Project group of the same decade).
	for k := 0; k+7 < t.pools; k += 30 {
		p.MutuallyExclusive = append(p.MutuallyExclusive, engine.MutualExclusion{Group: licenseGroup(k), Excludes: licenseGroup(k + 7)})
	}
	return p
}

// hold is one license a synthetic user holds, and the pool that granted it.
type hold struct {
	user     uint32
	sku      int
	group    string
	pool     string
	disabled string // the plan the pool's bundle switches off
}

// steady is the directory state the bench plans against.
type steady struct {
	wanted []*roaring.Bitmap // per pool: the resultant on an empty tenant
}

// steadyState plans once on a tenant where nobody holds anything, to learn
// what every pool wants; the measured tenant then holds 97 % of it.
func (t synthTenant) steadyState(policy *engine.Policy) (*steady, error) {
	snap := t.snapshot(nil, false)
	e, err := engine.New(snap, policy)
	if err != nil {
		return nil, err
	}
	plan := e.Plan()
	st := &steady{}
	for i := range plan.Pools {
		st.wanted = append(st.wanted, plan.Pools[i].Users())
	}
	return st, nil
}

// snapshot streams the tenant into a Builder. With st it also adds the
// license state (97 % of what pools want, stale grants, manual holders).
func (t synthTenant) snapshot(st *steady, withState bool) *engine.Snapshot {
	b := engine.NewBuilder()
	for i := range uint32(t.users) {
		u := t.user(i)
		b.AddUser(&u)
	}
	groups := t.groups()
	for k := range groups {
		b.AddGroup(&groups[k])
	}
	policy := t.policy()
	// The license state is streamed twice (seat counts first, since SKUs
	// precede license rows) rather than held: at a million users a slice of
	// rows would dwarf the snapshot itself.
	members := map[string]*roaring.Bitmap{}
	eachHold := func(func(h hold)) {}
	if withState {
		kept := make([]*roaring.Bitmap, len(policy.Pools))
		for k := range policy.Pools {
			want := st.wanted[k]
			kb := roaring.New()
			for it := want.Iterator(); it.HasNext(); {
				if u := it.Next(); pct(u, 40+uint64(k)) >= 3 {
					kb.Add(u)
				}
			}
			// Stale grants: held and granted, no longer wanted.
			for j := range max(1, t.users/20000) {
				if u := uint32(pick(uint32(j), 50+uint64(k), t.users)); !want.Contains(u) {
					kb.Add(u)
				}
			}
			kept[k] = kb
			if g := policy.Pools[k].Target.Group; g != "" {
				members[g] = kb
			}
		}
		eachHold = func(f func(h hold)) {
			for k, pool := range policy.Pools {
				h := hold{pool: pool.Name, group: pool.Target.Group}
				if h.group != "" {
					h.sku = groupSku(k)
				} else {
					h.sku = slices.IndexFunc(synthSkus, func(s synthSku) bool { return s.part == pool.Bundle[0].Sku })
					if d := pool.Bundle[0].DisabledPlans; len(d) > 0 {
						h.disabled = d[0]
					}
				}
				for it := kept[k].Iterator(); it.HasNext(); {
					h.user = it.Next()
					f(h)
				}
			}
			// Manual holders of Exchange Plan 1, unknown to any pool.
			for j := range t.users / 200 {
				f(hold{user: uint32(pick(uint32(j), 60, t.users)), sku: 7})
			}
		}
	}
	consumed := make([]*roaring.Bitmap, len(synthSkus))
	for k := range consumed {
		consumed[k] = roaring.New()
	}
	eachHold(func(h hold) { consumed[h.sku].Add(h.user) })
	for k, s := range synthSkus {
		used := int(consumed[k].GetCardinality())
		prepaid := used + used/10 + 500
		if !withState {
			prepaid = t.users // learning what pools want: no seat limits
		} else if s.tight {
			prepaid = used + 20
		}
		price, _ := engine.ParsePrice(s.price)
		sku := directory.Sku{SkuID: s.id, SkuPartNumber: s.part, CapabilityStatus: "Enabled", AppliesTo: "User",
			ConsumedUnits: used, PrepaidEnabled: prepaid, MonthlyPriceCents: int64(price), Currency: "USD"}
		for _, pn := range s.plans {
			sku.ServicePlans = append(sku.ServicePlans, directory.ServicePlan{ServicePlanID: planID(s.part, pn), ServicePlanName: pn, AppliesTo: "User"})
		}
		b.AddSku(&sku)
	}
	// Memberships.
	for i := range uint32(t.users) {
		for _, g := range t.staticGroups(i, departments[t.dept(i)]) {
			b.AddMembership(directory.Membership{GroupID: g, MemberID: userID(i), MemberType: directory.MemberUser})
		}
	}
	for j, c := range countries {
		b.AddMembership(directory.Membership{GroupID: regionGroup(regions[j%len(regions)]), MemberID: countryGroup(c), MemberType: directory.MemberGroup})
	}
	for _, r := range regions {
		b.AddMembership(directory.Membership{GroupID: "grp-all", MemberID: regionGroup(r), MemberType: directory.MemberGroup})
	}
	gids := make([]string, 0, len(members))
	for g := range members {
		gids = append(gids, g)
	}
	sort.Strings(gids)
	for _, g := range gids {
		for it := members[g].Iterator(); it.HasNext(); {
			b.AddMembership(directory.Membership{GroupID: g, MemberID: userID(it.Next()), MemberType: directory.MemberUser})
		}
	}
	// License states and grants.
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	eachHold(func(h hold) {
		ls := directory.LicenseState{UserID: userID(h.user), SkuID: synthSkus[h.sku].id, AssignedByGroup: h.group, State: directory.StateActive}
		if h.disabled != "" && pct(h.user, 80) > 0 { // 1 % drifted from the bundle's disabled plans
			ls.DisabledPlans = []string{planID(synthSkus[h.sku].part, h.disabled)}
		}
		b.AddLicenseState(&ls)
		if h.pool == "" {
			return
		}
		g := engine.Grant{Pool: h.pool, UserID: ls.UserID, Since: since.AddDate(0, 0, pick(h.user, 70, 700))}
		if h.group != "" {
			g.GroupID = h.group
		} else {
			g.SkuID = ls.SkuID
		}
		b.AddGrant(g)
	})
	return b.Build(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
}

// startCPUProfile profiles until the returned stop is called ("" = off).
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
