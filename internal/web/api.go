package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/workflow"
)

func (s *Server) apiRoutes() {
	const t = "/api/v1/tenants/{tenant}"
	s.route("GET /api/v1/me", "", signedIn, s.apiMe)
	s.route("POST /api/v1/rules/check", "", signedIn, s.apiRuleCheck)
	s.route("GET /api/v1/tenants", "", signedIn, s.apiTenants)
	s.route("POST /api/v1/tenants", access.ManageTenants, tenantWide, s.apiCreateTenant)
	s.route("GET "+t, access.ReadDirectory, tenantWide, s.apiDashboard)
	s.route("POST "+t+"/sync", access.ManageTenants, tenantWide, s.apiSync)
	s.route("GET "+t+"/users", access.ReadDirectory, tenantWide, s.apiUsers)
	s.route("GET "+t+"/users/{id}", access.ReadDirectory, tenantWide, s.apiUser)
	s.route("GET "+t+"/groups", access.ReadDirectory, tenantWide, s.apiGroups)
	s.route("GET "+t+"/groups/{id}", access.ReadDirectory, tenantWide, s.apiGroup)
	s.route("GET "+t+"/skus", access.ReadDirectory, tenantWide, s.apiSkus)
	s.route("GET "+t+"/pools", access.ReadPolicy, partOfTenant, s.apiPools)
	s.route("POST "+t+"/pools", access.WritePolicy, partOfTenant, s.apiPutPool)
	s.route("POST "+t+"/pools/preview", access.ReadPolicy, partOfTenant, s.apiPreviewPool)
	s.route("GET "+t+"/pools/{name}", access.ReadPolicy, partOfTenant, s.apiPool)
	s.route("PUT "+t+"/pools/{name}", access.WritePolicy, partOfTenant, s.apiPutPool)
	s.route("DELETE "+t+"/pools/{name}", access.WritePolicy, partOfTenant, s.apiDeletePool)
	s.route("GET "+t+"/plan", access.ReadPolicy, partOfTenant, s.apiPlan)
	s.route("POST "+t+"/plan/apply", access.ApplyPlan, partOfTenant, s.apiApply)
	s.route("GET "+t+"/requests", access.ReadRequests, partOfTenant, s.apiRequests)
	s.route("POST "+t+"/requests", access.SubmitRequest, partOfTenant, s.apiSubmitRequest)
	s.route("GET "+t+"/changes", access.ReadRequests, partOfTenant, s.apiChanges)
	s.route("GET "+t+"/approvals", access.DecideApproval, partOfTenant, s.apiApprovals)
	s.route("POST "+t+"/approvals/decide", access.DecideApproval, partOfTenant, s.apiDecide)
	s.route("GET "+t+"/audit", access.ReadAudit, tenantWide, s.apiAudit)
	// Without a tenant: everything, including access management (accounts,
	// roles, tokens), for those who may read the audit of every tenant.
	s.route("GET /api/v1/audit", access.ReadAudit, tenantWide, s.apiAudit)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, errorf(http.StatusNotFound, "not_found", "no such API route: "+r.Method+" "+r.URL.Path))
	})
}

// decode reads a JSON body strictly: unknown fields are errors, so a typo
// in a field name is reported instead of silently ignored.
func decode(r *request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "request body: "+err.Error())
	}
	return nil
}

// pageQuery reads a list's paging parameters: q (a prefix to search for),
// after or before (cursors from a previous page's next and prev) and limit.
func pageQuery(r *request) (warehouse.PageQuery, error) {
	q := r.URL.Query()
	if q.Has("offset") {
		return warehouse.PageQuery{}, errorf(http.StatusBadRequest, "bad_request",
			"offset: lists page with cursors; pass a page's next as after= (or its prev as before=)")
	}
	pq := warehouse.PageQuery{Prefix: q.Get("q"), After: q.Get("after"), Before: q.Get("before")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > warehouse.MaxPageSize {
			return pq, errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("limit: want an integer from 1 to %d", warehouse.MaxPageSize))
		}
		pq.Limit = n
	}
	if pq.After != "" && pq.Before != "" {
		return pq, errorf(http.StatusBadRequest, "bad_request", "after and before: pass one of them")
	}
	return pq, nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *request) error {
	writeJSON(w, http.StatusOK, r.me)
	return nil
}

func (s *Server) apiRuleCheck(w http.ResponseWriter, r *request) error {
	var body struct {
		Rule string `json:"rule"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, checkRule(body.Rule))
	return nil
}

// visibleTenants lists the tenants the principal can see anything of.
func (s *Server) visibleTenants(r *request) ([]directory.Tenant, error) {
	ts, err := s.cfg.Store.ListTenants(r.Context())
	if err != nil {
		return nil, err
	}
	out := []directory.Tenant{}
	for _, t := range ts {
		for _, a := range []access.Action{access.ReadDirectory, access.ReadPolicy, access.ReadRequests} {
			if access.Anywhere(r.me, a, t.ID) {
				out = append(out, t)
				break
			}
		}
	}
	return out, nil
}

func (s *Server) apiTenants(w http.ResponseWriter, r *request) error {
	ts, err := s.visibleTenants(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

func (s *Server) apiCreateTenant(w http.ResponseWriter, r *request) error {
	var t directory.Tenant
	if err := decode(r, &t); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	err := s.cfg.Store.InTx(r.Context(), func(tx warehouse.Tx) error {
		if err := tx.CreateTenant(r.Context(), t); err != nil {
			return err
		}
		return tx.AppendAudit(r.Context(), []warehouse.AuditRecord{{TenantID: t.ID, Actor: r.actor(), Action: "tenant.create",
			TargetType: "tenant", TargetID: t.Name}})
	})
	if err != nil {
		return err
	}
	t, err = s.cfg.Store.GetTenant(r.Context(), t.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *request) error {
	d, err := s.dashboard(r.Context(), r.tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) startSync(r *request) error {
	if s.cfg.Sync == nil {
		return errNotImplemented("this server has no workers to sync with")
	}
	if err := s.cfg.Sync(r.Context(), r.tenant.ID); err != nil {
		return err
	}
	return s.cfg.Store.AppendAudit(r.Context(), []warehouse.AuditRecord{{TenantID: r.tenant.ID, Actor: r.actor(),
		Action: "tenant.sync", TargetType: "tenant", TargetID: r.tenant.Name}})
}

func (s *Server) apiSync(w http.ResponseWriter, r *request) error {
	if err := s.startSync(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sync started"})
	return nil
}

func (s *Server) apiUsers(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	l, err := s.users(r.Context(), r.tenant, pq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) apiUser(w http.ResponseWriter, r *request) error {
	d, err := s.userDetail(r.Context(), r.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) apiGroups(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	l, err := s.groups(r.Context(), r.tenant, pq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) apiGroup(w http.ResponseWriter, r *request) error {
	pq, err := pageQuery(r)
	if err != nil {
		return err
	}
	d, err := s.groupDetail(r.Context(), r.tenant, r.PathValue("id"), pq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) apiSkus(w http.ResponseWriter, r *request) error {
	skus, err := s.cfg.Store.ListSkus(r.Context(), r.tenant.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, skuRows(skus))
	return nil
}

// readablePools keeps the pools the principal may read.
func (s *Server) readablePools(r *request) ([]engine.Pool, error) {
	all, err := s.pools(r.Context(), r.tenant.ID)
	if err != nil {
		return nil, err
	}
	out := []engine.Pool{}
	for _, p := range all {
		if s.check(r, access.ReadPolicy, p.Name, p.Target.Group) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Server) apiPools(w http.ResponseWriter, r *request) error {
	ps, err := s.readablePools(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

// findPool returns a stored pool after checking the principal may do action on it.
func (s *Server) findPool(r *request, action access.Action, name string) (engine.Pool, error) {
	all, err := s.pools(r.Context(), r.tenant.ID)
	if err != nil {
		return engine.Pool{}, err
	}
	for _, p := range all {
		if strings.EqualFold(p.Name, name) {
			return p, s.check(r, action, p.Name, p.Target.Group)
		}
	}
	// Say "not found" only to those who could have seen it.
	if err := s.check(r, action, name, ""); err != nil {
		return engine.Pool{}, err
	}
	return engine.Pool{}, fmt.Errorf("pool %q: %w", name, warehouse.ErrNotFound)
}

func (s *Server) apiPool(w http.ResponseWriter, r *request) error {
	p, err := s.findPool(r, access.ReadPolicy, r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) apiPreviewPool(w http.ResponseWriter, r *request) error {
	var p engine.Pool
	if err := decode(r, &p); err != nil {
		return err
	}
	if err := s.check(r, access.ReadPolicy, p.Name, p.Target.Group); err != nil {
		return err
	}
	pv, err := s.preview(r.Context(), r.tenant.ID, p, r.URL.Query().Get("replaces"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}

// apiPutPool creates (POST) or replaces (PUT, possibly renaming) a pool.
func (s *Server) apiPutPool(w http.ResponseWriter, r *request) error {
	var p engine.Pool
	if err := decode(r, &p); err != nil {
		return err
	}
	replaces := r.PathValue("name")
	status := http.StatusOK
	if replaces == "" {
		status = http.StatusCreated
		if _, err := s.cfg.Store.GetPool(r.Context(), r.tenant.ID, p.Name); err == nil {
			return errorf(http.StatusConflict, "conflict", fmt.Sprintf("pool %q exists; PUT it to change it", p.Name))
		}
	} else {
		old, err := s.findPool(r, access.WritePolicy, replaces)
		if err != nil {
			return err
		}
		replaces = old.Name
	}
	if err := s.check(r, access.WritePolicy, p.Name, p.Target.Group); err != nil {
		return err
	}
	pv, err := s.savePool(r.Context(), r.actor(), r.tenant.ID, p, replaces)
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"pool": p, "preview": pv})
	return nil
}

func (s *Server) apiDeletePool(w http.ResponseWriter, r *request) error {
	p, err := s.findPool(r, access.WritePolicy, r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := s.deletePool(r.Context(), r.actor(), r.tenant.ID, p.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// visiblePlan computes the plan and keeps the pools the principal may read.
func (s *Server) visiblePlan(r *request) (*engine.Plan, error) {
	plan, policy, err := s.plan(r.Context(), r.tenant.ID)
	if err != nil {
		return nil, err
	}
	kept := plan.Pools[:0]
	target := map[string]string{}
	for _, p := range policy.Pools {
		target[p.Name] = p.Target.Group
	}
	for _, pp := range plan.Pools {
		if s.check(r, access.ReadPolicy, pp.Pool, target[pp.Pool]) == nil {
			kept = append(kept, pp)
		}
	}
	plan.Pools = kept
	return plan, nil
}

func (s *Server) apiPlan(w http.ResponseWriter, r *request) error {
	plan, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	if name := r.URL.Query().Get("pool"); name != "" {
		pp := plan.Pool(name)
		if pp == nil {
			return errorf(http.StatusNotFound, "not_found", fmt.Sprintf("pool %q: not in the plan", name))
		}
		writeJSON(w, http.StatusOK, pp)
		return nil
	}
	writeJSON(w, http.StatusOK, plan)
	return nil
}

func (s *Server) apiApply(w http.ResponseWriter, r *request) error {
	var body struct {
		Pools []string `json:"pools"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	res, err := s.submitPlan(r, body.Pools)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

func (s *Server) apiRequests(w http.ResponseWriter, r *request) error {
	rs, err := s.visibleRequests(r, listFilter(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

func (s *Server) apiChanges(w http.ResponseWriter, r *request) error {
	cs, err := s.visibleChanges(r, access.ReadRequests, listFilter(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

// NewRequest is a direct license or membership change asked for through the
// API (helpdesk, automation).
type NewRequest struct {
	Operation workflow.Operation          `json:"operation"`
	UserID    string                      `json:"user_id"`
	GroupID   string                      `json:"group_id,omitempty"`
	Licenses  []directory.AssignedLicense `json:"licenses,omitempty"`
	Reason    string                      `json:"reason,omitempty"`
}

// directOperations are what this route accepts; user lifecycle requests
// come from provisioning.
var directOperations = []workflow.Operation{workflow.AddGroupMember, workflow.RemoveGroupMember,
	workflow.AddLicense, workflow.RemoveLicense}

func (s *Server) apiSubmitRequest(w http.ResponseWriter, r *request) error {
	var nr NewRequest
	if err := decode(r, &nr); err != nil {
		return err
	}
	if !slices.Contains(directOperations, nr.Operation) {
		return errorf(http.StatusUnprocessableEntity, "invalid",
			fmt.Sprintf("operation %q: want add_group_member, remove_group_member, add_license or remove_license", nr.Operation))
	}
	if err := s.check(r, access.SubmitRequest, "", nr.GroupID); err != nil {
		return err
	}
	p, err := s.pipeline()
	if err != nil {
		return err
	}
	b, err := p.Submit(r.Context(), r.tenant.ID, []workflow.Request{{Initiator: r.initiator(), Origin: workflow.FromAPI,
		Operation: nr.Operation, UserID: nr.UserID, GroupID: nr.GroupID, Licenses: nr.Licenses, Reason: nr.Reason}})
	if err != nil {
		return pipelineError(err)
	}
	writeJSON(w, http.StatusAccepted, b)
	return nil
}

func (s *Server) apiApprovals(w http.ResponseWriter, r *request) error {
	if _, err := s.pipeline(); err != nil {
		return err
	}
	inbox, unrouted, err := s.inbox(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": inbox, "unrouted_removals": unrouted})
	return nil
}

func (s *Server) apiDecide(w http.ResponseWriter, r *request) error {
	var d Decision
	if err := decode(r, &d); err != nil {
		return err
	}
	n, err := s.decide(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"decided": n})
	return nil
}

// auditFilter reads actor, action, target, request, since and until
// (dates or RFC 3339 times) and before (an id, for paging).
func auditFilter(r *request) (warehouse.AuditFilter, error) {
	q := r.URL.Query()
	f := warehouse.AuditFilter{TenantID: r.tenant.ID, Actor: q.Get("actor"), Action: q.Get("action"),
		TargetID: q.Get("target"), RequestID: q.Get("request"), Limit: 100}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return f, errorf(http.StatusBadRequest, "bad_request", name+": want a date (2006-01-02) or an RFC 3339 time")
			}
			if name == "until" {
				t = t.AddDate(0, 0, 1) // the whole day
			}
		}
		*dst = t
	}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return f, errorf(http.StatusBadRequest, "bad_request", "before: want an audit record id")
		}
		f.BeforeID = id
	}
	return f, nil
}

// audit lists the records the request's filters select.
func (s *Server) audit(r *request) (warehouse.AuditFilter, []warehouse.AuditRecord, error) {
	f, err := auditFilter(r)
	if err != nil {
		return f, nil, err
	}
	recs, err := s.cfg.Store.ListAudit(r.Context(), f)
	if recs == nil {
		recs = []warehouse.AuditRecord{}
	}
	return f, recs, err
}

func (s *Server) apiAudit(w http.ResponseWriter, r *request) error {
	_, recs, err := s.audit(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recs)
	return nil
}
