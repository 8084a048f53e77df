package engine_test

import (
	"bytes"
	"cmp"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
)

// fixture is a small tenant written by hand, in Go or in testdata YAML.
type fixture struct {
	Now      time.Time   `yaml:"now"`
	Users    []fxUser    `yaml:"users"`
	Groups   []fxGroup   `yaml:"groups"`
	Skus     []fxSku     `yaml:"skus"`
	Licenses []fxLicense `yaml:"licenses"`
	Grants   []fxGrant   `yaml:"grants"`
}

type fxUser struct {
	ID            string `yaml:"id"`
	UPN           string `yaml:"upn"`
	Department    string `yaml:"department"`
	JobTitle      string `yaml:"jobTitle"`
	Country       string `yaml:"country"`
	UsageLocation string `yaml:"usageLocation"`
	UserType      string `yaml:"userType"`
	Disabled      bool   `yaml:"disabled"`
	Categories    []int  `yaml:"categories"`
}

type fxGroup struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Members    []string          `yaml:"members"`
	Groups     []string          `yaml:"groups"` // nested member groups
	Licenses   []fxAssigned      `yaml:"licenses"`
	Categories []int             `yaml:"categories"`
	Rule       string            `yaml:"rule"` // makes the group dynamic
	Extra      map[string]string `yaml:"extra"`
}

type fxAssigned struct {
	Sku      string   `yaml:"sku"`
	Disabled []string `yaml:"disabled"`
}

type fxSku struct {
	ID         string   `yaml:"id"`
	Part       string   `yaml:"part"`
	Prepaid    int      `yaml:"prepaid"`
	Consumed   int      `yaml:"consumed"`
	Price      string   `yaml:"price"`
	Plans      []string `yaml:"plans"` // "id name"
	Categories []int    `yaml:"categories"`
	Status     string   `yaml:"status"`    // capabilityStatus; Enabled when empty
	AppliesTo  string   `yaml:"appliesTo"` // User when empty
}

type fxLicense struct {
	User     string    `yaml:"user"`
	Sku      string    `yaml:"sku"`
	Group    string    `yaml:"group"`
	Disabled []string  `yaml:"disabled"`
	State    string    `yaml:"state"`
	Updated  time.Time `yaml:"updated"`
}

type fxGrant struct {
	Pool  string    `yaml:"pool"`
	User  string    `yaml:"user"`
	Group string    `yaml:"group"`
	Sku   string    `yaml:"sku"`
	Since time.Time `yaml:"since"`
}

func loadFixture(t *testing.T, path string) fixture {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var fx fixture
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&fx), path)
	return fx
}

func cats(t testing.TB, ps []int) directory.Categories {
	c, err := directory.CategoriesOf(ps...)
	require.NoError(t, err)
	return c
}

// build streams the fixture into a snapshot the way the warehouse would.
func (fx fixture) build(t testing.TB) *engine.Snapshot {
	t.Helper()
	b := engine.NewBuilder()
	for _, u := range fx.Users {
		du := directory.User{ID: u.ID, UserPrincipalName: u.UPN, Department: u.Department, JobTitle: u.JobTitle,
			Country: u.Country, UsageLocation: u.UsageLocation, UserType: u.UserType, AccountEnabled: !u.Disabled,
			Categories: cats(t, u.Categories)}
		if du.UserPrincipalName == "" {
			du.UserPrincipalName = u.ID + "@contoso.test"
		}
		if du.UserType == "" {
			du.UserType = "Member"
		}
		b.AddUser(&du)
	}
	for _, g := range fx.Groups {
		dg := directory.Group{ID: g.ID, DisplayName: g.Name, SecurityEnabled: true, Categories: cats(t, g.Categories), MembershipRule: g.Rule}
		if dg.DisplayName == "" {
			dg.DisplayName = g.ID
		}
		if g.Rule != "" {
			dg.GroupTypes = []string{"DynamicMembership"}
		}
		for _, l := range g.Licenses {
			dg.AssignedLicenses = append(dg.AssignedLicenses, directory.AssignedLicense{SkuID: l.Sku, DisabledPlans: l.Disabled})
		}
		b.AddGroup(&dg)
	}
	for _, s := range fx.Skus {
		ds := directory.Sku{SkuID: s.ID, SkuPartNumber: s.Part, CapabilityStatus: cmp.Or(s.Status, "Enabled"),
			AppliesTo: cmp.Or(s.AppliesTo, "User"), PrepaidEnabled: s.Prepaid, ConsumedUnits: s.Consumed, Currency: "USD",
			Categories: cats(t, s.Categories)}
		if s.Price != "" {
			p, err := engine.ParsePrice(s.Price)
			require.NoError(t, err)
			ds.MonthlyPriceCents = int64(p)
		}
		for _, p := range s.Plans {
			id, name, _ := cut(p)
			ds.ServicePlans = append(ds.ServicePlans, directory.ServicePlan{ServicePlanID: id, ServicePlanName: name})
		}
		b.AddSku(&ds)
	}
	for _, g := range fx.Groups {
		for _, m := range g.Members {
			b.AddMembership(directory.Membership{GroupID: g.ID, MemberID: m, MemberType: directory.MemberUser})
		}
		for _, c := range g.Groups {
			b.AddMembership(directory.Membership{GroupID: g.ID, MemberID: c, MemberType: directory.MemberGroup})
		}
	}
	for _, l := range fx.Licenses {
		st := l.State
		if st == "" {
			st = directory.StateActive
		}
		ls := directory.LicenseState{UserID: l.User, SkuID: l.Sku, AssignedByGroup: l.Group, DisabledPlans: l.Disabled, State: st}
		if !l.Updated.IsZero() {
			ls.LastUpdated = &l.Updated
		}
		b.AddLicenseState(&ls)
	}
	for _, g := range fx.Grants {
		b.AddGrant(engine.Grant{Pool: g.Pool, UserID: g.User, GroupID: g.Group, SkuID: g.Sku, Since: g.Since})
	}
	now := fx.Now
	if now.IsZero() {
		now = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	return b.Build(now)
}

// apply returns the fixture as it would be after fulfilment carried out
// every add, update and removal of the plan (and recorded the grants).
func (fx fixture) apply(t testing.TB, plan *engine.Plan, at time.Time) fixture {
	t.Helper()
	out := fx
	out.Groups = slices.Clone(fx.Groups)
	for i := range out.Groups {
		out.Groups[i].Members = slices.Clone(out.Groups[i].Members)
	}
	out.Licenses = slices.Clone(fx.Licenses)
	out.Grants = slices.Clone(fx.Grants)
	group := func(id string) *fxGroup {
		for i := range out.Groups {
			if out.Groups[i].ID == id {
				return &out.Groups[i]
			}
		}
		t.Fatalf("no group %s", id)
		return nil
	}
	dropGrant := func(pool, user, gid, sku string) {
		out.Grants = slices.DeleteFunc(out.Grants, func(g fxGrant) bool {
			return g.Pool == pool && g.User == user && g.Group == gid && g.Sku == sku
		})
	}
	for _, pp := range plan.Pools {
		for _, c := range pp.Adds {
			if c.GroupID != "" {
				g := group(c.GroupID)
				g.Members = append(g.Members, c.UserID)
				for _, l := range g.Licenses {
					out.Licenses = append(out.Licenses, fxLicense{User: c.UserID, Sku: l.Sku, Group: g.ID, Disabled: l.Disabled, Updated: at})
				}
				out.Grants = append(out.Grants, fxGrant{Pool: pp.Pool, User: c.UserID, Group: c.GroupID, Since: at})
				continue
			}
			for _, l := range c.Licenses {
				out.Licenses = append(out.Licenses, fxLicense{User: c.UserID, Sku: l.SkuID, Disabled: l.DisabledPlans, Updated: at})
				out.Grants = append(out.Grants, fxGrant{Pool: pp.Pool, User: c.UserID, Sku: l.SkuID, Since: at})
			}
		}
		for _, c := range pp.Updates {
			for _, l := range c.Licenses {
				for i := range out.Licenses {
					if ol := &out.Licenses[i]; ol.User == c.UserID && ol.Sku == l.SkuID && ol.Group == "" {
						ol.Disabled = l.DisabledPlans
					}
				}
			}
		}
		for _, c := range pp.Removals {
			if c.GroupID != "" {
				g := group(c.GroupID)
				g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == c.UserID })
				out.Licenses = slices.DeleteFunc(out.Licenses, func(l fxLicense) bool { return l.User == c.UserID && l.Group == c.GroupID })
				dropGrant(pp.Pool, c.UserID, c.GroupID, "")
				continue
			}
			for _, l := range c.Licenses {
				out.Licenses = slices.DeleteFunc(out.Licenses, func(ol fxLicense) bool { return ol.User == c.UserID && ol.Sku == l.SkuID && ol.Group == "" })
				dropGrant(pp.Pool, c.UserID, "", l.SkuID)
			}
		}
	}
	return out
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func mustPolicy(t testing.TB, src string) *engine.Policy {
	t.Helper()
	p, err := engine.ParsePolicy("pools.yaml", []byte(src))
	require.NoError(t, err)
	return p
}

func plan(t testing.TB, fx fixture, pol *engine.Policy) (*engine.Plan, *engine.Snapshot) {
	t.Helper()
	snap := fx.build(t)
	p, err := engine.Evaluate(snap, pol)
	require.NoError(t, err)
	return p, snap
}

// ids lists the user ids of changes.
func ids(cs []engine.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.UserID)
	}
	return out
}
