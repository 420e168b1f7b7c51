package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/testdb"
)

// lockedBuffer collects log output from concurrent requests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// newFaultEnv is newEnv with a short database timeout and the log kept.
func newFaultEnv(t *testing.T, dsn string) (*env, *lockedBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	cfg.DBTimeout = 500 * time.Millisecond
	logs := &lockedBuffer{}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, cfg: cfg, schema: newOpenAPIChecker(t, srv.API)}, logs
}

// timed runs fn and fails the test when it takes longer than limit.
func timed(t *testing.T, limit time.Duration, what string, fn func() *resp) *resp {
	t.Helper()
	start := time.Now()
	r := fn()
	if d := time.Since(start); d > limit {
		t.Fatalf("%s took %s, more than %s", what, d, limit)
	}
	return r
}

func wantUnavailable(t *testing.T, r *resp, status int, problem string) {
	t.Helper()
	r.want(t, status)
	if p := r.problem(t); p.Type != "https://quire.dev/problems/"+problem {
		t.Fatalf("problem type = %s, want %s", p.Type, problem)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After on %d", status)
	}
}

// PostgreSQL goes down: every request answers 503 with Retry-After at
// once, /readyz says not ready within a second, and the outage is logged
// once, not once per request. When it is back, so is Quire.
func TestPostgresDownAnswers503(t *testing.T) {
	proxy, dsn := testdb.NewProxy(t, testdb.Postgres(t))
	e, logs := newFaultEnv(t, dsn)
	adm := e.admin().AccessToken
	e.do("PUT", "/api/v1/settings/site.title", adm, `{"value":"up"}`).want(t, 201)

	proxy.Refuse()
	before := logs.count("level=ERROR")
	statuses := race(40, func(i int) *resp {
		r := timed(t, 3*time.Second, "a request while the database is down", func() *resp {
			return e.do("GET", "/api/v1/settings/site.title", adm, nil)
		})
		wantUnavailable(t, r, 503, "unavailable")
		return r
	})
	if count(statuses, 503) != len(statuses) {
		t.Fatalf("statuses %v", statuses)
	}
	timed(t, 1500*time.Millisecond, "/readyz", func() *resp { return e.do("GET", "/readyz", "", nil) }).want(t, 503)
	if n := logs.count("level=ERROR") - before; n != 1 {
		t.Fatalf("%d ERROR lines for one outage, want 1:\n%s", n, logs.b.String())
	}
}

// A partition: PostgreSQL stops answering without closing anything.
// Requests end at the database timeout with 503 instead of hanging, the
// write they carried is rolled back, /readyz answers within a second, and
// once the network heals writes go through again.
func TestPostgresPartitionTimesOut(t *testing.T) {
	proxy, dsn := testdb.NewProxy(t, testdb.Postgres(t))
	e, _ := newFaultEnv(t, dsn)
	adm := e.admin().AccessToken
	e.do("GET", "/api/v1/settings", adm, nil).want(t, 200)

	proxy.Stall()
	r := timed(t, 3*time.Second, "a write during a partition", func() *resp {
		return e.do("PUT", "/api/v1/settings/site.partitioned", adm, `{"value":1}`)
	})
	wantUnavailable(t, r, 503, "unavailable")
	timed(t, 1500*time.Millisecond, "/readyz during a partition", func() *resp { return e.do("GET", "/readyz", "", nil) }).want(t, 503)
	timed(t, 3*time.Second, "a read during a partition", func() *resp {
		return e.do("GET", "/api/v1/settings", adm, nil)
	}).want(t, 503)

	proxy.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for e.do("GET", "/readyz", "", nil).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not ready 10 s after the network healed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.do("GET", "/api/v1/settings/site.partitioned", adm, nil).want(t, 404) // the cut write did not commit
	e.do("PUT", "/api/v1/settings/site.partitioned", adm, `{"value":2}`).want(t, 201)
}

// SQLite locked by another process (a backup, a CLI command) for longer
// than the timeout: writes answer 503 with Retry-After instead of
// hanging; reads and /readyz go on (WAL readers do not wait for writers).
func TestSQLiteLockedAnswers503(t *testing.T) {
	dsn := testdb.SQLite(t)
	e, logs := newFaultEnv(t, dsn)
	adm := e.admin().AccessToken
	other, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	before := logs.count("level=ERROR")
	statuses := race(8, func(i int) *resp {
		r := timed(t, 3*time.Second, "a write while the database is locked", func() *resp {
			return e.do("PUT", "/api/v1/settings/site.locked", adm, `{"value":1}`)
		})
		wantUnavailable(t, r, 503, "unavailable")
		return r
	})
	if count(statuses, 503) != len(statuses) {
		t.Fatalf("statuses %v", statuses)
	}
	if n := logs.count("level=ERROR") - before; n != 1 {
		t.Fatalf("%d ERROR lines for one outage, want 1", n)
	}
	e.do("GET", "/readyz", "", nil).want(t, 200)
	e.do("GET", "/api/v1/settings", adm, nil).want(t, 200)
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	e.do("PUT", "/api/v1/settings/site.locked", adm, `{"value":2}`).want(t, 201)
}
