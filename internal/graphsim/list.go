package graphsim

import (
	"net/http"
	"strconv"
	"strings"
)

// lister describes one directory collection for serveList.
type lister[T any] struct {
	props *propSet[T]
	ent   *entity[T]
	kind  byte
	ctx   string // entity set name for @odata.context
	n     func(t *tenant) int
	at    func(t *tenant, i int) *T
	alive func(v *T) bool
	text  func(v *T, prop string) string // for $search and $orderby
	extra func(s *Server, e *enc, t *tenant, v *T, lq *listQuery)
	// odataType, when set, is rendered first on every item, as Graph does
	// in polymorphic (directoryObject) collections.
	odataType string
}

// compiled is a ready-to-run row matcher for a list request.
func compileList[T any](l *lister[T], lq *listQuery) (func(t *tenant, v *T) bool, *GraphError) {
	var filter pred[T]
	if lq.filterSrc != "" {
		n, _, err := parseFilter(lq.filterSrc)
		if err != nil {
			return nil, badRequest("Invalid filter clause: %s", err.Error())
		}
		if filter, err = compileFilter(n, l.ent); err != nil {
			return nil, badRequest("%s", err.Error())
		}
	}
	search := lq.search
	return func(t *tenant, v *T) bool {
		if !l.alive(v) {
			return false
		}
		if filter != nil && !filter(t, v) {
			return false
		}
		if len(search) > 0 {
			hit := false
			for _, st := range search {
				if searchMatch(l.text(v, st.prop), st.value) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
		}
		return true
	}, nil
}

// serveList answers a paged collection GET: $filter, $search, $orderby,
// $count (first page only), $select, $top and opaque $skiptoken paging.
func serveList[T any](s *Server, w http.ResponseWriter, r *http.Request, ri *reqInfo, l *lister[T], path string) {
	lq, ge := parseListQuery(r, l.props, l.ent, l.kind)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if lq.selects("signInActivity") && !hasAnyRole(ri.app.Roles, []string{"AuditLog.Read.All"}) {
		writeError(w, ri, errDenied)
		return
	}
	usesLicense := false
	for p := range lq.usesProps {
		if hasPrefixFold(p, "assignedLicenses") {
			usesLicense = true
		}
	}
	// graph.md §1 (Obs.): paging a license filter without advanced query
	// parameters fails on the second page.
	if lq.skip != nil && usesLicense && !lq.advanced {
		writeError(w, ri, gerr(http.StatusBadRequest, "Directory_ExpiredPageToken",
			"The specified page token value has expired and can no longer be included in your request."))
		return
	}
	match, ge := compileList(l, lq)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	t := s.t
	e := newEnc(64 << 10)
	t.mu.RLock()
	n := l.n(t)
	count := -1
	if lq.count && lq.skip == nil {
		count = 0
		for i := 0; i < n; i++ {
			if match(t, l.at(t, i)) {
				count++
			}
		}
	}
	var page []int32
	next := int64(-1)
	start := int64(0)
	if lq.skip != nil {
		start = lq.skip.pos
	}
	if lq.orderBy != "" {
		var all []int32
		for i := 0; i < n; i++ {
			if match(t, l.at(t, i)) {
				all = append(all, int32(i))
			}
		}
		sortIndexes(all, func(i int32) string { return l.text(l.at(t, int(i)), lq.orderBy) }, lq.desc)
		if start < int64(len(all)) {
			end := min(int(start)+lq.top, len(all))
			page = all[start:end]
			if end < len(all) {
				next = int64(end)
			}
		}
	} else {
		i := int(start)
		for ; i < n && len(page) < lq.top; i++ {
			if match(t, l.at(t, i)) {
				page = append(page, int32(i))
			}
		}
		// Look ahead so the last page carries no nextLink.
		for j := i; j < n; j++ {
			if match(t, l.at(t, j)) {
				next = int64(j)
				break
			}
		}
	}
	e.open()
	ctx := l.ctx
	if lq.selected {
		ctx += "(" + strings.Join(lq.selNames, ",") + ")"
	}
	e.kv("@odata.context", s.context(ctx))
	if count >= 0 {
		e.key("@odata.count")
		e.int(int64(count))
	}
	if next >= 0 {
		var flags byte
		if lq.advanced {
			flags = 1
		}
		e.kv("@odata.nextLink", s.nextLink(r, path, "$skiptoken", pageToken{kind: l.kind, pos: next, flags: flags}.encode()))
	}
	e.key("value")
	e.openArr()
	for _, i := range page {
		v := l.at(t, int(i))
		e.open()
		if l.odataType != "" {
			e.kv("@odata.type", l.odataType)
		}
		l.props.render(e, t, v, lq.sel)
		if l.extra != nil {
			l.extra(s, e, t, v, lq)
		}
		e.close()
	}
	e.closeArr()
	e.close()
	t.mu.RUnlock()
	writeJSON(w, http.StatusOK, e.b)
}

// serveCount answers /$count segments: a bare number as text/plain.
func serveCount[T any](s *Server, w http.ResponseWriter, r *http.Request, ri *reqInfo, l *lister[T]) {
	if !isEventual(r) {
		writeError(w, ri, badRequest("$count is not currently supported."))
		return
	}
	lq, ge := parseListQuery(r, l.props, l.ent, l.kind)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	lq.advanced = true
	match, ge := compileList(l, lq)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	s.t.mu.RLock()
	c := 0
	for i, n := 0, l.n(s.t); i < n; i++ {
		if match(s.t, l.at(s.t, i)) {
			c++
		}
	}
	s.t.mu.RUnlock()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(strconv.Itoa(c)))
}
