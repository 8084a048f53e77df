package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBatch is Graph's JSON batching limit (graph.md §5).
const maxBatch = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// serveBatch is POST /$batch: up to 20 requests, each routed, authorised,
// throttled and logged as if sent alone. The batch answers 200 whenever it
// parses; failures (including 429s with their own Retry-After) are per item.
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request, ri *reqInfo) {
	var body struct {
		Requests []batchRequest `json:"requests"`
	}
	raw, err := readBody(r)
	if err != nil || json.Unmarshal(raw, &body) != nil || body.Requests == nil {
		writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format."))
		return
	}
	reqs := body.Requests
	if len(reqs) > maxBatch {
		writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Number of requests in the batch exceeds the limit of %d.", maxBatch))
		return
	}
	ids := map[string]bool{}
	anyDeps := false
	for _, br := range reqs {
		switch {
		case br.ID == "":
			writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Request id is required for every request in the batch."))
			return
		case ids[br.ID]:
			writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Batch request contains duplicate request id '%s'.", br.ID))
			return
		case br.Method == "" || br.URL == "":
			writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Request '%s' requires a method and a url.", br.ID))
			return
		case len(br.Body) > 0 && string(br.Body) != "null" && headerValue(br.Headers, "Content-Type") == "":
			writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Content-Type header is required for request '%s' because it has a body.", br.ID))
			return
		}
		for _, d := range br.DependsOn {
			if !ids[d] {
				writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Request '%s' depends on '%s', which is not an earlier request of the batch.", br.ID, d))
				return
			}
		}
		if len(br.DependsOn) > 0 {
			anyDeps = true
		}
		ids[br.ID] = true
	}
	if anyDeps {
		for _, br := range reqs[1:] {
			if len(br.DependsOn) == 0 {
				writeError(w, ri, gerr(http.StatusBadRequest, "BadRequest", "Batch should be either fully sequential or fully parallel."))
				return
			}
		}
	}
	status := map[string]int{}
	e := newEnc(16 << 10)
	e.open()
	e.key("responses")
	e.openArr()
	for _, br := range reqs {
		rec := s.runBatchItem(r, ri, br, status)
		status[br.ID] = rec.status
		e.open()
		e.kv("id", br.ID)
		e.key("status")
		e.int(int64(rec.status))
		e.key("headers")
		e.open()
		for k, v := range rec.h {
			if len(v) > 0 {
				e.kv(batchHeaderName(k), v[0])
			}
		}
		e.close()
		if rec.body.Len() > 0 {
			e.key("body")
			if json.Valid(rec.body.Bytes()) {
				e.raw(rec.body.String())
			} else {
				e.str(rec.body.String())
			}
		}
		e.close()
	}
	e.closeArr()
	e.close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.b)
}

// batchHeaderName spells inner response headers as Graph does: Graph's own
// headers in lower case (x-ms-*, request-id), standard ones canonical.
func batchHeaderName(k string) string {
	l := strings.ToLower(k)
	if strings.HasPrefix(l, "x-ms-") || l == "request-id" || l == "client-request-id" {
		return l
	}
	return k
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (s *Server) runBatchItem(outer *http.Request, ori *reqInfo, br batchRequest, status map[string]int) *recorder {
	rec := newRecorder()
	cr := headerValue(br.Headers, "client-request-id")
	if cr == "" {
		cr = ori.clientRequestID
	}
	ri := &reqInfo{requestID: newUUID(newRand(time.Now().UnixNano() ^ seqNext())), clientRequestID: cr, app: ori.app,
		source: "batch", method: strings.ToUpper(br.Method), now: time.Now()}
	for _, d := range br.DependsOn {
		if st := status[d]; st >= 400 {
			writeError(rec, ri, gerr(http.StatusFailedDependency, "FailedDependency", "Failed dependency: request '%s' failed with status %d.", d, st))
			return rec
		}
	}
	target := br.URL
	if i := strings.Index(target, "/v1.0/"); strings.HasPrefix(target, "http") && i >= 0 {
		target = target[i+len("/v1.0"):]
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	u, err := url.Parse("/v1.0" + target)
	if err != nil {
		writeError(rec, ri, badRequest("Invalid request URL '%s'.", br.URL))
		return rec
	}
	ri.path = u.RequestURI()
	var body []byte
	if len(br.Body) > 0 && string(br.Body) != "null" {
		body = br.Body
	}
	req, err := http.NewRequestWithContext(outer.Context(), ri.method, u.String(), bytes.NewReader(body))
	if err != nil {
		writeError(rec, ri, badRequest("Invalid request '%s'.", br.ID))
		return rec
	}
	for k, v := range br.Headers {
		req.Header.Set(k, v)
	}
	rec.h.Set("client-request-id", cr)
	rec.h.Set("request-id", ri.requestID)
	if s.faults.drawBatchFailure() {
		if s.faults.get().BatchThrottle {
			setThrottled(rec.h, throttleVerdict{retryAfter: s.scaled(2 * time.Second), info: "ResourceUnitLimitExceeded", scope: "ReadWrite"}, ri.app.ClientID, s.t.id)
			writeError(rec, ri, gerr(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later."))
		} else {
			writeError(rec, ri, gerr(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later."))
		}
		return rec
	}
	s.dispatch(rec, req, ri, target[:strings.IndexAny(target+"?", "?")])
	return rec
}
