package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// RenderOptions tunes the text rendering of a plan.
type RenderOptions struct {
	// MaxRows caps the rows listed per pool (0 = all); counts stay exact.
	MaxRows int
}

// WriteJSON writes the plan as one indented JSON document. Field order and
// slice order are fixed, so equal plans give byte-identical output.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// WriteText writes the plan for people: a summary line, one table per pool
// and a seat and cost table with totals.
func (p *Plan) WriteText(w io.Writer, opt RenderOptions) error {
	bw := &errWriter{w: w}
	t := p.Totals
	bw.printf("Plan: %d pools · %d adds · %d removals · %d updates · %d blocked · %d unchanged · monthly cost %s\n",
		len(p.Pools), t.Adds, t.Removals, t.Updates, t.Blocked, t.Unchanged, p.money(p.MonthlyDelta, true))
	parts := map[string]string{}
	for _, s := range p.Skus {
		parts[s.SkuID] = s.PartNumber
	}
	for i := range p.Pools {
		p.writePool(bw, &p.Pools[i], parts, opt)
	}
	bw.printf("\nSeats and cost (monthly%s)\n", p.currencySuffix())
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SKU\tAVAILABLE\tCONSUMED\tFREED\tUNIT PRICE\tDELTA")
	var consumed, freed int
	for _, s := range p.Skus {
		name := s.PartNumber
		if name == "" {
			name = s.SkuID
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\t%s\n", name, s.Available, s.Consumed, s.Freed, s.UnitPrice, signed(s.Delta))
		consumed += s.Consumed
		freed += s.Freed
	}
	fmt.Fprintf(tw, "  TOTAL\t\t%d\t%d\t\t%s\n", consumed, freed, signed(p.MonthlyDelta))
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.err
}

func (p *Plan) writePool(bw *errWriter, pp *PoolPlan, parts map[string]string, opt RenderOptions) {
	var flags []string
	flags = append(flags, "target "+pp.Target, fmt.Sprintf("priority %d", pp.Priority))
	if pp.RemovalApproval {
		flags = append(flags, "removals need approval")
	}
	bw.printf("\nPool %s (%s)\n", pp.Pool, strings.Join(flags, ", "))
	if pp.Error != "" {
		bw.printf("  ERROR: %s — nothing proposed for this pool\n", pp.Error)
		return
	}
	for _, w := range pp.Warnings {
		bw.printf("  warning: %s\n", w)
	}
	bw.printf("  resultant %d · unchanged %d · adds %d · removals %d · updates %d · blocked %d · transfers %d · other holders %d\n",
		pp.Resultant, pp.Unchanged, len(pp.Adds), len(pp.Removals), len(pp.Updates), len(pp.Blocked), len(pp.Transfers), len(pp.Others))
	rows := 0
	total := len(pp.Adds) + len(pp.Removals) + len(pp.Updates) + len(pp.Blocked) + len(pp.Transfers) + len(pp.Others)
	if total == 0 {
		return
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACTION\tUSER\tDETAIL")
	row := func(action, user, detail string) {
		if opt.MaxRows > 0 && rows >= opt.MaxRows {
			return
		}
		rows++
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", action, user, detail)
	}
	for _, c := range pp.Adds {
		row("add", c.who(), c.what(parts, p.planNames))
	}
	for _, c := range pp.Updates {
		row("update", c.who(), c.what(parts, p.planNames))
	}
	for _, c := range pp.Removals {
		action := "remove"
		if c.NeedsApproval {
			action = "remove*"
		}
		detail := c.what(parts, p.planNames)
		if c.Detail != "" {
			detail += ": " + c.Detail
		}
		row(action, c.who(), detail)
	}
	for _, c := range pp.Transfers {
		row("transfer", c.who(), c.what(parts, p.planNames)+": "+c.Detail)
	}
	for _, c := range pp.Blocked {
		row("blocked", c.who(), string(c.Reason)+": "+c.Detail)
	}
	for _, h := range pp.Others {
		who := h.UPN
		if who == "" {
			who = h.UserID
		}
		row("other", who, "holds it without this pool; reported, not removed")
	}
	_ = tw.Flush()
	if rows < total {
		bw.printf("  … %d more rows (use --json for all)\n", total-rows)
	}
	if len(pp.Removals) > 0 && pp.RemovalApproval {
		bw.printf("  * needs approval before it is applied\n")
	}
}

func (c *Change) who() string {
	if c.UPN != "" {
		return c.UPN
	}
	return c.UserID
}

func (c *Change) what(parts, planNames map[string]string) string {
	if c.GroupID != "" {
		return "group " + c.GroupID
	}
	names := make([]string, len(c.Licenses))
	for i, l := range c.Licenses {
		n := parts[l.SkuID]
		if n == "" {
			n = l.SkuID
		}
		if len(l.DisabledPlans) > 0 && c.Op != OpRemove {
			off := make([]string, len(l.DisabledPlans))
			for k, id := range l.DisabledPlans {
				if off[k] = planNames[id]; off[k] == "" {
					off[k] = id
				}
			}
			n += " (disabled: " + strings.Join(off, ", ") + ")"
		}
		names[i] = n
	}
	return strings.Join(names, ", ")
}

func (p *Plan) money(v Price, sign bool) string {
	s := v.String()
	if sign {
		s = signed(v)
	}
	if p.Currency != "" {
		return s + " " + p.Currency
	}
	return s
}

func (p *Plan) currencySuffix() string {
	if p.Currency == "" {
		return ""
	}
	return ", " + p.Currency
}

func signed(v Price) string {
	if v > 0 {
		return "+" + v.String()
	}
	return v.String()
}

// errWriter remembers the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
