package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
	"golang.org/x/sys/unix"
)

// With -separate (the default), Quire runs in a child process of its own
// (this binary with -child), so that its peak RSS is Quire's alone: in
// one process, the bare handler's copy of every document and the load
// generator's buffers would be counted with it.

// childHello is the line the child prints once it serves.
type childHello struct {
	URL      string   `json:"url"`
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Slugs    []string `json:"slugs"`
}

// serveChild seeds Quire, serves it on a loopback port, says where on
// stdout, and serves until stdin closes (the parent is done or gone).
func serveChild(ctx context.Context, pages, blocks int, cpuprofile string) error {
	dir, err := os.MkdirTemp("", "quire-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The server's own settings apply (QUIRE_PAGE_CACHE_BYTES,
	// QUIRE_SQLITE_MMAP_BYTES, QUIRE_DATABASE_URL…), but its data
	// directory is a temporary one.
	cfg, err := config.Load(flag.NewFlagSet("quire", flag.ContinueOnError), nil, os.Getenv)
	if err != nil {
		return err
	}
	cfg.DataDir = dir
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := loadtest.NewFixture(ctx, cfg, log, pages, blocks)
	if err != nil {
		return err
	}
	defer f.Server.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = f.Server.Serve(ctx, ln) }()
	// Serve starts the job queue, and with it the daily revisions prune
	// the server runs at start: over the seeded pages it takes seconds,
	// which would fall on the first rounds. Nothing is measured until it
	// is done.
	if err := awaitPrune(ctx, cfg); err != nil {
		return err
	}
	// Seeding is the load tool's work, not Quire's: give back the heap it
	// grew, which the runtime would otherwise return only slowly.
	debug.FreeOSMemory()
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	hello := childHello{URL: "http://" + ln.Addr().String(), Email: f.Email, Password: f.Password, Slugs: f.Slugs}
	if err := json.NewEncoder(os.Stdout).Encode(hello); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	reportMemory("Quire")
	return nil
}

// quireChild is a running child.
type quireChild struct {
	cmd   *exec.Cmd
	stdin io.Closer
	hello childHello
}

func startChild(ctx context.Context, pages, blocks int, cpuprofile string, pin bool) (*quireChild, error) {
	args := []string{"-child", "-pages", strconv.Itoa(pages), "-blocks", strconv.Itoa(blocks)}
	if cpuprofile != "" {
		args = append(args, "-cpuprofile", cpuprofile)
	}
	return startProcess(ctx, args, pin)
}

// startProcess starts this binary with args and reads the hello line it
// prints once it serves. With pin, it runs on CPU 0 only (taskset, so
// that every thread of it is pinned from the start).
func startProcess(ctx context.Context, args []string, pin bool) (*quireChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	if pin {
		cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", "0", exe}, args...)...)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &quireChild{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &c.hello)
	}
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("start Quire's process: %w", err)
	}
	return c, nil
}

// fixture is what the workloads need to know of the child's instance.
func (c *quireChild) fixture() *loadtest.Fixture {
	return &loadtest.Fixture{Email: c.hello.Email, Password: c.hello.Password, Slugs: c.hello.Slugs}
}

// resetPeak forgets the seeding's peak RSS (Linux: writing 5 to
// clear_refs resets VmHWM), so that the peak printed is that of serving.
func (c *quireChild) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

func (c *quireChild) peakRSS() string {
	return rssOf(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
}

func (c *quireChild) stop() {
	c.stdin.Close()
	_ = c.cmd.Wait()
}

// rssOf is a process's peak resident set (VmHWM) and its current one
// (VmRSS) split into anonymous memory (the Go heap, SQLite's caches) and
// file pages (SQLite's memory map, the binary), from its status file.
func rssOf(status string) string {
	b, err := os.ReadFile(status)
	if err != nil {
		return "unknown"
	}
	f := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k] = strings.TrimSpace(v)
		}
	}
	return f["VmHWM"] + " (now " + f["VmRSS"] + ": anon " + f["RssAnon"] + ", file " + f["RssFile"] + ")"
}

// serveBare serves the documents in the JSON file docs (request URI →
// bytes) as the bare handler does, in a process of its own beside
// Quire's (-separate).
func serveBare(ctx context.Context, docs string) error {
	b, err := os.ReadFile(docs)
	if err != nil {
		return err
	}
	m := map[string][]byte{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: loadtest.BareURIs(m), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := json.NewEncoder(os.Stdout).Encode(childHello{URL: "http://" + ln.Addr().String()}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	reportMemory("the bare handler")
	return nil
}

// startBare starts the bare handler's process for -separate.
func startBare(ctx context.Context, docs map[string][]byte, pin bool) (*quireChild, error) {
	f, err := os.CreateTemp("", "quire-load-docs-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	err = json.NewEncoder(f).Encode(docs)
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return nil, err
	}
	// The child has read the file once it says hello.
	return startProcess(ctx, []string{"-bare-child", f.Name()}, pin)
}

// pinSelf moves every thread of this process (the load generator) off
// CPU 0, which -pin leaves to the server being measured; threads started
// later inherit it from their creator.
func pinSelf() error {
	var set unix.CPUSet
	for cpu := 1; cpu < runtime.NumCPU(); cpu++ {
		set.Set(cpu)
	}
	if set.Count() == 0 {
		return errors.New("-pin needs at least two CPUs")
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("pin thread %d: %w", tid, err)
		}
	}
	return nil
}

// awaitPrune waits until the prune job the server started with has run
// (and no other job is pending), for at most a minute.
func awaitPrune(ctx context.Context, cfg config.Config) error {
	driver := "sqlite"
	if cfg.IsPostgres() {
		driver = "pgx"
	}
	db, err := sql.Open(driver, cfg.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	const q = `SELECT
		(SELECT count(*) FROM river_job WHERE kind = 'revisions.prune' AND state = 'completed'),
		(SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending'))`
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var done, pending int
		if err := db.QueryRowContext(ctx, q).Scan(&done, &pending); err != nil {
			return fmt.Errorf("waiting for the prune job: %w", err)
		}
		if done > 0 && pending == 0 {
			return nil
		}
	}
	fmt.Fprintln(os.Stderr, "quire-load: the prune job was still running after a minute; measuring anyway")
	return nil
}
