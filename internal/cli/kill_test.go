package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/testdb"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// quireBinary builds cmd/quire once per test run.
func quireBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quire-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "quire")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/quirecms/quire/cmd/quire").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// slowReceiver answers every delivery after a while, so that a burst keeps
// deliveries in flight; it records which event ids arrived (webhook-id)
// and how many requests the sender abandoned mid-way.
type slowReceiver struct {
	mu          sync.Mutex
	got         map[string]int
	interrupted int
}

func (rc *slowReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// With the body read, the server notices a closed connection and
	// cancels the request's context.
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-time.After(400 * time.Millisecond):
	case <-r.Context().Done(): // the server went away with the request open
		rc.mu.Lock()
		rc.interrupted++
		rc.mu.Unlock()
		return
	}
	rc.mu.Lock()
	rc.got[r.Header.Get("webhook-id")]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *slowReceiver) snapshot() (map[string]int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.got))
	for k, v := range rc.got {
		out[k] = v
	}
	return out, rc.interrupted
}

// A burst of page writes with a webhook endpoint, `quire serve` killed
// with SIGKILL while deliveries are in flight, then started again: every
// event reaches the endpoint at least once. Deliveries the dead process
// held are rescued by River (QUIRE_JOB_RESCUE_AFTER, shortened here from
// its production 1 minute); events not yet fanned out are dispatched from
// the position kept in the database.
func TestKill9DuringDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and waits for River's rescuer")
	}
	bin := quireBinary(t)
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		rc := &slowReceiver{got: map[string]int{}}
		hook := httptest.NewServer(rc)
		defer hook.Close()
		in := newInstance(t, dsn)
		addr := freeAddr(t)
		env := os.Environ()
		for k, v := range in.env {
			env = append(env, k+"="+v)
		}
		env = append(env, "QUIRE_ADDR="+addr, "QUIRE_ADMIN_EMAIL=admin@example.com", "QUIRE_ADMIN_PASSWORD="+password,
			"QUIRE_WEBHOOK_ALLOW_PRIVATE=true", "QUIRE_JOB_RESCUE_AFTER=2s", "QUIRE_WEBHOOK_RETRY_BASE=1s", "QUIRE_LOG_LEVEL=warn")
		var stderr syncBuffer
		start := func() *exec.Cmd {
			cmd := exec.Command(bin, "serve")
			cmd.Env, cmd.Stdout, cmd.Stderr = env, &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan int, 1)
			go func() { _ = cmd.Wait(); done <- cmd.ProcessState.ExitCode() }()
			waitHealthy(t, &http.Client{Timeout: 5 * time.Second}, "http://"+addr, done, &stderr)
			return cmd
		}
		cmd := start()
		defer func() { _ = cmd.Process.Kill() }()

		base := "http://" + addr + "/api/v1"
		client := &http.Client{Timeout: 10 * time.Second}
		var pair struct {
			AccessToken string `json:"access_token"`
		}
		if s := call(t, client, "POST", base+"/auth/login", "", `{"email":"admin@example.com","password":"`+password+`"}`, &pair); s != 200 {
			t.Fatalf("login: %d", s)
		}
		tok := pair.AccessToken
		if s := call(t, client, "POST", base+"/webhooks", tok, `{"url":"`+hook.URL+`","event_types":["page.created"]}`, nil); s != 201 {
			t.Fatalf("create webhook: %d", s)
		}
		const burst = 30
		var created []string
		var killedAfter int
		for i := range burst {
			var p struct{ ID string }
			if s := call(t, client, "POST", base+"/pages", tok, fmt.Sprintf(`{"slug":"burst-%d","title":"Burst %d"}`, i, i), &p); s != 201 {
				t.Fatalf("create page %d: %d", i, s)
			}
			created = append(created, p.ID)
			if i == burst/2 {
				// Mid-burst, once deliveries are under way: kill -9.
				deadline := time.Now().Add(30 * time.Second)
				for got, _ := rc.snapshot(); len(got) == 0; got, _ = rc.snapshot() {
					if time.Now().After(deadline) {
						t.Fatalf("no delivery arrived\n%s", stderr.String())
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond) // the next deliveries are waiting on the receiver
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				got, cut := rc.snapshot()
				killedAfter = len(got)
				t.Logf("killed after %d deliveries, %d cut", killedAfter, cut)
				cmd = start()
			}
		}

		// The events that must arrive: every page.created the writes recorded.
		db := in.openStore()
		evs, err := db.Reader().EventsAfter(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, ev := range evs {
			if ev.Type == quire.EventPageCreated {
				want[ev.ID] = true
			}
		}
		if len(want) != burst {
			t.Fatalf("%d page.created events for %d pages", len(want), len(created))
		}
		deadline := time.Now().Add(120 * time.Second)
		for {
			got, interrupted := rc.snapshot()
			var missing []string
			for id := range want {
				if got[id] == 0 {
					missing = append(missing, id)
				}
			}
			if len(missing) == 0 {
				if interrupted == 0 {
					t.Fatal("no delivery was in flight at the kill: the test did not test a crash mid-delivery")
				}
				if killedAfter >= burst {
					t.Fatalf("everything was delivered before the kill")
				}
				for id := range got {
					if !want[id] {
						t.Fatalf("a delivery for an unknown event %s", id)
					}
				}
				t.Logf("delivered %d events; %d before the kill, %d requests cut by it", len(want), killedAfter, interrupted)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events never delivered (%d in flight at the kill)\n%s", len(missing), len(want), interrupted,
					strings.TrimSpace(stderr.String()))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
