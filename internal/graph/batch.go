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
func (r *BatchResponse) Err() error {
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

// planBatches validates ids and dependencies and packs requests into
// batches of at most MaxBatch, keeping every dependency chain in one batch
// (Graph resolves dependsOn only within a batch) and the caller's order
// inside each batch.
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
		pos[r.ID] = i
	}
	// Union-find over dependsOn: each component must travel together.
	parent := make([]int, len(reqs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, r := range reqs {
		for _, d := range r.DependsOn {
			j, ok := pos[d]
			if !ok {
				return nil, fmt.Errorf("graph: %s: %w: request %q depends on unknown id %q", opBatch, ErrInvalidInput, r.ID, d)
			}
			parent[find(i)] = find(j)
		}
	}
	var order []int // component roots in order of first appearance
	members := map[int][]BatchRequest{}
	for i, r := range reqs {
		root := find(i)
		if _, ok := members[root]; !ok {
			order = append(order, root)
		}
		members[root] = append(members[root], r)
	}
	var out [][]BatchRequest
	var cur []BatchRequest
	for _, root := range order {
		comp := members[root]
		if len(comp) > MaxBatch {
			return nil, fmt.Errorf("graph: %s: %w: %d requests linked by dependsOn (starting with %q) exceed the %d a batch holds",
				opBatch, ErrInvalidInput, len(comp), comp[0].ID, MaxBatch)
		}
		if len(cur)+len(comp) > MaxBatch {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, comp...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// batchWithRetry sends one batch and re-sends the requests Graph throttled
// (and those that failed with 424 only because a throttled one did) until
// they succeed or the retry policy is spent.
func (c *Client) batchWithRetry(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	p := c.cfg.Retry
	final := make(map[string]BatchResponse, len(reqs))
	pending := reqs
	for attempt := 1; ; attempt++ {
		got, err := c.sendBatch(ctx, pending)
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
		// A request that failed only because its dependency was throttled
		// is retried along with it, transitively.
		for grew := true; grew; {
			grew = false
			for _, r := range pending {
				if resp := got[r.ID]; !retry[r.ID] && resp.Status == http.StatusFailedDependency && anyIn(r.DependsOn, retry) {
					retry[r.ID], grew = true, true
				}
			}
		}
		d, ok := p.wait(attempt, wait, hasRA)
		if len(retry) == 0 || !ok || attempt >= p.MaxAttempts {
			for id, r := range got {
				final[id] = r
			}
			break
		}
		var next []BatchRequest
		for _, r := range pending {
			if retry[r.ID] {
				r.DependsOn = keepIn(r.DependsOn, retry)
				next = append(next, r)
				c.metrics.Retried(r.opName(), strconv.Itoa(got[r.ID].Status))
			} else {
				final[r.ID] = got[r.ID]
			}
		}
		if hasRA {
			c.lim.pause(d, "")
		}
		if err := sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("graph: %s: %w", opBatch, err)
		}
		pending = next
	}
	out := make([]BatchResponse, 0, len(reqs))
	for _, r := range reqs {
		resp, ok := final[r.ID]
		if !ok {
			return nil, fmt.Errorf("graph: %s: %w: no response for request %q", opBatch, ErrMalformed, r.ID)
		}
		out = append(out, resp)
	}
	return out, nil
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
