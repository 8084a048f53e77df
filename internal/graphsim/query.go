package graphsim

import (
	"encoding/binary"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// listQuery is the parsed OData query of a collection request.
type listQuery struct {
	sel       []int // property indexes to render
	selNames  []string
	selected  bool
	top       int
	count     bool
	eventual  bool // ConsistencyLevel: eventual
	advanced  bool // eventual and $count=true
	filterSrc string
	filter    *fnode // parsed filterSrc
	orderBy   string // lower-case property name
	desc      bool
	search    []searchTerm
	expand    string // "manager" or ""
	skip      *pageToken
	usesProps map[string]bool
}

type searchTerm struct{ prop, value string }

// pageToken is the state a $skiptoken carries: where the next page starts.
// It is opaque to clients (base64 of a small binary record).
type pageToken struct {
	kind byte // 'u' users, 'g' groups, 'm' members, 'd' delta
	pos  int64
	sub  int64 // second cursor (member offset inside a group for delta)
	a, b int64 // delta: since-seq and round-start seq
	// flags: bit0 advanced query was used on the first page
	flags byte
}

func (p pageToken) encode() string {
	var buf [1 + 1 + 5*binary.MaxVarintLen64]byte
	b := append(buf[:0], p.kind, p.flags)
	b = binary.AppendVarint(b, p.pos)
	b = binary.AppendVarint(b, p.sub)
	b = binary.AppendVarint(b, p.a)
	b = binary.AppendVarint(b, p.b)
	return "RFNwdAIA" + b64.EncodeToString(b)
}

func decodePageToken(s string, kind byte) (*pageToken, bool) {
	raw, err := b64.DecodeString(strings.TrimPrefix(s, "RFNwdAIA"))
	if err != nil || len(raw) < 2 || raw[0] != kind {
		return nil, false
	}
	p := &pageToken{kind: raw[0], flags: raw[1]}
	rest := raw[2:]
	for _, dst := range []*int64{&p.pos, &p.sub, &p.a, &p.b} {
		v, n := binary.Varint(rest)
		if n <= 0 {
			return nil, false
		}
		*dst = v
		rest = rest[n:]
	}
	return p, true
}

func isEventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

// parseListQuery validates the query options of a collection GET the way
// Graph's directory does, returning the first problem as a GraphError.
func parseListQuery[T any](r *http.Request, props *propSet[T], ent *entity[T], kind byte) (*listQuery, *GraphError) {
	q := r.URL.Query()
	lq := &listQuery{top: 100, eventual: isEventual(r)}
	for k := range q {
		switch strings.ToLower(k) {
		case "$skip":
			return nil, badRequest("'$skip' is not supported by the service.")
		case "$format", "$levels", "$compute", "$apply":
			return nil, badRequest("Query option '%s' is not supported.", k)
		}
	}
	if v := q.Get("$count"); v != "" {
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return nil, badRequest("Invalid value '%s' for $count query option found. The $count query option requires a Boolean value.", v)
		}
		lq.count = strings.EqualFold(v, "true")
		if lq.count && !lq.eventual {
			return nil, badRequest("$count is not currently supported.")
		}
	}
	lq.advanced = lq.eventual && lq.count
	if sel := q.Get("$select"); sel != "" {
		lq.selected = true
		for _, name := range strings.Split(sel, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if strings.EqualFold(name, propHasLicenseErrors) {
				continue // accepted, never returned
			}
			i, ok := props.lookup(name)
			if !ok {
				return nil, badRequest("Could not find a property named '%s' on type '%s'.", name, ent.typeName)
			}
			if props.all[i].listUnsupported && kind != 0 {
				return nil, gerr(http.StatusNotImplemented, "NotImplemented",
					"This operation target is not yet supported.")
			}
			if !slices.Contains(lq.sel, i) {
				lq.sel = append(lq.sel, i)
				lq.selNames = append(lq.selNames, props.all[i].name)
			}
		}
	} else {
		lq.sel = props.defs
	}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return nil, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
		}
		lq.top = n
	}
	if lq.selects("signInActivity") && lq.top > 500 {
		return nil, badRequest("Invalid page size specified: '%d'. Must be between 1 and 500 inclusive when signInActivity is selected.", lq.top)
	}
	if v := q.Get("$filter"); v != "" {
		lq.filterSrc = v
		n, fp, err := parseFilter(v)
		if err != nil {
			return nil, badRequest("Invalid filter clause: %s", err.Error())
		}
		// Graph limits "in" (and the "or" it stands for) to 15 values
		// unless the request is an advanced query, which is limited by URL
		// length instead (2,048 characters; not simulated). Message as
		// observed in microsoftgraph/microsoft-graph-docs-contrib#1238.
		if w := orWidth(n); w > maxOrClauses && !lq.advanced {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d.", w, maxOrClauses)
		}
		lq.filter = n
		if len(fp.advanced) > 0 && !lq.advanced {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
				fp.advanced[0])
		}
		lq.usesProps = fp.props
		if fp.usesPrefix("signInActivity") && len(fp.props) > 1 {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Unsupported Query: signInActivity cannot be combined with other filterable properties.")
		}
	}
	if v := q.Get("$orderby"); v != "" {
		f := strings.Fields(v)
		prop := strings.ToLower(f[0])
		if prop != "displayname" && prop != "userprincipalname" {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Sorting not supported for '%s'.", f[0])
		}
		if (lq.filterSrc != "" || q.Get("$search") != "") && !lq.advanced {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Sorting not supported for current query. Try adding $count=true query parameter and ConsistencyLevel:eventual header.")
		}
		lq.orderBy = prop
		lq.desc = len(f) > 1 && strings.EqualFold(f[1], "desc")
	}
	if v := q.Get("$search"); v != "" {
		if !lq.eventual {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		terms, ge := parseSearch(v)
		if ge != nil {
			return nil, ge
		}
		lq.search = terms
	}
	if v := q.Get("$expand"); v != "" {
		name := strings.ToLower(strings.TrimSpace(strings.SplitN(v, "(", 2)[0]))
		if name != "manager" || kind != 'u' {
			return nil, badRequest("Could not find a property named '%s' on type '%s'.", v, ent.typeName)
		}
		lq.expand = "manager"
	}
	if v := q.Get("$skiptoken"); v != "" {
		tok, ok := decodePageToken(v, kind)
		if !ok {
			return nil, gerr(http.StatusBadRequest, "Directory_ExpiredPageToken",
				"The specified page token value has expired and can no longer be included in your request.")
		}
		lq.skip = tok
	}
	return lq, nil
}

func (lq *listQuery) selects(name string) bool {
	for _, n := range lq.selNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (fp *filterParser) usesPrefix(prefix string) bool {
	for p := range fp.props {
		if hasPrefixFold(p, prefix) {
			return true
		}
	}
	return false
}

func parseSearch(v string) ([]searchTerm, *GraphError) {
	var terms []searchTerm
	for _, part := range splitSearch(v) {
		part = strings.Trim(strings.TrimSpace(part), `"`)
		prop, value, ok := strings.Cut(part, ":")
		if !ok || prop == "" {
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Syntax error: search clause must be of the form \"property:value\".")
		}
		terms = append(terms, searchTerm{prop: strings.ToLower(prop), value: strings.ToLower(value)})
	}
	return terms, nil
}

// splitSearch splits on OR (and AND, treated alike) outside quotes.
func splitSearch(v string) []string {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '"':
			inQ = !inQ
		case !inQ && (strings.HasPrefix(v[i:], " OR ") || strings.HasPrefix(v[i:], " AND ")):
			out = append(out, v[start:i])
			n := 4
			if v[i+1] == 'A' {
				n = 5
			}
			i += n - 1
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// searchMatch implements Graph's tokenised $search on directory objects: a
// term matches when a word of the property starts with it.
func searchMatch(value, term string) bool {
	for _, w := range strings.FieldsFunc(value, func(r rune) bool {
		return r == ' ' || r == '.' || r == '-' || r == '_' || r == '@'
	}) {
		if hasPrefixFold(w, term) {
			return true
		}
	}
	return false
}

// sortIndexes orders matches by a string property for $orderby.
func sortIndexes(idx []int32, key func(i int32) string, desc bool) {
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := strings.ToLower(key(idx[a])), strings.ToLower(key(idx[b]))
		if desc {
			return ka > kb
		}
		return ka < kb
	})
}

// maxOrClauses is how many values one "in" (or chain of "or") may hold
// outside advanced queries.
const maxOrClauses = 15

// orWidth is the widest chain of "or" in a filter, an "in" counting one
// clause per value.
func orWidth(n *fnode) int {
	switch n.op {
	case "or":
		return max(orChain(n), orWidth(n.left), orWidth(n.right))
	case "and":
		return max(orWidth(n.left), orWidth(n.right))
	case "not", "any":
		return orWidth(n.left)
	case "in":
		return len(n.list)
	}
	return 1
}

func orChain(n *fnode) int {
	switch n.op {
	case "or":
		return orChain(n.left) + orChain(n.right)
	case "in":
		return len(n.list)
	}
	return 1
}

// keyIDs returns the object ids a filter is limited to when it selects by
// id (id eq 'a', id in ('a','b'), an "or" of those, or an "and" with one
// of them), so a list can look them up instead of scanning the directory,
// as Graph's own store does.
func keyIDs(n *fnode) ([]string, bool) {
	switch n.op {
	case "eq":
		if strings.EqualFold(n.prop, "id") && n.lit != nil && n.lit.kind != 'n' {
			return []string{n.lit.s}, true
		}
	case "in":
		if strings.EqualFold(n.prop, "id") {
			ids := make([]string, 0, len(n.list))
			for _, l := range n.list {
				if l.kind != 'n' {
					ids = append(ids, l.s)
				}
			}
			return ids, true
		}
	case "or":
		l, ok := keyIDs(n.left)
		if !ok {
			return nil, false
		}
		r, ok := keyIDs(n.right)
		return append(l, r...), ok
	case "and":
		if ids, ok := keyIDs(n.left); ok {
			return ids, true
		}
		return keyIDs(n.right)
	}
	return nil, false
}
