package admin

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestCookieSecurity: the __Host- cookie with Secure over HTTPS, directly
// or through a trusted proxy that says so; a plain cookie over HTTP, and
// an untrusted client's X-Forwarded-Proto changes nothing.
func TestCookieSecurity(t *testing.T) {
	a := &Admin{Deps: Deps{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	cases := []struct {
		name   string
		remote string
		tls    bool
		proto  string
		want   string
	}{
		{"plain http", "192.0.2.1:5000", false, "", cookieHTTP},
		{"tls", "192.0.2.1:5000", true, "", cookieHTTPS},
		{"trusted proxy says https", "10.1.2.3:5000", false, "https", cookieHTTPS},
		{"untrusted client says https", "192.0.2.1:5000", false, "https", cookieHTTP},
		{"trusted proxy says http", "10.1.2.3:5000", false, "http", cookieHTTP},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/admin/login", nil)
		r.RemoteAddr = c.remote
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		w := httptest.NewRecorder()
		a.setSession(w, r, "qrt_secret")
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%s: %d cookies", c.name, len(cookies))
		}
		k := cookies[0]
		if k.Name != c.want || k.Secure != (c.want == cookieHTTPS) || !k.HttpOnly || k.Path != "/" || k.Domain != "" {
			t.Errorf("%s: cookie %+v", c.name, k)
		}
		if a.sessionSecret(withCookie(r, c.want)) != "qrt_secret" {
			t.Errorf("%s: the cookie set is not the one read", c.name)
		}
	}
	for _, next := range []string{"//evil.example/admin/", "https://evil.example/", "/admin\\..\\x", "/api/v1/users", "/admin/login?next=x"} {
		if got := safeNext(next); got != "/admin/" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	if got := safeNext("/admin/pages?status=draft"); got != "/admin/pages?status=draft" {
		t.Errorf("safeNext kept no admin path: %q", got)
	}
}

// withCookie is r again, carrying cookie name with the secret.
func withCookie(r *http.Request, name string) *http.Request {
	r = r.Clone(r.Context())
	r.AddCookie(&http.Cookie{Name: name, Value: "qrt_secret"})
	return r
}
