package graphsim

import (
	"net/http"
	"slices"
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
	// lookup finds an object's index by id, when the collection has an
	// index; a filter on ids then reads only those objects.
	lookup func(t *tenant, id string) (int, bool)
}

// indexes returns the object indexes a list must look at, in ascending
// order, or nil to scan them all. Caller holds the read lock.
func (l *lister[T]) indexes(t *tenant, lq *listQuery) []int {
	if l.lookup == nil || lq.filter == nil {
		return nil
	}
	ids, ok := keyIDs(lq.filter)
	if !ok {
		return nil
	}
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if i, ok := l.lookup(t, id); ok {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// scan calls fn for each index from start on (of cand, or of all n when
// cand is nil), in ascending order, until fn returns false.
func scan(n int, cand []int, start int, fn func(i int) bool) {
	if cand == nil {
		for i := start; i < n; i++ {
			if !fn(i) {
				return
			}
		}
		return
	}
	k, _ := slices.BinarySearch(cand, start)
	for _, i := range cand[k:] {
		if !fn(i) {
			return
		}
	}
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
	cand := l.indexes(t, lq)
	count := -1
	if lq.count && lq.skip == nil {
		count = 0
		scan(n, cand, 0, func(i int) bool {
			if match(t, l.at(t, i)) {
				count++
			}
			return true
		})
	}
	var page []int32
	next := int64(-1)
	start := int64(0)
	if lq.skip != nil {
		start = lq.skip.pos
	}
	if lq.orderBy != "" {
		var all []int32
		scan(n, cand, 0, func(i int) bool {
			if match(t, l.at(t, i)) {
				all = append(all, int32(i))
			}
			return true
		})
		sortIndexes(all, func(i int32) string { return l.text(l.at(t, int(i)), lq.orderBy) }, lq.desc)
		if start < int64(len(all)) {
			end := min(int(start)+lq.top, len(all))
			page = all[start:end]
			if end < len(all) {
				next = int64(end)
			}
		}
	} else {
		// The first match past a full page is where the next one starts;
		// looking ahead keeps the last page free of a nextLink.
		scan(n, cand, int(start), func(i int) bool {
			if !match(t, l.at(t, i)) {
				return true
			}
			if len(page) == lq.top {
				next = int64(i)
				return false
			}
			page = append(page, int32(i))
			return true
		})
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
	scan(l.n(s.t), l.indexes(s.t, lq), 0, func(i int) bool {
		if match(s.t, l.at(s.t, i)) {
			c++
		}
		return true
	})
	s.t.mu.RUnlock()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(strconv.Itoa(c)))
}
