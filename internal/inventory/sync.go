package inventory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Resources a sync fetches; they name inbox pages and sync states.
const (
	ResUsers     = "users"
	ResGroups    = "groups"
	ResLicenses  = "licenses"
	ResSkus      = "skus"
	ResMailboxes = "mailboxes"
	ResSignIns   = "signins"
)

// userDeltaSelect is what a users round tracks. It adds the manager
// relationship (manager@delta: approvals route to managers) and leaves out
// assignedPlans and provisionedPlans: they follow from the license states
// and the SKUs' plans, and an E5 user's ~90 assigned plans would make every
// user ten times larger on the wire. It keeps assignedLicenses (a SKU id
// and its disabled plans per SKU, small): tracking it is what brings a
// user whose licenses changed into the round, whose states are then read.
var userDeltaSelect = append(slices.DeleteFunc(slices.Clone(graph.UserDeltaSelect), func(p string) bool {
	return p == "assignedPlans" || p == "provisionedPlans"
}), "manager")

// Options shape one sync.
type Options struct {
	// Full ignores stored delta links and reads everything, sweeping what
	// Graph no longer returns. It implies Licenses.
	Full bool
	// Licenses reads every licensed user's license states, however recent
	// the last full read. Other syncs read only the states of users the
	// delta rounds touched (see the package doc).
	Licenses bool
	// LicenseRefresh is how old the last full read of license states may be
	// before a sync reads them all again; it catches what no delta reports,
	// such as group-based licensing errors. Zero means
	// DefaultLicenseRefresh; negative, only on request.
	LicenseRefresh time.Duration
	// Mailboxes refreshes Exchange mailbox types (user or shared) through the
	// Exchange admin API.
	Mailboxes bool
	// SignIns refreshes signInActivity. Graph allows ten such requests a
	// minute per app and tenant, so this belongs in a daily job, not every sync.
	SignIns bool
	// Progress, when set, is called after each fetched or applied page.
	Progress func(Progress)
}

// Progress counts a running sync.
type Progress struct {
	PagesFetched, PagesApplied int64
	Objects                    int64
}

// Result summarises a finished sync.
type Result struct {
	Tenant        string        `json:"tenant"`
	Full          bool          `json:"full"`
	Resynced      []string      `json:"resynced,omitempty"` // resources whose delta link had expired
	AllLicenses   bool          `json:"all_licenses"`       // every licensed user's states read, not only changed users'
	Users         int64         `json:"users"`
	Groups        int64         `json:"groups"`
	Memberships   int64         `json:"memberships"`
	LicenseStates int64         `json:"license_states"`
	Skus          int64         `json:"skus"`
	Mailboxes     int64         `json:"mailboxes"`
	Deleted       int64         `json:"deleted"`
	Pages         int64         `json:"pages"`
	Purged        int64         `json:"purged_pages,omitempty"`
	Seconds       float64       `json:"seconds"`
	Duration      time.Duration `json:"-"`
}

// Objects is the number of directory objects the sync applied.
func (r Result) Objects() int64 {
	return r.Users + r.Groups + r.Memberships + r.LicenseStates + r.Skus + r.Mailboxes
}

// Syncer runs syncs against the warehouse.
type Syncer struct {
	Store warehouse.Store
	// Client builds the Graph client for a tenant; NewClient when nil.
	Client func(directory.Tenant) (*graph.Client, error)
	Logger *slog.Logger
	// Now is the clock for deletion and sync timestamps; time.Now when nil.
	Now func() time.Time
}

// ErrSync wraps every sync failure with the tenant it concerns.
var ErrSync = errors.New("sync failed")

// Sync brings one tenant's warehouse copy up to date.
func (s *Syncer) Sync(ctx context.Context, tenant string, opt Options) (Result, error) {
	defer tuneGC()()
	start := time.Now()
	t, err := s.Store.GetTenant(ctx, tenant)
	if err != nil {
		return Result{}, err
	}
	newClient := s.Client
	if newClient == nil {
		newClient = NewClient
	}
	c, err := newClient(t)
	if err != nil {
		return Result{}, err
	}
	r := &run{s: s, t: t, c: c, opt: opt, log: s.logger().With("tenant", t.Name), links: map[string]string{},
		full: map[string]bool{}, id: randomID()}
	r.sink = r.store
	res, err := r.do(ctx)
	res.Tenant, res.Duration = t.Name, time.Since(start)
	res.Seconds = res.Duration.Seconds()
	if err != nil {
		return res, fmt.Errorf("%w: tenant %s: %w", ErrSync, t.Name, err)
	}
	return res, nil
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// run is one sync in progress: fetchers write pages into the inbox while a
// single applier (the warehouse has one writer on SQLite anyway) drains it.
type run struct {
	s   *Syncer
	t   directory.Tenant
	c   *graph.Client
	opt Options
	log *slog.Logger
	id  string

	mu    sync.Mutex
	links map[string]string // resource → new delta link
	full  map[string]bool   // resource → ran a full round
	res   Result

	// licFull says the sync reads every licensed user's states; otherwise
	// only those of users the rounds touched (fetchLicenseChanges).
	licFull   bool
	licErrors []string     // users license groups report in error (full reads)
	licSeq    atomic.Int64 // numbers license pages across their fetchers

	fetched, applied, objects atomic.Int64
	// groupPages counts the pages of a full groups round stored and
	// prepared: once the round is fetched and every page prepared, its
	// membership set is complete and is resolved on a goroutine of its own
	// (resolveMembers) while the writer goes on with other pages.
	groupPages struct{ stored, prepared atomic.Int64 }
	resolved   chan struct{} // closed when the set is resolved; nil until started
	wake       chan struct{}
	proc       *processor
	// sink receives each fetched page: the inbox during a sync, a counter
	// when only measuring the download.
	sink func(ctx context.Context, resource, mode string, seq int, body []byte) error
}

func (r *run) do(ctx context.Context) (Result, error) {
	purged, err := r.s.Store.PurgeInbox(ctx, r.t.ID)
	if err != nil {
		return r.res, err
	}
	if purged > 0 {
		r.log.Info("dropped pages of an interrupted sync", "pages", purged)
	}
	r.res.Purged, r.res.Full = purged, r.opt.Full
	if r.licFull, err = r.licensesDue(ctx); err != nil {
		return r.res, err
	}
	r.wake = make(chan struct{}, 1)
	r.proc = newProcessor(r)
	if r.licFull {
		// Counting costs a scan: only a full read, which touches every
		// licensed user, has anything to gain from knowing.
		if r.proc.before, err = r.s.Store.DirectoryCounts(ctx, r.t.ID); err != nil {
			return r.res, err
		}
		r.proc.counted = true
	}

	// In steps: the delta rounds (and SKUs, and a full license read when
	// one is due) first; then the license states of the users the rounds
	// touched, which are known only once the rounds are applied; last, after
	// a full read, those of users in error it did not list.
	for i, start := range []func(context.Context) *errgroup.Group{r.fetchAll, r.fetchLicenseChanges, r.fetchLicenseErrors} {
		began := time.Now()
		if err := r.step(ctx, start); err != nil {
			return r.res, err
		}
		r.log.Debug("sync step done", "step", i+1, "seconds", time.Since(began).Seconds())
	}
	began := time.Now()
	if err := r.finish(ctx); err != nil {
		return r.res, err
	}
	r.log.Debug("rounds finished", "seconds", time.Since(began).Seconds())
	r.res.Pages = r.applied.Load()
	return r.res, nil
}

// step starts fetchers and applies their pages until they are done and the
// inbox is empty.
func (r *run) step(ctx context.Context, start func(context.Context) *errgroup.Group) error {
	// The fetchers get their own context: errgroup cancels it when they are
	// done, while the applier must go on draining, and the applier cancels it
	// when it fails so the fetchers stop too.
	fctx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	fetch := start(fctx)

	done := make(chan error, 1)
	began := time.Now()
	go func() {
		err := fetch.Wait()
		r.log.Debug("fetchers done", "seconds", time.Since(began).Seconds(), "pages", r.fetched.Load(), "err", err)
		done <- err
		r.poke()
	}()
	fetching := true
	var firstWaiting time.Time // when the oldest page not yet drained arrived
	for {
		// While pages are still arriving, a drain waits for a full batch or
		// for its oldest page to have waited drainDelay. Each drain is a
		// transaction: draining every page as it landed made many small
		// commits, and kept the fetchers off the single writer meanwhile.
		waiting := r.fetched.Load() - r.applied.Load()
		if waiting > 0 && firstWaiting.IsZero() {
			firstWaiting = time.Now()
		}
		if !fetching || waiting >= drainBatch || (waiting > 0 && time.Since(firstWaiting) >= drainDelay) {
			n, err := r.proc.drain(ctx)
			if err != nil {
				stopFetch()
				if fetching {
					<-done
				}
				return err
			}
			r.resolveMembers()
			relaxGC()
			firstWaiting = time.Time{}
			if n > 0 {
				continue
			}
			if !fetching {
				return nil
			}
		}
		var delay <-chan time.Time
		if !firstWaiting.IsZero() {
			delay = time.After(drainDelay - time.Since(firstWaiting))
		}
		select {
		case err := <-done:
			fetching = false
			if err != nil {
				return err
			}
		case <-r.wake:
		case <-delay:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// A drain applies up to drainBatch pages in one transaction; while fetchers
// are running, it waits up to drainDelay for a batch to gather.
const (
	drainBatch = 128
	drainDelay = 200 * time.Millisecond
)

func (r *run) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *run) progress() {
	if r.opt.Progress != nil {
		r.opt.Progress(Progress{PagesFetched: r.fetched.Load(), PagesApplied: r.applied.Load(), Objects: r.objects.Load()})
	}
}

// store puts one fetched page into the inbox.
func (r *run) store(ctx context.Context, resource, mode string, seq int, body []byte) error {
	_, err := r.s.Store.PutInboxPages(ctx, []warehouse.InboxPage{{TenantID: r.t.ID, Resource: resource,
		Round: r.id + "/" + mode, Seq: seq, Body: body}})
	if err != nil {
		return fmt.Errorf("store %s page %d: %w", resource, seq, err)
	}
	if resource == ResGroups && mode == "full" {
		r.groupPages.stored.Add(1)
	}
	r.fetched.Add(1)
	r.poke()
	r.progress()
	return nil
}

// fetchPages stores every page of a listing.
func (r *run) fetchPages(ctx context.Context, resource, mode string, q graph.Query) error {
	seq := 0
	_, err := r.c.Pages(ctx, q, func(p *graph.Page) error {
		seq++
		return r.sink(ctx, resource, mode, seq, p.Body)
	})
	return err
}

// fetchDelta runs a delta round from the stored link, or from scratch; an
// expired link restarts the round from scratch.
func (r *run) fetchDelta(ctx context.Context, resource, path string, sel []string, perm string) error {
	link := ""
	if !r.opt.Full {
		st, err := r.s.Store.GetSyncState(ctx, r.t.ID, resource)
		switch {
		case errors.Is(err, warehouse.ErrNotFound):
		case err != nil:
			return err
		default:
			link = st.DeltaLink
		}
	}
	for {
		mode := "delta"
		q := graph.Query{Op: deltaOp(resource), Path: link, Permission: perm,
			Header: http.Header{"Prefer": {"odata.maxpagesize=999"}}}
		if link == "" {
			mode = "full"
			q.Path, q.Params = path, url.Values{"$select": {strings.Join(sel, ",")}}
		}
		seq := 0
		next, err := r.c.Pages(ctx, q, func(p *graph.Page) error {
			seq++
			return r.sink(ctx, resource, mode, seq, p.Body)
		})
		if errors.Is(err, graph.ErrDeltaExpired) && link != "" {
			r.log.Info("delta link expired; resyncing from scratch", "resource", resource)
			r.mu.Lock()
			r.res.Resynced = append(r.res.Resynced, resource)
			r.mu.Unlock()
			link = ""
			continue
		}
		if err != nil {
			return err
		}
		if next == "" {
			return fmt.Errorf("%s: round ended without a delta link", deltaOp(resource))
		}
		r.mu.Lock()
		r.links[resource], r.full[resource] = next, mode == "full"
		r.mu.Unlock()
		r.log.Debug("round fetched", "resource", resource, "mode", mode, "pages", seq)
		return nil
	}
}

func deltaOp(resource string) string {
	if resource == ResUsers {
		return "UsersDelta"
	}
	return "GroupsDelta"
}

func (r *run) fetchSignIns(ctx context.Context) error {
	seq := 0
	return r.c.ListUsers(ctx, graph.UserListOptions{Select: []string{"id"}, SignInActivity: true},
		func(p *graph.Page, _ []graph.User) error {
			if !p.Selected("signInActivity") {
				return nil // the tenant has no Entra ID P1: nothing to record
			}
			seq++
			return r.sink(ctx, ResSignIns, "full", seq, p.Body)
		})
}

func (r *run) fetchMailboxes(ctx context.Context) error {
	seq := 0
	return r.c.ListMailboxes(ctx, func(_ *graph.Page, mbs []graph.Mailbox) error {
		body, err := json.Marshal(struct {
			Value []graph.Mailbox `json:"value"`
		}{mbs})
		if err != nil {
			return err
		}
		seq++
		return r.sink(ctx, ResMailboxes, "full", seq, body)
	})
}

// finish ends each round: full rounds sweep what Graph no longer returns,
// then the new delta links are stored, in that order, so a crash in between
// repeats the round instead of skipping the sweep.
func (r *run) finish(ctx context.Context) error {
	now := r.s.now()
	for _, res := range []string{ResUsers, ResGroups} {
		r.mu.Lock()
		link, full := r.links[res], r.full[res]
		r.mu.Unlock()
		if full && res == ResGroups {
			if r.resolved != nil {
				<-r.resolved
			}
			// This empties the set, which for a million-user tenant held a
			// few hundred megabytes.
			if _, err := r.s.Store.ReplaceMemberships(ctx, r.t.ID, &r.proc.members); err != nil {
				return err
			}
		}
		if full {
			r.res.Full = true
			n, err := r.proc.sweep(ctx, res, now)
			if err != nil {
				return err
			}
			r.res.Deleted += n
		}
		if err := r.recordRound(ctx, res, link, full, now); err != nil {
			return err
		}
	}
	return r.finishLicenses(ctx, now)
}

// resolveMembers starts resolving a full groups round's membership set
// (warehouse.MembershipSet.Resolve) once the round is fetched and every
// page of it prepared. The groups round ends well before the users round,
// and resolving on the writer's path at the finish was a fifth of a second
// of the sync's last moments, when the writer is all that is left to run.
// It runs between drains: no page of the round is left to add to the set.
func (r *run) resolveMembers() {
	if r.resolved != nil {
		return
	}
	r.mu.Lock()
	_, fetched := r.links[ResGroups]
	full := r.full[ResGroups]
	r.mu.Unlock()
	// The round's last page was stored before its link was recorded, so
	// once the link is there the count of stored pages is final.
	if !fetched || !full || r.groupPages.prepared.Load() < r.groupPages.stored.Load() {
		return
	}
	r.resolved = make(chan struct{})
	go func() {
		defer close(r.resolved)
		r.proc.members.Resolve()
	}()
}

// recordRound stores a resource's sync state after its round: the new delta
// link, and when its last full and incremental rounds ran.
func (r *run) recordRound(ctx context.Context, resource, link string, full bool, now time.Time) error {
	st := warehouse.SyncState{TenantID: r.t.ID, Resource: resource, DeltaLink: link}
	prev, err := r.s.Store.GetSyncState(ctx, r.t.ID, resource)
	switch {
	case err == nil:
		st.LastFullAt, st.LastDeltaAt = prev.LastFullAt, prev.LastDeltaAt
	case !errors.Is(err, warehouse.ErrNotFound):
		return err
	}
	if full {
		st.LastFullAt = &now
	} else {
		st.LastDeltaAt = &now
	}
	return r.s.Store.PutSyncState(ctx, st)
}

// fetchAll starts every fetcher the options ask for.
func (r *run) fetchAll(ctx context.Context) *errgroup.Group {
	fetch, ctx := errgroup.WithContext(ctx)
	fetch.Go(func() error { return r.fetchDelta(ctx, ResUsers, "/users/delta", userDeltaSelect, "User.Read.All") })
	fetch.Go(func() error {
		return r.fetchDelta(ctx, ResGroups, "/groups/delta", graph.GroupDeltaSelect, "GroupMember.Read.All")
	})
	if r.licFull {
		fetch.Go(func() error { return r.fetchLicenses(ctx) })
	}
	fetch.Go(func() error {
		return r.fetchPages(ctx, ResSkus, "full", graph.Query{Op: "ListSubscribedSkus", Path: "/subscribedSkus",
			Permission: "Organization.Read.All"})
	})
	if r.opt.Mailboxes {
		fetch.Go(func() error { return r.fetchMailboxes(ctx) })
	}
	if r.opt.SignIns {
		fetch.Go(func() error { return r.fetchSignIns(ctx) })
	}
	return fetch
}

// DownloadStats is what Download fetched.
type DownloadStats struct {
	Pages int64
	Bytes int64
}

// Download fetches every page a full sync would, and discards them. It is
// the baseline the inventory benchmark compares a sync against: the time
// Graph (or the simulator) needs just to serve the data.
func Download(ctx context.Context, c *graph.Client, opt Options) (DownloadStats, error) {
	var st DownloadStats
	var mu sync.Mutex
	opt.Full = true
	r := &run{c: c, opt: opt, log: slog.New(slog.DiscardHandler), links: map[string]string{}, full: map[string]bool{},
		licFull: true}
	r.sink = func(_ context.Context, _, _ string, _ int, body []byte) error {
		mu.Lock()
		st.Pages++
		st.Bytes += int64(len(body))
		mu.Unlock()
		return nil
	}
	err := r.fetchAll(ctx).Wait()
	return st, err
}
