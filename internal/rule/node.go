package rule

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/directory"
)

// node is one step of a compiled rule. eval narrows cand to the users that
// satisfy the node; it never modifies cand or any bitmap the Index owns, and
// may return cand itself. match answers the same question for one user.
type node interface {
	eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap
	match(e *env, i uint32, u *directory.User) bool
	// cost estimates the work per candidate, so conjunctions run their
	// cheap, index-answerable terms first and scan only what survives them.
	cost() int
}

const (
	costIndex = 1
	costScan  = 10
	costRegex = 50
	costEach  = 30 // per-element tests over collections
)

type andNode struct{ kids []node }

func (n *andNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	for _, k := range n.kids {
		if cand.IsEmpty() {
			break
		}
		cand = k.eval(e, cand)
	}
	return cand
}

func (n *andNode) match(e *env, i uint32, u *directory.User) bool {
	for _, k := range n.kids {
		if !k.match(e, i, u) {
			return false
		}
	}
	return true
}

func (n *andNode) cost() int { return sumCost(n.kids) }

// orNode asks each term only about the candidates no earlier term selected,
// so a scanning term after a selective index term visits few users.
type orNode struct{ kids []node }

func (n *orNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	acc := roaring.New()
	rest := cand
	for i, k := range n.kids {
		s := k.eval(e, rest)
		acc.Or(s)
		if i == len(n.kids)-1 {
			break
		}
		rest = roaring.AndNot(rest, s)
		if rest.IsEmpty() {
			break
		}
	}
	return acc
}

func (n *orNode) match(e *env, i uint32, u *directory.User) bool {
	for _, k := range n.kids {
		if k.match(e, i, u) {
			return true
		}
	}
	return false
}

func (n *orNode) cost() int { return sumCost(n.kids) }

func sumCost(kids []node) int {
	c := 0
	for _, k := range kids {
		c += k.cost()
	}
	return c
}

type notNode struct{ x node }

func (n *notNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	return roaring.AndNot(cand, n.x.eval(e, cand))
}

func (n *notNode) match(e *env, i uint32, u *directory.User) bool { return !n.x.match(e, i, u) }
func (n *notNode) cost() int                                      { return n.x.cost() }

// constNode is a term known without looking at users, such as
// "user.objectId -ne null" (every user has an object ID).
type constNode struct{ all bool }

func (n constNode) eval(_ *env, cand *roaring.Bitmap) *roaring.Bitmap {
	if n.all {
		return cand
	}
	return roaring.New()
}

func (n constNode) match(*env, uint32, *directory.User) bool { return n.all }
func (n constNode) cost() int                                { return 0 }

// test is a per-user predicate.
type test func(e *env, u *directory.User) bool

// scanNode visits each candidate.
type scanNode struct {
	test test
	c    int
}

func (n *scanNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	return scan(e, cand, n.test)
}

func (n *scanNode) match(e *env, _ uint32, u *directory.User) bool { return n.test(e, u) }
func (n *scanNode) cost() int                                      { return n.c }

func scan(e *env, cand *roaring.Bitmap, t test) *roaring.Bitmap {
	out := roaring.New()
	buf := make([]uint32, 1024)
	hits := make([]uint32, 0, len(buf))
	it := cand.ManyIterator()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		for _, i := range buf[:n] {
			if u := e.ix.User(i); u != nil && t(e, u) {
				hits = append(hits, i)
			}
		}
		out.AddMany(hits)
		hits = hits[:0]
	}
	return out
}

// indexNode is "property equals one of values", answered by Index.Equal
// when the snapshot indexes the property and by scanning otherwise.
type indexNode struct {
	property string
	values   []string
	test     test
}

func (n *indexNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	sets := make([]*roaring.Bitmap, 0, len(n.values))
	for _, v := range n.values {
		b, ok := e.ix.Equal(n.property, v)
		if !ok {
			return scan(e, cand, n.test)
		}
		if b != nil {
			sets = append(sets, b)
		}
	}
	switch len(sets) {
	case 0:
		return roaring.New()
	case 1:
		return roaring.And(sets[0], cand)
	}
	return roaring.And(roaring.FastOr(sets...), cand)
}

func (n *indexNode) match(e *env, _ uint32, u *directory.User) bool { return n.test(e, u) }
func (n *indexNode) cost() int                                      { return costIndex * len(n.values) }

// memberOfNode is "user.memberOf -any (group.objectId -in [...])": the union
// of the groups' direct user members.
type memberOfNode struct{ groups []string }

func (n *memberOfNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	sets := make([]*roaring.Bitmap, 0, len(n.groups))
	for _, g := range n.groups {
		if b := e.ix.Members(g); b != nil {
			sets = append(sets, b)
		}
	}
	if len(sets) == 0 {
		return roaring.New()
	}
	return roaring.And(roaring.FastOr(sets...), cand)
}

func (n *memberOfNode) match(e *env, i uint32, _ *directory.User) bool {
	for _, g := range n.groups {
		if b := e.ix.Members(g); b != nil && b.Contains(i) {
			return true
		}
	}
	return false
}

func (n *memberOfNode) cost() int { return costIndex * len(n.groups) }

// valuesNode is a string test other than equality (-startsWith, -contains,
// -match, …) on a scalar property. When the Index can list the property's
// distinct values, the test runs once per value instead of once per user,
// and the answer is the union of the matching values' Equal sets: a
// department or job title has hundreds of values, a tenant a million users.
type valuesNode struct {
	property string
	pred     func(string) bool
	scan     scanNode
}

func (n *valuesNode) eval(e *env, cand *roaring.Bitmap) *roaring.Bitmap {
	if vl, ok := e.ix.(ValueLister); ok {
		if keys, ok := vl.Values(n.property); ok && (len(keys) <= 64 || uint64(len(keys))*8 <= cand.GetCardinality()) {
			var sets []*roaring.Bitmap
			for _, k := range keys {
				if k == "" || !n.pred(k) {
					continue
				}
				b, ok := e.ix.Equal(n.property, k)
				if !ok {
					return n.scan.eval(e, cand)
				}
				if b != nil {
					sets = append(sets, b)
				}
			}
			return roaring.And(roaring.FastOr(sets...), cand)
		}
	}
	return n.scan.eval(e, cand)
}

func (n *valuesNode) match(e *env, i uint32, u *directory.User) bool { return n.scan.match(e, i, u) }
func (n *valuesNode) cost() int                                      { return n.scan.cost() }
