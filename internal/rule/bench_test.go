package rule_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
)

const benchUsers = 1_000_000

// benchIndex is a synthetic directory of a million users with the equality
// indexes an engine snapshot would keep. Built once: it takes seconds and
// about 1 GB.
var benchIndex = sync.OnceValue(func() *memIndex {
	pick := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	depts, cities, countries, titles, plans := pick("Dept", 50), pick("City", 199), pick("C", 20), pick("Title", 97), pick("plan-", 10)
	for i := 0; i < len(titles); i += 4 {
		titles[i] = "Senior " + titles[i]
	}
	store := make([]directory.User, benchUsers)
	users := make([]*directory.User, benchUsers)
	base := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range store {
		u := &store[i]
		users[i] = u
		u.ID = fmt.Sprintf("%08x-0000-0000-0000-000000000000", i)
		u.DisplayName = fmt.Sprintf("User %d", i)
		u.Department, u.City, u.Country, u.JobTitle = depts[i%50], cities[i%199], countries[i%20], titles[i%97]
		u.UsageLocation = u.Country
		u.AccountEnabled = i%20 != 0
		u.UserType = "Member"
		if i%10 == 0 {
			u.UserType = "Guest"
		}
		u.ManagerID = users[i/1000*1000].ID
		u.Mail = fmt.Sprintf("user%d@contoso.com", i)
		u.ProxyAddresses = []string{"SMTP:" + u.Mail}
		hired := base.AddDate(0, 0, i%4000)
		u.EmployeeHireDate = &hired
		for p := 0; p < i%4; p++ {
			u.AssignedPlans = append(u.AssignedPlans, directory.AssignedPlan{ServicePlanID: plans[(i+p)%10], CapabilityStatus: "Enabled"})
		}
		u.ExtensionAttributes[2] = depts[i%7]
	}
	ix := newIndex(users, "department", "city", "country", "jobTitle", "usageLocation", "accountEnabled", "userType", "extensionAttribute3", "manager")
	ix.now = base.AddDate(11, 0, 0)
	for g := 0; g < 10; g++ {
		b := roaring.New()
		b.AddRange(uint64(g*50_000), uint64(g*50_000+10_000))
		ix.groups[fmt.Sprintf("g%d", g)] = b
	}
	return ix
})

var benchRules = []struct{ name, rule string }{
	{"eq-indexed", `user.department -eq "Dept7"`},
	{"and-indexed", `user.department -eq "Dept7" -and user.accountEnabled -eq true -and user.country -ne "C3"`},
	{"in-indexed", `user.city -in ["City1", "City2", "City3", "City4", "City5", "City6", "City7", "City8", "City9", "City10"]`},
	{"all-members", `user.objectId -ne null -and user.userType -eq "Member"`},
	{"memberOf", `user.memberOf -any (group.objectId -in ['g1', 'g2', 'g3'])`},
	{"indexed-then-scan", `user.department -in ["Dept1", "Dept2"] -and user.jobTitle -startsWith "Senior"`},
	{"startsWith-by-value", `user.jobTitle -startsWith "senior"`}, // 97 titles tested, not 1M users
	{"scan-startsWith", `user.mail -startsWith "user12"`},         // a million distinct values: scans
	{"scan-date", `user.employeeHireDate -ge system.now -minus P365D`},
	{"scan-regex", `user.displayName -match "^User 1.*7$"`},
	{"scan-proxyAddresses", `user.proxyAddresses -any (_ -endsWith "7@contoso.com")`},
	{"scan-assignedPlans", `user.assignedPlans -any (assignedPlan.servicePlanId -eq "plan-3" -and assignedPlan.capabilityStatus -eq "Enabled")`},
	{"direct-reports", `Direct Reports for "00002710-0000-0000-0000-000000000000"`},
}

// BenchmarkEval evaluates typical rules over a million users:
//
//	go test ./internal/rule -run '^$' -bench Eval -benchtime 20x
func BenchmarkEval(b *testing.B) {
	ix := benchIndex()
	for _, br := range benchRules {
		p := rule.MustCompile(br.rule)
		b.Run(br.name, func(b *testing.B) {
			var n uint64
			for b.Loop() {
				n = p.Eval(ix).GetCardinality()
			}
			b.ReportMetric(float64(n), "users")
		})
	}
}

// BenchmarkMatch is the cost of re-planning one changed user against a rule.
func BenchmarkMatch(b *testing.B) {
	ix := benchIndex()
	for _, br := range benchRules {
		p := rule.MustCompile(br.rule)
		b.Run(br.name, func(b *testing.B) {
			i := uint32(0)
			for b.Loop() {
				p.Match(ix, i%benchUsers)
				i += 7919
			}
		})
	}
}

// BenchmarkParse is the cost of parsing and compiling a realistic rule.
func BenchmarkParse(b *testing.B) {
	const src = `(user.department -eq "Accounts" -and user.city -in ["Lagos", "Ibadan", "Kaduna"]) -or (user.proxyAddresses -any (_ -startsWith "smtp:") -and -not (user.jobTitle -match "^intern"))`
	for b.Loop() {
		r, err := rule.Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rule.Compile(r); err != nil {
			b.Fatal(err)
		}
	}
}
