package graphsim

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// reqInfo carries what every Graph handler needs about the request.
type reqInfo struct {
	requestID       string
	clientRequestID string
	app             *App
	source          string // graph or batch
	method, path    string
	now             time.Time
	// writes collects the effects of this request; they are logged after
	// the handler returns (with the status it produced).
	writes []Write
}

func (s *Server) newReqInfo(r *http.Request) *reqInfo {
	now := time.Now()
	cr := r.Header.Get("client-request-id")
	rid := newUUID(newRand(now.UnixNano() ^ int64(len(r.URL.Path))<<40 ^ seqNext()))
	if cr == "" {
		cr = rid
	}
	return &reqInfo{requestID: rid, clientRequestID: cr, source: "graph", method: r.Method, path: r.URL.RequestURI(), now: now}
}

// record adds one write effect to the request.
func (ri *reqInfo) record(op, target, object, outcome string) {
	ri.writes = append(ri.writes, Write{
		Time: ri.now, Method: ri.method, Path: ri.path, ClientRequestID: ri.clientRequestID,
		RequestID: ri.requestID, Source: ri.source, Op: op, Target: target, Object: object, Outcome: outcome,
	})
}

func (s *Server) flushWrites(ri *reqInfo, status int) {
	if len(ri.writes) == 0 {
		return
	}
	for i := range ri.writes {
		ri.writes[i].Status = status
	}
	s.writes.add(ri.writes...)
	ri.writes = nil
}

func setGraphHeaders(h http.Header, ri *reqInfo) {
	h.Set("request-id", ri.requestID)
	h.Set("client-request-id", ri.clientRequestID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"ALLOT-SIM"}}`)
	h.Set("Strict-Transport-Security", "max-age=31536000")
	h.Set("Cache-Control", "no-cache")
}

const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// serveGraph is the entry point for /v1.0/…: headers, latency, auth, then
// $batch or a single request.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	ri := s.newReqInfo(r)
	setGraphHeaders(w.Header(), ri)
	if lat := s.faults.get().Latency; lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, "/beta/") {
		writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "The simulator serves Graph v1.0 only."))
		return
	}
	app, ge := s.authenticate(r, audGraph)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	ri.app = app
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	if path == "/$batch" {
		if r.Method != http.MethodPost {
			writeError(w, ri, gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Method not allowed."))
			return
		}
		s.serveBatch(w, r, ri)
		return
	}
	switch s.faults.draw() {
	case fault429:
		setThrottled(w.Header(), throttleVerdict{retryAfter: s.scaled(2 * time.Second), info: "CPULimitExceeded", scope: "ReadWrite"}, app.ClientID, s.t.id)
		writeError(w, ri, gerr(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later."))
		return
	case fault503:
		w.Header().Set("Retry-After", "1")
		writeError(w, ri, gerr(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later."))
		return
	case faultTimeout:
		rec := newRecorder()
		s.dispatch(rec, r, ri, path)
		s.writes.markTimedOut(ri.requestID)
		select {
		case <-time.After(s.faults.get().TimeoutAfter):
		case <-r.Context().Done():
		case <-s.done:
		}
		panic(http.ErrAbortHandler) // drop the connection without a response
	}
	s.dispatch(w, r, ri, path)
}

// route is one Graph endpoint. Patterns are path segments after /v1.0 with
// "*" matching one segment.
type route struct {
	method  string
	pattern []string
	cost    int // base resource units (graph.md §6)
	write   bool
	roles   []string
	h       func(s *Server, w http.ResponseWriter, r *http.Request, ri *reqInfo, p []string)
}

var (
	rolesReadUsers   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	rolesWriteUsers  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesReadGroups  = []string{"Group.Read.All", "GroupMember.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	rolesWriteMember = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesWriteGroups = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesSkus        = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All"}
	rolesUserLicense = []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesGroupLic    = []string{"LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesLicDetails  = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All"}
	rolesMemberOf    = append(slices.Clone(rolesReadUsers), rolesReadGroups...)
)

func seg(p string) []string { return strings.Split(p, "/") }

var routes = []route{
	{"GET", seg("users/$count"), 1, false, rolesReadUsers, (*Server).countUsers},
	{"GET", seg("users/delta"), 2, false, rolesReadUsers, (*Server).userDelta},
	{"GET", seg("users"), 2, false, rolesReadUsers, (*Server).listUsers},
	{"POST", seg("users"), 1, true, rolesWriteUsers, (*Server).createUserHTTP},
	{"GET", seg("users/*"), 2, false, rolesReadUsers, (*Server).getUser},
	{"PATCH", seg("users/*"), 1, true, rolesWriteUsers, (*Server).patchUser},
	{"DELETE", seg("users/*"), 1, true, rolesWriteUsers, (*Server).deleteUserHTTP},
	{"GET", seg("users/*/licenseDetails"), 2, false, rolesLicDetails, (*Server).licenseDetails},
	{"POST", seg("users/*/assignLicense"), 1, true, rolesUserLicense, (*Server).assignUserLicense},
	{"GET", seg("users/*/manager"), 1, false, rolesReadUsers, (*Server).getManager},
	{"GET", seg("users/*/memberOf"), 1, false, rolesMemberOf, (*Server).memberOf},
	{"GET", seg("users/*/memberOf/$count"), 1, false, rolesMemberOf, (*Server).memberOf},
	{"GET", seg("users/*/memberOf/*"), 1, false, rolesMemberOf, (*Server).memberOf},
	{"GET", seg("users/*/memberOf/*/$count"), 1, false, rolesMemberOf, (*Server).memberOf},
	{"GET", seg("users/*/transitiveMemberOf"), 1, false, rolesMemberOf, (*Server).memberOf},

	{"GET", seg("groups/$count"), 1, false, rolesReadGroups, (*Server).countGroups},
	{"GET", seg("groups/delta"), 1, false, rolesReadGroups, (*Server).groupDelta},
	{"GET", seg("groups"), 1, false, rolesReadGroups, (*Server).listGroups},
	{"GET", seg("groups/*"), 1, false, rolesReadGroups, (*Server).getGroup},
	{"PATCH", seg("groups/*"), 1, true, rolesWriteMember, (*Server).patchGroup},
	{"POST", seg("groups/*/assignLicense"), 1, true, rolesGroupLic, (*Server).assignGroupLicense},
	{"POST", seg("groups/*/members/$ref"), 1, true, rolesWriteMember, (*Server).addMemberHTTP},
	{"DELETE", seg("groups/*/members/*/$ref"), 1, true, rolesWriteMember, (*Server).removeMemberHTTP},
	{"GET", seg("groups/*/members"), 3, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/members/$count"), 3, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/members/*"), 3, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/members/*/$count"), 3, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/transitiveMembers"), 5, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/transitiveMembers/$count"), 5, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/transitiveMembers/*"), 5, false, rolesReadGroups, (*Server).listMembers},
	{"GET", seg("groups/*/membersWithLicenseErrors"), 3, false, rolesReadGroups, (*Server).listMembers},

	{"GET", seg("subscribedSkus"), 3, false, rolesSkus, (*Server).listSkus},
	{"GET", seg("subscribedSkus/*"), 3, false, rolesSkus, (*Server).getSku},
	{"GET", seg("organization"), 1, false, rolesSkus, (*Server).organization},
}

// match finds the route for method and path segments; when the path exists
// with another method it reports 405 as Graph does.
func match(method string, segs []string) (*route, []string, *GraphError) {
	pathKnown := false
	for i := range routes {
		rt := &routes[i]
		if len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for k, p := range rt.pattern {
			if p == "*" {
				if strings.HasPrefix(segs[k], "$") && segs[k] != "$ref" {
					ok = false
					break
				}
				params = append(params, segs[k])
				continue
			}
			if !strings.EqualFold(p, segs[k]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathKnown = true
		if rt.method == method {
			return rt, params, nil
		}
	}
	if pathKnown {
		return nil, nil, gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	return nil, nil, gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", segs[len(segs)-1])
}

// dispatch runs one Graph request (top-level or inside $batch): routing,
// permission check, throttling, the handler, then the write log.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, ri *reqInfo, path string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	rt, params, ge := match(r.Method, segs)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if !hasAnyRole(ri.app.Roles, rt.roles) {
		writeError(w, ri, errDenied)
		return
	}
	q := r.URL.Query()
	cost := requestCost(rt.cost, q)
	if rt.write {
		cost = 1
	}
	v := s.throttle.charge(ri.app.ClientID, cost, rt.write, time.Now())
	if !v.ok {
		setThrottled(w.Header(), v, ri.app.ClientID, s.t.id)
		writeError(w, ri, gerr(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later."))
		return
	}
	w.Header().Set("x-ms-resource-unit", strconv.Itoa(cost))
	if v.usage >= 0.8 {
		w.Header().Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(min(v.usage, 1.8), 'f', 1, 64))
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rt.h(s, sw, r, ri, params)
	s.flushWrites(ri, sw.status)
}

func hasAnyRole(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// recorder captures a response for $batch and for dropped (timed-out)
// responses.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{h: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

// writeJSON sends a pre-encoded body with Graph's OData content type.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// graphURL is the absolute URL of a Graph path, used in @odata links.
func (s *Server) graphURL(path string) string { return s.info.GraphURL + path }

func (s *Server) context(fragment string) string {
	return s.info.GraphURL + "/$metadata#" + fragment
}

// nextLink rebuilds the request URL with a new $skiptoken; the other query
// options are kept so the client can follow it verbatim.
func (s *Server) nextLink(r *http.Request, path, param, token string) string {
	q := r.URL.Query()
	q.Del("$skiptoken")
	q.Del("$deltatoken")
	q.Set(param, token)
	return s.graphURL(path) + "?" + encodeQuery(q)
}

// encodeQuery keeps "$" and "," readable in links, as Graph does.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(url.QueryEscape(k), "%24", "$"))
			b.WriteByte('=')
			b.WriteString(strings.NewReplacer("%24", "$", "%2C", ",", "%27", "'", "%28", "(", "%29", ")", "%3A", ":", "%2F", "/").Replace(url.QueryEscape(v)))
		}
	}
	return b.String()
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 4<<20))
}

func quietLogger() *log.Logger { return log.New(io.Discard, "", 0) }

var reqSeq atomic.Int64

// seqNext adds entropy to generated request ids.
func seqNext() int64 { return reqSeq.Add(1) }
