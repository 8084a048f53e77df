package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client talks to one tenant's Graph and Exchange admin endpoints. It is safe
// for concurrent use; share one per tenant so the concurrency and rate limits
// cover every job that touches the tenant.
type Client struct {
	cfg      *resolved
	hc       *http.Client
	graph    *tokenSource
	exchange *tokenSource
	lim      *limiter
	log      *slog.Logger
	metrics  Metrics
	sizes    bodySizes
}

// New validates cfg and builds a Client. It makes no network call: the first
// token is fetched by the first request, so a tenant with a bad secret fails
// that request with an *AuthError.
func New(cfg Config) (*Client, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	tr, err := newTransport(r)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: tr}
	cred, err := newCredential(r, hc)
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:      r,
		hc:       hc,
		graph:    &tokenSource{cred: cred, scope: r.GraphScope},
		exchange: &tokenSource{cred: cred, scope: r.ExchangeScope},
		lim:      newLimiter(r.Limits),
		log:      r.Logger.With("tenant", r.TenantID),
		metrics:  r.Metrics,
	}, nil
}

// GraphURL is the Graph base the client calls, e.g. https://graph.microsoft.com/v1.0.
func (c *Client) GraphURL() string { return c.cfg.graphBase.String() }

// call is one logical Graph operation; do turns it into one or more HTTP
// attempts.
type call struct {
	op         string
	permission string
	method     string
	url        string // absolute
	header     http.Header
	body       []byte
	exchange   bool // use the Exchange token
	// idempotent calls are retried after transport failures too; others
	// only on 429/503/504, where Graph guarantees nothing was applied.
	idempotent bool
	cost       cost
}

// response is a completed HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// newCall builds a call against the Graph base. path is relative to the
// version root ("/users") and already escaped.
func (c *Client) newCall(op, permission, method, path string, query url.Values, body any) (*call, error) {
	u := c.cfg.graphBase.String() + path
	if len(query) > 0 {
		u += "?" + encodeQuery(query)
	}
	cl := &call{op: op, permission: permission, method: method, url: u,
		idempotent: method != http.MethodPost, cost: cost{requests: 1}}
	if method != http.MethodGet {
		cl.cost.writes = 1
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("graph: %s: encoding body: %w", op, err)
		}
		cl.body = b
	}
	return cl, nil
}

// encodeQuery encodes OData system options with a literal "$" (Graph accepts
// %24 too, but logs and nextLinks read better without it) and spaces as %20,
// which Graph's $filter parser requires.
func encodeQuery(q url.Values) string {
	s := q.Encode()
	s = strings.ReplaceAll(s, "%24", "$")
	return strings.ReplaceAll(s, "+", "%20")
}

// do sends a call with the retry policy, limits, auth and logging.
func (c *Client) do(ctx context.Context, r *call) (*response, error) {
	ts := c.graph
	if r.exchange {
		ts = c.exchange
	}
	crid := newUUID()
	p := c.cfg.Retry
	reauthed := false
	for attempt := 1; ; attempt++ {
		tok, err := ts.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("graph: %s: %w", r.op, err)
		}
		if err := c.lim.acquire(ctx, r.cost); err != nil {
			return nil, fmt.Errorf("graph: %s: %w", r.op, err)
		}
		resp, err := c.attempt(ctx, r, tok, crid, attempt)
		c.lim.release()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("graph: %s: %w", r.op, ctx.Err())
			}
			if !r.idempotent || attempt >= p.MaxAttempts {
				return nil, fmt.Errorf("graph: %s %s: %w", r.op, r.method, err)
			}
			c.metrics.Retried(r.op, "transport")
			if err := sleep(ctx, p.backoff(attempt)); err != nil {
				return nil, fmt.Errorf("graph: %s: %w", r.op, err)
			}
			continue
		}
		switch {
		case resp.status == http.StatusUnauthorized && !reauthed:
			// A revoked or clock-skewed token: drop ours and ask the credential
			// once more (azidentity renews it if its own cache expired it).
			reauthed = true
			ts.invalidate(tok)
			c.metrics.Retried(r.op, "401")
			continue
		case retryable(resp.status):
			ra, hasRA := retryAfter(resp.header.Get, time.Now())
			if resp.status == http.StatusTooManyRequests {
				c.metrics.Throttled(r.op, ra)
			}
			d, ok := p.wait(attempt, ra, hasRA)
			if !ok || attempt >= p.MaxAttempts {
				e := newError(r.op, r.permission, resp.status, resp.header, resp.body)
				e.RetryAfter = ra
				return nil, e
			}
			if hasRA {
				c.lim.pause(d, resp.header.Get("x-ms-throttle-scope"))
			}
			c.metrics.Retried(r.op, strconv.Itoa(resp.status))
			if err := sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("graph: %s: %w", r.op, err)
			}
			continue
		case resp.status >= 400:
			return nil, newError(r.op, r.permission, resp.status, resp.header, resp.body)
		}
		return resp, nil
	}
}

// attempt is one HTTP round trip. Only transport failures are errors here.
func (c *Client) attempt(ctx context.Context, r *call, token, crid string, n int) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Retry.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "allot-graph")
	req.Header.Set("client-request-id", crid)
	req.Header.Set("return-client-request-id", "true")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		c.metrics.Request(r.op, 0, time.Since(start))
		c.log.DebugContext(ctx, "graph request failed", "op", r.op, "method", r.method, "path", req.URL.Path,
			"attempt", n, "client_request_id", crid, "err", err)
		return nil, err
	}
	body, err := readBody(res, c.sizes.hint(r.op))
	c.sizes.saw(r.op, len(body))
	elapsed := time.Since(start)
	c.metrics.Request(r.op, res.StatusCode, elapsed)
	if c.log.Enabled(ctx, slog.LevelDebug) {
		h := res.Header
		c.log.DebugContext(ctx, "graph request", "op", r.op, "method", r.method, "path", req.URL.Path,
			"status", res.StatusCode, "attempt", n, "ms", elapsed.Milliseconds(), "bytes", len(body),
			"request_id", h.Get("request-id"), "client_request_id", crid,
			"retry_after", h.Get("Retry-After"),
			"throttle_limit_percentage", h.Get("x-ms-throttle-limit-percentage"),
			"throttle_scope", h.Get("x-ms-throttle-scope"),
			"throttle_information", h.Get("x-ms-throttle-information"),
			"resource_unit", h.Get("x-ms-resource-unit"))
	}
	if err != nil {
		return nil, err
	}
	return &response{status: res.StatusCode, header: res.Header, body: body}, nil
}

// maxBody bounds one response; the largest legitimate Graph page (999 users
// with every licensing property) is a few megabytes.
const maxBody = 256 << 20

func readBody(res *http.Response, hint int) ([]byte, error) {
	defer res.Body.Close()
	size := max(hint, 512)
	if res.ContentLength > 0 && res.ContentLength < maxBody {
		size = int(res.ContentLength) + 1 // +1 lets ReadAll see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if n > maxBody {
		return nil, errors.New("response body exceeds 256 MiB")
	}
	return buf.Bytes(), nil
}

// bodySizes remembers how large each operation's last response was, as a
// first guess at the next one's. Graph sends its pages chunked, without a
// length, and a full page of users is a megabyte: growing a buffer from
// nothing made three times the page in garbage, the largest single source
// of allocation in a sync. Pages of one listing are much alike; the guess
// adds an eighth for pages a little larger than the last.
type bodySizes struct {
	mu   sync.Mutex
	last map[string]int
}

func (b *bodySizes) hint(op string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.last[op]
	return min(n+n/8+bytes.MinRead, maxBody)
}

func (b *bodySizes) saw(op string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last = map[string]int{}
	}
	b.last[op] = n
}

// newUUID returns a random (version 4) UUID for client-request-id, which
// Microsoft support asks for when tracing a request.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
