package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/cli"
	"github.com/quirecms/quire/internal/testdb"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServe runs `quire serve` as an operator would on an empty database
// with the first admin configured, talks to it over real HTTP, and stops it
// the way SIGINT does, by cancelling its context.
func TestServe(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := newInstance(t, dsn)
		addr := freeAddr(t)
		in.env["QUIRE_ADDR"] = addr
		in.env["QUIRE_ADMIN_EMAIL"] = "admin@example.com"
		in.env["QUIRE_ADMIN_PASSWORD"] = password

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		go func() { done <- cli.Main(ctx, []string{"serve"}, in.envFor(strings.NewReader(""), &stdout, &stderr)) }()

		base := "http://" + addr
		client := &http.Client{Timeout: 10 * time.Second}
		waitHealthy(t, client, base, done, &stderr)

		var pair struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}
		body := `{"email":"admin@example.com","password":"` + password + `"}`
		status := call(t, client, "POST", base+"/api/v1/auth/login", "", body, &pair)
		if status != http.StatusOK || pair.AccessToken == "" || pair.TokenType != "Bearer" {
			t.Fatalf("login: %d %+v", status, pair)
		}
		var me struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		}
		if status := call(t, client, "GET", base+"/api/v1/auth/me", pair.AccessToken, "", &me); status != http.StatusOK {
			t.Fatalf("GET /auth/me: %d", status)
		}
		if me.Email != "admin@example.com" || me.Role != "admin" {
			t.Errorf("GET /auth/me = %+v", me)
		}
		if status := call(t, client, "GET", base+"/api/v1/auth/me", "", "", nil); status != http.StatusUnauthorized {
			t.Errorf("GET /auth/me without a token: %d, want 401", status)
		}

		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d after a graceful shutdown\nstderr: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30s of its context being cancelled")
		}
		logs := stderr.String()
		for _, w := range []string{"created the first admin", "quire is listening", "shutting down"} {
			if !strings.Contains(logs, w) {
				t.Errorf("the log lacks %q:\n%s", w, logs)
			}
		}
		if strings.Contains(logs, password) {
			t.Errorf("the log holds the admin password:\n%s", logs)
		}
		if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			t.Error("still listening after shutdown")
		}
		// The bootstrap and the login are both in a chain that verifies.
		expect(t, in.run("", "audit", "verify"), 0, "stdout", "ok: 2 entries verified")
	})
}

// waitHealthy polls /healthz until it answers 200, failing early if serve
// has already exited.
func waitHealthy(t *testing.T, client *http.Client, base string, done <-chan int, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before it was healthy\nstderr: %s", code, stderr.String())
		default:
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve was not healthy within 60s\nstderr: %s", stderr.String())
}

// call sends a request and decodes a JSON answer into out (when not nil).
func call(t *testing.T, client *http.Client, method, url, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, buf.String(), err)
		}
	}
	return resp.StatusCode
}
