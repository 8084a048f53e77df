package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Page is one page of a Graph collection as it arrived. Body is the exact
// JSON Graph sent, which the inventory stores in its inbox before decoding,
// so a crash between download and processing loses nothing.
type Page struct {
	// Op is the call that produced the page, e.g. "ListUsers".
	Op string
	// Number counts pages within this listing, from 1.
	Number int
	// URL is the request that returned this page.
	URL string
	// Params are the query options the listing started with; they apply to
	// every page (nextLinks encode them). Empty when resuming from a link.
	Params url.Values
	// Body is the raw response body. The callback may keep it.
	Body []byte
	// NextLink is the URL of the next page; "" on the last page. A caller
	// that persists it can resume a failed listing with Pages.
	NextLink string
	// DeltaLink is set on the last page of a delta round: the link to start
	// the next round from.
	DeltaLink string
	// Count is @odata.count (first page of a $count=true query only), else -1.
	Count int64
	// Items is the number of entries in "value".
	Items int
}

// Selected reports whether the listing asked for property prop in $select.
// ListUsers uses it to tell a caller that signInActivity was dropped
// because the tenant lacks Entra ID P1.
func (p *Page) Selected(prop string) bool {
	for s := range strings.SplitSeq(p.Params.Get("$select"), ",") {
		if strings.EqualFold(strings.TrimSpace(s), prop) {
			return true
		}
	}
	return false
}

// PageFunc receives each page with its decoded items. Returning an error
// stops the listing and returns that error.
type PageFunc[T any] func(p *Page, items []T) error

// Collect returns a PageFunc that appends every item to *dst; for small
// collections (subscribedSkus, one user's licenseDetails) where streaming
// buys nothing.
func Collect[T any](dst *[]T) PageFunc[T] {
	return func(_ *Page, items []T) error {
		*dst = append(*dst, items...)
		return nil
	}
}

// DecodeItems decodes the "value" array of a stored page body into T, for
// callers that keep raw pages (the inventory's inbox) and decode them later.
func DecodeItems[T any](body []byte) ([]T, error) {
	var env envelope[T]
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("graph: %w: %v", ErrMalformed, err)
	}
	if env.Value == nil {
		return nil, fmt.Errorf("graph: %w: no \"value\" array", ErrMalformed)
	}
	return *env.Value, nil
}

// Query describes a paged GET.
type Query struct {
	// Op names the call in errors, logs and metrics.
	Op string
	// Path is relative to the Graph version root ("/users"), or an absolute
	// @odata.nextLink / @odata.deltaLink to resume from.
	Path string
	// Params are OData query options ($select, $filter, $top); ignored when
	// Path is an absolute link, which already encodes them.
	Params url.Values
	// Eventual sends ConsistencyLevel: eventual and $count=true on every
	// page, which Graph's advanced queries (license filters, ne, not,
	// endsWith) require; nextLinks do not carry the header.
	Eventual bool
	// Header holds extra headers sent on every page (Prefer).
	Header http.Header
	// Permission is named in a 403 error.
	Permission string

	// Exchange admin listings page by POSTing the same command to each
	// nextLink, on the Exchange host with the Exchange token.
	body     []byte
	exchange bool
}

// Pages streams a collection page by page without decoding its items: the
// building block for callers that store raw pages and for resuming from a
// saved link. It returns the deltaLink when the collection was a delta round.
func (c *Client) Pages(ctx context.Context, q Query, fn func(*Page) error) (deltaLink string, err error) {
	// struct{} items make forEachPage scan pages without decoding entries.
	return forEachPage(ctx, c, q, func(p *Page, _ []struct{}) error { return fn(p) })
}

// envelope is a collection page; Value is a pointer so that a body without
// "value" is caught instead of read as an empty last page.
type envelope[T any] struct {
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
	Count     *int64 `json:"@odata.count"`
	Value     *[]T   `json:"value"`
}

// forEachPage follows @odata.nextLink to the end of a collection, decoding
// each page into T. While fn handles page n, page n+1 is already being
// fetched and decoded, so a caller that stores pages overlaps its writes
// with the download; at most two pages are in memory.
func forEachPage[T any](ctx context.Context, c *Client, q Query, fn PageFunc[T]) (string, error) {
	u, err := c.firstURL(q)
	if err != nil {
		return "", err
	}
	header := q.Header.Clone()
	if q.Eventual {
		if header == nil {
			header = http.Header{}
		}
		header.Set("ConsistencyLevel", "eventual")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops a prefetch when fn fails
	seen := map[string]bool{u: true}
	cur := fetchPage[T](ctx, c, q, header, u, 1)
	for {
		if cur.err != nil {
			return "", cur.err
		}
		p := cur.page
		var next chan fetched[T]
		if p.NextLink != "" {
			nu, err := c.nextURL(q, p.NextLink)
			if err != nil {
				return "", err
			}
			if seen[nu] {
				return "", fmt.Errorf("graph: %s: page %d: %w: nextLink repeats an earlier page", q.Op, p.Number, ErrMalformed)
			}
			seen[nu] = true
			next = make(chan fetched[T], 1)
			go func() { next <- fetchPage[T](ctx, c, q, header, nu, p.Number+1) }()
		}
		if err := fn(p, cur.items); err != nil {
			return "", err
		}
		if next == nil {
			return p.DeltaLink, nil
		}
		cur = <-next
	}
}

type fetched[T any] struct {
	page  *Page
	items []T
	err   error
}

// fetchPage downloads and decodes page n of a listing.
func fetchPage[T any](ctx context.Context, c *Client, q Query, header http.Header, u string, n int) fetched[T] {
	cl := &call{op: q.Op, permission: q.Permission, method: http.MethodGet, url: u,
		header: header, idempotent: true, cost: cost{requests: 1}}
	if q.exchange {
		cl.method, cl.body, cl.exchange = http.MethodPost, q.body, true
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return fetched[T]{err: err}
	}
	h, items, err := decodePage[T](resp.body)
	if err != nil {
		return fetched[T]{err: fmt.Errorf("graph: %s: page %d: %w: %v", q.Op, n, ErrMalformed, err)}
	}
	p := &Page{Op: q.Op, Number: n, URL: u, Params: q.Params, Body: resp.body,
		NextLink: h.nextLink, DeltaLink: h.deltaLink, Count: h.count, Items: h.items}
	if isAbsolute(q.Path) {
		p.Params = nil
	}
	return fetched[T]{page: p, items: items}
}

// pageHead is what a page says about its listing besides its entries.
type pageHead struct {
	nextLink, deltaLink string
	count               int64 // -1 when the page has no @odata.count
	items               int
}

var errNoValue = errors.New(`no "value" array`)

// decodePage reads a page's links and entries. Callers that only want the
// raw page (Pages: the inventory stores pages and decodes them later) get a
// scan that decodes no entry.
func decodePage[T any](body []byte) (pageHead, []T, error) {
	if _, raw := any((*T)(nil)).(*struct{}); raw {
		h, err := scanPage(body)
		return h, make([]T, h.items), err
	}
	var env envelope[T]
	if err := json.Unmarshal(body, &env); err != nil {
		return pageHead{}, nil, err
	}
	if env.Value == nil {
		return pageHead{}, nil, errNoValue
	}
	h := pageHead{nextLink: env.NextLink, deltaLink: env.DeltaLink, count: -1, items: len(*env.Value)}
	if env.Count != nil {
		h.count = *env.Count
	}
	return h, *env.Value, nil
}

// scanPage reads a page's links and counts its entries without decoding
// them, checking the whole body in the same pass. encoding/json took two
// passes over every byte (validation, then decoding into envelope[struct{}])
// to learn the same. It accepts and rejects exactly what that decoding does,
// including an entry that is null, which decodes to nothing.
func scanPage(body []byte) (pageHead, error) {
	h := pageHead{count: -1}
	hasValue := false
	r := NewJSONReader(body)
	if !r.Null() {
		for key := range r.Object() {
			switch {
			case isName(key, "value"):
				hasValue = !r.Null()
				if !hasValue {
					continue
				}
				h.items = 0
				for range r.Array() {
					if !r.Null() {
						for range r.Object() {
						}
					}
					h.items++
				}
			case isName(key, "@odata.nextLink"):
				if !r.Null() {
					h.nextLink = r.Text()
				}
			case isName(key, "@odata.deltaLink"):
				if !r.Null() {
					h.deltaLink = r.Text()
				}
			case isName(key, "@odata.count"):
				h.count = -1
				if !r.Null() {
					h.count = r.Int64()
				}
			}
		}
	}
	if err := r.Finish(); err != nil {
		return pageHead{}, err
	}
	if !hasValue {
		return pageHead{}, errNoValue
	}
	return h, nil
}

// isName matches a key to a property name as encoding/json matches keys to
// struct fields: exactly, or else ignoring case.
func isName(key []byte, name string) bool {
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

func isAbsolute(path string) bool {
	return strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://")
}

// firstURL resolves a Query to the URL of its first page.
func (c *Client) firstURL(q Query) (string, error) {
	if isAbsolute(q.Path) {
		return c.nextURL(q, q.Path)
	}
	if !strings.HasPrefix(q.Path, "/") {
		return "", fmt.Errorf("graph: %s: %w: path %q must start with / or be an absolute link", q.Op, ErrInvalidInput, q.Path)
	}
	params := q.Params
	if q.Eventual && params.Get("$count") == "" {
		params = cloneValues(params)
		params.Set("$count", "true")
	}
	u := q.base(c).String() + q.Path
	if len(params) > 0 {
		u += "?" + encodeQuery(params)
	}
	return u, nil
}

// nextURL checks a link Graph returned before following it. The bearer token
// goes wherever the link points, so a link to another host (a tampered or
// misconfigured response) is refused rather than followed.
func (c *Client) nextURL(q Query, link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("graph: %s: %w: unparsable link %q", q.Op, ErrMalformed, link)
	}
	base := q.base(c)
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) {
		return "", fmt.Errorf("graph: %s: %w: link points to %s://%s, not the tenant's %s://%s",
			q.Op, ErrMalformed, u.Scheme, u.Host, base.Scheme, base.Host)
	}
	if q.Eventual && !hasCountParam(u.RawQuery) {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "$count=true"
	}
	return u.String(), nil
}

func hasCountParam(rawQuery string) bool {
	for kv := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k == "$count" || k == "%24count" {
			return true
		}
	}
	return false
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (q Query) base(c *Client) *url.URL {
	if q.exchange {
		return c.cfg.exchangeBase
	}
	return c.cfg.graphBase
}
