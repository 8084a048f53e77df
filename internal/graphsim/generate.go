package graphsim

import (
	"encoding/base64"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// generator builds a tenant deterministically from a seed. All randomness
// comes from one PCG stream consumed in a fixed order.
type generator struct {
	rng       *rand.Rand
	t         *tenant
	now       time.Time
	skuByPart map[string]int16
}

// newUUID draws a version-4 GUID from the generator's stream, so ids repeat
// for the same seed.
func newUUID(rng *rand.Rand) string {
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	var b [36]byte
	const hex = "0123456789abcdef"
	put := func(off int, v uint64, n int) {
		for k := n - 1; k >= 0; k-- {
			b[off+k] = hex[v&0xf]
			v >>= 4
		}
	}
	put(0, hi>>32, 8)
	b[8] = '-'
	put(9, hi>>16&0xffff, 4)
	b[13] = '-'
	put(14, hi&0xffff, 4)
	b[18] = '-'
	put(19, lo>>48, 4)
	b[23] = '-'
	put(24, lo&0xffffffffffff, 12)
	return string(b[:])
}

func weighted[T any](rng *rand.Rand, items []T, weight func(T) int) int {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rng.IntN(total)
	for i, it := range items {
		n -= weight(it)
		if n < 0 {
			return i
		}
	}
	return len(items) - 1
}

// userPlan is what the generator intends a user to hold before seats are
// known: direct licenses and license-group memberships.
type userPlan struct {
	direct []int16
	groups []int // index into licenseGroupSpecs
}

// licenseGroupSpecs are the group-based licensing groups of the tenant, in
// the order Entra processed them (base suites before add-ons).
var licenseGroupSpecs = []struct{ name, part, desc string }{
	{"LIC - Microsoft 365 E3", "SPE_E3", "Group-based licensing: Microsoft 365 E3 for knowledge workers"},
	{"LIC - Microsoft 365 E5", "SPE_E5", "Group-based licensing: Microsoft 365 E5 for IT, finance and legal"},
	{"LIC - Power BI Pro", "POWER_BI_PRO", "Group-based licensing: Power BI Pro"},
	{"LIC - Visio Plan 2", "VISIOCLIENT", "Group-based licensing: Visio Plan 2"},
	{"LIC - Teams Exploratory", "TEAMS_EXPLORATORY", "Group-based licensing: Teams Exploratory trial"},
}

func generate(cfg Config) (*tenant, error) {
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15))
	now := cfg.Now().UTC().Truncate(time.Second)
	tn := tenantNames[rng.IntN(len(tenantNames))]
	t := &tenant{
		id:                   newUUID(rng),
		domain:               tn.prefix + ".onmicrosoft.com",
		orgName:              tn.org,
		defaultUsageLocation: tn.country,
		created:              now.AddDate(-7, 0, 0),
		skuIdx:               map[string]int{},
		groupByID:            make(map[string]int32, cfg.Groups),
	}
	t.userByID = newKeyIndex(cfg.Users, func(i int32) string { return t.users[i].id })
	t.userByUPN = newKeyIndex(cfg.Users, func(i int32) string { return t.users[i].upn })
	for _, p := range cat {
		t.skuIdx[p.skuID] = len(t.skus)
		t.skus = append(t.skus, sku{p: p, capability: "Enabled", subscriptionID: newUUID(rng), appliesTo: "User"})
	}
	g := &generator{rng: rng, t: t, now: now, skuByPart: map[string]int16{}}
	for k := range t.skus {
		g.skuByPart[t.skus[k].p.partNumber] = int16(k)
	}
	defer holdGC(int64(max(cfg.Users, 100_000)) * 1600)()
	plans := g.users(cfg.Users)
	g.groups(cfg.Groups, plans)
	// Generation is the tenant's starting point: every object is "as of
	// seq 1", so the first delta round returns everything once.
	t.seq = 1
	for i := range t.users {
		t.users[i].ver = 1
	}
	for i := range t.groups {
		t.groups[i].ver = 1
		t.groups[i].events = nil
	}
	return t, nil
}

func (g *generator) skuOf(part string) int16 {
	if k, ok := g.skuByPart[part]; ok {
		return k
	}
	panic("graphsim: catalogue lacks " + part) // the embedded CSV is fixed; a miss is a build bug
}

// digits formats n zero-padded to width without fmt's allocations.
func digits(n, width int) string {
	var b [20]byte
	i := len(b)
	for n > 0 || len(b)-i < width {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func (g *generator) users(n int) []userPlan {
	t, rng := g.t, g.rng
	t.users = make([]user, 0, n)
	plans := make([]userPlan, n)
	seen := make(map[string]int, n/4+16)
	deptManagers := make([][]int32, len(departments))
	for i := 0; i < n; i++ {
		u := user{manager: -1, id: newUUID(rng), accountEnabled: true, userType: "Member"}
		gn := givenNames[rng.IntN(len(givenNames))]
		sn := surnames[rng.IntN(len(surnames))]
		u.givenName, u.surname = gn, sn
		u.displayName = gn + " " + sn
		base := asciiLower(gn) + "." + asciiLower(sn)
		seen[base]++
		if k := seen[base]; k > 1 {
			base += strconv.Itoa(k)
		}
		c := &countries[weighted(rng, countries, func(c country) int { return c.weight })]
		r := rng.Float64()
		u.created = g.now.Add(-time.Duration(rng.IntN(2400*24)) * time.Hour).Unix()
		switch {
		case r < 0.06 && n >= 20: // guest
			ext := externalDomains[rng.IntN(len(externalDomains))]
			u.userType = "Guest"
			u.mail = base + "@" + ext
			u.upn = base + "_" + ext + "#EXT#@" + t.domain
			u.mailNickname = base + "_" + ext + "#EXT#"
			u.creationType = "Invitation"
			u.externalUserState = "Accepted"
			if rng.IntN(10) == 0 {
				u.externalUserState = "PendingAcceptance"
			}
			if rng.IntN(2) == 0 {
				u.usageLocation = c.code
			}
			u.companyName = strings.ToUpper(ext[:1]) + ext[1:strings.IndexByte(ext, '.')]
		case r < 0.07 && n >= 50: // shared mailbox account
			name := teamWords[rng.IntN(len(teamWords))] + " " + []string{"Info", "Helpdesk", "Invoices", "Bookings", "Careers", "Press"}[rng.IntN(6)]
			u.displayName = name
			u.givenName, u.surname = "", ""
			base = "shared." + asciiLower(strings.ReplaceAll(name, " ", ".")) + strconv.Itoa(i)
			u.upn = base + "@" + t.domain
			u.mail, u.mailNickname = u.upn, base
			u.accountEnabled = false
			u.mailbox = mbShared
			u.usageLocation = c.code
			if rng.IntN(10) == 0 { // large shared mailbox: needs Exchange Online Plan 1
				plans[i].direct = append(plans[i].direct, g.skuOf("EXCHANGESTANDARD"))
			}
		default:
			g.member(&u, i, base, c, &plans[i], deptManagers)
		}
		idx := int32(len(t.users))
		t.users = append(t.users, u)
		t.userByID.set(u.id, idx)
		t.userByUPN.set(u.upn, idx)
	}
	// Seats: enough for what was planned, with a few SKUs nearly or
	// completely exhausted so plans and group licensing hit limits.
	demand := make([]int, len(t.skus))
	for i := range plans {
		var held [64]bool // SKU indexes; the catalogue has a dozen
		for _, s := range plans[i].direct {
			held[s] = true
		}
		for _, lg := range plans[i].groups {
			held[g.skuOf(licenseGroupSpecs[lg].part)] = true
		}
		for s := range demand {
			if held[s] {
				demand[s]++
			}
		}
	}
	for s := range t.skus {
		d := demand[s]
		sk := &t.skus[s]
		switch sk.p.partNumber {
		case "SPE_E3":
			sk.enabled = d + 1 + d/500 // nearly exhausted
		case "VISIOCLIENT":
			sk.enabled = d - max(1, d/15) // over-subscribed: CountViolation in the license group
		case "PROJECTPROFESSIONAL":
			sk.enabled = d // exactly exhausted
			sk.warning = 2
		case "POWER_BI_PRO":
			sk.enabled = d + 2
		case "TEAMS_EXPLORATORY", "POWER_BI_STANDARD":
			sk.enabled = 1000000
		case "FLOW_FREE":
			sk.enabled = 10000
		case "AAD_PREMIUM":
			sk.enabled = 25 + d
		default:
			sk.enabled = d + max(3, d/10)
		}
		sk.enabled = max(sk.enabled, 0)
	}
	for i := range plans {
		if len(plans[i].direct) == 0 {
			continue
		}
		ls := make([]lic, 0, len(plans[i].direct))
		for _, s := range plans[i].direct {
			if t.skus[s].consumed >= t.skus[s].enabled || slices.ContainsFunc(ls, func(l lic) bool { return l.sku == s }) {
				continue
			}
			ls = append(ls, lic{sku: s, group: -1, updated: g.licenseDate(&t.users[i])})
		}
		t.setLicenses(int32(i), ls)
	}
	return plans
}

func (g *generator) licenseDate(u *user) int64 {
	return u.created + int64(g.rng.IntN(3*24*3600))
}

// member fills in an employee: department, title, location, manager,
// sign-in history and the licenses they are meant to hold.
func (g *generator) member(u *user, i int, base string, c *country, p *userPlan, deptManagers [][]int32) {
	t, rng := g.t, g.rng
	u.upn = base + "@" + t.domain
	u.mail = u.upn
	u.mailNickname = base
	di := weighted(rng, departments, func(d department) int { return d.weight })
	d := &departments[di]
	u.department = d.name
	u.extensionAttribute1 = d.costCentr
	u.companyName = t.orgName
	u.country = c.name
	u.usageLocation = c.code
	if rng.IntN(50) == 0 {
		u.usageLocation = "" // a few users were never given one
	}
	u.preferredLanguage = c.lang
	u.city = c.cities[rng.IntN(len(c.cities))]
	u.officeLocation = u.city + " " + strconv.Itoa(1+rng.IntN(40)) + "/" + strconv.Itoa(1000+rng.IntN(3000))
	u.businessPhone = c.phone + digits(rng.IntN(10000), 4)
	if rng.IntN(3) == 0 {
		u.mobilePhone = c.phone + digits(rng.IntN(10000), 4)
	}
	u.employeeID = digits(100000+i, 6)
	u.employeeType = "Employee"
	if rng.IntN(7) == 0 {
		u.employeeType = "Contractor"
	}
	u.hireDate = u.created
	if rng.IntN(5) < 2 {
		u.onPremSync = true
		var b [16]byte
		for k := range b {
			b[k] = byte(rng.UintN(256))
		}
		u.onPremImmutableID = base64.StdEncoding.EncodeToString(b[:])
	}
	mgrs := deptManagers[di]
	switch {
	case len(mgrs) == 0:
		u.jobTitle = "Head of " + d.name
		deptManagers[di] = append(mgrs, int32(i))
	case rng.IntN(9) == 0:
		u.jobTitle = d.manager
		u.manager = mgrs[0]
		deptManagers[di] = append(mgrs, int32(i))
	default:
		u.jobTitle = d.titles[rng.IntN(len(d.titles))]
		u.manager = mgrs[rng.IntN(len(mgrs))]
	}
	// Sign-in activity: most are active, some never signed in, some have
	// been inactive for months.
	day := int64(24 * 3600)
	nowU := g.now.Unix()
	switch r := rng.IntN(100); {
	case r < 7:
		if rng.IntN(2) == 0 {
			u.created = nowU - int64(rng.IntN(30))*day // recent joiner
			u.hireDate = u.created
		}
	case r < 19:
		u.lastSignIn = nowU - (90+int64(rng.IntN(300)))*day - int64(rng.IntN(int(day)))
	default:
		u.lastSignIn = nowU - int64(rng.IntN(30))*day - int64(rng.IntN(int(day)))
	}
	if u.lastSignIn != 0 {
		u.lastSignIn = max(u.lastSignIn, u.created+day)
		u.lastNonInteractive = min(nowU, u.lastSignIn+int64(rng.IntN(5*int(day))))
	}
	leaver := rng.IntN(100) < 4
	if leaver {
		u.accountEnabled = false
		if u.lastSignIn == 0 || u.lastSignIn > nowU-30*day {
			u.lastSignIn = nowU - (30+int64(rng.IntN(200)))*day
			u.lastNonInteractive = u.lastSignIn
		}
		if rng.IntN(3) == 0 {
			u.mailbox = mbShared // converted on leaving, license often kept
		}
	}
	// Licenses.
	sk := g.skuOf
	switch r := rng.IntN(100); {
	case leaver && r < 30:
		// reclaimed already
	case d.frontline && r < 75:
		p.direct = append(p.direct, sk("SPE_F1"))
	case r < 50:
		p.groups = append(p.groups, 0) // E3 via group
	case r < 60:
		p.direct = append(p.direct, sk("SPE_E3"))
	case r < 72:
		if d.name == "IT" || d.name == "Finance" || d.name == "Legal" || rng.IntN(3) == 0 {
			p.groups = append(p.groups, 1) // E5 via group
		} else {
			p.groups = append(p.groups, 0)
		}
	case r < 80:
		p.direct = append(p.direct, sk("ENTERPRISEPACK"), sk("EMS"))
	case r < 85:
		p.direct = append(p.direct, sk("O365_BUSINESS_PREMIUM"))
		if rng.IntN(4) == 0 {
			p.direct = append(p.direct, sk("AAD_PREMIUM"))
		}
	default:
		// unlicensed
	}
	licensed := len(p.direct)+len(p.groups) > 0
	if licensed && u.usageLocation == "" {
		// Direct assignment needs a usage location; only group licenses
		// reach users without one (Entra falls back to the tenant's).
		if len(p.direct) > 0 {
			p.groups = append(p.groups, 0)
			p.direct = nil
		}
	}
	if licensed {
		if rng.IntN(100) < 16 {
			if rng.IntN(3) == 0 && u.usageLocation != "" {
				p.direct = append(p.direct, sk("POWER_BI_PRO"))
			} else {
				p.groups = append(p.groups, 2)
			}
		}
		if rng.IntN(100) < 4 {
			p.groups = append(p.groups, 3) // Visio via group
		}
		if rng.IntN(100) < 3 && u.usageLocation != "" {
			p.direct = append(p.direct, sk("PROJECTPROFESSIONAL"))
		}
		if rng.IntN(100) < 20 && u.usageLocation != "" {
			p.direct = append(p.direct, sk("POWER_BI_STANDARD"))
		}
		if rng.IntN(100) < 8 && u.usageLocation != "" {
			p.direct = append(p.direct, sk("FLOW_FREE"))
		}
	}
	if rng.IntN(100) < 2 {
		p.groups = append(p.groups, 4) // Teams Exploratory; conflicts with E3/E5 Exchange
	}
}

// groupSpec describes a generated group before its id is drawn.
type groupSpec struct {
	name, desc, nick string
	types            []string
	security, mail   bool
	rule             string
	match            func(u *user) bool
	license          int16 // -1 none
	visibility       string
}

var (
	typesDynamic = []string{"DynamicMembership"}
	typesUnified = []string{"Unified"}
	typesNone    = []string{}
)

func (g *generator) groups(n int, plans []userPlan) {
	t, rng := g.t, g.rng
	var specs []groupSpec
	for _, lg := range licenseGroupSpecs {
		specs = append(specs, groupSpec{name: lg.name, desc: lg.desc, security: true, license: g.skuOf(lg.part), types: typesNone})
	}
	specs = append(specs,
		groupSpec{name: "All Employees", desc: "Every enabled member account", security: true, types: typesDynamic, license: -1,
			rule:  `(user.userType -eq "Member") -and (user.accountEnabled -eq true)`,
			match: func(u *user) bool { return u.userType == "Member" && u.accountEnabled }},
		groupSpec{name: "All Guests", desc: "External collaborators", security: true, types: typesDynamic, license: -1,
			rule: `user.userType -eq "Guest"`, match: func(u *user) bool { return u.userType == "Guest" }},
		groupSpec{name: "Frontline Workers", desc: "Retail, manufacturing and logistics staff", security: true, types: typesDynamic, license: -1,
			rule: `user.department -in ["Retail","Manufacturing","Logistics"]`,
			match: func(u *user) bool {
				return strings.EqualFold(u.department, "Retail") || strings.EqualFold(u.department, "Manufacturing") || strings.EqualFold(u.department, "Logistics")
			}},
		groupSpec{name: "Contractors", desc: "Non-employee workforce", security: true, types: typesDynamic, license: -1,
			rule: `user.employeeType -eq "Contractor"`, match: func(u *user) bool { return strings.EqualFold(u.employeeType, "Contractor") }},
		groupSpec{name: "Senior Staff", desc: "Everyone with a senior title", security: true, types: typesDynamic, license: -1,
			rule: `user.jobTitle -startsWith "Senior"`, match: func(u *user) bool { return hasPrefixFold(u.jobTitle, "Senior") }},
	)
	for _, d := range departments {
		name := d.name
		specs = append(specs, groupSpec{name: "Dept - " + name, desc: "Members of the " + name + " department", security: true, types: typesDynamic, license: -1,
			rule: `user.department -eq "` + name + `"`, match: func(u *user) bool { return strings.EqualFold(u.department, name) }})
	}
	for _, c := range countries {
		name := c.name
		specs = append(specs, groupSpec{name: "Country - " + name, desc: "Staff based in " + name, security: true, types: typesDynamic, license: -1,
			rule:  `(user.country -eq "` + name + `") -and (user.userType -eq "Member")`,
			match: func(u *user) bool { return strings.EqualFold(u.country, name) && u.userType == "Member" }})
	}
	specs = append(specs,
		groupSpec{name: "All Managers", desc: "People managers (contains the department manager groups)", security: true, types: typesNone, license: -1},
		groupSpec{name: "Data Analysts", desc: "Analysts; nested in the Power BI license group", security: true, types: typesNone, license: -1},
	)
	fixed := min(len(specs), n)
	specs = specs[:fixed]
	for k := fixed; k < n; k++ {
		w := teamWords[rng.IntN(len(teamWords))]
		kind := teamKinds[rng.IntN(len(teamKinds))]
		s := groupSpec{name: w + " " + kind + " " + strconv.Itoa(k), license: -1, types: typesNone, security: true}
		switch rng.IntN(10) {
		case 0, 1, 2, 3: // Microsoft 365 group
			s.types, s.security, s.mail = typesUnified, false, true
			s.desc = "Microsoft 365 group for " + w
			s.visibility = "Private"
			if rng.IntN(3) == 0 {
				s.visibility = "Public"
			}
		case 4: // mail-enabled security group
			s.mail = true
			s.desc = w + " mail-enabled security group"
		default:
			s.desc = w + " access group"
		}
		specs = append(specs, s)
	}
	t.groups = make([]group, 0, n)
	for k, s := range specs {
		nick := asciiLower(nickReplacer.Replace(s.name))
		gr := group{
			id: newUUID(rng), displayName: s.name, description: s.desc, mailNickname: nick,
			mailEnabled: s.mail, securityEnab: s.security, groupTypes: s.types, visibility: s.visibility,
			created: g.now.Add(-time.Duration(rng.IntN(2000*24)) * time.Hour).Unix(),
		}
		if s.mail {
			gr.mail = nick + "@" + t.domain
		}
		if s.rule != "" {
			gr.membershipRule, gr.ruleState = s.rule, "On"
			t.dynamic = append(t.dynamic, dynamicGroup{group: int32(k), match: s.match})
		}
		if s.license >= 0 {
			gr.licenses = []groupLicense{{sku: s.license, disabled: []string{}}}
			gr.licenseState = "ProcessingComplete"
		}
		t.groupByID[gr.id] = int32(k)
		t.groups = append(t.groups, gr)
	}
	// Dynamic memberships, from the rules themselves.
	for _, d := range t.dynamic {
		for i := range t.users {
			if d.match(&t.users[i]) {
				g.rawAdd(d.group, userRef(int32(i)))
			}
		}
	}
	// License groups, in processing order so suites win over add-ons.
	for lg := range licenseGroupSpecs {
		if lg >= len(t.groups) {
			break
		}
		for i := range plans {
			if slices.Contains(plans[i].groups, lg) {
				g.rawAdd(int32(lg), userRef(int32(i)))
				t.applyGroupLicenses(int32(lg), int32(i), g.now)
			}
		}
	}
	// Managers and nesting.
	gi := func(name string) int32 {
		for k := range t.groups {
			if t.groups[k].displayName == name {
				return int32(k)
			}
		}
		return -1
	}
	if mg := gi("All Managers"); mg >= 0 {
		for i := range t.users {
			if m := t.users[i].manager; m >= 0 && !t.isMember(mg, userRef(m)) {
				g.rawAdd(mg, userRef(m))
			}
		}
	}
	if da, pbi := gi("Data Analysts"), gi("LIC - Power BI Pro"); da >= 0 {
		for i := range t.users {
			if t.users[i].userType == "Member" && strings.Contains(t.users[i].jobTitle, "Analyst") && rng.IntN(2) == 0 {
				g.rawAdd(da, userRef(int32(i)))
			}
		}
		if pbi >= 0 {
			// Nested groups do not inherit group-based licenses: the
			// analysts stay unlicensed unless also direct members.
			g.rawAdd(pbi, groupRef(da))
		}
	}
	// Random team groups fill the rest up to ~10 direct memberships per user.
	if n > fixed && len(t.users) > 0 {
		used := 0
		for k := range t.groups {
			used += len(t.groups[k].members)
		}
		remaining := max(10*len(t.users)-used, n-fixed)
		mean := float64(remaining) / float64(n-fixed)
		for k := fixed; k < n; k++ {
			size := int(mean * rng.ExpFloat64())
			size = min(max(size, 1), len(t.users))
			if rng.IntN(50) == 0 && k > fixed { // some teams include another team
				g.rawAdd(int32(k), groupRef(int32(fixed+rng.IntN(k-fixed))))
			}
			// Members cluster: pick a window of the user list, as teams
			// draw from nearby people, then sample within it.
			span := min(len(t.users), max(size*3, 50))
			start := rng.IntN(len(t.users) - span + 1)
			for m := 0; m < size; m++ {
				ui := int32(start + rng.IntN(span))
				if t.users[ui].deleted {
					continue
				}
				ml := t.users[ui].memberOf
				if len(ml) > 0 && ml[len(ml)-1] == int32(k) {
					continue
				}
				g.rawAdd(int32(k), userRef(ui))
			}
		}
	}
}

// gcHold pauses garbage collection while tenants are generated: generation
// builds a large, long-lived heap in one go, and collecting while it grows
// only rescans what will survive anyway. The heap may grow to the sum of
// the active generations' bounds; the settings are process-wide, so
// concurrent generations share one hold and the last restores them.
var gcHold struct {
	sync.Mutex
	active   int
	bound    int64
	oldGC    int
	oldLimit int64
}

func holdGC(bound int64) (release func()) {
	gcHold.Lock()
	defer gcHold.Unlock()
	if gcHold.active == 0 {
		gcHold.oldGC = debug.SetGCPercent(-1)
		gcHold.oldLimit = debug.SetMemoryLimit(-1)
	}
	gcHold.active++
	gcHold.bound += bound
	debug.SetMemoryLimit(gcHold.bound)
	return func() {
		gcHold.Lock()
		defer gcHold.Unlock()
		gcHold.active--
		gcHold.bound -= bound
		if gcHold.active == 0 {
			debug.SetGCPercent(gcHold.oldGC)
			debug.SetMemoryLimit(gcHold.oldLimit)
			return
		}
		debug.SetMemoryLimit(gcHold.bound)
	}
}

var nickReplacer = strings.NewReplacer(" ", "", "-", "", ".", "")

// rawAdd adds a membership during generation, skipping change tracking.
func (g *generator) rawAdd(gi int32, r ref) {
	t := g.t
	t.groups[gi].members = append(t.groups[gi].members, r)
	if r >= 0 {
		t.users[r].memberOf = append(t.users[r].memberOf, gi)
	} else {
		t.groups[refGroup(r)].memberOf = append(t.groups[refGroup(r)].memberOf, gi)
	}
}

func asciiLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 32)
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == 'ü':
			b.WriteString("ue")
		case r == 'é' || r == 'É':
			b.WriteByte('e')
		case r == 'ś':
			b.WriteByte('s')
		case r == 'ã':
			b.WriteByte('a')
		case r == 'í':
			b.WriteByte('i')
		}
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
