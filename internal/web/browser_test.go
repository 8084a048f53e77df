package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/engine"
	"github.com/allot-dev/allot/internal/planning"
	"github.com/allot-dev/allot/internal/warehouse"
)

// browser drives Debian's chromium headless against the test server and
// writes a screenshot of every page it looks at to $ALLOT_SCREENSHOTS (or
// the test's temporary directory).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	n    int
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (apt-get install -y chromium)")
		}
		t.Skip("SKIPPING browser test: chromium is not installed (apt-get install -y chromium)")
	}
	dir := os.Getenv("ALLOT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1366, 900), chromedp.UserDataDir(t.TempDir()))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser on the long-lived context: the first run owns it,
	// and the per-step deadlines below must not end it.
	require.NoError(t, chromedp.Do(ctx))
	return &browser{t: t, ctx: ctx, base: base, dir: dir}
}

// do runs steps with a deadline, failing the test with the step's error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

func (b *browser) text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(b.t, err, css)
	return strings.TrimSpace(s)
}

// attr reads an attribute of the first element matching css.
func (b *browser) attr(css, name string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? "(missing)"`, css, name))
}

// eval evaluates a JavaScript expression for its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, js)
	return v
}

// waitFor polls a JavaScript predicate until it holds.
func (b *browser) waitFor(js string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(timeout)))
	require.NoError(b.t, err, "waiting for %s", js)
}

// waitNav waits for a predicate across a navigation (a form submission):
// polling inside the page would die with the old document, so it asks
// again and again from outside.
func (b *browser) waitNav(js string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("never true after navigating: %s (last error %v)", js, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

func (b *browser) path() string {
	loc := eval[string](b, "location.pathname + location.search")
	return loc
}

func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	// A screenshot taken while the page swaps documents can find a layout
	// of zero width (CDP error -32000); the page settles within moments.
	var png []byte
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main"))); err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err == nil || !strings.Contains(err.Error(), "0 width") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(b.t, err)
	b.n++
	require.NoError(b.t, os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644))
}

// type into a field, replacing what is there, so htmx sees real input events.
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, css)),
		chromedp.SendKeys(chromedp.CSS(css), text))
}

// The whole console journey in a real browser: sign in with the one-time
// password, check the dashboard against the simulator, page through and
// search the users, create a pool with a rule while watching the
// validation and the preview, apply the plan and see the changes land; then
// narrow the pool's rule in the editor, see the preview name who would lose
// the license, save, apply, approve a removal in the inbox, see it done in
// the simulated tenant, and find it and the edit in the audit log.
func TestConsoleInBrowser(t *testing.T) {
	e := setup(t, 300, true)
	b := newBrowser(t, e.url)

	// Sign in with the one-time password; allot insists on a new one.
	b.open("/")
	require.Contains(t, b.path(), "/login")
	b.shot("login")
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), e.adminPW),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)), chromedp.WaitVisible(chromedp.CSS(`input[name=new]`)))
	require.Equal(t, "/account/password", b.path())
	b.shot("change-password")
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name=current]`), e.adminPW),
		chromedp.SendKeys(chromedp.CSS(`input[name=new]`), "a much better password"),
		chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), "a much better password"),
		chromedp.Submit(chromedp.CSS(`input[name=confirm]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=sku-table]`)))
	require.Equal(t, "/t/contoso/", b.path(), "one tenant: straight to its dashboard")
	b.shot("dashboard")

	// The dashboard shows what the simulated tenant reports.
	require.Equal(t, strconv.Itoa(len(e.sim.Users())), b.attr(`[data-testid=users]`, "data-value"))
	for _, k := range e.sim.Skus() {
		row := fmt.Sprintf(`tr[data-sku=%q]`, k.SkuPartNumber)
		require.Equal(t, strconv.Itoa(k.PrepaidEnabled), b.attr(row+" .purchased", "data-value"), k.SkuPartNumber)
		require.Equal(t, strconv.Itoa(k.ConsumedUnits), b.attr(row+" .assigned", "data-value"), k.SkuPartNumber)
		require.Equal(t, strconv.Itoa(max(0, k.PrepaidEnabled-k.ConsumedUnits)), b.attr(row+" .available", "data-value"), k.SkuPartNumber)
	}

	// Users, a page at a time, searchable by the start of a name, and why
	// they hold their licenses.
	b.open("/t/contoso/users")
	require.Equal(t, 50, eval[int](b, `document.querySelectorAll('[data-testid=users-table] tbody tr').length`))
	b.shot("users")
	b.do(chromedp.Click(chromedp.CSS(`a[rel=next]`)))
	b.waitNav(`location.search.includes('after=') && !!document.querySelector('a[rel=prev]')`)
	b.shot("users-page-2")
	someone := e.sim.Users()[42]
	b.open("/t/contoso/users?q=" + url.QueryEscape(strings.ToUpper(someone.DisplayName[:4])))
	require.Contains(t, b.text(`[data-testid=users-table]`), someone.UserPrincipalName, "found by the start of the name, any case")
	b.shot("users-search")
	var withGroupLicense string
	for _, l := range e.sim.AllLicenseStates() {
		if l.AssignedByGroup != "" {
			withGroupLicense = l.UserID
			break
		}
	}
	b.open("/t/contoso/users/" + withGroupLicense)
	require.Contains(t, b.text(`[data-testid=user-licenses]`), "via group LIC - ")
	b.shot("user")
	b.open("/t/contoso/groups")
	b.shot("groups")
	b.do(chromedp.Click(chromedp.CSS(`[data-testid=groups-table] tbody tr a`)))
	b.waitNav(`!!document.querySelector('[data-testid=members-table]')`)
	b.shot("group")

	// A new pool: the rule is checked as it is typed, the preview follows.
	b.open("/t/contoso/pools")
	b.shot("pools-empty")
	b.open("/t/contoso/pools/new")
	b.typeInto(`input[name=name]`, "Teams for Sales")
	b.typeInto(`input[name=target_group]`, "LIC - Teams Exploratory")
	b.typeInto(`textarea[name=assign_rule]`, `user.department -eq Sales`)
	b.waitFor(`!!document.querySelector('[data-testid=rule-error]')`, 20*time.Second)
	require.Contains(t, b.text(`[data-testid=rule-error]`), "line 1, column 21")
	b.shot("pool-rule-error")
	b.typeInto(`textarea[name=assign_rule]`, `user.department -eq "Sales"`)
	b.waitFor(`!!document.querySelector('[data-testid=rule-ok]')`, 20*time.Second)

	pool := engine.Pool{Name: "Teams for Sales", Target: engine.Target{Group: "LIC - Teams Exploratory"},
		Assignments: engine.Selector{Rules: []string{`user.department -eq "Sales"`}}}
	want := evaluate(t, e, pool)
	require.NotEmpty(t, want.Adds)
	b.waitFor(fmt.Sprintf(`document.querySelector('[data-testid=preview-adds]')?.textContent === '%d'`, len(want.Adds)), 30*time.Second)
	b.do(chromedp.Click(chromedp.CSS(`input[name=removal_approval]`)))
	b.shot("pool-preview")
	b.do(chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	b.waitNav(`location.search === '?saved=1'`)
	require.Equal(t, "/t/contoso/pools/Teams%20for%20Sales?saved=1", b.path())

	// The plan shows the adds; applying sends them through the pipeline to
	// the simulator.
	b.open("/t/contoso/plan")
	require.Equal(t, strconv.Itoa(len(want.Adds)), b.text(`[data-testid=plan-adds]`))
	b.shot("plan")
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`form.apply button.primary`)))
	b.waitNav(`location.pathname === '/t/contoso/requests'`)
	waitChanges(t, b, len(want.Adds), "done")
	b.shot("changes-done")
	for _, c := range want.Adds {
		require.True(t, e.sim.IsMember(c.GroupID, c.UserID), "%s was added in the simulated tenant", c.UPN)
	}

	// Narrow the pool in the editor: its rule now keeps only the account
	// executives of sales. The preview names exactly who would lose the
	// group, and saving and applying sends those removals to the approvals
	// inbox.
	narrowed := pool
	narrowed.Assignments.Rules = []string{`user.department -eq "Sales" -and user.jobTitle -eq "Account Executive"`}
	narrowed.RemovalApproval = true
	want = evaluate(t, e, narrowed)
	require.GreaterOrEqual(t, len(want.Removals), 2, "the pool granted the group to sales people of other titles")
	require.Empty(t, want.Adds)
	require.LessOrEqual(t, len(want.Removals), 25, "few enough for the preview to list them all")
	var wantUPNs []string
	for _, c := range want.Removals {
		wantUPNs = append(wantUPNs, c.UPN)
	}
	b.open("/t/contoso/pools/Teams%20for%20Sales")
	require.Equal(t, pool.Assignments.Rules[0], eval[string](b, `document.querySelector('textarea[name=assign_rule]').value`),
		"the editor shows the stored rule")
	b.waitFor(`document.querySelector('[data-testid=preview-removals]')?.textContent === '0'`, 30*time.Second)
	b.typeInto(`textarea[name=assign_rule]`, narrowed.Assignments.Rules[0])
	b.waitFor(`document.querySelector('[data-testid=rule-ok]')?.textContent.includes('Account Executive')`, 20*time.Second)
	b.waitFor(fmt.Sprintf(`document.querySelector('[data-testid=preview-removals]')?.textContent === '%d'`, len(want.Removals)), 30*time.Second)
	listed := eval[[]string](b, `[...document.querySelectorAll('[data-testid=preview-removal-list] li[data-user]')].map(li => li.firstChild.textContent.trim())`)
	require.ElementsMatch(t, wantUPNs, listed, "the preview names who would lose the license")
	require.Equal(t, len(want.Removals), eval[int](b, `[...document.querySelectorAll('[data-testid=preview-removal-list] li[data-user]')].filter(li => li.textContent.includes('needs approval')).length`),
		"and says each removal needs approval")
	b.shot("pool-edit-removals")
	b.do(chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	b.waitNav(`location.search === '?saved=1'`)
	stored, err := e.store.GetPool(context.Background(), e.tenant.ID, "Teams for Sales")
	require.NoError(t, err)
	require.Contains(t, string(stored.Spec), "Account Executive", "the edited rule was saved")

	b.open("/t/contoso/plan")
	require.Equal(t, strconv.Itoa(len(want.Removals)), b.text(`[data-testid=plan-removals]`))
	b.shot("plan-removals")
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`form.apply button.primary`)))
	b.waitNav(`location.pathname !== '/t/contoso/plan'`)
	b.open("/t/contoso/approvals")
	for i := 0; i < 150 && eval[int](b, `document.querySelectorAll('input[name=change]').length`) == 0; i++ {
		time.Sleep(200 * time.Millisecond) // the pipeline routes removals to approvers on its next tick
		b.open("/t/contoso/approvals")
	}
	n := eval[int](b, `document.querySelectorAll('input[name=change]').length`)
	require.Equal(t, len(want.Removals), n, "every removal waits for approval")
	inbox := eval[[]string](b, `[...document.querySelectorAll('[data-testid=approvals-table] tbody tr td:nth-child(2)')].map(td => td.textContent.trim())`)
	require.ElementsMatch(t, wantUPNs, inbox, "the inbox names the people the preview named")
	b.shot("approvals")
	chosen := eval[string](b, `document.querySelector('input[name=change]').value`)
	b.do(chromedp.Click(chromedp.CSS(`input[name=change]`)), chromedp.Click(chromedp.CSS(`button[value=approve]`)))
	b.waitNav(`location.pathname === '/t/contoso/requests'`)
	waitChange(t, b, chosen, "done")
	b.shot("removal-done")
	c, err := e.store.ListChanges(context.Background(), warehouse.ChangeFilter{TenantID: e.tenant.ID, Status: warehouse.ChangeDone, Limit: 10000})
	require.NoError(t, err)
	var removed warehouse.Change
	for _, x := range c {
		if x.ID == chosen {
			removed = x
		}
	}
	require.Equal(t, "remove", removed.Op)
	require.False(t, e.sim.IsMember(removed.GroupID, removed.UserID), "the approved removal landed in the simulated tenant")
	pending, err := e.store.ListChanges(context.Background(), warehouse.ChangeFilter{TenantID: e.tenant.ID, Status: warehouse.ChangePendingApproval, Limit: 10000})
	require.NoError(t, err)
	require.Len(t, pending, n-1, "the removals not chosen still wait")

	// The audit log names who approved what.
	b.open("/t/contoso/audit?action=removal.approved")
	require.Contains(t, b.text(`[data-testid=audit-table]`), "admin")
	u, err := e.sim.User(removed.UserID)
	require.NoError(t, err)
	require.Contains(t, b.text(`[data-testid=audit-table]`), u.UserPrincipalName)
	b.shot("audit")
	b.open("/t/contoso/audit?action=pool.update")
	require.Contains(t, b.text(`[data-testid=audit-table]`), "Teams for Sales", "the edit of the pool is in the audit log")
	b.shot("audit-pool-edit")
}

// evaluate computes what the engine plans for one pool (added, or in place
// of the stored pool of that name), independently of the server.
func evaluate(t *testing.T, e *env, pool engine.Pool) *engine.PoolPlan {
	t.Helper()
	ctx := context.Background()
	snap, _, err := planning.LoadSnapshot(ctx, e.store, e.tenant.ID, time.Now())
	require.NoError(t, err)
	policy, err := planning.LoadPolicy(ctx, e.store, e.tenant.ID)
	require.NoError(t, err)
	policy.Pools = slices.DeleteFunc(policy.Pools, func(p engine.Pool) bool { return p.Name == pool.Name })
	policy.Pools = append(policy.Pools, pool)
	plan, err := engine.Evaluate(snap, policy)
	require.NoError(t, err)
	return plan.Pool(pool.Name)
}

// waitChanges reloads the requests page until n changes show status.
func waitChanges(t *testing.T, b *browser, n int, status string) {
	t.Helper()
	waitPage(t, b, fmt.Sprintf(`document.querySelectorAll('tr[data-status=%q]').length === %d`, status, n))
}

// waitChange reloads the requests page until one change shows status.
func waitChange(t *testing.T, b *browser, id, status string) {
	t.Helper()
	waitPage(t, b, fmt.Sprintf(`document.querySelector('tr[data-change=%q]')?.dataset.status === %q`, id, status))
}

// waitPage reloads the requests page until a predicate holds: the queue
// moves in the background, and the page shows it as of its loading.
func waitPage(t *testing.T, b *browser, predicate string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b.open("/t/contoso/requests")
		if eval[bool](b, predicate) {
			return
		}
		if time.Now().After(deadline) {
			b.shot("requests-timeout")
			t.Fatalf("requests page never showed %s:\n%s", predicate, b.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
	}
}
