package graphsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// LicenseChange is one addLicenses entry of assignLicense.
type LicenseChange struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

type assignBody struct {
	add    []LicenseChange
	remove []string
}

// parseAssignBody checks assignLicense's body the way Graph's OData layer
// does: both parameters are required (non-nullable), and every id is an
// Edm.Guid.
func parseAssignBody(r *http.Request) (*assignBody, *GraphError) {
	var raw map[string]json.RawMessage
	if ge := decodeJSON(r, &raw); ge != nil {
		return nil, ge
	}
	var missing []string
	for _, k := range []string{"addLicenses", "removeLicenses"} {
		if v, ok := raw[k]; !ok || string(v) == "null" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, badRequest("One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: %s.", strings.Join(missing, ", "))
	}
	b := &assignBody{}
	if err := json.Unmarshal(raw["addLicenses"], &b.add); err != nil {
		return nil, badRequest("Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details")
	}
	if err := json.Unmarshal(raw["removeLicenses"], &b.remove); err != nil {
		return nil, badRequest("Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details")
	}
	if ge := validateGUIDs(b.add, b.remove); ge != nil {
		return nil, ge
	}
	return b, nil
}

func validateGUIDs(add []LicenseChange, remove []string) *GraphError {
	bad := badRequest("Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details")
	for _, a := range add {
		if !isGUID(a.SkuID) {
			return bad
		}
		for _, p := range a.DisabledPlans {
			if !isGUID(p) {
				return bad
			}
		}
	}
	for _, id := range remove {
		if !isGUID(id) {
			return bad
		}
	}
	return nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

func (s *Server) assignUserLicense(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	b, ge := parseAssignBody(r)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.lookupUser(p[0])
	if !ok {
		writeError(w, ri, notFound(p[0]))
		return
	}
	if ge := s.assignLicense(i, b.add, b.remove, ri); ge != nil {
		writeError(w, ri, ge)
		return
	}
	writeJSON(w, http.StatusOK, s.renderUser(i, assignLicenseSel, "users/$entity"))
}

// assignLicenseSel is what assignLicense returns: the user with its
// licensing properties (as in the documented response), without the
// properties Graph only returns on a single-user $select.
var assignLicenseSel = func() []int {
	var out []int
	for i, p := range userProps.all {
		if !p.listUnsupported && p.name != "signInActivity" {
			out = append(out, i)
		}
	}
	return out
}()

// resolveChange checks one addLicenses entry against the subscribed SKUs:
// the SKU must exist and be assignable to users, and every disabled plan
// must belong to it. Plans come back lower-cased, sorted and unique.
func (t *tenant) resolveChange(a LicenseChange) (int16, []string, *GraphError) {
	k, ok := t.skuIdx[strings.ToLower(a.SkuID)]
	if !ok {
		return 0, nil, badRequest("License %s does not correspond to a valid company License.", a.SkuID)
	}
	sk := &t.skus[k]
	if sk.appliesTo != "User" {
		return 0, nil, badRequest("License %s cannot be assigned to a user.", sk.p.partNumber)
	}
	dis := lowerAll(a.DisabledPlans)
	for _, pid := range dis {
		if !sk.p.hasPlan(pid) {
			return 0, nil, badRequest("Invalid service plan %s: it is not part of the SKU %s.", pid, sk.p.skuID)
		}
	}
	slices.Sort(dis)
	return int16(k), slices.Compact(dis), nil
}

// assignLicense applies a direct license change to user i with every check of
// graph.md §3.2, all or nothing, recording one write per SKU effect. Caller
// holds the write lock.
func (s *Server) assignLicense(i int32, add []LicenseChange, remove []string, ri *reqInfo) *GraphError {
	t := s.t
	u := &t.users[i]
	reject := func(ge *GraphError) *GraphError {
		for _, a := range add {
			ri.record("addLicense", u.id, strings.ToLower(a.SkuID), OutcomeRejected)
		}
		for _, id := range remove {
			ri.record("removeLicense", u.id, strings.ToLower(id), OutcomeRejected)
		}
		return ge
	}
	// Resolve SKUs.
	type addOp struct {
		sku      int16
		disabled []string
	}
	var adds []addOp
	for _, a := range add {
		k, dis, ge := t.resolveChange(a)
		if ge != nil {
			return reject(ge)
		}
		adds = append(adds, addOp{sku: k, disabled: dis})
	}
	var removes []int16
	for _, id := range remove {
		k, ok := t.skuIdx[strings.ToLower(id)]
		if !ok {
			return reject(badRequest("License %s does not correspond to a valid company License.", id))
		}
		removes = append(removes, int16(k))
	}
	if len(adds) > 0 && u.usageLocation == "" {
		return reject(badRequest("License assignment cannot be done for user with invalid usage location."))
	}
	// Removals apply to direct assignments only.
	next := slices.Clone(u.licenses)
	for _, k := range removes {
		j := slices.IndexFunc(next, func(l lic) bool { return l.sku == k && l.group < 0 })
		if j < 0 {
			if slices.ContainsFunc(next, func(l lic) bool { return l.sku == k }) {
				return reject(badRequest("User license is inherited from a group membership and it cannot be removed directly from the user."))
			}
			return reject(badRequest("User does not have a corresponding license."))
		}
		next = slices.Delete(next, j, j+1)
	}
	outcomes := make([]string, len(adds))
	now := s.now().Unix()
	for n, a := range adds {
		j := slices.IndexFunc(next, func(l lic) bool { return l.sku == a.sku && l.group < 0 })
		if j >= 0 {
			if slices.Equal(next[j].disabled, a.disabled) {
				outcomes[n] = OutcomeDuplicate
				continue
			}
			next[j].disabled = a.disabled
			next[j].updated = now
			outcomes[n] = "update"
			continue
		}
		next = append(next, lic{sku: a.sku, group: -1, disabled: a.disabled, updated: now})
		outcomes[n] = OutcomeApplied
	}
	// Seats: a SKU not already held needs a free unit.
	held := t.heldSkus(u.licenses)
	for _, a := range adds {
		if !held[a.sku] {
			sk := &t.skus[a.sku]
			if sk.enabled-sk.consumed < 1 {
				return reject(badRequest("Subscription with SKU %s does not have any available licenses.", sk.p.skuID))
			}
			held[a.sku] = true
		}
	}
	// Plans: mutual exclusion and dependencies over the resulting set.
	for k := range next {
		if a, b, bad := t.conflict(next[:k], next[k].sku, next[k].disabled); bad && next[k].holdsSeat() {
			return reject(badRequest("License assignment failed because service plans %s, %s are mutually exclusive.", a, b))
		}
	}
	enabled := t.enabledPlans(next)
	pids := make([]string, 0, len(enabled))
	for pid := range enabled {
		pids = append(pids, pid)
	}
	slices.Sort(pids) // a stable message when several dependencies fail
	for _, pid := range pids {
		deps, ok := planDependencies[pid]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(deps, func(d string) bool { _, on := enabled[d]; return on }) {
			return reject(badRequest("License assignment failed because service plan %s depends on the service plan(s) %s", pid, strings.Join(deps, ", ")))
		}
	}
	t.setLicenses(i, next)
	for n, a := range adds {
		op, outcome := "addLicense", outcomes[n]
		if outcome == "update" {
			op, outcome = "updateLicense", OutcomeApplied
		}
		ri.record(op, u.id, t.skus[a.sku].p.skuID, outcome)
	}
	for _, k := range removes {
		ri.record("removeLicense", u.id, t.skus[k].p.skuID, OutcomeApplied)
	}
	return nil
}

// assignGroupLicense is POST /groups/{id}/assignLicense: it validates,
// records the group's new licenses, answers 202 and processes the members
// in the background, as Entra does; errors land on the members'
// licenseAssignmentStates.
func (s *Server) assignGroupLicense(w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string) {
	b, ge := parseAssignBody(r)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	t := s.t
	t.mu.Lock()
	g, ok := t.lookupGroup(p[0])
	if !ok {
		t.mu.Unlock()
		writeError(w, ri, notFound(p[0]))
		return
	}
	gr := &t.groups[g]
	next := slices.Clone(gr.licenses)
	for _, id := range b.remove {
		k, ok := t.skuIdx[strings.ToLower(id)]
		j := slices.IndexFunc(next, func(l groupLicense) bool { return ok && l.sku == int16(k) })
		if !ok || j < 0 {
			t.mu.Unlock()
			ri.record("groupRemoveLicense", gr.id, strings.ToLower(id), OutcomeRejected)
			writeError(w, ri, badRequest("License %s does not correspond to a valid company License.", id))
			return
		}
		next = slices.Delete(next, j, j+1)
	}
	for _, a := range b.add {
		k, dis, ge := t.resolveChange(a)
		if ge != nil {
			t.mu.Unlock()
			ri.record("groupAddLicense", gr.id, strings.ToLower(a.SkuID), OutcomeRejected)
			writeError(w, ri, ge)
			return
		}
		if j := slices.IndexFunc(next, func(l groupLicense) bool { return l.sku == k }); j >= 0 {
			next[j].disabled = dis
		} else {
			next = append(next, groupLicense{sku: k, disabled: dis})
		}
	}
	for _, a := range b.add {
		ri.record("groupAddLicense", gr.id, strings.ToLower(a.SkuID), OutcomeApplied)
	}
	for _, id := range b.remove {
		ri.record("groupRemoveLicense", gr.id, strings.ToLower(id), OutcomeApplied)
	}
	gr.licenses = next
	gr.licenseState = "QueuedForProcessing"
	gr.ver = t.bump()
	body := s.renderGroup(g, groupProps.defs, "groups/$entity")
	t.mu.Unlock()
	s.processGroupLicenses(g)
	w.Header().Set("Location", s.graphURL("/groups/"+p[0]))
	writeJSON(w, http.StatusAccepted, body)
}

// processGroupLicenses applies a license group's SKUs to its direct user
// members after the (time-scaled) processing delay.
func (s *Server) processGroupLicenses(g int32) {
	s.bg.Add(1)
	s.pending.Add(1)
	kick := s.licenseKick() // taken now, so a ProcessLicensesNow from here on ends the wait
	go func() {
		defer s.bg.Done()
		defer s.pending.Add(-1)
		step := s.scaled(s.cfg.LicenseProcessingDelay) / 2
		select {
		case <-time.After(step):
		case <-kick:
		case <-s.done:
			return
		}
		t := s.t
		t.mu.Lock()
		t.groups[g].licenseState = "ProcessingInProgress"
		t.mu.Unlock()
		select {
		case <-time.After(step):
		case <-kick:
		case <-s.done:
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		now := s.now()
		for _, m := range t.groups[g].members {
			if m < 0 || t.users[m].deleted {
				continue
			}
			if len(t.groups[g].licenses) == 0 {
				t.dropGroupLicenses(g, m, now)
			} else {
				t.applyGroupLicenses(g, m, now)
			}
		}
		t.groups[g].licenseState = "ProcessingComplete"
		t.groups[g].ver = t.bump()
	}()
}

// licenseKick is closed by ProcessLicensesNow to end every pending
// processing delay at once.
func (s *Server) licenseKick() <-chan struct{} {
	s.kickMu.Lock()
	defer s.kickMu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{})
	}
	return s.kick
}

// ProcessLicensesNow finishes pending group-based license processing
// without waiting for LicenseProcessingDelay, and returns when it is done.
// Entra processes group licenses in the background, minutes or hours after
// the assignLicense call; a test sets a long delay, syncs while processing
// is pending, then lets it finish here to see what arrives after the sync.
func (s *Server) ProcessLicensesNow() {
	s.kickMu.Lock()
	if s.kick != nil {
		close(s.kick)
	}
	s.kick = make(chan struct{})
	s.kickMu.Unlock()
	s.WaitLicenseProcessing()
}
