package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/warehouse"
)

func (s *Server) consoleRoutes() {
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.HandleFunc("POST /login", s.login)
	s.route("POST /logout", "", signedIn, s.logout)
	s.route("GET /account/password", "", signedIn, s.passwordForm)
	s.route("POST /account/password", "", signedIn, s.changePassword)
	s.route("GET /{$}", "", signedIn, s.home)

	const t = "/t/{tenant}"
	s.route("GET "+t+"/{$}", access.ReadDirectory, tenantWide, s.pageDashboard)
	s.route("POST "+t+"/sync", access.ManageTenants, tenantWide, s.pageSync)
	s.route("GET "+t+"/users", access.ReadDirectory, tenantWide, s.pageUsers)
	s.route("GET "+t+"/users/{id}", access.ReadDirectory, tenantWide, s.pageUser)
	s.route("GET "+t+"/groups", access.ReadDirectory, tenantWide, s.pageGroups)
	s.route("GET "+t+"/groups/{id}", access.ReadDirectory, tenantWide, s.pageGroup)
	s.route("GET "+t+"/pools", access.ReadPolicy, partOfTenant, s.pagePools)
	s.route("GET "+t+"/pools/new", access.WritePolicy, partOfTenant, s.pagePoolNew)
	s.route("GET "+t+"/pools/{name}", access.ReadPolicy, partOfTenant, s.pagePool)
	s.route("POST "+t+"/pools", access.WritePolicy, partOfTenant, s.pagePoolSave)
	s.route("POST "+t+"/pools/preview", access.ReadPolicy, partOfTenant, s.pagePoolPreview)
	s.route("POST "+t+"/pools/{name}/delete", access.WritePolicy, partOfTenant, s.pagePoolDelete)
	s.route("POST "+t+"/rule", access.ReadPolicy, partOfTenant, s.pageRuleCheck)
	s.route("GET "+t+"/plan", access.ReadPolicy, partOfTenant, s.pagePlan)
	s.route("POST "+t+"/plan/apply", access.ApplyPlan, partOfTenant, s.pageApply)
	s.route("GET "+t+"/approvals", access.DecideApproval, partOfTenant, s.pageApprovals)
	s.route("POST "+t+"/approvals", access.DecideApproval, partOfTenant, s.pageDecide)
	s.route("GET "+t+"/requests", access.ReadRequests, partOfTenant, s.pageRequests)
	s.route("GET "+t+"/audit", access.ReadAudit, tenantWide, s.pageAudit)
	s.route("GET /t/{tenant}/{rest...}", "", signedIn, func(http.ResponseWriter, *request) error {
		return errorf(http.StatusNotFound, "not_found", "no such page")
	})
}

// home sends people to the first tenant they can see, or explains why
// there is none.
func (s *Server) home(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Tenants", nil)
	if len(p.Tenants) == 1 {
		t := p.Tenants[0]
		dest := "/t/" + t.Name + "/"
		if !access.Anywhere(r.me, access.ReadDirectory, t.ID) {
			dest += "requests"
		}
		http.Redirect(w, r.Request, dest, http.StatusSeeOther)
		return nil
	}
	s.pages.render(w, http.StatusOK, "home", p)
	return nil
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *request) error {
	d, err := s.dashboard(r.Context(), r.tenant)
	if err != nil {
		return err
	}
	s.render(w, r, "dashboard", "Dashboard", d)
	return nil
}

func (s *Server) pageSync(w http.ResponseWriter, r *request) error {
	if err := s.startSync(r); err != nil {
		return err
	}
	fmt.Fprint(w, `<p class="flash" role="status">Sync started. Reload in a moment to see the result.</p>`)
	return nil
}

func (s *Server) pageUsers(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	l, err := s.users(r.Context(), r.tenant, pq)
	if err != nil {
		return err
	}
	s.render(w, r, "users", "Users", l)
	return nil
}

func (s *Server) pageUser(w http.ResponseWriter, r *request) error {
	d, err := s.userDetail(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, "user", d.User.DisplayName, d)
	return nil
}

func (s *Server) pageGroups(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	l, err := s.groups(r.Context(), r.tenant, pq)
	if err != nil {
		return err
	}
	s.render(w, r, "groups", "Groups", l)
	return nil
}

func (s *Server) pageGroup(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	d, err := s.groupDetail(r.Context(), r.tenant, r.PathValue("id"), pq)
	if err != nil {
		return err
	}
	s.render(w, r, "group", d.Group.DisplayName, d)
	return nil
}

type poolRow struct {
	Pool                               engine.Pool
	Target, Error                      string
	Resultant, Adds, Removals, Blocked int
}

func (s *Server) pagePools(w http.ResponseWriter, r *request) error {
	pools, err := s.readablePools(r)
	if err != nil {
		return err
	}
	plan, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	rows := make([]poolRow, 0, len(pools))
	for _, p := range pools {
		row := poolRow{Pool: p, Target: p.Target.String()}
		if pp := plan.Pool(p.Name); pp != nil {
			row.Error, row.Resultant = pp.Error, pp.Resultant
			row.Adds, row.Removals, row.Blocked = len(pp.Adds), len(pp.Removals), len(pp.Blocked)
		}
		rows = append(rows, row)
	}
	s.render(w, r, "pools", "Pools", map[string]any{"Rows": rows})
	return nil
}

// poolForm is the pool editor: the pool plus the text forms of its lists
// and the choices the form offers.
type poolForm struct {
	Original                    string
	Pool                        engine.Pool
	Bundle                      map[string]bool
	AssignGroups, AssignUsers   string
	AssignRule, ExcludeRule     string
	ExcludeGroups, ExcludeUsers string
	Skus                        []SkuRow
	LicenseGroups               []GroupRow
	Problems                    []FieldProblem
	Editable                    bool
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// joinRules shows several stored rules as one: a user selected by any rule
// is selected by their disjunction.
func joinRules(rules []string) string {
	if len(rules) <= 1 {
		return strings.Join(rules, "")
	}
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = "(" + r + ")"
	}
	return strings.Join(parts, " -or ")
}

// poolFromForm reads the editor's fields. Numbers that do not parse are
// reported as field problems rather than silently read as zero.
func poolFromForm(r *request) (engine.Pool, string, []FieldProblem) {
	f := r.PostFormValue
	var probs []FieldProblem
	p := engine.Pool{Name: strings.TrimSpace(f("name")), Description: strings.TrimSpace(f("description"))}
	if f("target") == "direct" {
		p.Target.Direct = true
	} else {
		p.Target.Group = strings.TrimSpace(f("target_group"))
	}
	for _, sku := range r.PostForm["sku"] {
		p.Bundle = append(p.Bundle, engine.BundleItem{Sku: sku})
	}
	p.Assignments = engine.Selector{TransitiveGroups: lines(f("assign_groups")), Users: lines(f("assign_users")),
		Everyone: f("everyone") != ""}
	if rule := strings.TrimSpace(f("assign_rule")); rule != "" {
		p.Assignments.Rules = []string{rule}
	}
	p.Exclusions = engine.Selector{TransitiveGroups: lines(f("exclude_groups")), Users: lines(f("exclude_users"))}
	if rule := strings.TrimSpace(f("exclude_rule")); rule != "" {
		p.Exclusions.Rules = []string{rule}
	}
	for name, dst := range map[string]*int{"seat_cap": &p.SeatCap, "priority": &p.Priority} {
		v := strings.TrimSpace(f(name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			probs = append(probs, FieldProblem{Path: name, Message: fmt.Sprintf("%q is not a whole number", v)})
		}
		*dst = n
	}
	p.RemovalApproval = f("removal_approval") != ""
	return p, strings.TrimSpace(f("original")), probs
}

func (s *Server) poolForm(r *request, p engine.Pool, original string) (*poolForm, error) {
	skus, err := s.cfg.Store.ListSkus(r.Context(), r.tenant.ID)
	if err != nil {
		return nil, err
	}
	pf := &poolForm{Original: original, Pool: p, Bundle: map[string]bool{}, Skus: skuRows(skus),
		AssignGroups:  strings.Join(append(append([]string{}, p.Assignments.Groups...), p.Assignments.TransitiveGroups...), "\n"),
		AssignUsers:   strings.Join(p.Assignments.Users, "\n"),
		AssignRule:    joinRules(p.Assignments.Rules),
		ExcludeGroups: strings.Join(append(append([]string{}, p.Exclusions.Groups...), p.Exclusions.TransitiveGroups...), "\n"),
		ExcludeUsers:  strings.Join(p.Exclusions.Users, "\n"),
		ExcludeRule:   joinRules(p.Exclusions.Rules),
		Editable:      s.check(r, access.WritePolicy, nameOr(original, p.Name), p.Target.Group) == nil,
	}
	byRef := map[string]string{}
	for _, k := range skus {
		byRef[strings.ToLower(k.SkuID)], byRef[strings.ToLower(k.SkuPartNumber)] = k.SkuPartNumber, k.SkuPartNumber
	}
	for _, b := range p.Bundle {
		pf.Bundle[nameOr(byRef[strings.ToLower(b.Sku)], b.Sku)] = true
	}
	lgs, err := s.cfg.Store.LicenseGroups(r.Context(), r.tenant.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range lgs {
		row := GroupRow{ID: g.ID, DisplayName: g.DisplayName}
		for _, al := range g.AssignedLicenses {
			row.Licenses = append(row.Licenses, nameOr(byRef[strings.ToLower(al.SkuID)], al.SkuID))
		}
		pf.LicenseGroups = append(pf.LicenseGroups, row)
	}
	return pf, nil
}

func (s *Server) pagePoolNew(w http.ResponseWriter, r *request) error {
	pf, err := s.poolForm(r, engine.Pool{}, "")
	if err != nil {
		return err
	}
	s.render(w, r, "pool", "New pool", pf)
	return nil
}

func (s *Server) pagePool(w http.ResponseWriter, r *request) error {
	p, err := s.findPool(r, access.ReadPolicy, r.PathValue("name"))
	if err != nil {
		return err
	}
	pf, err := s.poolForm(r, p, p.Name)
	if err != nil {
		return err
	}
	s.render(w, r, "pool", "Pool "+p.Name, pf)
	return nil
}

func (s *Server) pagePoolSave(w http.ResponseWriter, r *request) error {
	p, original, probs := poolFromForm(r)
	if len(probs) == 0 {
		if original != "" {
			if _, err := s.findPool(r, access.WritePolicy, original); err != nil {
				return err
			}
		}
		if err := s.check(r, access.WritePolicy, p.Name, p.Target.Group); err != nil {
			return err
		}
		_, err := s.savePool(r.Context(), r.actor(), r.tenant.ID, p, original)
		if err == nil {
			http.Redirect(w, r.Request, "/t/"+r.tenant.Name+"/pools/"+url.PathEscape(p.Name)+"?saved=1", http.StatusSeeOther)
			return nil
		}
		e := asError(err)
		if e.Status != http.StatusUnprocessableEntity {
			return err
		}
		probs = e.Fields
		if len(probs) == 0 {
			probs = []FieldProblem{{Message: e.Message}}
		}
	}
	pf, err := s.poolForm(r, p, original)
	if err != nil {
		return err
	}
	pf.Problems = probs
	pg := s.newPage(r, "Pool", pf)
	pg.Nav = "pool"
	s.pages.render(w, http.StatusUnprocessableEntity, "pool", pg)
	return nil
}

func (s *Server) pagePoolPreview(w http.ResponseWriter, r *request) error {
	p, original, probs := poolFromForm(r)
	pv := &Preview{Pool: p.Name, Problems: probs}
	if len(probs) == 0 {
		var err error
		if pv, err = s.preview(r.Context(), r.tenant.ID, p, original); err != nil {
			return err
		}
	}
	s.pages.fragment(w, "pool", "preview", s.newPage(r, "", pv))
	return nil
}

func (s *Server) pagePoolDelete(w http.ResponseWriter, r *request) error {
	p, err := s.findPool(r, access.WritePolicy, r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := s.deletePool(r.Context(), r.actor(), r.tenant.ID, p.Name); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/t/"+r.tenant.Name+"/pools", http.StatusSeeOther)
	return nil
}

// pageRuleCheck validates the rule field that triggered the request (htmx
// names it in HX-Trigger-Name), as the user types.
func (s *Server) pageRuleCheck(w http.ResponseWriter, r *request) error {
	field := r.Header.Get("HX-Trigger-Name")
	if field != "assign_rule" && field != "exclude_rule" {
		field = "rule"
	}
	rc := checkRule(strings.TrimSpace(r.PostFormValue(field)))
	s.pages.fragment(w, "pool", "rulecheck", &page{Data: rc})
	return nil
}

func (s *Server) pagePlan(w http.ResponseWriter, r *request) error {
	plan, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	s.render(w, r, "plan", "Plan", map[string]any{"Plan": plan, "At": s.now(),
		"CanApply": access.Anywhere(r.me, access.ApplyPlan, r.tenant.ID) && s.cfg.Pipeline != nil})
	return nil
}

func (s *Server) pageApply(w http.ResponseWriter, r *request) error {
	res, err := s.submitPlan(r, r.PostForm["pool"])
	if err != nil {
		return err
	}
	dest := "/t/" + r.tenant.Name + "/requests"
	if res.PendingApproval > 0 && access.Anywhere(r.me, access.DecideApproval, r.tenant.ID) {
		dest = "/t/" + r.tenant.Name + "/approvals"
	}
	http.Redirect(w, r.Request, dest, http.StatusSeeOther)
	return nil
}

func (s *Server) pageApprovals(w http.ResponseWriter, r *request) error {
	if _, err := s.pipeline(); err != nil {
		return err
	}
	inbox, unrouted, err := s.inbox(r)
	if err != nil {
		return err
	}
	var cs []warehouse.Change
	for _, p := range inbox {
		cs = append(cs, p.Changes...)
	}
	names, err := s.names(r, cs, nil)
	if err != nil {
		return err
	}
	s.render(w, r, "approvals", "Approvals", map[string]any{"Inbox": inbox, "Unrouted": unrouted, "Names": names,
		"Today": s.now().Format("2006-01-02")})
	return nil
}

func (s *Server) pageDecide(w http.ResponseWriter, r *request) error {
	d := Decision{Changes: r.PostForm["change"], Approvals: r.PostForm["approval"], Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	switch r.PostFormValue("decision") {
	case "approve":
		d.Approve = true
	case "reject":
	default:
		return errorf(http.StatusBadRequest, "bad_request", "decision: approve or reject")
	}
	if v := r.PostFormValue("effective"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_request", "effective date: want YYYY-MM-DD")
		}
		d.Effective = t // today or earlier means now
	}
	if _, err := s.decide(r, d); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/t/"+r.tenant.Name+"/requests", http.StatusSeeOther)
	return nil
}

var changeStatuses = []string{warehouse.ChangePendingApproval, warehouse.ChangeOpen, warehouse.ChangeClaimed,
	warehouse.ChangeDone, warehouse.ChangeFailed, warehouse.ChangeRejected, warehouse.ChangeSuperseded}

func (s *Server) pageRequests(w http.ResponseWriter, r *request) error {
	f := listFilter(r)
	f.Limit = 200
	cs, err := s.visibleChanges(r, access.ReadRequests, f)
	if err != nil {
		return err
	}
	rf := f
	rf.Status = ""
	rs, err := s.visibleRequests(r, rf)
	if err != nil {
		return err
	}
	names, err := s.names(r, cs, rs)
	if err != nil {
		return err
	}
	s.render(w, r, "requests", "Requests", map[string]any{"Changes": cs, "Requests": rs, "Status": f.Status,
		"Statuses": changeStatuses, "Names": names})
	return nil
}

// names maps the user and group ids of changes and requests to names people
// recognise (user principal names, group display names).
func (s *Server) names(r *request, cs []warehouse.Change, rs []warehouse.Request) (map[string]string, error) {
	var users, groups []string
	for _, c := range cs {
		users, groups = append(users, c.UserID), append(groups, c.GroupID)
	}
	for _, q := range rs {
		users = append(users, q.UserID)
		if q.TargetType == "group" {
			groups = append(groups, q.TargetID)
		} else {
			users = append(users, q.TargetID)
		}
	}
	return s.idNames(r, users, groups)
}

// idNames maps user ids to user principal names and group ids to display names.
func (s *Server) idNames(r *request, users, groups []string) (map[string]string, error) {
	out := map[string]string{}
	us, err := s.cfg.Store.GetUsers(r.Context(), r.tenant.ID, users)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u.UserPrincipalName
	}
	gs, err := s.cfg.Store.GetGroups(r.Context(), r.tenant.ID, groups)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		out[g.ID] = g.DisplayName
	}
	return out, nil
}

// auditActions offers the actions recorded recently as filter suggestions:
// every part of allot writes its own, so no fixed list would stay right.
func (s *Server) auditActions(r *request) ([]string, error) {
	recent, err := s.cfg.Store.ListAudit(r.Context(), warehouse.AuditFilter{TenantID: r.tenant.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, rec := range recent {
		if !seen[rec.Action] {
			seen[rec.Action] = true
			out = append(out, rec.Action)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s *Server) pageAudit(w http.ResponseWriter, r *request) error {
	f, recs, err := s.audit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	actions, err := s.auditActions(r)
	if err != nil {
		return err
	}
	var users, groups []string
	for _, rec := range recs {
		switch rec.TargetType {
		case "user":
			users = append(users, rec.TargetID)
		case "group":
			groups = append(groups, rec.TargetID)
		}
	}
	names, err := s.idNames(r, users, groups)
	if err != nil {
		return err
	}
	data := map[string]any{"Records": recs, "Filter": f, "Actions": actions, "Names": names, "Since": q.Get("since"),
		"Until": q.Get("until"), "Filtered": f.Actor != "" || f.Action != "" || f.TargetID != "" || !f.Since.IsZero() || !f.Until.IsZero()}
	if len(recs) == f.Limit {
		q.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		data["Older"] = "?" + q.Encode()
	}
	s.render(w, r, "audit", "Audit", data)
	return nil
}
