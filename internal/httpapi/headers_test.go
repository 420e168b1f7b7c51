package httpapi_test

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

var generatedRequestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Every response, errors included, carries the security headers and a
// request id; problems repeat the request id in their body.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		_, viewer := e.newUser(quire.RoleViewer)
		for _, c := range []struct {
			name, method, path, token string
			body                      any
			status                    int
		}{
			{"healthz", "GET", "/healthz", "", nil, 200},
			{"readyz", "GET", "/readyz", "", nil, 200},
			{"metrics (hidden without QUIRE_METRICS_TOKEN)", "GET", "/metrics", "", nil, 404},
			{"openapi", "GET", "/api/v1/openapi.json", "", nil, 200},
			{"a JSON answer", "GET", "/api/v1/users", adm, nil, 200},
			{"no content", "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": "qrt_x"}, 204},
			{"unknown route", "GET", "/api/v1/no-such-thing", "", nil, 404},
			{"unknown route outside the API", "GET", "/favicon.ico", "", nil, 404},
			{"wrong method", "DELETE", "/healthz", "", nil, 405},
			{"wrong method on an API route", "PUT", "/api/v1/auth/login", "", nil, 405},
			{"no credentials", "GET", "/api/v1/users", "", nil, 401},
			{"bad credentials", "GET", "/api/v1/users", "not-a-token", nil, 401},
			{"forbidden", "GET", "/api/v1/users", viewer.AccessToken, nil, 403},
			{"bad request", "POST", "/api/v1/auth/login", "", "{", 400},
			{"not found", "GET", "/api/v1/users/nope", adm, nil, 404},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				r := e.do(c.method, c.path, c.token, c.body)
				if r.Status != c.status {
					t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
				}
				h := r.Header
				for name, want := range map[string]string{
					"X-Content-Type-Options": "nosniff",
					"Referrer-Policy":        "no-referrer",
					"X-Frame-Options":        "DENY",
				} {
					if got := h.Values(name); len(got) != 1 || got[0] != want {
						t.Errorf("%s = %q, want %q", name, got, want)
					}
				}
				if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
					t.Errorf("Content-Security-Policy = %q", csp)
				}
				id := h.Get("X-Request-Id")
				if !generatedRequestID.MatchString(id) {
					t.Errorf("X-Request-Id = %q", id)
				}
				if c.status >= 400 {
					wantProblem(t, r, c.status, "")
				}
			})
		}
	})
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		for _, c := range []struct {
			name, in string
			echoed   bool
		}{
			{"valid", "abc-123.DEF_456:7", true},
			{"128 characters", strings.Repeat("a", 128), true},
			{"with a space and a bang", "bad id!", false},
			{"too long", strings.Repeat("a", 129), false},
			{"header injection", "a\r\nSet-Cookie: x=y", false},
			{"non-ASCII", "idé", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				r := e.do("GET", "/api/v1/no-such-route", "", nil, "X-Request-Id", c.in)
				got := r.Header.Get("X-Request-Id")
				if c.echoed && got != c.in {
					t.Fatalf("X-Request-Id %q came back as %q", c.in, got)
				}
				if !c.echoed && !generatedRequestID.MatchString(got) {
					t.Fatalf("X-Request-Id %q came back as %q, want a fresh id", c.in, got)
				}
				if p := wantProblem(t, r, 404, ""); p.RequestID != got {
					t.Fatalf("problem request_id %q, header %q", p.RequestID, got)
				}
				// The audit entry of a change records the same id.
				r = e.do("POST", "/api/v1/users", adm, map[string]any{"email": "rid" + strings.ReplaceAll(t.Name(), "/", "-") + "@example.com", "password": testPassword, "role": "viewer"}, "X-Request-Id", c.in)
				r.want(t, 201)
				log := e.auditLog()
				if last := log[len(log)-1]; last.RequestID != r.Header.Get("X-Request-Id") || (c.echoed && last.RequestID != c.in) {
					t.Fatalf("audit request_id %q, response %q", last.RequestID, r.Header.Get("X-Request-Id"))
				}
			})
		}
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	preflight := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "authorization, if-match"}
	t.Run("off when no origin is configured", func(t *testing.T) {
		each(t, func(t *testing.T, e *env) {
			for _, r := range []*resp{
				e.do("OPTIONS", "/api/v1/users", "", nil, preflight...),
				e.do("GET", "/healthz", "", nil, "Origin", "https://app.example"),
			} {
				if r.Status == 204 || r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
					t.Fatalf("CORS answered without configuration: %d %v", r.Status, r.Header)
				}
			}
		})
	})
	t.Run("configured origin", func(t *testing.T) {
		eachWith(t, func(c *config.Config) { c.CORSOrigins = "https://app.example" }, func(t *testing.T, e *env) {
			r := e.do("OPTIONS", "/api/v1/users", "", nil, preflight...).want(t, 204)
			h := r.Header
			if h.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "If-Match") ||
				!strings.Contains(h.Get("Vary"), "Origin") {
				t.Fatalf("preflight headers: %v", h)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials allowed")
			}
			r = e.do("GET", "/healthz", "", nil, "Origin", "https://app.example").want(t, 200)
			if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
				t.Fatalf("simple request headers: %v", r.Header)
			}
			for _, origin := range []string{"https://evil.example", "https://app.example.evil.com", "http://app.example", "null", "https://APP.example"} {
				other := append([]string{}, preflight...)
				other[1] = origin
				for _, r := range []*resp{e.do("OPTIONS", "/api/v1/users", "", nil, other...), e.do("GET", "/healthz", "", nil, "Origin", origin)} {
					if r.Status == 204 || r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
						t.Fatalf("origin %s got CORS headers: %d %v", origin, r.Status, r.Header)
					}
				}
			}
		})
	})
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		var h struct{ Status string }
		e.do("GET", "/healthz", "", nil).want(t, 200).json(t, &h)
		if h.Status != "ok" {
			t.Fatalf("healthz = %+v", h)
		}
		e.do("GET", "/readyz", "", nil).want(t, 200).json(t, &h)
		if h.Status != "ready" {
			t.Fatalf("readyz = %+v", h)
		}
		e.admin()
		e.do("GET", "/api/v1/zz-unrouted-7f3a", "", nil).want(t, 404)
		rec := httptest.NewRecorder()
		e.srv.API.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		m := rec.Body.String()
		for _, want := range []string{"quire_http_requests_total", `route="/api/v1/auth/login"`, `route="unmatched"`, "quire_http_request_duration_seconds"} {
			if !strings.Contains(m, want) {
				t.Fatalf("metrics lack %s", want)
			}
		}
		// Unrouted paths are not labels: a scanner cannot blow up the series count.
		if strings.Contains(m, "zz-unrouted-7f3a") {
			t.Fatal("an unrouted path became a metric label")
		}

		// With the database gone, the process is alive but not ready.
		e.srv.DB.Close()
		e.do("GET", "/healthz", "", nil).want(t, 200)
		wantProblem(t, e.do("GET", "/readyz", "", nil), 503, "")
	})
}
