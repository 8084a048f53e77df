package web

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// The views below are computed per request from the warehouse and shared by
// the JSON API and the console, so both always show the same numbers.

// SkuRow is one SKU on the dashboard: seats bought, assigned and free, and
// what the assigned seats cost per month.
type SkuRow struct {
	SkuID       string `json:"sku_id"`
	PartNumber  string `json:"sku_part_number"`
	DisplayName string `json:"display_name,omitempty"`
	Status      string `json:"capability_status"`
	Purchased   int    `json:"purchased"`
	Assigned    int    `json:"assigned"`
	Available   int    `json:"available"`
	// PriceCents is the monthly unit price; CostCents = Assigned × PriceCents.
	PriceCents int64  `json:"monthly_price_cents"`
	CostCents  int64  `json:"monthly_cost_cents"`
	Currency   string `json:"currency,omitempty"`
}

// Name is what people call the SKU.
func (r SkuRow) Name() string {
	if r.DisplayName != "" {
		return r.DisplayName
	}
	return r.PartNumber
}

// LicenseError is a license state Entra reports as failed.
type LicenseError struct {
	UserID  string `json:"user_id"`
	UPN     string `json:"user_principal_name"`
	Sku     string `json:"sku"`
	GroupID string `json:"assigned_by_group,omitempty"`
	State   string `json:"state"`
	Error   string `json:"error"`
}

// Dashboard is a tenant's overview.
type Dashboard struct {
	Tenant         directory.Tenant      `json:"tenant"`
	Counts         DashboardCounts       `json:"counts"`
	Skus           []SkuRow              `json:"skus"`
	MonthlyCents   int64                 `json:"monthly_cost_cents"`
	Currency       string                `json:"currency,omitempty"`
	ErrorCount     int                   `json:"license_error_count"`
	Errors         []LicenseError        `json:"license_errors"`
	LastSync       *time.Time            `json:"last_sync,omitempty"`
	SyncStates     []warehouse.SyncState `json:"sync_states"`
	LastSyncFailed string                `json:"last_sync_error,omitempty"`
}

// DashboardCounts sizes a tenant's directory and its change queue.
type DashboardCounts struct {
	warehouse.DirectoryCounts
	// OpenChanges counts changes not finished yet: pending approval, open
	// or claimed.
	OpenChanges int64 `json:"open_changes"`
}

// maxDashboardErrors is how many license errors the dashboard lists; it
// counts all of them.
const maxDashboardErrors = 20

// syncResources are the inventory resources whose state the dashboard shows.
var syncResources = []string{"users", "groups", "licenses", "skus", "mailboxes"}

func skuRows(skus []directory.Sku) []SkuRow {
	rows := make([]SkuRow, 0, len(skus))
	for _, k := range skus {
		rows = append(rows, SkuRow{SkuID: k.SkuID, PartNumber: k.SkuPartNumber, DisplayName: k.DisplayName,
			Status: k.CapabilityStatus, Purchased: k.PrepaidEnabled, Assigned: k.ConsumedUnits, Available: k.Available(),
			PriceCents: k.MonthlyPriceCents, CostCents: int64(k.ConsumedUnits) * k.MonthlyPriceCents, Currency: k.Currency})
	}
	// Biggest spend first: that is what a license manager looks at.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].CostCents != rows[j].CostCents {
			return rows[i].CostCents > rows[j].CostCents
		}
		if rows[i].Assigned != rows[j].Assigned {
			return rows[i].Assigned > rows[j].Assigned
		}
		return rows[i].PartNumber < rows[j].PartNumber
	})
	return rows
}

func (s *Server) dashboard(ctx context.Context, t directory.Tenant) (*Dashboard, error) {
	d := &Dashboard{Tenant: t, Errors: []LicenseError{}, SyncStates: []warehouse.SyncState{}}
	dir, err := s.directory(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	d.Counts = DashboardCounts{DirectoryCounts: dir.counts, OpenChanges: dir.changes[warehouse.ChangePendingApproval] +
		dir.changes[warehouse.ChangeOpen] + dir.changes[warehouse.ChangeClaimed]}
	skus, err := s.cfg.Store.ListSkus(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	d.Skus = skuRows(skus)
	parts := map[string]string{}
	for _, r := range d.Skus {
		d.MonthlyCents += r.CostCents
		if d.Currency == "" {
			d.Currency = r.Currency
		}
		parts[r.SkuID] = r.PartNumber
	}
	n, failed, err := s.cfg.Store.LicenseErrors(ctx, t.ID, maxDashboardErrors)
	if err != nil {
		return nil, err
	}
	d.ErrorCount = int(n)
	var errUsers []string
	for _, l := range failed {
		d.Errors = append(d.Errors, LicenseError{UserID: l.UserID, Sku: nameOr(parts[l.SkuID], l.SkuID),
			GroupID: l.AssignedByGroup, State: l.State, Error: l.Error})
		errUsers = append(errUsers, l.UserID)
	}
	if len(errUsers) > 0 {
		us, err := s.cfg.Store.GetUsers(ctx, t.ID, errUsers)
		if err != nil {
			return nil, err
		}
		upn := map[string]string{}
		for _, u := range us {
			upn[u.ID] = u.UserPrincipalName
		}
		for i := range d.Errors {
			d.Errors[i].UPN = upn[d.Errors[i].UserID]
		}
	}
	for _, res := range syncResources {
		st, err := s.cfg.Store.GetSyncState(ctx, t.ID, res)
		if errors.Is(err, warehouse.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		d.SyncStates = append(d.SyncStates, st)
		for _, at := range []*time.Time{st.LastFullAt, st.LastDeltaAt} {
			if at != nil && (d.LastSync == nil || at.After(*d.LastSync)) {
				d.LastSync = at
			}
		}
		if st.LastError != "" {
			d.LastSyncFailed = res + ": " + st.LastError
		}
	}
	return d, nil
}

func nameOr(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

// UserRow is a user in a list, with the SKUs they hold.
type UserRow struct {
	ID          string   `json:"id"`
	UPN         string   `json:"user_principal_name"`
	DisplayName string   `json:"display_name"`
	Department  string   `json:"department,omitempty"`
	JobTitle    string   `json:"job_title,omitempty"`
	Enabled     bool     `json:"account_enabled"`
	Licenses    []string `json:"licenses"`
}

// Listing is one page of a list, walked with cursors: the API returns
// next and prev, which the caller passes back as ?after= and ?before=.
type Listing[T any] struct {
	// Query is the search the list was filtered with.
	Query string `json:"query,omitempty"`
	// Order says how the list is sorted: "id" or "display_name".
	Order string `json:"order"`
	Limit int    `json:"limit"`
	Items []T    `json:"items"`
	// Next continues the list (?after=Next); empty on the last page.
	Next string `json:"next,omitempty"`
	// Prev goes back (?before=Prev); empty on the first page.
	Prev string `json:"prev,omitempty"`
	// Total is the length of the whole list when it costs nothing to know
	// (the unfiltered lists, from the dashboard's counts); 0 otherwise.
	Total int64 `json:"total,omitempty"`
}

func listing[T, U any](q warehouse.PageQuery, order string, p warehouse.Page[U]) *Listing[T] {
	limit := q.Limit
	if limit <= 0 {
		limit = warehouse.DefaultPageSize
	}
	return &Listing[T]{Query: strings.TrimSpace(q.Prefix), Order: order, Limit: limit, Items: []T{}, Next: p.Next, Prev: p.Prev}
}

func (s *Server) users(ctx context.Context, t directory.Tenant, q warehouse.PageQuery) (*Listing[UserRow], error) {
	p, err := s.cfg.Store.UsersPage(ctx, t.ID, q)
	if err != nil {
		return nil, err
	}
	l := listing[UserRow](q, "id", p)
	if l.Query == "" {
		dir, err := s.directory(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		l.Total = dir.counts.Users
	}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(p.Items))
	for i, u := range p.Items {
		ids[i] = u.ID
	}
	states, err := s.cfg.Store.LicenseStatesOf(ctx, t.ID, ids)
	if err != nil {
		return nil, err
	}
	held := map[string][]string{}
	for _, ls := range states {
		name := nameOr(skus[ls.SkuID], ls.SkuID)
		if v := held[ls.UserID]; !slices.Contains(v, name) {
			held[ls.UserID] = append(v, name)
		}
	}
	for _, u := range p.Items {
		lic := held[u.ID]
		sort.Strings(lic)
		l.Items = append(l.Items, UserRow{ID: u.ID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName,
			Department: u.Department, JobTitle: u.JobTitle, Enabled: u.AccountEnabled, Licenses: append([]string{}, lic...)})
	}
	return l, nil
}

// skuNames maps SKU ids to part numbers.
func (s *Server) skuNames(ctx context.Context, tenantID string) (map[string]string, error) {
	skus, err := s.cfg.Store.ListSkus(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(skus))
	for _, k := range skus {
		out[k.SkuID] = k.SkuPartNumber
	}
	return out, nil
}

// HeldLicense is one SKU a user holds and why: directly, through a group,
// and whether a pool granted it (and so may take it away).
type HeldLicense struct {
	SkuID   string `json:"sku_id"`
	Sku     string `json:"sku"`
	Via     string `json:"via"` // "direct" or "group"
	GroupID string `json:"group_id,omitempty"`
	Group   string `json:"group,omitempty"`
	// Pool is the pool whose grant put it there ("" = from elsewhere:
	// assigned by hand or by another tool; allot never removes those).
	Pool     string   `json:"pool,omitempty"`
	State    string   `json:"state"`
	Error    string   `json:"error,omitempty"`
	Disabled []string `json:"disabled_plans,omitempty"`
}

// Why says in words why the user holds the license.
func (h HeldLicense) Why() string {
	var b strings.Builder
	if h.Via == "direct" {
		b.WriteString("direct assignment")
	} else {
		b.WriteString("via group " + nameOr(h.Group, h.GroupID))
	}
	if h.Pool != "" {
		b.WriteString(" · granted by pool " + h.Pool)
	}
	return b.String()
}

// MemberOf is a group the user is a direct member of.
type MemberOf struct {
	GroupID string `json:"group_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Dynamic bool   `json:"dynamic,omitempty"`
	License bool   `json:"license_group,omitempty"`
	Pool    string `json:"pool,omitempty"` // the pool that put the user there
}

// UserDetail is one user with their licenses, groups and the pool grants.
type UserDetail struct {
	User     directory.User `json:"user"`
	Licenses []HeldLicense  `json:"licenses"`
	Groups   []MemberOf     `json:"groups"`
}

func (s *Server) userDetail(ctx context.Context, t directory.Tenant, id string) (*UserDetail, error) {
	u, err := s.cfg.Store.GetUser(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	d := &UserDetail{User: u, Licenses: []HeldLicense{}, Groups: []MemberOf{}}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	// Grants say which pool put a membership or a direct SKU there.
	poolOfGroup, poolOfSku := map[string]string{}, map[string]string{}
	grants, err := s.cfg.Store.GrantsOf(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if g.GroupID != "" {
			poolOfGroup[g.GroupID] = g.Pool
		} else {
			poolOfSku[strings.ToLower(g.SkuID)] = g.Pool
		}
	}
	groupIDs, err := s.cfg.Store.UserGroupIDs(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	direct := slices.Clone(groupIDs)
	states, err := s.cfg.Store.LicenseStatesOf(ctx, t.ID, []string{id})
	if err != nil {
		return nil, err
	}
	for _, l := range states {
		h := HeldLicense{SkuID: l.SkuID, Sku: nameOr(skus[l.SkuID], l.SkuID), Via: "direct", State: l.State, Error: l.Error,
			Disabled: l.DisabledPlans, Pool: poolOfSku[strings.ToLower(l.SkuID)]}
		if l.AssignedByGroup != "" {
			h.Via, h.GroupID, h.Pool = "group", l.AssignedByGroup, poolOfGroup[l.AssignedByGroup]
			if !slices.Contains(groupIDs, l.AssignedByGroup) {
				groupIDs = append(groupIDs, l.AssignedByGroup) // nested: look the name up too
			}
		}
		d.Licenses = append(d.Licenses, h)
	}
	groups, err := s.cfg.Store.GetGroups(ctx, t.ID, groupIDs)
	if err != nil {
		return nil, err
	}
	byID := map[string]directory.Group{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	for i := range d.Licenses {
		if g, ok := byID[d.Licenses[i].GroupID]; ok {
			d.Licenses[i].Group = g.DisplayName
		}
	}
	sort.Slice(d.Licenses, func(i, j int) bool { return d.Licenses[i].Sku < d.Licenses[j].Sku })
	for _, g := range groups {
		if !slices.Contains(direct, g.ID) || g.Deleted {
			continue
		}
		d.Groups = append(d.Groups, MemberOf{GroupID: g.ID, Name: g.DisplayName, Kind: string(g.Kind()),
			Dynamic: g.IsDynamic(), License: g.IsLicenseGroup(), Pool: poolOfGroup[g.ID]})
	}
	sort.Slice(d.Groups, func(i, j int) bool { return strings.ToLower(d.Groups[i].Name) < strings.ToLower(d.Groups[j].Name) })
	return d, nil
}

// GroupRow is a group in a list.
type GroupRow struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Kind        string   `json:"kind"`
	Dynamic     bool     `json:"dynamic,omitempty"`
	Rule        string   `json:"membership_rule,omitempty"`
	Licenses    []string `json:"licenses"`
	Members     int      `json:"members"`
	// MembersCapped says Members stopped counting at maxListedMembers.
	MembersCapped bool `json:"members_capped,omitempty"`
	ITShopOnly    bool `json:"it_shop_only,omitempty"`
}

// maxListedMembers bounds the member count of each group in a list of
// groups: counting a million-member group for every page of the list
// would cost more than the page. The group's own page counts them all.
const maxListedMembers = 10_000

func (s *Server) groups(ctx context.Context, t directory.Tenant, q warehouse.PageQuery) (*Listing[GroupRow], error) {
	p, err := s.cfg.Store.GroupsPage(ctx, t.ID, q)
	if err != nil {
		return nil, err
	}
	l := listing[GroupRow](q, "display_name", p)
	if l.Query == "" {
		dir, err := s.directory(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		l.Total = dir.counts.Groups
	}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(p.Items))
	for i, g := range p.Items {
		ids[i] = g.ID
	}
	members, err := s.cfg.Store.CountMembers(ctx, t.ID, ids, maxListedMembers)
	if err != nil {
		return nil, err
	}
	for _, g := range p.Items {
		row := GroupRow{ID: g.ID, DisplayName: g.DisplayName, Kind: string(g.Kind()), Dynamic: g.IsDynamic(),
			Rule: g.MembershipRule, Licenses: []string{}, ITShopOnly: g.ITShopOnly, Members: members[g.ID],
			MembersCapped: members[g.ID] >= maxListedMembers}
		for _, al := range g.AssignedLicenses {
			row.Licenses = append(row.Licenses, nameOr(skus[al.SkuID], al.SkuID))
		}
		l.Items = append(l.Items, row)
	}
	return l, nil
}

// MemberRow is a direct member of a group: a user, or a nested group.
type MemberRow struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // user, group, …
	DisplayName string `json:"display_name"`
	UPN         string `json:"user_principal_name,omitempty"`
	Department  string `json:"department,omitempty"`
	Enabled     bool   `json:"account_enabled,omitempty"`
}

// GroupDetail is one group with a page of its members and the pool that
// manages it.
type GroupDetail struct {
	Group    directory.Group `json:"group"`
	Licenses []string        `json:"licenses"`
	// Members is one page of the direct members, in object-id order.
	Members *Listing[MemberRow] `json:"members"`
	// MemberCount counts every direct member.
	MemberCount int    `json:"member_count"`
	Pool        string `json:"managed_by_pool,omitempty"`
}

func (s *Server) groupDetail(ctx context.Context, t directory.Tenant, id string, q warehouse.PageQuery) (*GroupDetail, error) {
	g, err := s.cfg.Store.GetGroup(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	d := &GroupDetail{Group: g, Licenses: []string{}}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, al := range g.AssignedLicenses {
		d.Licenses = append(d.Licenses, nameOr(skus[al.SkuID], al.SkuID))
	}
	counts, err := s.cfg.Store.CountMembers(ctx, t.ID, []string{id}, 0)
	if err != nil {
		return nil, err
	}
	d.MemberCount = counts[id]
	q.Prefix = "" // members are paged, not searched
	p, err := s.cfg.Store.GroupMembersPage(ctx, t.ID, id, q)
	if err != nil {
		return nil, err
	}
	d.Members = listing[MemberRow](q, "id", p)
	d.Members.Total = int64(d.MemberCount)
	var userIDs, groupIDs []string
	for _, m := range p.Items {
		if m.MemberType == directory.MemberUser {
			userIDs = append(userIDs, m.MemberID)
		} else if m.MemberType == directory.MemberGroup {
			groupIDs = append(groupIDs, m.MemberID)
		}
	}
	us, err := s.cfg.Store.GetUsers(ctx, t.ID, userIDs)
	if err != nil {
		return nil, err
	}
	gs, err := s.cfg.Store.GetGroups(ctx, t.ID, groupIDs)
	if err != nil {
		return nil, err
	}
	users, groups := map[string]directory.User{}, map[string]directory.Group{}
	for _, u := range us {
		users[u.ID] = u
	}
	for _, g := range gs {
		groups[g.ID] = g
	}
	for _, m := range p.Items {
		row := MemberRow{ID: m.MemberID, Type: string(m.MemberType)}
		if u, ok := users[m.MemberID]; ok {
			row.DisplayName, row.UPN, row.Department, row.Enabled = u.DisplayName, u.UserPrincipalName, u.Department, u.AccountEnabled
		} else if g, ok := groups[m.MemberID]; ok {
			row.DisplayName = g.DisplayName
		}
		d.Members.Items = append(d.Members.Items, row)
	}
	pools, err := s.pools(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		if strings.EqualFold(p.Target.Group, g.ID) || strings.EqualFold(p.Target.Group, g.DisplayName) {
			d.Pool = p.Name
		}
	}
	return d, nil
}
