package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/testdb"
)

const metricsToken = "metrics-token-0123456789abcdef-0123456789"

// Metrics are off the public address by default: 404, not the numbers.
func TestMetricsHiddenByDefault(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), nil)
	r := e.do("GET", "/metrics", "", nil).want(t, http.StatusNotFound)
	if strings.Contains(string(r.Body), "quire_http_requests_total") {
		t.Fatalf("metrics served: %s", r.Body)
	}
	// Not even with a user's token: metrics are the operator's.
	e.do("GET", "/metrics", e.admin().AccessToken, nil).want(t, http.StatusNotFound)
}

func TestMetricsNeedTheirToken(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), func(c *config.Config) { c.MetricsToken = metricsToken })
	r := e.do("GET", "/metrics", "", nil).want(t, http.StatusUnauthorized)
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	e.do("GET", "/metrics", e.admin().AccessToken, nil).want(t, http.StatusUnauthorized)
	e.do("GET", "/metrics", metricsToken[:len(metricsToken)-1], nil).want(t, http.StatusUnauthorized)
	e.do("GET", "/metrics", metricsToken+"x", nil).want(t, http.StatusUnauthorized)
	e.do("GET", "/metrics", "", nil, "Authorization", "Basic "+metricsToken).want(t, http.StatusUnauthorized)
	r = e.do("GET", "/metrics", metricsToken, nil).want(t, http.StatusOK)
	if !strings.Contains(string(r.Body), "quire_http_requests_total") {
		t.Fatalf("no request metrics in:\n%.500s", r.Body)
	}
}

// QUIRE_METRICS_ADDR serves /metrics, and nothing else, on an address of
// its own; the public address still hides them.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		addr = e.srv.MetricsAddr()
	}
	if addr == "" {
		t.Fatal("the metrics listener did not start")
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("http://" + addr + "/metrics"); status != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics address: %d %.200s", status, body)
	}
	if status, _ := get("http://" + addr + "/api/v1/openapi.json"); status != 404 {
		t.Errorf("the metrics address serves the API: %d", status)
	}
	if status, _ := get("http://" + ln.Addr().String() + "/metrics"); status != 404 {
		t.Errorf("the public address serves metrics: %d", status)
	}
}

// Requests to the admin are counted under the admin's route pattern, not
// as "unmatched"; an unknown admin path is the admin's catch-all pattern,
// so a scanner cannot add a series per path it tries.
func TestMetricsLabelAdminRoutes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, func(c *config.Config) { c.MetricsToken = metricsToken })
		e.do("GET", "/admin/login", "", nil).want(t, http.StatusOK)
		e.do("GET", "/admin/xyz-scanner-probe", "", nil)
		body := string(e.do("GET", "/metrics", metricsToken, nil).want(t, http.StatusOK).Body)
		for _, want := range []string{
			`quire_http_requests_total{method="GET",route="/admin/login",status="200"} 1`,
			`quire_http_request_duration_seconds_count{method="GET",route="/admin/login"} 1`,
			`route="/admin/"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("no %s in:\n%s", want, grepLines(body, "quire_http_request"))
			}
		}
		if strings.Contains(body, "xyz-scanner-probe") {
			t.Errorf("a raw admin path became a label:\n%s", grepLines(body, "xyz"))
		}
	})
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
