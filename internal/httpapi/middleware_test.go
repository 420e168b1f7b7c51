package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirecms/quire/internal/httpapi"
)

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns every line logged so far with msg, decoded, and the raw lines.
func (l *logBuffer) records(t *testing.T, msg string) ([]map[string]any, []string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	var raw []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		if m["msg"] == msg {
			out = append(out, m)
			raw = append(raw, sc.Text())
		}
	}
	return out, raw
}

// opsAPI is the API without services: enough for the operational routes
// and the middleware around every route.
func opsAPI(t *testing.T, ready func(*http.Request) error) (*httpapi.API, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	api := httpapi.New(httpapi.Deps{
		Log:      slog.New(slog.NewJSONHandler(logs, nil)),
		Registry: prometheus.NewRegistry(),
		Ready:    ready,
		MaxBody:  1 << 20,
	})
	return api, logs
}

func serve(api http.Handler, method, path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

// One log record per request, with the request id (first, as a logger
// attribute would put it), method, route, status, size, duration and
// client address; metrics by method, route and status.
func TestRequestLogAndMetrics(t *testing.T) {
	api, logs := opsAPI(t, nil)
	if rec := serve(api, "GET", "/healthz", "X-Request-Id", "trace-1"); rec.Code != 200 || rec.Header().Get("X-Request-Id") != "trace-1" {
		t.Fatalf("GET /healthz: %d, X-Request-Id %q", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	serve(api, "HEAD", "/healthz")
	if rec := serve(api, "GET", "/api/v1/zz-nothing-here"); rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unrouted: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rec := serve(api, "DELETE", "/healthz")
	if rec.Code != 405 || !strings.Contains(rec.Header().Get("Allow"), "GET") || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("wrong method: %d Allow %q %q %s", rec.Code, rec.Header().Get("Allow"), rec.Header().Get("Content-Type"), rec.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != 405 || p.RequestID != rec.Header().Get("X-Request-Id") || !strings.Contains(p.Detail, "DELETE") {
		t.Fatalf("405 problem: %s (%v)", rec.Body, err)
	}

	recs, raw := logs.records(t, "request")
	if len(recs) != 4 {
		t.Fatalf("%d request records, want 4:\n%s", len(recs), strings.Join(raw, "\n"))
	}
	for i, want := range []struct {
		method, route string
		status        float64
	}{{"GET", "/healthz", 200}, {"HEAD", "/healthz", 200}, {"GET", "unmatched", 404}, {"DELETE", "unmatched", 405}} {
		r := recs[i]
		if r["level"] != "INFO" || r["method"] != want.method || r["route"] != want.route || r["status"] != want.status || r["ip"] != "192.0.2.1" {
			t.Errorf("record %d = %s", i, raw[i])
		}
		if _, ok := r["duration"].(float64); !ok {
			t.Errorf("record %d has no duration: %s", i, raw[i])
		}
		if id, _ := r["request_id"].(string); id == "" || strings.Index(raw[i], `"request_id"`) > strings.Index(raw[i], `"method"`) {
			t.Errorf("record %d: request_id missing or not first: %s", i, raw[i])
		}
	}
	if recs[0]["request_id"] != "trace-1" || recs[0]["bytes"] != float64(len(`{"status":"ok"}`+"\n")) {
		t.Errorf("GET /healthz record = %s", raw[0])
	}

	m := serve(api.MetricsHandler(), "GET", "/metrics").Body.String()
	for _, want := range []string{
		`quire_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`quire_http_requests_total{method="HEAD",route="/healthz",status="200"} 1`,
		`quire_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`quire_http_requests_total{method="DELETE",route="unmatched",status="405"} 1`,
		`quire_http_request_duration_seconds_count{method="GET",route="/healthz"} 1`,
		`quire_http_request_duration_seconds_count{method="GET",route="unmatched"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Series appear when first used, not for every route up front.
	if strings.Contains(m, `route="/api/v1/users"`) {
		t.Error("a route nobody called has a series")
	}
}

// A handler's own logs carry the request id too.
func TestHandlerLogsCarryRequestID(t *testing.T) {
	api, logs := opsAPI(t, func(*http.Request) error { return errors.New("database is away") })
	rec := serve(api, "GET", "/readyz")
	if rec.Code != 503 {
		t.Fatalf("readyz: %d", rec.Code)
	}
	recs, raw := logs.records(t, "not ready")
	if len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0]["request_id"] != rec.Header().Get("X-Request-Id") || recs[0]["err"] != "database is away" {
		t.Fatalf("not-ready records: %v", raw)
	}
}

// A panic is a 500 problem carrying the request id, logged as an error.
func TestPanicIsA500(t *testing.T) {
	api, logs := opsAPI(t, nil)
	// Without a delivery service the public page handler dereferences nil.
	rec := serve(api, "GET", "/api/v1/public/pages/home", "X-Request-Id", "boom-1")
	if rec.Code != 500 || rec.Header().Get("X-Request-Id") != "boom-1" {
		t.Fatalf("panic: %d %q", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	var p httpapi.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != 500 || p.RequestID != "boom-1" {
		t.Fatalf("problem: %s", rec.Body)
	}
	panics, raw := logs.records(t, "panic serving request")
	if len(panics) != 1 || panics[0]["level"] != "ERROR" || panics[0]["request_id"] != "boom-1" || panics[0]["route"] != "GET /api/v1/public/pages/{slug...}" {
		t.Fatalf("panic records: %v", raw)
	}
	reqs, raw := logs.records(t, "request")
	if len(reqs) != 1 || reqs[0]["level"] != "ERROR" || reqs[0]["status"] != float64(500) || reqs[0]["route"] != "/api/v1/public/pages/{slug...}" {
		t.Fatalf("request records: %v", raw)
	}
}

// Counters are created on first use while other requests count: the
// totals still add up (and the race detector watches).
func TestMetricsUnderConcurrency(t *testing.T) {
	api, _ := opsAPI(t, nil)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				serve(api, "GET", "/healthz")
				serve(api, "DELETE", "/healthz")
				serve(api, "GET", "/api/v1/openapi.json")
			}
		}()
	}
	wg.Wait()
	m := serve(api.MetricsHandler(), "GET", "/metrics").Body.String()
	for _, want := range []string{
		fmt.Sprintf(`quire_http_requests_total{method="GET",route="/healthz",status="200"} %d`, workers*each),
		fmt.Sprintf(`quire_http_requests_total{method="DELETE",route="unmatched",status="405"} %d`, workers*each),
		fmt.Sprintf(`quire_http_requests_total{method="GET",route="/api/v1/openapi.json",status="200"} %d`, workers*each),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
