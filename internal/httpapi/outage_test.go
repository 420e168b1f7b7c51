package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

// The database's faults have statuses of their own, with Retry-After, and
// an outage is logged once per interval however many requests it fails.
func TestDatabaseFaultsAnswerAndLogOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	o := &outageLog{every: time.Hour}
	for _, c := range []struct {
		code   string
		status int
	}{{quire.EUNAVAILABLE, 503}, {quire.ESTORAGEFULL, 507}} {
		for range 50 {
			r := httptest.NewRequest("GET", "/api/v1/pages", nil)
			r = r.WithContext(&requestContext{Context: r.Context(), id: "req", log: log, outage: o})
			w := httptest.NewRecorder()
			writeError(w, r, quire.Wrap(c.code, errors.New("driver detail"), "public message"))
			if w.Code != c.status || w.Header().Get("Retry-After") != "5" {
				t.Fatalf("%s: status %d, Retry-After %q", c.code, w.Code, w.Header().Get("Retry-After"))
			}
			if strings.Contains(w.Body.String(), "driver detail") {
				t.Fatalf("%s: the cause leaked: %s", c.code, w.Body)
			}
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d ERROR lines for 100 failures within the interval, want 1:\n%s", n, logs.String())
	}
	o.last = time.Now().Add(-2 * time.Hour) // the interval has passed
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	writeError(w, r.WithContext(&requestContext{Context: r.Context(), id: "req", log: log, outage: o}), quire.Errorf(quire.EUNAVAILABLE, "down"))
	if !strings.Contains(logs.String(), "not_logged_since_last=99") {
		t.Fatalf("the second line does not count what was not logged:\n%s", logs.String())
	}
}

// A client that went away before its answer is not an error of ours: no
// ERROR line, and 499 in the request log and metrics.
func TestClientGoneIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("PUT", "/api/v1/settings/k", nil)
	r = r.WithContext(&requestContext{Context: ctx, id: "req", log: log, outage: &outageLog{}})
	w := httptest.NewRecorder()
	writeError(w, r, fmt.Errorf("begin: %w", context.Canceled))
	if w.Code != statusClientClosed || logs.Len() != 0 {
		t.Fatalf("status %d, log %q", w.Code, logs.String())
	}
	// The same error while the client is still there is ours: 500.
	r = httptest.NewRequest("PUT", "/api/v1/settings/k", nil)
	r = r.WithContext(&requestContext{Context: context.Background(), id: "req", log: log, outage: &outageLog{}})
	w = httptest.NewRecorder()
	writeError(w, r, context.Canceled)
	if w.Code != 500 || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("status %d, log %q", w.Code, logs.String())
	}
}
