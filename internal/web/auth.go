package web

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/access"
)

const (
	sessionCookie = "allot_session"
	// loginCSRFCookie protects the sign-in form itself (there is no session
	// yet): the form carries the same random value as this cookie.
	loginCSRFCookie = "allot_login"
	csrfField       = "csrf"
	csrfHeader      = "X-CSRF-Token"
)

// authenticate finds the principal behind a request: a bearer token
// (automation; no cookie, so no CSRF risk) or the session cookie (the
// console; unsafe methods must then carry the session's CSRF token).
func (s *Server) authenticate(w http.ResponseWriter, hr *http.Request, api bool) (*request, error) {
	r := &request{Request: hr}
	if h := hr.Header.Get("Authorization"); h != "" {
		// Tokens are too long to guess, but every wrong one costs a
		// database read: an address that keeps sending them is refused
		// for a while, before the read.
		client := s.clientKey("token", hr)
		if d := s.limits.wait(s.now(), client); d > 0 {
			return r, errTooMany(d)
		}
		var p *access.Principal
		var err error
		if scheme, tok, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Bearer") {
			p, err = s.cfg.Access.TokenPrincipal(hr.Context(), strings.TrimSpace(tok))
		} else {
			err = errorf(http.StatusUnauthorized, "unauthenticated", "Authorization: use Bearer <token>")
		}
		if err != nil && asError(err).Status == http.StatusUnauthorized {
			if locks := s.limits.fail(s.now(), client); len(locks) > 0 {
				s.auditLockouts(hr.Context(), hr, "api", locks)
				return r, errTooMany(s.limits.wait(s.now(), client))
			}
		}
		if err != nil {
			return r, err
		}
		r.me = p
		return r, nil
	}
	c, err := hr.Cookie(sessionCookie)
	if err != nil {
		return r, access.ErrUnauthenticated
	}
	p, sess, err := s.cfg.Access.Session(hr.Context(), c.Value)
	if err != nil {
		if errors.Is(err, access.ErrUnauthenticated) {
			s.clearCookie(w, sessionCookie)
		}
		return r, err
	}
	r.me, r.csrf = p, sess.CSRF
	if !safeMethod(hr.Method) && !validCSRF(hr, sess.CSRF) {
		return r, errCSRF
	}
	return r, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRF accepts the token from the X-CSRF-Token header (htmx, fetch) or
// the csrf form field, compared in constant time.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue(csrfField)
		}
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) { s.setCookie(w, name, "", -1) }

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

type loginData struct {
	Next, Name, Error, CSRF string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	token := rand.Text()
	s.setCookie(w, loginCSRFCookie, token, 3600)
	s.pages.render(w, http.StatusOK, "login", &page{Title: "Sign in", CSRF: token,
		Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !validCSRF(r, c.Value) {
		s.pages.render(w, http.StatusForbidden, "login", &page{Title: "Sign in",
			Data: loginData{Next: next, Error: "The sign-in form expired. Reload the page and try again."}})
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	refuse := func(status int, msg string) {
		s.pages.render(w, status, "login", &page{Title: "Sign in", CSRF: c.Value,
			Data: loginData{Next: next, Name: name, Error: msg}})
	}
	tooMany := func(d time.Duration) {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(d)))
		refuse(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-in attempts. Try again in %d s.", retrySeconds(d)))
	}
	// A locked account or address is refused before the password is even
	// checked: a right guess while locked must not get in.
	account, client := s.accountKey(name), s.clientKey("signin", r)
	if d := s.limits.wait(s.now(), account, client); d > 0 {
		tooMany(d)
		return
	}
	secret, sess, p, err := s.cfg.Access.Login(r.Context(), name, r.PostFormValue("password"))
	if err != nil {
		if !errors.Is(err, access.ErrUnauthenticated) {
			s.log.Error("sign-in failed", "err", err)
			refuse(http.StatusInternalServerError, "Sign-in failed; the server log has details.")
			return
		}
		if locks := s.limits.fail(s.now(), account, client); len(locks) > 0 {
			s.auditLockouts(r.Context(), r, "console", locks)
			tooMany(s.limits.wait(s.now(), account, client))
			return
		}
		refuse(http.StatusUnauthorized, "Wrong name or password, or the account is disabled.")
		return
	}
	s.limits.succeed(account)
	s.clearCookie(w, loginCSRFCookie)
	s.setCookie(w, sessionCookie, secret, int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()))
	if p.MustChangePassword {
		next = "/account/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Access.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearCookie(w, sessionCookie)
	http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) passwordForm(w http.ResponseWriter, r *request) error {
	s.render(w, r, "password", "Change password", nil)
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *request) error {
	current, next := r.PostFormValue("current"), r.PostFormValue("new")
	failWith := func(status int, msg string) error {
		p := s.newPage(r, "Change password", nil)
		p.Flash = msg
		s.pages.render(w, status, "password", p)
		return nil
	}
	fail := func(msg string) error { return failWith(http.StatusUnprocessableEntity, msg) }
	if next != r.PostFormValue("confirm") {
		return fail("The new passwords do not match.")
	}
	// The current password is what keeps a stolen session from taking the
	// account over: guessing it is throttled like signing in.
	account, client := s.accountKey(r.me.Name), s.clientKey("signin", r.Request)
	if d := s.limits.wait(s.now(), account, client); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(d)))
		return failWith(http.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts. Try again in %d s.", retrySeconds(d)))
	}
	err := s.cfg.Access.ChangePassword(r.Context(), r.me.ID, current, next)
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		if locks := s.limits.fail(s.now(), account, client); len(locks) > 0 {
			s.auditLockouts(r.Context(), r.Request, "console", locks)
		}
		return fail("The current password is wrong.")
	case errors.Is(err, access.ErrInvalid):
		return fail(strings.TrimPrefix(err.Error(), "invalid "))
	case err != nil:
		return err
	}
	s.limits.succeed(account)
	// ChangePassword ended every session; sign in again with the new
	// password, which also issues a fresh session id.
	secret, sess, _, err := s.cfg.Access.Login(r.Context(), r.me.Name, next)
	if err != nil {
		return err
	}
	s.setCookie(w, sessionCookie, secret, int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()))
	http.Redirect(w, r.Request, "/", http.StatusSeeOther)
	return nil
}
