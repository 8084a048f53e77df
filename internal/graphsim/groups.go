package graphsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

var groupEntity = &entity[group]{
	typeName: "microsoft.graph.group",
	scalar: map[string]func(t *tenant, g *group) val{
		"id":                            func(_ *tenant, g *group) val { return sv(g.id) },
		"displayname":                   func(_ *tenant, g *group) val { return sv(g.displayName) },
		"description":                   func(_ *tenant, g *group) val { return sv(g.description) },
		"mail":                          func(_ *tenant, g *group) val { return sv(g.mail) },
		"mailnickname":                  func(_ *tenant, g *group) val { return sv(g.mailNickname) },
		"mailenabled":                   func(_ *tenant, g *group) val { return bv(g.mailEnabled) },
		"securityenabled":               func(_ *tenant, g *group) val { return bv(g.securityEnab) },
		"membershiprule":                func(_ *tenant, g *group) val { return sv(g.membershipRule) },
		"membershipruleprocessingstate": func(_ *tenant, g *group) val { return sv(g.ruleState) },
		"visibility":                    func(_ *tenant, g *group) val { return sv(g.visibility) },
		"createddatetime":               func(_ *tenant, g *group) val { return tv(g.created) },
		"hasmemberswithlicenseerrors":   func(t *tenant, g *group) val { return bv(t.hasLicenseErrors(g)) },
	},
	coll: map[string]func(t *tenant, g *group, yield func(element) bool) bool{
		"grouptypes": func(_ *tenant, g *group, yield func(element) bool) bool {
			for _, gt := range g.groupTypes {
				if yield(func(string) val { return sv(gt) }) {
					return true
				}
			}
			return false
		},
		"assignedlicenses": func(t *tenant, g *group, yield func(element) bool) bool {
			for _, l := range g.licenses {
				id := t.skus[l.sku].p.skuID
				if yield(func(sub string) val {
					if strings.EqualFold(sub, "skuId") {
						return sv(id)
					}
					return val{kind: 'n'}
				}) {
					return true
				}
			}
			return false
		},
		"resourceprovisioningoptions": func(*tenant, *group, func(element) bool) bool { return false },
		"proxyaddresses": func(_ *tenant, g *group, yield func(element) bool) bool {
			if g.mail == "" {
				return false
			}
			a := "SMTP:" + g.mail
			return yield(func(string) val { return sv(a) })
		},
	},
	count: map[string]func(t *tenant, g *group) int{
		"assignedlicenses": func(_ *tenant, g *group) int { return len(g.licenses) },
	},
}

func groupText(g *group, prop string) string {
	switch prop {
	case "displayname":
		return g.displayName
	case "description":
		return g.description
	case "mail":
		return g.mail
	case "mailnickname":
		return g.mailNickname
	}
	return ""
}

// hasLicenseErrors reports whether any direct member holds an error state
// from this group's licenses.
func (t *tenant) hasLicenseErrors(g *group) bool {
	if len(g.licenses) == 0 {
		return false
	}
	gi := t.groupByID[g.id]
	for _, m := range g.members {
		if m >= 0 && t.licenseErrorFrom(m, gi) {
			return true
		}
	}
	return false
}

func (t *tenant) licenseErrorFrom(u int32, g int32) bool {
	for _, l := range t.users[u].licenses {
		if l.group == g && l.errc != errNone {
			return true
		}
	}
	return false
}

var groupsLister = &lister[group]{
	props: groupProps, ent: groupEntity, kind: 'g', ctx: "groups",
	n:     func(t *tenant) int { return len(t.groups) },
	at:    func(t *tenant, i int) *group { return &t.groups[i] },
	alive: func(g *group) bool { return !g.deleted },
	text:  groupText,
	lookup: func(t *tenant, id string) (int, bool) {
		i, ok := t.groupByID[strings.ToLower(id)]
		return int(i), ok
	},
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	serveList(s, w, r, ri, groupsLister, "/groups")
}

func (s *Server) countGroups(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	serveCount(s, w, r, ri, groupsLister)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	sel, names, ge := parseSelect(r, groupProps, groupEntity.typeName)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	g, ok := s.t.lookupGroup(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	writeJSON(w, http.StatusOK, s.renderGroup(g, sel, entityContext("groups", names)))
}

func (s *Server) renderGroup(g int32, sel []int, ctx string) []byte {
	return renderEntity(s, groupProps, &s.t.groups[g], sel, ctx)
}

// memberSource is what /groups/{id}/… lists.
const (
	srcMembers = iota
	srcTransitive
	srcLicenseErrors
)

// memberRefs returns the references a member collection lists. Caller holds
// the read lock; the returned slice must not be modified.
func (t *tenant) memberRefs(g int32, src int) []ref {
	switch src {
	case srcTransitive:
		var out []ref
		seenU := map[int32]bool{}
		seenG := map[int32]bool{g: true}
		queue := []int32{g}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, m := range t.groups[cur].members {
				if m >= 0 {
					if !seenU[m] {
						seenU[m] = true
						out = append(out, m)
					}
					continue
				}
				if ng := refGroup(m); !seenG[ng] {
					seenG[ng] = true
					out = append(out, m)
					queue = append(queue, ng)
				}
			}
		}
		return out
	case srcLicenseErrors:
		var out []ref
		for _, m := range t.groups[g].members {
			if m >= 0 && t.licenseErrorFrom(m, g) {
				out = append(out, m)
			}
		}
		return out
	}
	return t.groups[g].members
}

// listMembers serves members, transitiveMembers and membersWithLicenseErrors
// with optional OData casts (microsoft.graph.user / .group) and /$count.
// Items are polymorphic: each carries its @odata.type.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1.0"), "/"), "/")
	src := srcMembers
	switch strings.ToLower(segs[2]) {
	case "transitivemembers":
		src = srcTransitive
	case "memberswithlicenseerrors":
		src = srcLicenseErrors
	}
	countOnly := strings.EqualFold(segs[len(segs)-1], "$count")
	cast := ""
	if len(p) > 1 {
		switch strings.ToLower(p[1]) {
		case "microsoft.graph.user":
			cast = "user"
		case "microsoft.graph.group":
			cast = "group"
		default:
			writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", p[1]))
			return
		}
	}
	if countOnly && !isEventual(r) {
		writeError(w, ri, badRequest("$count is not currently supported."))
		return
	}
	q := r.URL.Query()
	// $select applies per type: a name must exist on users or groups.
	var uSel, gSel []int
	var selNames []string
	if sel := q.Get("$select"); sel != "" {
		for _, name := range strings.Split(sel, ",") {
			name = strings.TrimSpace(name)
			ui, uok := userProps.lookup(name)
			gi, gok := groupProps.lookup(name)
			if !uok && !gok {
				writeError(w, ri, badRequest("Could not find a property named '%s' on type 'microsoft.graph.directoryObject'.", name))
				return
			}
			if uok {
				uSel = append(uSel, ui)
				selNames = append(selNames, userProps.all[ui].name)
			}
			if gok {
				gSel = append(gSel, gi)
				if !uok {
					selNames = append(selNames, groupProps.all[gi].name)
				}
			}
		}
	} else {
		uSel, gSel = userProps.defs, groupProps.defs
	}
	lqU, ge := parseListQuery(stripSelect(r), userProps, userEntity, 'm')
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if countOnly {
		lqU.advanced = true
	}
	var uMatch func(*tenant, *user) bool
	var gMatch func(*tenant, *group) bool
	if lqU.filterSrc != "" || len(lqU.search) > 0 {
		uMatch, _ = compileList(usersLister, lqU)
		gMatch, _ = compileList(groupsLister, lqU)
		if uMatch == nil && gMatch == nil {
			_, ge := compileList(usersLister, lqU)
			writeError(w, ri, ge)
			return
		}
	}
	t := s.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, ok := t.lookupGroup(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	refs := t.memberRefs(g, src)
	keep := func(m ref) bool {
		if m >= 0 {
			if cast == "group" || t.users[m].deleted {
				return false
			}
			return (lqU.filterSrc == "" && len(lqU.search) == 0) || (uMatch != nil && uMatch(t, &t.users[m]))
		}
		if cast == "user" {
			return false
		}
		gr := &t.groups[refGroup(m)]
		return (lqU.filterSrc == "" && len(lqU.search) == 0) || (gMatch != nil && gMatch(t, gr))
	}
	if countOnly {
		c := 0
		for _, m := range refs {
			if keep(m) {
				c++
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strconv.Itoa(c)))
		return
	}
	start := 0
	if lqU.skip != nil {
		start = int(lqU.skip.pos)
	}
	count := -1
	if lqU.count && lqU.skip == nil {
		count = 0
		for _, m := range refs {
			if keep(m) {
				count++
			}
		}
	}
	e := newEnc(64 << 10)
	e.open()
	ctx := "directoryObjects"
	switch cast {
	case "user":
		ctx = "users"
	case "group":
		ctx = "groups"
	}
	if selNames != nil {
		ctx += "(" + strings.Join(selNames, ",") + ")"
	}
	e.kv("@odata.context", s.context(ctx))
	if count >= 0 {
		e.key("@odata.count")
		e.int(int64(count))
	}
	var page []ref
	i := start
	for ; i < len(refs) && len(page) < lqU.top; i++ {
		if keep(refs[i]) {
			page = append(page, refs[i])
		}
	}
	for j := i; j < len(refs); j++ {
		if keep(refs[j]) {
			e.kv("@odata.nextLink", s.nextLink(r, strings.TrimPrefix(r.URL.Path, "/v1.0"), "$skiptoken", pageToken{kind: 'm', pos: int64(j)}.encode()))
			break
		}
	}
	e.key("value")
	e.openArr()
	for _, m := range page {
		e.open()
		if m >= 0 {
			e.kv("@odata.type", "#microsoft.graph.user")
			userProps.render(e, t, &t.users[m], uSel)
		} else {
			e.kv("@odata.type", "#microsoft.graph.group")
			groupProps.render(e, t, &t.groups[refGroup(m)], gSel)
		}
		e.close()
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

// stripSelect returns a copy of r without $select (members resolve it per
// type themselves).
func stripSelect(r *http.Request) *http.Request {
	q := r.URL.Query()
	if q.Get("$select") == "" {
		return r
	}
	q.Del("$select")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return r2
}

// memberURL extracts the directory object id from an @odata.id or
// @odata.bind reference such as
// https://graph.microsoft.com/v1.0/directoryObjects/{id}.
func memberURL(ref string) (string, bool) {
	if !strings.Contains(ref, "/") {
		return "", false
	}
	id := lastSegment(ref)
	return id, id != ""
}

func (s *Server) addMemberHTTP(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	var body map[string]json.RawMessage
	if ge := decodeJSON(r, &body); ge != nil {
		writeError(w, ri, ge)
		return
	}
	var odataID string
	if raw, ok := body["@odata.id"]; !ok || json.Unmarshal(raw, &odataID) != nil {
		writeError(w, ri, badRequest("Invalid object identifier ''."))
		return
	}
	mid, ok := memberURL(odataID)
	if !ok {
		writeError(w, ri, badRequest("Invalid object identifier '%s'.", odataID))
		return
	}
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.lookupGroup(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	m, ok := t.lookupObject(mid)
	if !ok {
		writeError(w, ri, notFound(mid))
		return
	}
	gid, objID := t.groups[g].id, t.refID(m)
	if ge := t.checkMemberWrite(g, m); ge != nil {
		ri.record("addMember", gid, objID, OutcomeRejected)
		writeError(w, ri, ge)
		return
	}
	if !t.addMember(g, m, s.now()) {
		ri.record("addMember", gid, objID, OutcomeDuplicate)
		writeError(w, ri, errAlreadyExists)
		return
	}
	ri.record("addMember", gid, objID, OutcomeApplied)
	w.WriteHeader(http.StatusNoContent)
}

var errAlreadyExists = badRequest("One or more added object references already exist for the following modified properties: 'members'.")

// checkMemberWrite refuses manual changes to dynamic groups and cycles.
func (t *tenant) checkMemberWrite(g int32, m ref) *GraphError {
	if t.groups[g].isDynamic() {
		return badRequest("Insufficient privileges to complete the operation. Members of a group with dynamic membership cannot be added or removed manually.")
	}
	if m < 0 && refGroup(m) == g {
		return badRequest("A group cannot be a member of itself.")
	}
	return nil
}

func (s *Server) removeMemberHTTP(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.lookupGroup(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	m, ok := t.lookupObject(p[1])
	if !ok || !t.isMember(g, m) {
		ri.record("removeMember", t.groups[g].id, strings.ToLower(p[1]), OutcomeDuplicate)
		writeError(w, ri, notFound(p[1]))
		return
	}
	gid, objID := t.groups[g].id, t.refID(m)
	if ge := t.checkMemberWrite(g, m); ge != nil {
		ri.record("removeMember", gid, objID, OutcomeRejected)
		writeError(w, ri, ge)
		return
	}
	t.removeMember(g, m, s.now())
	ri.record("removeMember", gid, objID, OutcomeApplied)
	w.WriteHeader(http.StatusNoContent)
}

// patchGroup updates a group's writable properties and binds up to 20
// members at once. Like Graph, it is all or nothing: one existing member
// fails the whole request and adds nobody.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	var body struct {
		Members     []string `json:"members@odata.bind"`
		Owners      []string `json:"owners@odata.bind"`
		DisplayName *string  `json:"displayName"`
		Description *string  `json:"description"`
	}
	if ge := decodeJSON(r, &body); ge != nil {
		writeError(w, ri, ge)
		return
	}
	if len(body.Members)+len(body.Owners) > 20 {
		writeError(w, ri, badRequest("A resource cannot contain more than 20 link changes."))
		return
	}
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.lookupGroup(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	gid := t.groups[g].id
	var refs []ref
	var dup bool
	for _, b := range body.Members {
		id, ok := memberURL(b)
		if !ok {
			writeError(w, ri, badRequest("Invalid object identifier '%s'.", b))
			return
		}
		m, ok := t.lookupObject(id)
		if !ok {
			writeError(w, ri, notFound(id))
			return
		}
		if ge := t.checkMemberWrite(g, m); ge != nil {
			writeError(w, ri, ge)
			return
		}
		if t.isMember(g, m) || slices.Contains(refs, m) {
			dup = true
		}
		refs = append(refs, m)
	}
	if dup {
		for _, m := range refs {
			outcome := OutcomeRejected
			if t.isMember(g, m) {
				outcome = OutcomeDuplicate
			}
			ri.record("addMember", gid, t.refID(m), outcome)
		}
		writeError(w, ri, errAlreadyExists)
		return
	}
	for _, m := range refs {
		t.addMember(g, m, s.now())
		ri.record("addMember", gid, t.refID(m), OutcomeApplied)
	}
	if body.DisplayName != nil || body.Description != nil {
		gr := &t.groups[g]
		if body.DisplayName != nil {
			gr.displayName = *body.DisplayName
		}
		if body.Description != nil {
			gr.description = *body.Description
		}
		gr.ver = t.bump()
		ri.record("updateGroup", gid, "", OutcomeApplied)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSkus(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	q := r.URL.Query()
	if q.Get("$filter") != "" {
		writeError(w, ri, badRequest("Query option '$filter' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."))
		return
	}
	var sel []string
	if v := q.Get("$select"); v != "" {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(skuProps, name) {
				writeError(w, ri, badRequest("Could not find a property named '%s' on type 'microsoft.graph.subscribedSku'.", name))
				return
			}
			sel = append(sel, name)
		}
	}
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	e := newEnc(32 << 10)
	e.open()
	ctx := "subscribedSkus"
	if sel != nil {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	e.kv("@odata.context", s.context(ctx))
	e.key("value")
	e.openArr()
	for k := range s.t.skus {
		e.open()
		if sel == nil {
			renderSku(e, s.t, k)
		} else {
			selectSku(e, s.t, k, sel)
		}
		e.close()
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

// skuProps are subscribedSku's properties in the order renderSku writes them.
var skuProps = []string{"accountId", "accountName", "appliesTo", "capabilityStatus", "consumedUnits", "id",
	"prepaidUnits", "servicePlans", "skuId", "skuPartNumber", "subscriptionIds"}

// selectSku renders only the selected properties. SKU lists are a dozen
// items, so re-reading the full rendering is cheaper than a second encoder.
func selectSku(e *enc, t *tenant, k int, sel []string) {
	full := newEnc(4096)
	full.open()
	renderSku(full, t, k)
	full.close()
	var m map[string]json.RawMessage
	_ = json.Unmarshal(full.b, &m) // our own encoder's output
	for _, name := range sel {
		e.key(name)
		e.raw(string(m[name]))
	}
}

func (s *Server) getSku(w http.ResponseWriter, _ *http.Request, ri *reqInfo, p []string) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	for k := range s.t.skus {
		if strings.EqualFold(p[0], s.t.id+"_"+s.t.skus[k].p.skuID) {
			e := newEnc(8 << 10)
			e.open()
			e.kv("@odata.context", s.context("subscribedSkus/$entity"))
			renderSku(e, s.t, k)
			e.close()
			writeJSON(w, http.StatusOK, e.b)
			return
		}
	}
	writeError(w, ri, notFound(p[0]))
}

func (s *Server) organization(w http.ResponseWriter, _ *http.Request, _ *reqInfo, _ []string) {
	t := s.t
	e := newEnc(1024)
	e.open()
	e.kv("@odata.context", s.context("organization"))
	e.key("value")
	e.openArr()
	e.open()
	e.kv("id", t.id)
	e.kv("displayName", t.orgName)
	e.kv("countryLetterCode", t.defaultUsageLocation)
	e.key("verifiedDomains")
	e.openArr()
	e.open()
	e.kv("name", t.domain)
	e.key("isDefault")
	e.bool(true)
	e.key("isInitial")
	e.bool(true)
	e.kv("type", "Managed")
	e.kv("capabilities", "Email, OfficeCommunicationsOnline")
	e.close()
	e.closeArr()
	e.close()
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}
