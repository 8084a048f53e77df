package graphsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

var userEntity = &entity[user]{
	typeName: "microsoft.graph.user",
	scalar: map[string]func(t *tenant, u *user) val{
		"id":                func(_ *tenant, u *user) val { return sv(u.id) },
		"userprincipalname": func(_ *tenant, u *user) val { return sv(u.upn) },
		"displayname":       func(_ *tenant, u *user) val { return sv(u.displayName) },
		"givenname":         func(_ *tenant, u *user) val { return sv(u.givenName) },
		"surname":           func(_ *tenant, u *user) val { return sv(u.surname) },
		"mail":              func(_ *tenant, u *user) val { return sv(u.mail) },
		"mailnickname":      func(_ *tenant, u *user) val { return sv(u.mailNickname) },
		"jobtitle":          func(_ *tenant, u *user) val { return sv(u.jobTitle) },
		"department":        func(_ *tenant, u *user) val { return sv(u.department) },
		"companyname":       func(_ *tenant, u *user) val { return sv(u.companyName) },
		"country":           func(_ *tenant, u *user) val { return sv(u.country) },
		"city":              func(_ *tenant, u *user) val { return sv(u.city) },
		"state":             func(_ *tenant, u *user) val { return sv(u.state) },
		"officelocation":    func(_ *tenant, u *user) val { return sv(u.officeLocation) },
		"usagelocation":     func(_ *tenant, u *user) val { return sv(u.usageLocation) },
		"usertype":          func(_ *tenant, u *user) val { return sv(u.userType) },
		"employeeid":        func(_ *tenant, u *user) val { return sv(u.employeeID) },
		"employeetype":      func(_ *tenant, u *user) val { return sv(u.employeeType) },
		"creationtype":      func(_ *tenant, u *user) val { return sv(u.creationType) },
		"externaluserstate": func(_ *tenant, u *user) val { return sv(u.externalUserState) },
		"preferredlanguage": func(_ *tenant, u *user) val { return sv(u.preferredLanguage) },
		"accountenabled":    func(_ *tenant, u *user) val { return bv(u.accountEnabled) },
		"onpremisessyncenabled": func(_ *tenant, u *user) val {
			if !u.onPremSync {
				return val{kind: 'n'}
			}
			return bv(true)
		},
		"createddatetime":                                 func(_ *tenant, u *user) val { return tv(u.created) },
		"employeehiredate":                                func(_ *tenant, u *user) val { return tv(u.hireDate) },
		"signinactivity/lastsignindatetime":               func(_ *tenant, u *user) val { return tv(u.lastSignIn) },
		"signinactivity/lastnoninteractivesignindatetime": func(_ *tenant, u *user) val { return tv(u.lastNonInteractive) },
		"signinactivity/lastsuccessfulsignindatetime": func(_ *tenant, u *user) val {
			return tv(max(u.lastSignIn, u.lastNonInteractive))
		},
		"onpremisesextensionattributes/extensionattribute1": func(_ *tenant, u *user) val { return sv(u.extensionAttribute1) },
	},
	coll: map[string]func(t *tenant, u *user, yield func(element) bool) bool{
		"assignedlicenses": func(t *tenant, u *user, yield func(element) bool) bool {
			for _, l := range t.effectiveLicenses(u) {
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
		"assignedplans": func(t *tenant, u *user, yield func(element) bool) bool {
			for p := range t.enabledPlans(u.licenses) {
				if yield(func(sub string) val {
					switch strings.ToLower(sub) {
					case "serviceplanid":
						return sv(p)
					case "capabilitystatus":
						return sv("Enabled")
					case "service":
						return sv(serviceOf(t.planName(p)))
					}
					return val{kind: 'n'}
				}) {
					return true
				}
			}
			return false
		},
		"proxyaddresses": func(_ *tenant, u *user, yield func(element) bool) bool {
			if u.mailbox == mbNone || u.mail == "" {
				return false
			}
			a := "SMTP:" + u.mail
			return yield(func(string) val { return sv(a) })
		},
		"othermails": func(_ *tenant, u *user, yield func(element) bool) bool {
			if u.userType != "Guest" {
				return false
			}
			return yield(func(string) val { return sv(u.mail) })
		},
		"identities": func(t *tenant, u *user, yield func(element) bool) bool {
			return yield(func(sub string) val {
				switch strings.ToLower(sub) {
				case "issuer":
					if u.userType == "Guest" {
						return sv("ExternalAzureAD")
					}
					return sv(t.domain)
				case "issuerassignedid":
					if u.userType == "Guest" {
						return val{kind: 'n'}
					}
					return sv(u.upn)
				case "signintype":
					if u.userType == "Guest" {
						return sv("federated")
					}
					return sv("userPrincipalName")
				}
				return val{kind: 'n'}
			})
		},
	},
	count: map[string]func(t *tenant, u *user) int{
		"assignedlicenses": func(t *tenant, u *user) int { return len(t.effectiveLicenses(u)) },
		"proxyaddresses": func(_ *tenant, u *user) int {
			if u.mailbox == mbNone {
				return 0
			}
			return 1
		},
	},
}

func userText(u *user, prop string) string {
	switch prop {
	case "displayname":
		return u.displayName
	case "userprincipalname":
		return u.upn
	case "mail":
		return u.mail
	case "givenname":
		return u.givenName
	case "surname":
		return u.surname
	case "jobtitle":
		return u.jobTitle
	case "department":
		return u.department
	case "mailnickname":
		return u.mailNickname
	}
	return ""
}

var usersLister = &lister[user]{
	props: userProps, ent: userEntity, kind: 'u', ctx: "users",
	n:     func(t *tenant) int { return len(t.users) },
	at:    func(t *tenant, i int) *user { return &t.users[i] },
	alive: func(u *user) bool { return !u.deleted },
	text:  userText,
	extra: renderManagerExpand,
	lookup: func(t *tenant, id string) (int, bool) {
		i, ok := t.userByID.get(id)
		return int(i), ok
	},
}

func renderManagerExpand(_ *Server, e *enc, t *tenant, u *user, lq *listQuery) {
	if lq.expand != "manager" || u.manager < 0 {
		return
	}
	m := &t.users[u.manager]
	e.key("manager")
	e.open()
	e.kv("@odata.type", "#microsoft.graph.user")
	userProps.render(e, t, m, userProps.defs)
	e.close()
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	serveList(s, w, r, ri, usersLister, "/users")
}

func (s *Server) countUsers(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	serveCount(s, w, r, ri, usersLister)
}

// parseSelect resolves $select for a single-entity GET.
func parseSelect[T any](r *http.Request, props *propSet[T], typeName string) ([]int, []string, *GraphError) {
	return selectNames(r.URL.Query().Get("$select"), props, typeName, "")
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	sel, names, ge := parseSelect(r, userProps, userEntity.typeName)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if slices.Contains(names, "signInActivity") && !hasAnyRole(ri.app.Roles, []string{"AuditLog.Read.All"}) {
		writeError(w, ri, errDenied)
		return
	}
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	writeJSON(w, http.StatusOK, s.renderUser(i, sel, entityContext("users", names)))
}

// entityContext is the @odata.context fragment of a single entity, with the
// $select list when one was given.
func entityContext(set string, names []string) string {
	if names == nil {
		return set + "/$entity"
	}
	return set + "(" + strings.Join(names, ",") + ")/$entity"
}

// renderEntity encodes one object as a single-entity response. Caller holds
// the read lock.
func renderEntity[T any](s *Server, props *propSet[T], v *T, sel []int, ctx string) []byte {
	e := newEnc(2048)
	e.open()
	e.kv("@odata.context", s.context(ctx))
	props.render(e, s.t, v, sel)
	e.close()
	return e.b
}

func (s *Server) renderUser(i int32, sel []int, ctx string) []byte {
	return renderEntity(s, userProps, &s.t.users[i], sel, ctx)
}

func (s *Server) getManager(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	m := s.t.users[i].manager
	if m < 0 || s.t.users[m].deleted {
		writeError(w, ri, notFound("manager"))
		return
	}
	e := newEnc(1024)
	e.open()
	e.kv("@odata.context", s.context("directoryObjects/$entity"))
	e.kv("@odata.type", "#microsoft.graph.user")
	userProps.render(e, s.t, &s.t.users[m], userProps.defs)
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

func (s *Server) licenseDetails(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	u := &s.t.users[i]
	e := newEnc(4096)
	e.open()
	e.kv("@odata.context", s.context("users('"+u.id+"')/licenseDetails"))
	e.key("value")
	e.openArr()
	for _, l := range s.t.effectiveLicenses(u) {
		sk := s.t.skus[l.sku]
		e.open()
		e.kv("id", licenseDetailsID(u.id, sk.p.skuID))
		e.kv("skuId", sk.p.skuID)
		e.kv("skuPartNumber", sk.p.partNumber)
		e.key("servicePlans")
		e.openArr()
		for _, pl := range sk.p.plans {
			e.open()
			e.kv("servicePlanId", pl.id)
			e.kv("servicePlanName", pl.name)
			if slices.Contains(l.disabled, pl.id) {
				e.kv("provisioningStatus", "Disabled")
			} else {
				e.kv("provisioningStatus", "Success")
			}
			e.kv("appliesTo", "User")
			e.close()
		}
		e.closeArr()
		e.close()
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

// licenseDetailsID mimics Graph's opaque licenseDetails ids (base64url).
func licenseDetailsID(userID, skuID string) string {
	return b64.EncodeToString([]byte(requestID(userID+skuID, 7)))[:43]
}

// UserUpdate is a change to a user: the body of POST /users and PATCH
// /users/{id}, of PATCH /_sim/users/{id}, and the argument of
// Server.UpdateUser. Pointers tell "absent" from "empty"; the field names are
// Graph's so tests read like the requests they stand in for.
type UserUpdate struct {
	AccountEnabled    *bool   `json:"accountEnabled"`
	DisplayName       *string `json:"displayName"`
	GivenName         *string `json:"givenName"`
	Surname           *string `json:"surname"`
	UserPrincipalName *string `json:"userPrincipalName"`
	MailNickname      *string `json:"mailNickname"`
	Mail              *string `json:"mail"`
	JobTitle          *string `json:"jobTitle"`
	Department        *string `json:"department"`
	CompanyName       *string `json:"companyName"`
	OfficeLocation    *string `json:"officeLocation"`
	City              *string `json:"city"`
	Country           *string `json:"country"`
	State             *string `json:"state"`
	StreetAddress     *string `json:"streetAddress"`
	PostalCode        *string `json:"postalCode"`
	UsageLocation     *string `json:"usageLocation"`
	EmployeeID        *string `json:"employeeId"`
	EmployeeType      *string `json:"employeeType"`
	EmployeeHireDate  *string `json:"employeeHireDate"`
	MobilePhone       *string `json:"mobilePhone"`
	PreferredLanguage *string `json:"preferredLanguage"`
	UserType          *string `json:"userType"`
	PasswordProfile   *struct {
		Password                      string `json:"password"`
		ForceChangePasswordNextSignIn bool   `json:"forceChangePasswordNextSignIn"`
	} `json:"passwordProfile"`
	ManagerBind *string `json:"manager@odata.bind"`
}

// decodeJSON reads a request body strictly enough to report the problem
// the way Graph does.
func decodeJSON(r *http.Request, v any) *GraphError {
	body, err := readBody(r)
	if err != nil {
		return badRequest("Unable to read the request body.")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("Empty Payload. JSON content expected.")
	}
	if !utf8.Valid(body) {
		return badRequest("Invalid JSON. The request body is not valid UTF-8.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("Invalid JSON. %s", err.Error())
	}
	return nil
}

// applyPatch validates and applies a user patch. Caller holds the write lock.
func (s *Server) applyPatch(i int32, p *UserUpdate, creating bool) *GraphError {
	t := s.t
	u := t.users[i] // work on a copy; commit only when valid
	set := func(dst *string, v *string, name string, maxLen int) *GraphError {
		if v == nil {
			return nil
		}
		if utf8.RuneCountInString(*v) > maxLen {
			return badRequest("Invalid value specified for property '%s' of resource 'User'.", name)
		}
		*dst = *v
		return nil
	}
	for _, f := range []struct {
		dst  *string
		v    *string
		name string
		max  int
	}{
		{&u.displayName, p.DisplayName, "displayName", 256}, {&u.givenName, p.GivenName, "givenName", 64},
		{&u.surname, p.Surname, "surname", 64}, {&u.mailNickname, p.MailNickname, "mailNickname", 64},
		{&u.mail, p.Mail, "mail", 256},
		{&u.jobTitle, p.JobTitle, "jobTitle", 128}, {&u.department, p.Department, "department", 64},
		{&u.companyName, p.CompanyName, "companyName", 64}, {&u.officeLocation, p.OfficeLocation, "officeLocation", 128},
		{&u.city, p.City, "city", 128}, {&u.country, p.Country, "country", 128}, {&u.state, p.State, "state", 128},
		{&u.streetAddress, p.StreetAddress, "streetAddress", 1024}, {&u.postalCode, p.PostalCode, "postalCode", 40},
		{&u.employeeID, p.EmployeeID, "employeeId", 16}, {&u.employeeType, p.EmployeeType, "employeeType", 64},
		{&u.mobilePhone, p.MobilePhone, "mobilePhone", 64}, {&u.preferredLanguage, p.PreferredLanguage, "preferredLanguage", 64},
	} {
		if ge := set(f.dst, f.v, f.name, f.max); ge != nil {
			return ge
		}
	}
	if p.UsageLocation != nil {
		loc := strings.ToUpper(*p.UsageLocation)
		if loc != "" && (len(loc) != 2 || !isAlpha(loc)) {
			return badRequest("Invalid value specified for property 'usageLocation' of resource 'User'.")
		}
		u.usageLocation = loc
	}
	if p.UserType != nil {
		if *p.UserType != "Member" && *p.UserType != "Guest" {
			return badRequest("Invalid value specified for property 'userType' of resource 'User'.")
		}
		u.userType = *p.UserType
	}
	if p.AccountEnabled != nil {
		u.accountEnabled = *p.AccountEnabled
	}
	if p.EmployeeHireDate != nil {
		if *p.EmployeeHireDate == "" {
			u.hireDate = 0
		} else if ts, err := time.Parse(time.RFC3339, *p.EmployeeHireDate); err == nil {
			u.hireDate = ts.Unix()
		} else {
			return badRequest("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", *p.EmployeeHireDate)
		}
	}
	if p.UserPrincipalName != nil {
		upn := *p.UserPrincipalName
		at := strings.LastIndexByte(upn, '@')
		if at <= 0 || at == len(upn)-1 {
			return badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
		}
		if !strings.EqualFold(upn[at+1:], t.domain) && !strings.Contains(upn, "#EXT#") {
			return badRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
		}
		if j, taken := t.userByUPN.get(upn); taken && j != i && !t.users[j].deleted {
			return badRequest("Another object with the same value for property userPrincipalName already exists.")
		}
		u.upn = upn
	}
	if p.ManagerBind != nil {
		id := lastSegment(*p.ManagerBind)
		m, ok := t.lookupUser(id)
		if !ok {
			return notFound(id)
		}
		u.manager = m
	}
	if creating {
		switch {
		case p.AccountEnabled == nil:
			return badRequest("Property accountEnabled is required.")
		case u.displayName == "":
			return badRequest("Invalid value specified for property 'displayName' of resource 'User'.")
		case u.mailNickname == "":
			return badRequest("Invalid value specified for property 'mailNickname' of resource 'User'.")
		case u.upn == "":
			return badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
		case p.PasswordProfile == nil || p.PasswordProfile.Password == "":
			return badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.")
		}
	}
	if old := t.users[i].upn; old != u.upn {
		t.userByUPN.del(old, i)
		t.users[i] = u
		t.userByUPN.set(u.upn, i)
	} else {
		t.users[i] = u
	}
	t.users[i].ver = t.bump()
	t.reevaluateDynamic(i, s.now())
	return nil
}

func isAlpha(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func lastSegment(ref string) string {
	ref = strings.TrimRight(strings.TrimSpace(ref), "/")
	if k := strings.LastIndexByte(ref, '/'); k >= 0 {
		ref = ref[k+1:]
	}
	ref = strings.TrimSuffix(strings.TrimPrefix(ref, "directoryObjects('"), "')")
	return ref
}

func (s *Server) createUserHTTP(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	var p UserUpdate
	if ge := decodeJSON(r, &p); ge != nil {
		writeError(w, ri, ge)
		return
	}
	s.t.mu.Lock()
	i, ge := s.createUser(&p)
	if ge != nil {
		s.t.mu.Unlock()
		ri.record("createUser", "", "", OutcomeRejected)
		writeError(w, ri, ge)
		return
	}
	ri.record("createUser", s.t.users[i].id, "", OutcomeApplied)
	body := s.renderUser(i, userProps.defs, "users/$entity")
	s.t.mu.Unlock()
	w.Header().Set("Location", s.graphURL("/users/"+s.t.users[i].id))
	writeJSON(w, http.StatusCreated, body)
}

// createUser adds a user from a patch. Caller holds the write lock.
func (s *Server) createUser(p *UserUpdate) (int32, *GraphError) {
	t := s.t
	now := s.now()
	u := user{id: newUUID(newRand(now.UnixNano() + int64(len(t.users)))), userType: "Member", manager: -1,
		created: now.Unix()}
	i := int32(len(t.users))
	t.users = append(t.users, u)
	if ge := s.applyPatch(i, p, true); ge != nil {
		t.users = t.users[:i]
		return 0, ge
	}
	nu := &t.users[i]
	t.userByID.set(nu.id, i)
	t.userByUPN.set(nu.upn, i)
	return i, nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	var patch UserUpdate
	if ge := decodeJSON(r, &patch); ge != nil {
		writeError(w, ri, ge)
		return
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	if ge := s.applyPatch(i, &patch, false); ge != nil {
		ri.record("updateUser", s.t.users[i].id, "", OutcomeRejected)
		writeError(w, ri, ge)
		return
	}
	ri.record("updateUser", s.t.users[i].id, "", OutcomeApplied)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteUserHTTP(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	s.deleteUser(i)
	ri.record("deleteUser", s.t.users[i].id, "", OutcomeApplied)
	w.WriteHeader(http.StatusNoContent)
}

// deleteUser soft-deletes user i: memberships and licenses go, seats are
// released, and delta reports it as removed. Caller holds the write lock.
func (s *Server) deleteUser(i int32) {
	t := s.t
	now := s.now()
	for _, g := range slices.Clone(t.users[i].memberOf) {
		t.removeMember(g, userRef(i), now)
	}
	t.setLicenses(i, nil)
	u := &t.users[i]
	u.deleted = true
	u.deletedAt = now.Unix()
	u.mailbox = mbNone
	u.ver = t.bump()
}

// memberOf serves /users/{id}/memberOf and transitiveMemberOf (with an
// optional microsoft.graph.group cast and /$count).
func (s *Server) memberOf(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1.0"), "/"), "/")
	transitive := strings.EqualFold(segs[2], "transitiveMemberOf")
	countOnly := strings.EqualFold(segs[len(segs)-1], "$count")
	if len(p) > 1 && !strings.EqualFold(p[1], "microsoft.graph.group") {
		writeError(w, ri, badRequest("Resource not found for the segment '%s'.", p[1]))
		return
	}
	s.t.mu.RLock()
	i, ok := s.t.lookupUser(p[0])
	if !ok {
		s.t.mu.RUnlock()
		writeError(w, ri, notFound(p[0]))
		return
	}
	gs := slices.Clone(s.t.users[i].memberOf)
	if transitive {
		gs = s.t.ancestors(gs)
	}
	s.t.mu.RUnlock()
	gl := &lister[group]{
		props: groupProps, ent: groupEntity, kind: 'o', ctx: "directoryObjects",
		n:     func(*tenant) int { return len(gs) },
		at:    func(t *tenant, k int) *group { return &t.groups[gs[k]] },
		alive: func(g *group) bool { return !g.deleted },
		text:  groupText, odataType: "#microsoft.graph.group",
	}
	if countOnly {
		serveCount(s, w, r, ri, gl)
		return
	}
	if len(p) > 1 {
		gl.ctx = "groups"
	}
	serveList(s, w, r, ri, gl, strings.TrimPrefix(r.URL.Path, "/v1.0"))
}

// ancestors expands direct group memberships to every group reached
// through nesting.
func (t *tenant) ancestors(direct []int32) []int32 {
	seen := map[int32]bool{}
	out := []int32{}
	queue := slices.Clone(direct)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		queue = append(queue, t.groups[g].memberOf...)
	}
	return out
}
