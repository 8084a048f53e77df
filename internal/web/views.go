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
	Counts         warehouse.Counts      `json:"counts"`
	Skus           []SkuRow              `json:"skus"`
	MonthlyCents   int64                 `json:"monthly_cost_cents"`
	Currency       string                `json:"currency,omitempty"`
	ErrorCount     int                   `json:"license_error_count"`
	Errors         []LicenseError        `json:"license_errors"`
	LastSync       *time.Time            `json:"last_sync,omitempty"`
	SyncStates     []warehouse.SyncState `json:"sync_states"`
	LastSyncFailed string                `json:"last_sync_error,omitempty"`
}

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
	var err error
	if d.Counts, err = s.cfg.Store.Counts(ctx, t.ID); err != nil {
		return nil, err
	}
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
	var errUsers []string
	if err := s.cfg.Store.ScanLicenseStates(ctx, t.ID, func(l directory.LicenseState) error {
		if l.Error == "" && l.State != directory.StateError && l.State != directory.StateActiveWithError {
			return nil
		}
		d.ErrorCount++
		if len(d.Errors) < 20 {
			d.Errors = append(d.Errors, LicenseError{UserID: l.UserID, Sku: nameOr(parts[l.SkuID], l.SkuID),
				GroupID: l.AssignedByGroup, State: l.State, Error: l.Error})
			errUsers = append(errUsers, l.UserID)
		}
		return nil
	}); err != nil {
		return nil, err
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

// Listing is one page of a filtered list.
type Listing[T any] struct {
	Query  string `json:"query,omitempty"`
	Total  int    `json:"total"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
	Items  []T    `json:"items"`
}

// Next is the offset of the next page, or -1 at the end.
func (l Listing[T]) Next() int {
	if l.Offset+l.Limit >= l.Total {
		return -1
	}
	return l.Offset + l.Limit
}

// Prev is the offset of the previous page, or -1 at the start.
func (l Listing[T]) Prev() int {
	if l.Offset == 0 {
		return -1
	}
	return max(0, l.Offset-l.Limit)
}

func matches(q string, fields ...string) bool {
	if q == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func (s *Server) users(ctx context.Context, t directory.Tenant, q string, offset, limit int) (*Listing[UserRow], error) {
	l := &Listing[UserRow]{Query: q, Offset: offset, Limit: limit, Items: []UserRow{}}
	q = strings.ToLower(strings.TrimSpace(q))
	var page []directory.User
	if err := s.cfg.Store.ScanUsers(ctx, t.ID, func(u directory.User) error {
		if u.Deleted || !matches(q, u.DisplayName, u.UserPrincipalName, u.Department, u.JobTitle, u.ID) {
			return nil
		}
		if l.Total >= offset && len(page) < limit {
			page = append(page, u)
		}
		l.Total++
		return nil
	}); err != nil {
		return nil, err
	}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	held := map[string][]string{}
	for _, u := range page {
		held[u.ID] = nil
	}
	if err := s.cfg.Store.ScanLicenseStates(ctx, t.ID, func(ls directory.LicenseState) error {
		name := nameOr(skus[ls.SkuID], ls.SkuID)
		if v, ok := held[ls.UserID]; ok && !slices.Contains(v, name) {
			held[ls.UserID] = append(v, name)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, u := range page {
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
	if err := s.cfg.Store.ScanGrants(ctx, t.ID, func(g warehouse.Grant) error {
		if g.UserID == id {
			if g.GroupID != "" {
				poolOfGroup[g.GroupID] = g.Pool
			} else {
				poolOfSku[strings.ToLower(g.SkuID)] = g.Pool
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var groupIDs []string
	if err := s.cfg.Store.ScanMemberships(ctx, t.ID, func(m directory.Membership) error {
		if m.MemberID == id {
			groupIDs = append(groupIDs, m.GroupID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.ScanLicenseStates(ctx, t.ID, func(l directory.LicenseState) error {
		if l.UserID != id {
			return nil
		}
		h := HeldLicense{SkuID: l.SkuID, Sku: nameOr(skus[l.SkuID], l.SkuID), Via: "direct", State: l.State, Error: l.Error,
			Disabled: l.DisabledPlans, Pool: poolOfSku[strings.ToLower(l.SkuID)]}
		if l.AssignedByGroup != "" {
			h.Via, h.GroupID, h.Pool = "group", l.AssignedByGroup, poolOfGroup[l.AssignedByGroup]
			if !slices.Contains(groupIDs, l.AssignedByGroup) {
				groupIDs = append(groupIDs, l.AssignedByGroup) // nested: look the name up too
			}
		}
		d.Licenses = append(d.Licenses, h)
		return nil
	}); err != nil {
		return nil, err
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
		direct := false
		for _, id := range groupIDs {
			direct = direct || id == g.ID
		}
		if !direct || g.Deleted {
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
	ITShopOnly  bool     `json:"it_shop_only,omitempty"`
}

func (s *Server) groups(ctx context.Context, t directory.Tenant, q string, offset, limit int) (*Listing[GroupRow], error) {
	l := &Listing[GroupRow]{Query: q, Offset: offset, Limit: limit, Items: []GroupRow{}}
	q = strings.ToLower(strings.TrimSpace(q))
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	if err := s.cfg.Store.ScanGroups(ctx, t.ID, func(g directory.Group) error {
		if g.Deleted || !matches(q, g.DisplayName, g.Description, g.Mail, g.ID) {
			return nil
		}
		if l.Total >= offset && len(l.Items) < limit {
			row := GroupRow{ID: g.ID, DisplayName: g.DisplayName, Kind: string(g.Kind()), Dynamic: g.IsDynamic(),
				Rule: g.MembershipRule, Licenses: []string{}, ITShopOnly: g.ITShopOnly}
			for _, al := range g.AssignedLicenses {
				row.Licenses = append(row.Licenses, nameOr(skus[al.SkuID], al.SkuID))
			}
			idx[g.ID] = len(l.Items)
			l.Items = append(l.Items, row)
		}
		l.Total++
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.ScanMemberships(ctx, t.ID, func(m directory.Membership) error {
		if i, ok := idx[m.GroupID]; ok {
			l.Items[i].Members++
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return l, nil
}

// GroupDetail is one group with its members and the pool that manages it.
type GroupDetail struct {
	Group    directory.Group `json:"group"`
	Licenses []string        `json:"licenses"`
	Members  []UserRow       `json:"members"`
	// MemberCount counts every direct member; Members lists the first ones.
	MemberCount int    `json:"member_count"`
	Pool        string `json:"managed_by_pool,omitempty"`
}

const maxGroupMembers = 200

func (s *Server) groupDetail(ctx context.Context, t directory.Tenant, id string) (*GroupDetail, error) {
	g, err := s.cfg.Store.GetGroup(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	d := &GroupDetail{Group: g, Licenses: []string{}, Members: []UserRow{}}
	skus, err := s.skuNames(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, al := range g.AssignedLicenses {
		d.Licenses = append(d.Licenses, nameOr(skus[al.SkuID], al.SkuID))
	}
	var ids []string
	if err := s.cfg.Store.ScanMemberships(ctx, t.ID, func(m directory.Membership) error {
		if m.GroupID == id {
			d.MemberCount++
			if len(ids) < maxGroupMembers && m.MemberType == directory.MemberUser {
				ids = append(ids, m.MemberID)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	us, err := s.cfg.Store.GetUsers(ctx, t.ID, ids)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		d.Members = append(d.Members, UserRow{ID: u.ID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName,
			Department: u.Department, JobTitle: u.JobTitle, Enabled: u.AccountEnabled})
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
