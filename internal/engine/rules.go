package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/allot-dev/allot/internal/rule"
)

// checkRule parses and compiles one pool rule so Validate reports syntax
// errors (with the rule's own line and column) before anything is stored.
func checkRule(src string) error {
	if strings.TrimSpace(src) == "" {
		return fmt.Errorf("rule is empty")
	}
	r, err := rule.Parse(src)
	if err != nil {
		return err
	}
	_, err = rule.Compile(r)
	return err
}

// ruleCache compiles each distinct rule text once and keeps its result over
// the snapshot, so pools sharing a rule (common: "accountEnabled -eq true")
// pay for it once.
type ruleCache struct {
	byText map[string]*compiledRule
}

type compiledRule struct {
	text  string
	prog  *rule.Program
	users *roaring.Bitmap // result over the snapshot, filled lazily
}

func newRuleCache() *ruleCache { return &ruleCache{byText: map[string]*compiledRule{}} }

func (c *ruleCache) compile(src string) (*compiledRule, error) {
	key := strings.TrimSpace(src)
	if r, ok := c.byText[key]; ok {
		return r, nil
	}
	parsed, err := rule.Parse(key)
	if err != nil {
		return nil, err
	}
	prog, err := rule.Compile(parsed)
	if err != nil {
		return nil, err
	}
	r := &compiledRule{text: key, prog: prog}
	c.byText[key] = r
	return r, nil
}

// eval returns the rule's users over the snapshot, evaluating on first use.
func (r *compiledRule) eval(s *Snapshot) *roaring.Bitmap {
	if r.users == nil {
		r.users = r.prog.Eval(s)
	}
	return r.users
}

// sortedKeys returns a map's keys in order, for deterministic iteration.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
