// Package s3test runs a real S3-compatible server on loopback for tests:
// versitygw (Apache-2.0) with its posix backend on a temp directory. The
// binary is built once from the Go module proxy into the user cache
// directory (about four minutes the first time on a new machine, then
// instant) and each test gets a server process of its own, stopped when
// the test ends.
//
// Set QUIRE_TEST_VERSITYGW to the path of a versitygw binary to skip the
// build, or QUIRE_TEST_S3=off to skip the S3 runs. When the binary cannot
// be built (no module proxy), the S3 runs are skipped with a message that
// says so, except under CI (CI set), where that fails the test.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/quirecms/quire/internal/storage"
)

// Version is the versitygw release the tests run against.
const Version = "v1.8.0"

const module = "github.com/versity/versitygw/cmd/versitygw"

// Server is one versitygw process.
type Server struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	SecretKey string
	Region    string
	client    *minio.Client
}

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the versitygw binary, building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	if os.Getenv("QUIRE_TEST_S3") == "off" {
		t.Skip("S3 run skipped: QUIRE_TEST_S3=off")
	}
	build.once.Do(func() { build.path, build.err = findOrBuild() })
	if build.err != nil {
		msg := fmt.Sprintf("S3 run skipped: cannot build versitygw %s, the S3 server these tests use (set QUIRE_TEST_VERSITYGW to a versitygw binary, or QUIRE_TEST_S3=off): %v", Version, build.err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return build.path
}

func findOrBuild() (string, error) {
	if p := os.Getenv("QUIRE_TEST_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("QUIRE_TEST_VERSITYGW: %w", err)
		}
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "quire-test", "versitygw-"+Version)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Test binaries of several packages run at once: one builds, the
	// others wait for it.
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", module+"@"+Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", module, Version, err, lastLines(out.String(), 20))
	}
	// Rename is atomic: no process ever runs a half-written binary.
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func lastLines(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// Start runs a versitygw process for t on a free loopback port, serving a
// directory of t's, and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	root := t.TempDir()
	s := &Server{AccessKey: "quiretest", SecretKey: "quiretest-secret-" + randomHex(8), Region: "us-east-1"}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		var logs bytes.Buffer
		cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
			"--port", addr, "--quiet", "posix", root)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.SysProcAttr = sysProcAttr() // dies with the test binary, whatever happens
		if err := cmd.Start(); err != nil {
			t.Fatalf("start versitygw: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitListening(addr, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			s.Endpoint = "http://" + addr
			s.client, err = minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
				Region: s.Region, BucketLookup: minio.BucketLookupPath})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%v\n%s", lastErr, lastLines(logs.String(), 20))
	}
	t.Fatalf("versitygw did not start: %v", lastErr)
	return nil
}

func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("versitygw is not listening after 20s")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Bucket creates a new, empty bucket and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := "quire-" + randomHex(6)
	if err := s.client.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return name
}

// Config is the storage configuration for bucket on this server.
func (s *Server) Config(bucket string) storage.S3Config {
	return storage.S3Config{Endpoint: s.Endpoint, Bucket: bucket, Region: s.Region,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey, PathStyle: true}
}

// Storage starts a server for t and returns storage on a fresh bucket of it.
func Storage(t testing.TB) *storage.S3 {
	t.Helper()
	s := Start(t)
	st, err := storage.NewS3(context.Background(), s.Config(s.Bucket(t)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
