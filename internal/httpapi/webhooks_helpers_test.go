package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/testdb"
)

// eachWithJobs runs fn against a fresh instance per database whose job
// queue runs, polling and retrying quickly, with private webhook
// addresses allowed (receivers are httptest servers on loopback) unless
// tweak says otherwise.
func eachWithJobs(t *testing.T, tweak func(*config.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		startMu.Lock()
		e := newJobsEnv(t, dsn, tweak)
		startMu.Unlock()
		fn(t, e)
	})
}

func newJobsEnv(t *testing.T, dsn string, tweak func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	cfg.LoginFailures, cfg.LoginIPFailures = 1000, 1000
	cfg.WebhookAllowPrivate = true
	if tweak != nil {
		tweak(&cfg)
	}
	var out io.Writer = io.Discard
	if os.Getenv("QUIRE_TEST_LOG") != "" {
		out = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	srv, err := server.New(context.Background(), cfg, log, server.Options{Argon2: auth.FastArgon2,
		JobPollInterval: 50 * time.Millisecond, WebhookRetryBase: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, cfg: cfg, schema: newOpenAPIChecker(t, srv.API)}
	e.startJobs()
	return e
}

// startJobs runs the instance's job queue until the test ends.
func (e *env) startJobs() {
	e.t.Helper()
	if err := e.srv.StartJobs(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if err := e.srv.StopJobs(); err != nil {
			e.t.Error(err)
		}
	})
}

// received is one delivery as the receiver saw it.
type received struct {
	Header http.Header
	Body   []byte
	Doc    struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			EventID      string `json:"event_id"`
			ResourceType string `json:"resource_type"`
			ResourceID   string `json:"resource_id"`
			Slug         string `json:"slug"`
			PreviousSlug string `json:"previous_slug"`
			Revision     int    `json:"revision"`
		} `json:"data"`
	}
}

// receiver is a real HTTP endpoint: it records every request and answers
// with the status the test sets (200 by default).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status []int // answers for the next requests, then 200
	signal chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{signal: make(chan struct{}, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var rv received
		rv.Header, rv.Body = r.Header.Clone(), body
		_ = json.Unmarshal(body, &rv.Doc)
		rc.mu.Lock()
		rc.got = append(rc.got, rv)
		status := 200
		if len(rc.status) > 0 {
			status, rc.status = rc.status[0], rc.status[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":` + map[bool]string{true: "true", false: "false"}[status < 300] + `}`))
		rc.signal <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) failNext(statuses ...int) {
	rc.mu.Lock()
	rc.status = append(rc.status, statuses...)
	rc.mu.Unlock()
}

// wait returns once n requests have arrived in total, or fails.
func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]received(nil), rc.got...)
			rc.mu.Unlock()
			return out
		}
		rc.mu.Unlock()
		select {
		case <-rc.signal:
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d", len(rc.got), n)
		}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// verify checks a delivery's signature with the Standard Webhooks
// reference library.
func verify(t *testing.T, secret string, rv received) {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(rv.Body, rv.Header); err != nil {
		t.Fatalf("signature does not verify: %v (headers %v)", err, rv.Header)
	}
}

type createdWebhook struct {
	quire.Webhook
	Secret string `json:"secret"`
}

func (e *env) createWebhook(token, url string, types ...string) createdWebhook {
	e.t.Helper()
	body := map[string]any{"url": url}
	if types != nil {
		body["event_types"] = types
	}
	var w createdWebhook
	e.do("POST", "/api/v1/webhooks", token, body).want(e.t, 201).json(e.t, &w)
	if !strings.HasPrefix(w.Secret, "whsec_") {
		e.t.Fatalf("secret %q", w.Secret)
	}
	return w
}

// deliveries lists a webhook's deliveries newest first.
func (e *env) deliveries(token, id string) []quire.WebhookDelivery {
	e.t.Helper()
	var l struct {
		Data []quire.WebhookDelivery `json:"data"`
	}
	e.do("GET", "/api/v1/webhooks/"+id+"/deliveries", token, nil).want(e.t, 200).json(e.t, &l)
	return l.Data
}

// waitDelivery polls the delivery log until the newest delivery has status.
func (e *env) waitDelivery(token, id, status string) quire.WebhookDelivery {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds := e.deliveries(token, id)
		if len(ds) > 0 && ds[0].Status == status {
			return ds[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("deliveries %+v: want the newest %s", ds, status)
		}
		time.Sleep(30 * time.Millisecond)
	}
}
