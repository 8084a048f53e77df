package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxBatch is Graph's limit of requests in one $batch.
const MaxBatch = 20

const opBatch = "Batch"

// BatchRequest is one request inside $batch.
type BatchRequest struct {
	// ID is unique among the requests passed to one Batch call.
	ID     string `json:"id"`
	Method string `json:"method"`
	// URL is relative to the version root, e.g. "/users/{id}/assignLicense".
	URL    string            `json:"url"`
	Header map[string]string `json:"headers,omitempty"`
	// Body is marshalled to JSON (a json.RawMessage passes through).
	Body any `json:"body,omitempty"`
	// DependsOn lists ids that must succeed first; Graph answers 424 when
	// one failed. Dependent requests are always sent in the same $batch.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Op names the request in errors and metrics (default "Batch").
	Op string `json:"-"`
}

// BatchResponse is the answer to one BatchRequest.
type BatchResponse struct {
	ID     string            `json:"id"`
	Status int               `json:"status"`
	Header map[string]string `json:"headers,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
	op     string
}

// Err returns the response as an *Error when it is not a success, so inner
// failures read and match (IsAlreadyMember, ErrNotFound) like top-level ones.
func (r BatchResponse) Err() error {
	if r.Status < 400 {
		return nil
	}
	h := http.Header{}
	for k, v := range r.Header {
		h.Set(k, v)
	}
	return newError(r.op, "", r.Status, h, r.Body)
}

// Batch sends requests through $batch, MaxBatch at a time (chunks go out
// concurrently within the client's limits), retrying inner 429/503/504
// responses after their own Retry-After, as Graph expects callers to do.
// Responses come back in the order of reqs. An error means the batches
// themselves failed; per-request failures are in the responses (see Err).
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	groups, err := planBatches(reqs)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(reqs))
	for i, r := range reqs {
		index[r.ID] = i
	}
	out := make([]BatchResponse, len(reqs))
	work := make(chan []BatchRequest)
	errs := make(chan error, len(groups))
	var wg sync.WaitGroup
	for range min(len(groups), c.cfg.Limits.Concurrency) {
		wg.Go(func() {
			for g := range work {
				got, err := c.batchWithRetry(ctx, g)
				if err != nil {
					errs <- err
					continue
				}
				for _, r := range got {
					out[index[r.ID]] = r // distinct ids: no two goroutines write one slot
				}
			}
		})
	}
	for _, g := range groups {
		select {
		case work <- g:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", opBatch, err)
	}
	return out, nil
}

// planBatches validates ids and dependencies and groups requests into
// batches of at most MaxBatch. Graph resolves dependsOn only within a batch
// and rejects a batch that mixes dependent and independent requests ("either
// fully sequential or fully parallel"), so each set of requests linked by
// dependsOn gets a batch of its own and the independent ones are packed
// twenty to a batch; the caller's order is kept throughout.
func planBatches(reqs []BatchRequest) ([][]BatchRequest, error) {
	pos := make(map[string]int, len(reqs))
	for i, r := range reqs {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("graph: %s: %w: request %d has no id", opBatch, ErrInvalidInput, i)
		case r.Method == "" || !strings.HasPrefix(r.URL, "/"):
			return nil, fmt.Errorf("graph: %s: %w: request %q needs a method and a URL starting with /", opBatch, ErrInvalidInput, r.ID)
		}
		if _, dup := pos[r.ID]; dup {
			return nil, fmt.Errorf("graph: %s: %w: duplicate request id %q", opBatch, ErrInvalidInput, r.ID)
		}
		for _, d := range r.DependsOn {
			if _, earlier := pos[d]; !earlier {
				return nil, fmt.Errorf("graph: %s: %w: request %q depends on %q, which is not an earlier request", opBatch, ErrInvalidInput, r.ID, d)
			}
		}
		pos[r.ID] = i
	}
	// Union-find over dependsOn: each component travels together.
	parent := make([]int, len(reqs))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, r := range reqs {
		for _, d := range r.DependsOn {
			parent[find(i)] = find(pos[d])
		}
	}
	size := map[int]int{}
	for i := range reqs {
		size[find(i)]++
	}
	var out [][]BatchRequest
	var parallel []BatchRequest
	linked := map[int]int{} // component root -> index in out
	for i, r := range reqs {
		root := find(i)
		if size[root] == 1 {
			if len(parallel) == MaxBatch {
				out = append(out, parallel)
				parallel = nil
			}
			parallel = append(parallel, r)
			continue
		}
		if size[root] > MaxBatch {
			return nil, fmt.Errorf("graph: %s: %w: %d requests linked by dependsOn (with %q) exceed the %d a batch holds",
				opBatch, ErrInvalidInput, size[root], r.ID, MaxBatch)
		}
		k, ok := linked[root]
		if !ok {
			k = len(out)
			linked[root] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], r)
	}
	if len(parallel) > 0 {
		out = append(out, parallel)
	}
	return out, nil
}

// batchWithRetry sends one planned batch and re-sends what Graph throttled
// (and what failed with 424 only because a throttled request did) after the
// longest inner Retry-After, until everything has a final answer or the
// retry policy is spent. A retry round that would mix dependent and
// independent requests sends the independent ones first and holds the
// rest; a held request whose dependency then failed gets a 424 without
// being sent, as Graph itself would answer.
func (c *Client) batchWithRetry(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	p := c.cfg.Retry
	final := make(map[string]BatchResponse, len(reqs))
	pending := reqs
	for attempt := 1; len(pending) > 0; attempt++ {
		send, hold := c.nextRound(pending, final)
		if len(send) == 0 { // every pending request was settled by a failed dependency
			break
		}
		got, err := c.sendBatch(ctx, send)
		if err != nil {
			return nil, err
		}
		retry := map[string]bool{}
		var wait time.Duration
		hasRA := false
		for _, r := range got {
			if !retryable(r.Status) {
				continue
			}
			retry[r.ID] = true
			ra, ok := retryAfter(func(k string) string { return headerValue(r.Header, k) }, time.Now())
			if r.Status == http.StatusTooManyRequests {
				c.metrics.Throttled(r.op, ra)
			}
			if ok {
				hasRA = true
				wait = max(wait, ra)
			}
		}
		for grew := true; grew; {
			grew = false
			for _, r := range send {
				if !retry[r.ID] && got[r.ID].Status == http.StatusFailedDependency && anyIn(r.DependsOn, retry) {
					retry[r.ID], grew = true, true
				}
			}
		}
		d, ok := p.wait(attempt, wait, hasRA)
		giveUp := !ok || attempt >= p.MaxAttempts
		held := map[string]bool{}
		for _, r := range hold {
			held[r.ID] = true
		}
		var next []BatchRequest
		for _, r := range pending {
			switch {
			case held[r.ID]:
				next = append(next, r)
			case retry[r.ID] && !giveUp:
				next = append(next, r)
				c.metrics.Retried(r.opName(), strconv.Itoa(got[r.ID].Status))
			default:
				resp, ok := got[r.ID]
				if !ok {
					return nil, fmt.Errorf("graph: %s: %w: no response for request %q", opBatch, ErrMalformed, r.ID)
				}
				final[r.ID] = resp
			}
		}
		pending = next
		if len(retry) > 0 && !giveUp {
			if hasRA {
				c.lim.pause(d, "")
			}
			if err := sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("graph: %s: %w", opBatch, err)
			}
		}
	}
	out := make([]BatchResponse, len(reqs))
	for i, r := range reqs {
		out[i] = final[r.ID]
	}
	return out, nil
}

// nextRound picks what to send from the pending requests: dependencies on
// settled requests are dropped (a failed one settles the dependent with a
// local 424), and if the rest would mix dependent and independent requests
// only the independent ones go now.
func (c *Client) nextRound(pending []BatchRequest, final map[string]BatchResponse) (send, hold []BatchRequest) {
	open := make(map[string]bool, len(pending))
	for _, r := range pending {
		open[r.ID] = true
	}
	var cand []BatchRequest
	for _, r := range pending {
		failed := ""
		for _, d := range r.DependsOn {
			if f, done := final[d]; done && f.Status >= 400 {
				failed = d
			}
		}
		if failed != "" {
			body, _ := json.Marshal(map[string]map[string]string{"error": {"code": "FailedDependency",
				"message": "The request depends on request " + failed + ", which failed."}})
			final[r.ID] = BatchResponse{ID: r.ID, Status: http.StatusFailedDependency, Body: body, op: r.opName()}
			delete(open, r.ID)
			continue
		}
		r.DependsOn = keepIn(r.DependsOn, open)
		cand = append(cand, r)
	}
	sequential := true
	anyDeps := false
	for i, r := range cand {
		anyDeps = anyDeps || len(r.DependsOn) > 0
		sequential = sequential && (i == 0 || len(r.DependsOn) > 0)
	}
	if !anyDeps || sequential {
		return cand, nil
	}
	for _, r := range cand {
		if len(r.DependsOn) == 0 {
			send = append(send, r)
		} else {
			hold = append(hold, r)
		}
	}
	return send, hold
}

func (r BatchRequest) opName() string {
	if r.Op != "" {
		return r.Op
	}
	return opBatch
}

// sendBatch posts one $batch and returns its responses by id.
func (c *Client) sendBatch(ctx context.Context, reqs []BatchRequest) (map[string]BatchResponse, error) {
	body := struct {
		Requests []BatchRequest `json:"requests"`
	}{reqs}
	writes := 0
	ops := make(map[string]string, len(reqs))
	for i, r := range reqs {
		if r.Method != http.MethodGet {
			writes++
		}
		if r.Body != nil && headerValue(r.Header, "Content-Type") == "" {
			// Graph rejects an inner body without a Content-Type.
			h := make(map[string]string, len(r.Header)+1)
			for k, v := range r.Header {
				h[k] = v
			}
			h["Content-Type"] = "application/json"
			body.Requests[i].Header = h
		}
		ops[r.ID] = r.opName()
	}
	cl, err := c.newCall(opBatch, "", http.MethodPost, "/$batch", nil, body)
	if err != nil {
		return nil, err
	}
	// Nothing in a batch is applied when Graph throttles the batch itself,
	// and GET-only batches are safe to repeat after a transport failure.
	cl.idempotent = writes == 0
	cl.cost = cost{requests: len(reqs), writes: writes}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	var env struct {
		Responses []BatchResponse `json:"responses"`
	}
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, fmt.Errorf("graph: %s: %w: %v", opBatch, ErrMalformed, err)
	}
	got := make(map[string]BatchResponse, len(env.Responses))
	for _, r := range env.Responses {
		op, ok := ops[r.ID]
		if !ok {
			return nil, fmt.Errorf("graph: %s: %w: response for unknown id %q", opBatch, ErrMalformed, r.ID)
		}
		r.op = op
		c.metrics.Request(op, r.Status, 0)
		got[r.ID] = r
	}
	return got, nil
}

// headerValue looks a header up case-insensitively, as HTTP requires; inner
// $batch headers are a plain JSON object.
func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func anyIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

func keepIn(ids []string, set map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
		}
	}
	return out
}
