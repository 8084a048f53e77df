package graphsim

import (
	"encoding/binary"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Delta tokens are valid for 7 days for directory objects (graph.md §4).
const deltaTokenLifetime = 7 * 24 * time.Hour

// deltaState is what delta nextLinks and deltaLinks carry, so that query
// options given on the first request apply to the whole round and the next.
type deltaState struct {
	kind    byte  // 'U' users, 'G' groups
	next    bool  // a $skiptoken (inside a round) rather than a $deltatoken
	since   int64 // changes after this seq; 0 = initial round (full state)
	start   int64 // seq when this round began; the next deltaLink's since
	pos     int64 // next object index
	sub     int64 // next member offset inside object pos (groups)
	issued  int64 // unix nanoseconds the deltaLink was issued
	pageMax int64
	sel     string // $select as given
	ids     string // comma-separated ids from $filter=id eq …
}

func (d deltaState) encode() string {
	b := []byte{d.kind, 0}
	if d.next {
		b[1] = 1
	}
	for _, v := range []int64{d.since, d.start, d.pos, d.sub, d.issued, d.pageMax} {
		b = binary.AppendVarint(b, v)
	}
	for _, s := range []string{d.sel, d.ids} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b64.EncodeToString(b)
}

func decodeDelta(s string, kind byte, next bool) (deltaState, bool) {
	raw, err := b64.DecodeString(s)
	if err != nil || len(raw) < 2 || raw[0] != kind || (raw[1] == 1) != next {
		return deltaState{}, false
	}
	d := deltaState{kind: kind, next: next}
	rest := raw[2:]
	for _, dst := range []*int64{&d.since, &d.start, &d.pos, &d.sub, &d.issued, &d.pageMax} {
		v, n := binary.Varint(rest)
		if n <= 0 {
			return deltaState{}, false
		}
		*dst, rest = v, rest[n:]
	}
	for _, dst := range []*string{&d.sel, &d.ids} {
		l, n := binary.Uvarint(rest)
		if n <= 0 || uint64(len(rest)-n) < l {
			return deltaState{}, false
		}
		*dst, rest = string(rest[n:n+int(l)]), rest[n+int(l):]
	}
	return d, true
}

// maxPageSize reads Prefer: odata.maxpagesize (delta has no $top).
func maxPageSize(r *http.Request, def int) (int, bool) {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(k, "odata.maxpagesize") {
				if n, err := strconv.Atoi(val); err == nil && n > 0 {
					return min(n, 999), true
				}
			}
		}
	}
	return def, false
}

// startDelta parses the request into the state of the page to serve, or
// answers it (410, 400, $deltatoken=latest) itself and returns false.
func (s *Server) startDelta(w http.ResponseWriter, r *http.Request, ri *reqInfo, kind byte, path string) (deltaState, bool) {
	q := r.URL.Query()
	for _, k := range []string{"$top", "$orderby", "$expand", "$search", "$count", "$skip"} {
		if q.Has(k) {
			writeError(w, ri, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported query option '%s' for delta queries.", k))
			return deltaState{}, false
		}
	}
	pageMax, preferred := maxPageSize(r, 100)
	if preferred {
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(pageMax))
	}
	t := s.t
	if tok := q.Get("$skiptoken"); tok != "" {
		if q.Has("$select") {
			writeError(w, ri, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "$select is not supported with $skiptoken; query options are carried by the token."))
			return deltaState{}, false
		}
		d, ok := decodeDelta(tok, kind, true)
		if !ok {
			writeError(w, ri, badRequest("Invalid $skiptoken."))
			return deltaState{}, false
		}
		if preferred {
			d.pageMax = int64(pageMax)
		}
		return d, true
	}
	if q.Has("$deltatoken") {
		tok := q.Get("$deltatoken")
		t.mu.RLock()
		seq := t.seq
		t.mu.RUnlock()
		switch {
		case tok == "":
			// The URL of a 410's Location: a fresh full round.
		case strings.EqualFold(tok, "latest"):
			d := deltaState{kind: kind, since: seq, start: seq, issued: time.Now().UnixNano(), pageMax: int64(pageMax), sel: q.Get("$select")}
			e := newEnc(512)
			e.open()
			e.kv("@odata.context", s.context(ctxName(kind)))
			e.kv("@odata.deltaLink", s.graphURL(path)+"?$deltatoken="+d.encode())
			e.key("value")
			e.raw("[]")
			e.close()
			writeJSON(w, http.StatusOK, e.b)
			return deltaState{}, false
		default:
			d, ok := decodeDelta(tok, kind, false)
			if !ok {
				writeError(w, ri, badRequest("Invalid $deltatoken."))
				return deltaState{}, false
			}
			issued := time.Unix(0, d.issued)
			if s.faults.get().ExpireDeltaTokens || time.Since(issued) > deltaTokenLifetime ||
				issued.UnixNano() < s.deltaExpiredBefore.Load() {
				loc := s.graphURL(path) + "?$deltatoken="
				if d.sel != "" {
					loc = s.graphURL(path) + "?$select=" + d.sel + "&$deltatoken="
				}
				w.Header().Set("Location", loc)
				writeError(w, ri, gerr(http.StatusGone, "syncStateNotFound",
					"The delta token has expired or is invalid. Perform a full synchronization using the URL in the Location header."))
				return deltaState{}, false
			}
			d.start, d.pos, d.sub, d.next = seq, 0, 0, true
			if preferred || d.pageMax == 0 {
				d.pageMax = int64(pageMax)
			}
			return d, true
		}
	}
	t.mu.RLock()
	seq := t.seq
	t.mu.RUnlock()
	d := deltaState{kind: kind, next: true, start: seq, pageMax: int64(pageMax), sel: q.Get("$select")}
	if f := q.Get("$filter"); f != "" {
		ids, ok := filterIDs(f)
		if !ok {
			writeError(w, ri, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Delta queries support $filter on id only: id eq '…' or id eq '…'."))
			return deltaState{}, false
		}
		d.ids = strings.Join(ids, ",")
	}
	return d, true
}

func ctxName(kind byte) string {
	if kind == 'G' {
		return "groups"
	}
	return "users"
}

// filterIDs extracts the ids of "id eq 'a' or id eq 'b'".
func filterIDs(f string) ([]string, bool) {
	n, _, err := parseFilter(f)
	if err != nil {
		return nil, false
	}
	var ids []string
	var walk func(n *fnode) bool
	walk = func(n *fnode) bool {
		switch n.op {
		case "or":
			return walk(n.left) && walk(n.right)
		case "eq":
			if strings.EqualFold(n.prop, "id") && n.lit != nil {
				ids = append(ids, strings.ToLower(n.lit.s))
				return true
			}
		}
		return false
	}
	return ids, walk(n)
}

func (s *Server) userDelta(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	d, ok := s.startDelta(w, r, ri, 'U', "/users/delta")
	if !ok {
		return
	}
	sel, names, ge := selectNames(d.sel, userProps, userEntity.typeName, "manager")
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if !slices.Contains(sel, 0) { // delta always returns id
		sel = append([]int{0}, sel...)
	}
	t := s.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := idSet(d.ids)
	e := newEnc(128 << 10)
	e.open()
	ctx := "users"
	if names != nil && d.since == 0 && d.pos == 0 {
		ctx += "(" + strings.Join(names, ",") + ")"
	}
	e.kv("@odata.context", s.context(ctx))
	qualifies := func(u *user) bool {
		return (ids == nil || ids[u.id]) && (d.since == 0 && !u.deleted || d.since > 0 && u.ver > d.since)
	}
	var items []int32
	pos := int(d.pos)
	for ; pos < len(t.users) && len(items) < int(d.pageMax); pos++ {
		if qualifies(&t.users[pos]) {
			items = append(items, int32(pos))
		}
	}
	// Skip ahead so a round whose last changes fill a page ends here.
	for pos < len(t.users) && !qualifies(&t.users[pos]) {
		pos++
	}
	s.deltaLinks(e, d, pos >= len(t.users), int64(pos), 0, "/users/delta")
	e.key("value")
	e.openArr()
	for _, i := range items {
		u := &t.users[i]
		e.open()
		if u.deleted {
			e.kv("id", u.id)
			e.key("@removed")
			e.open()
			e.kv("reason", "changed")
			e.close()
		} else {
			userProps.render(e, t, u, sel)
			if slices.Contains(names, "manager") { // relationships are tracked on request only
				if u.manager >= 0 {
					e.key("manager@delta")
					e.openArr()
					e.open()
					e.kv("@odata.type", "#microsoft.graph.user")
					e.kv("id", t.users[u.manager].id)
					e.close()
					e.closeArr()
				}
			}
		}
		e.close()
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

// deltaLinks writes @odata.nextLink (more pages in this round) or
// @odata.deltaLink (round complete) — never both.
func (s *Server) deltaLinks(e *enc, d deltaState, done bool, pos, sub int64, path string) {
	if !done {
		n := d
		n.next, n.pos, n.sub = true, pos, sub
		e.kv("@odata.nextLink", s.graphURL(path)+"?$skiptoken="+n.encode())
		return
	}
	n := deltaState{kind: d.kind, since: d.start, issued: time.Now().UnixNano(), pageMax: d.pageMax, sel: d.sel, ids: d.ids}
	if n.since == 0 {
		n.since = 1
	}
	e.kv("@odata.deltaLink", s.graphURL(path)+"?$deltatoken="+n.encode())
}

func idSet(ids string) map[string]bool {
	if ids == "" {
		return nil
	}
	m := map[string]bool{}
	for _, id := range strings.Split(ids, ",") {
		m[id] = true
	}
	return m
}

// selectNames resolves a $select list. The relationship rel (members or
// manager, for delta) is allowed and reported in names but not rendered as
// a property; hasMembersWithLicenseErrors is accepted and never returned.
func selectNames[T any](sel string, props *propSet[T], typeName, rel string) ([]int, []string, *GraphError) {
	if sel == "" {
		return props.defs, nil, nil
	}
	var idx []int
	var names []string
	for _, n := range strings.Split(sel, ",") {
		n = strings.TrimSpace(n)
		if n == "" || strings.EqualFold(n, propHasLicenseErrors) {
			continue
		}
		if rel != "" && strings.EqualFold(n, rel) {
			names = append(names, rel)
			continue
		}
		i, ok := props.lookup(n)
		if !ok {
			return nil, nil, badRequest("Could not find a property named '%s' on type '%s'.", n, typeName)
		}
		if slices.Contains(idx, i) {
			continue
		}
		idx = append(idx, i)
		names = append(names, props.all[i].name)
	}
	return idx, names, nil
}

// maxMembersPerPage bounds members@delta per page; a bigger group continues
// on the next page, as Graph pages large groups (delta-query-groups docs).
const maxMembersPerPage = 20000

func (s *Server) groupDelta(w http.ResponseWriter, r *http.Request, ri *reqInfo, _ []string) {
	d, ok := s.startDelta(w, r, ri, 'G', "/groups/delta")
	if !ok {
		return
	}
	sel, names, ge := selectNames(d.sel, groupProps, groupEntity.typeName, "members")
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if !slices.Contains(sel, 0) {
		sel = append([]int{0}, sel...)
	}
	withMembers := names == nil || slices.Contains(names, "members")
	t := s.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := idSet(d.ids)
	e := newEnc(256 << 10)
	e.open()
	ctx := "groups"
	if names != nil && d.since == 0 && d.pos == 0 && d.sub == 0 {
		ctx += "(" + strings.Join(names, ",") + ")"
	}
	e.kv("@odata.context", s.context(ctx))
	type item struct {
		g        int32
		from, to int // member range (initial round) or events
		events   []memberEvent
	}
	var items []item
	budget := maxMembersPerPage
	pos, sub := int(d.pos), int(d.sub)
	qualifies := func(g *group) bool {
		return (ids == nil || ids[g.id]) && (d.since == 0 && !g.deleted || d.since > 0 && g.ver > d.since)
	}
	for pos < len(t.groups) && len(items) < int(d.pageMax) && budget > 0 {
		g := &t.groups[pos]
		if !qualifies(g) {
			pos, sub = pos+1, 0
			continue
		}
		it := item{g: int32(pos)}
		if withMembers && !g.deleted {
			if d.since == 0 {
				it.from = sub
				it.to = min(len(g.members), sub+budget)
				budget -= it.to - it.from
			} else {
				it.events = collapseEvents(g.events, d.since)
			}
		}
		items = append(items, it)
		if d.since == 0 && withMembers && !g.deleted && it.to < len(g.members) {
			sub = it.to // continue this group on the next page
			break
		}
		pos, sub = pos+1, 0
	}
	for sub == 0 && pos < len(t.groups) && !qualifies(&t.groups[pos]) {
		pos++
	}
	s.deltaLinks(e, d, pos >= len(t.groups), int64(pos), int64(sub), "/groups/delta")
	e.key("value")
	e.openArr()
	for _, it := range items {
		g := &t.groups[it.g]
		e.open()
		if g.deleted {
			e.kv("id", g.id)
			e.key("@removed")
			e.open()
			e.kv("reason", "changed")
			e.close()
			e.close()
			continue
		}
		groupProps.render(e, t, g, sel)
		if withMembers {
			if d.since == 0 && it.to > it.from {
				e.key("members@delta")
				e.openArr()
				for _, m := range g.members[it.from:it.to] {
					renderMemberRef(e, t, m, false)
				}
				e.closeArr()
			} else if len(it.events) > 0 {
				e.key("members@delta")
				e.openArr()
				for _, ev := range it.events {
					renderMemberRef(e, t, ev.member, ev.removed)
				}
				e.closeArr()
			}
		}
		e.close()
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

func renderMemberRef(e *enc, t *tenant, m ref, removed bool) {
	e.open()
	if m >= 0 {
		e.kv("@odata.type", "#microsoft.graph.user")
	} else {
		e.kv("@odata.type", "#microsoft.graph.group")
	}
	e.kv("id", t.refID(m))
	if removed {
		e.key("@removed")
		e.open()
		e.kv("reason", "deleted")
		e.close()
	}
	e.close()
}

// collapseEvents keeps the last membership change per member after since.
func collapseEvents(evs []memberEvent, since int64) []memberEvent {
	k := len(evs)
	for k > 0 && evs[k-1].seq > since {
		k--
	}
	tail := evs[k:]
	if len(tail) == 0 {
		return nil
	}
	last := map[ref]int{}
	for i, ev := range tail {
		last[ev.member] = i
	}
	out := make([]memberEvent, 0, len(last))
	for i, ev := range tail {
		if last[ev.member] == i {
			out = append(out, ev)
		}
	}
	return out
}

// ExpireDeltaTokens makes every delta token issued so far answer 410 Gone,
// forcing clients into a full resync.
func (s *Server) ExpireDeltaTokens() { s.deltaExpiredBefore.Store(time.Now().UnixNano() + 1) }
