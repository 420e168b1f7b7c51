package admin

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/quirecms/quire"
)

// The session cookie holds the session's current refresh token, an opaque
// secret whose hash names the server-side login session (auth_sessions);
// see Auth.AuthenticateSession. Over HTTPS it carries the __Host- prefix,
// which browsers accept only with Secure, Path=/ and no Domain, so no
// sibling host or plain-HTTP page can plant or shadow it. Over plain HTTP
// (a laptop, 127.0.0.1) a __Host- cookie would be refused, so the cookie
// has a name of its own there and is never read over HTTPS.
const (
	cookieHTTPS = "__Host-quire_admin"
	cookieHTTP  = "quire_admin"
)

// secure reports whether the browser reached us over HTTPS: directly, or
// through a trusted proxy that says so with X-Forwarded-Proto.
func (a *Admin) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	for _, p := range a.Trusted {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

func (a *Admin) cookieName(r *http.Request) string {
	if a.secure(r) {
		return cookieHTTPS
	}
	return cookieHTTP
}

// setSession stores secret in the session cookie. The cookie lives as
// long as the browser (the server-side session decides the real end).
func (a *Admin) setSession(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(r), Value: secret, Path: "/", HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
}

func (a *Admin) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
}

func (a *Admin) sessionSecret(r *http.Request) string {
	c, err := r.Cookie(a.cookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

// user is the signed-in user of a request.
type user struct {
	P    *quire.Principal
	User *quire.User
}

type userKey struct{}

func current(ctx context.Context) *user {
	u, _ := ctx.Value(userKey{}).(*user)
	return u
}

// signedIn checks the session on every request: a revoked session, a
// deactivated user or a token older than the user's last_token_issue sends
// the browser to the sign-in page, and the role is the user's role now.
func (a *Admin) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret := a.sessionSecret(r)
		if secret == "" {
			a.toLogin(w, r)
			return
		}
		p, u, err := a.Auth.AuthenticateSession(r.Context(), secret)
		if quire.ErrorCode(err) == quire.EUNAUTHORIZED {
			a.clearSession(w, r)
			a.toLogin(w, r)
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if p.MustEnrol && !enrolScreen(r) {
			a.toEnrol(w, r)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, &user{P: p, User: u})))
	}
}

// toLogin sends the browser to sign in, and back here afterwards when
// this was a page it can come back to.
func (a *Admin) toLogin(w http.ResponseWriter, r *http.Request) {
	target := Prefix + "/login"
	if r.Method == http.MethodGet && r.URL.Path != Prefix+"/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"title":"your session has ended; sign in again","status":401}`))
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps a post-login destination inside the admin.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix+"/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") ||
		strings.HasPrefix(s, Prefix+"/login") {
		return Prefix + "/"
	}
	return s
}
