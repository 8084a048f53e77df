package graphsim

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
)

// skusCSV is the subset of Microsoft's "Product names and service plan
// identifiers for licensing" CSV (shared/data/licensing-service-plans.csv)
// that the simulated tenant subscribes to. It is embedded so `allot sim`
// works from any directory with the real GUIDs.
//
//go:embed data/skus.csv
var skusCSV []byte

// product is one SKU of the catalogue with its service plans.
type product struct {
	skuID       string
	partNumber  string
	displayName string
	plans       []plan
	// exclusive lists the plans that take part in a mutual exclusion.
	exclusive []string
}

type plan struct {
	id, name, friendly string
}

// hasPlan reports whether the product contains the service plan id.
func (p *product) hasPlan(id string) bool {
	for _, pl := range p.plans {
		if strings.EqualFold(pl.id, id) {
			return true
		}
	}
	return false
}

func loadCatalogue() ([]*product, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(skusCSV, []byte("\xef\xbb\xbf"))))
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("sku catalogue header: %w", err)
	}
	byPart := map[string]*product{}
	var order []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sku catalogue: %w", err)
		}
		if len(rec) < 6 {
			continue
		}
		p := byPart[rec[1]]
		if p == nil {
			p = &product{skuID: strings.ToLower(rec[2]), partNumber: rec[1], displayName: rec[0]}
			byPart[rec[1]] = p
			order = append(order, rec[1])
		}
		if !p.hasPlan(rec[4]) {
			p.plans = append(p.plans, plan{id: strings.ToLower(rec[4]), name: rec[3], friendly: rec[5]})
		}
	}
	sort.Strings(order)
	out := make([]*product, 0, len(order))
	for _, n := range order {
		p := byPart[n]
		for _, pl := range p.plans {
			for _, pair := range mutuallyExclusivePlans {
				if pl.id == pair[0] || pl.id == pair[1] {
					p.exclusive = append(p.exclusive, pl.id)
					break
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Service plans that cannot be held together (Exchange Online Plan 1 and
// Plan 2 are the classic case: Microsoft 365 E3 plus Teams Exploratory or
// Exchange Online Plan 1 yields MutuallyExclusiveViolation).
var mutuallyExclusivePlans = [][2]string{
	{"9aaf7827-d63c-4b61-89c3-182f06f82e5c", "efb87545-963c-4e0d-99df-69c6916d9eb0"}, // EXCHANGE_S_STANDARD vs EXCHANGE_S_ENTERPRISE
	{"9aaf7827-d63c-4b61-89c3-182f06f82e5c", "4a82b400-a79f-41a4-b4e2-e94f5787b113"}, // EXCHANGE_S_STANDARD vs EXCHANGE_S_DESKLESS
	{"efb87545-963c-4e0d-99df-69c6916d9eb0", "4a82b400-a79f-41a4-b4e2-e94f5787b113"}, // EXCHANGE_S_ENTERPRISE vs EXCHANGE_S_DESKLESS
}

// Service plans that need another plan enabled ("License assignment failed
// because service plan X depends on the service plan(s) Y"). Keyed by the
// dependent plan; any one of the listed plans satisfies it.
var planDependencies = map[string][]string{
	"33c4f319-9bdd-48d6-9c4d-410b750a4a5a": {"efb87545-963c-4e0d-99df-69c6916d9eb0", "9aaf7827-d63c-4b61-89c3-182f06f82e5c"}, // MYANALYTICS_P2 needs Exchange Online (Plan 2 or 1)
	"e95bec33-7c88-4a70-8e19-b10bd9d0c014": {"5dbe027f-2339-4123-9542-606e4d348a72", "c7699d2e-19aa-44de-8edf-1736da088ca1"}, // SHAREPOINTWAC needs SharePoint (P2 or P1)
}

// exchangePlans give a user an Exchange Online mailbox.
var exchangePlans = map[string]bool{
	"9aaf7827-d63c-4b61-89c3-182f06f82e5c": true, // EXCHANGE_S_STANDARD
	"efb87545-963c-4e0d-99df-69c6916d9eb0": true, // EXCHANGE_S_ENTERPRISE
	"4a82b400-a79f-41a4-b4e2-e94f5787b113": true, // EXCHANGE_S_DESKLESS
}
