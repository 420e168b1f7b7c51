// Package mailtest runs a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit, MIT), built once from the Go module proxy
// into the user cache directory like internal/s3test builds versitygw, one
// process per test, read back through Mailpit's HTTP API.
//
// Set QUIRE_TEST_MAILPIT to a mailpit binary to skip the build. When it
// cannot be built the test is skipped with a message, except under CI (CI
// set), where that fails it.
package mailtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the Mailpit release the tests run against.
const Version = "v1.33.1"

const module = "github.com/axllent/mailpit"

// Server is one Mailpit process.
type Server struct {
	SMTPAddr string // 127.0.0.1:port
	api      string // http://127.0.0.1:port
}

// URL is the QUIRE_SMTP_URL of the server: plain SMTP on loopback.
func (s *Server) URL() string { return "smtp://" + s.SMTPAddr + "?tls=none" }

var build struct {
	once sync.Once
	path string
	err  error
}

// Start runs Mailpit for t and stops it when t ends. extra are more
// command-line flags (say, --smtp-auth-accept-any).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	build.once.Do(func() { build.path, build.err = findOrBuild() })
	if build.err != nil {
		msg := fmt.Sprintf("mail test skipped: cannot build mailpit %s (set QUIRE_TEST_MAILPIT to a mailpit binary): %v", Version, build.err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		smtpAddr, apiAddr := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
		var logs bytes.Buffer
		args := append([]string{"--smtp", smtpAddr, "--listen", apiAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet"}, extra...)
		cmd := exec.Command(build.path, args...)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start mailpit: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitListening([]string{smtpAddr, apiAddr}, exited); lastErr == nil {
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
			return &Server{SMTPAddr: smtpAddr, api: "http://" + apiAddr}
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%v\n%s", lastErr, logs.String())
	}
	t.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

// Address is a sender or recipient as Mailpit shows it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a received mail.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

// Messages returns every mail received so far, newest first, bodies included.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	s.get(t, "/api/v1/messages?limit=1000", &list)
	for i := range list.Messages {
		s.get(t, "/api/v1/message/"+url.PathEscape(list.Messages[i].ID), &list.Messages[i])
	}
	return list.Messages
}

// WaitFor returns the mails to address once n have arrived, failing t
// after timeout.
func (s *Server) WaitFor(t testing.TB, address string, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []Message
		for _, m := range s.Messages(t) {
			for _, to := range m.To {
				if to.Address == address {
					got = append(got, m)
				}
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Fatalf("%d mail(s) to %s after %v, want %d", len(got), address, timeout, n)
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.api+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit api: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("mailpit api %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("mailpit api %s: %v", path, err)
	}
}

func findOrBuild() (string, error) {
	if p := os.Getenv("QUIRE_TEST_MAILPIT"); p != "" {
		_, err := os.Stat(p)
		return p, err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "quire-test", "mailpit-"+Version)
	bin := filepath.Join(dir, "mailpit")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", module+"@"+Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", module, Version, err, out.String())
	}
	// Rename is atomic: no process runs a half-written binary.
	return bin, os.Rename(filepath.Join(tmp, "mailpit"), bin)
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func waitListening(addrs []string, exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		for {
			select {
			case err := <-exited:
				return fmt.Errorf("mailpit exited: %v", err)
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return errors.New("mailpit is not listening after 20s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
