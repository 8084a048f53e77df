package workflow

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/rule"
	"github.com/allot-dev/allot/internal/warehouse"
)

// facts reads (and caches, for one batch) what conditions, policies and
// notifications need to know about users and groups.
type facts struct {
	r        warehouse.Reader
	tenantID string
	now      time.Time
	users    map[string]*directory.User
	groups   map[string]*directory.Group
	memberOf map[string][]string
	rules    map[string]*rule.Program
}

func newFacts(r warehouse.Reader, tenantID string, now time.Time) *facts {
	return &facts{r: r, tenantID: tenantID, now: now, users: map[string]*directory.User{},
		groups: map[string]*directory.Group{}, memberOf: map[string][]string{}, rules: map[string]*rule.Program{}}
}

// prefetch loads the users and groups of a batch in a few queries instead
// of one per request.
func (f *facts) prefetch(ctx context.Context, userIDs, groupIDs []string) error {
	users, err := f.r.GetUsers(ctx, f.tenantID, userIDs)
	if err != nil {
		return err
	}
	for i := range users {
		f.users[users[i].ID] = &users[i]
	}
	for _, id := range userIDs {
		if f.users[id] == nil {
			f.users[id] = nil // known absent
		}
	}
	groups, err := f.r.GetGroups(ctx, f.tenantID, groupIDs)
	if err != nil {
		return err
	}
	for i := range groups {
		f.groups[groups[i].ID] = &groups[i]
	}
	for _, id := range groupIDs {
		if f.groups[id] == nil {
			f.groups[id] = nil
		}
	}
	return nil
}

// user returns the user, or nil when the warehouse does not know it.
func (f *facts) user(ctx context.Context, id string) (*directory.User, error) {
	if u, ok := f.users[id]; ok || id == "" {
		return u, nil
	}
	u, err := f.r.GetUser(ctx, f.tenantID, id)
	if errors.Is(err, warehouse.ErrNotFound) {
		f.users[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.users[id] = &u
	return &u, nil
}

func (f *facts) group(ctx context.Context, id string) (*directory.Group, error) {
	if g, ok := f.groups[id]; ok || id == "" {
		return g, nil
	}
	g, err := f.r.GetGroup(ctx, f.tenantID, id)
	if errors.Is(err, warehouse.ErrNotFound) {
		f.groups[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.groups[id] = &g
	return &g, nil
}

func (f *facts) program(src string) (*rule.Program, error) {
	if p, ok := f.rules[src]; ok {
		return p, nil
	}
	p, err := compileRule(src)
	if err != nil {
		return nil, err
	}
	f.rules[src] = p
	return p, nil
}

// matches evaluates an Entra rule against one user. A user the warehouse
// does not know matches nothing.
func (f *facts) matches(ctx context.Context, src, userID string) (bool, error) {
	p, err := f.program(src)
	if err != nil {
		return false, err
	}
	u, err := f.user(ctx, userID)
	if err != nil || u == nil {
		return false, err
	}
	ix := &oneUser{u: u, now: f.now}
	if slices.Contains(p.Properties(), "memberOf") {
		gs, ok := f.memberOf[userID]
		if !ok {
			if gs, err = f.r.UserGroupIDs(ctx, f.tenantID, userID); err != nil {
				return false, err
			}
			f.memberOf[userID] = gs
		}
		ix.groups = gs
	}
	return p.Match(ix, 0), nil
}

// oneUser is a rule.Index holding a single user, so a compiled rule can
// answer for the user a request concerns.
type oneUser struct {
	u      *directory.User
	groups []string
	now    time.Time
}

func (o *oneUser) Universe() *roaring.Bitmap { return roaring.BitmapOf(0) }

func (o *oneUser) User(i uint32) *directory.User {
	if i == 0 {
		return o.u
	}
	return nil
}

func (o *oneUser) Equal(string, string) (*roaring.Bitmap, bool) { return nil, false }

func (o *oneUser) Members(groupID string) *roaring.Bitmap {
	if slices.Contains(o.groups, groupID) {
		return roaring.BitmapOf(0)
	}
	return roaring.New()
}

func (o *oneUser) Now() time.Time { return o.now }
