package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Assets change only with the binary; a day of caching is safe and
		// keeps page loads instant on a laptop.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// page is the data every console template receives.
type page struct {
	Title string
	// Nav names the active section for the navigation bar.
	Nav     string
	Me      *access.Principal
	CSRF    string
	Tenants []directory.Tenant
	Tenant  *directory.Tenant
	Flash   string
	Data    any
}

// Can reports whether the signed-in principal may do an action somewhere in
// the current tenant; templates use it to show only usable controls (the
// routes check again).
func (p *page) Can(action string) bool {
	if p.Me == nil {
		return false
	}
	tid := ""
	if p.Tenant != nil {
		tid = p.Tenant.ID
	}
	return access.Anywhere(p.Me, access.Action(action), tid)
}

// T builds a path inside the current tenant.
func (p *page) T(path string) string {
	if p.Tenant == nil {
		return path
	}
	return "/t/" + p.Tenant.Name + path
}

type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"money": func(cents int64, currency string) string {
		s := formatCents(cents)
		if currency != "" {
			return s + " " + currency
		}
		return s
	},
	"pct": func(part, whole int) int {
		if whole <= 0 {
			return 0
		}
		return min(100, part*100/whole)
	},
	"when": func(t any) string {
		var tt time.Time
		switch v := t.(type) {
		case time.Time:
			tt = v
		case *time.Time:
			if v == nil {
				return "never"
			}
			tt = *v
		}
		if tt.IsZero() {
			return "never"
		}
		return tt.UTC().Format("2006-01-02 15:04 UTC")
	},
	"ago": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "never"
		}
		return agoText(time.Since(*t))
	},
	"num": func(n any) string {
		switch v := n.(type) {
		case int:
			return groupThousands(int64(v))
		case int64:
			return groupThousands(v)
		}
		return fmt.Sprint(n)
	},
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
	"lower": strings.ToLower,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
}

func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%s.%02d", sign, groupThousands(c/100), c%100)
}

// groupThousands writes 1234567 as 1,234,567: seat counts and costs are
// read at a glance.
func groupThousands(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	digits := fmt.Sprint(n)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

func agoText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// loadPages parses each page together with the layout and the shared
// partials, so every page can define its own "content" block.
func loadPages() (*pages, error) {
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ps := &pages{byName: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		files := []string{"templates/layout.html", e}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files = append(files, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		ps.byName[name] = t
	}
	return ps, nil
}

// render executes a whole page (layout + content) into a buffer first, so a
// template error becomes a clean 500 rather than half a page.
func (ps *pages) render(w http.ResponseWriter, status int, name string, p *page) {
	ps.exec(w, status, name, "layout.html", p)
}

// fragment renders one named template of a page (an htmx partial).
func (ps *pages) fragment(w http.ResponseWriter, name, block string, p *page) {
	ps.exec(w, http.StatusOK, name, block, p)
}

func (ps *pages) exec(w http.ResponseWriter, status int, name, block string, p *page) {
	t, ok := ps.byName[name]
	var buf bytes.Buffer
	if !ok {
		http.Error(w, "no such page: "+name, http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// newPage fills what every page shows: who is signed in, the tenants they
// can see and the current tenant.
func (s *Server) newPage(r *request, title string, data any) *page {
	p := &page{Title: title, Me: r.me, CSRF: r.csrf, Data: data}
	if r.tenant.ID != "" {
		t := r.tenant
		p.Tenant = &t
	}
	if r.me != nil {
		ts, err := s.cfg.Store.ListTenants(r.Context())
		if err == nil {
			for _, t := range ts {
				if access.Anywhere(r.me, access.ReadDirectory, t.ID) || access.Anywhere(r.me, access.ReadRequests, t.ID) {
					p.Tenants = append(p.Tenants, t)
				}
			}
		}
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *request, name, title string, data any) {
	p := s.newPage(r, title, data)
	p.Nav = name
	s.pages.render(w, http.StatusOK, name, p)
}

func (s *Server) renderError(w http.ResponseWriter, r *request, e *Error) {
	p := &page{Title: http.StatusText(e.Status), Data: e}
	if r != nil && r.me != nil {
		p = s.newPage(r, http.StatusText(e.Status), e)
	}
	s.pages.render(w, e.Status, "error", p)
}

func htmlEscape(s string) string { return template.HTMLEscapeString(s) }
