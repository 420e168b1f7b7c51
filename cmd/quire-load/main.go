// Command quire-load measures Quire's public read path against a bare
// net/http handler serving the same bytes, on this machine.
//
// It builds Quire in-process on a temporary SQLite database (or on
// QUIRE_DATABASE_URL, which should name a throwaway database: the seeded
// pages stay), with JSON request logs (formatted, then discarded) and
// metrics on, seeds published pages, and serves them on a loopback port.
// A bare handler serves the same response bytes on another port. Both are
// driven with the same keep-alive connections for the same time, in
// alternating slices so that whatever else the machine does falls on
// both alike, and the figures and their ratio are printed.
//
//	go run ./cmd/quire-load -duration 10s
//	go run ./cmd/quire-load -workload create -conns 4 -rounds 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
)

const publicPrefix = "/api/v1/public/pages/"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "quire-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quire-load", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "measured time per target and round")
	slice := fs.Duration("slice", time.Second, "the targets take turns in slices this long")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time per target before the first round")
	conns := fs.Int("conns", 32, "concurrent keep-alive connections")
	pages := fs.Int("pages", 10_000, "published pages to seed")
	blocks := fs.Int("blocks", 8, "blocks per seeded page")
	hot := fs.Int("slugs", 100, "request the first n slugs in turn, the most-read pages (0: every seeded page)")
	rounds := fs.Int("rounds", 1, "rounds; the spread of the ratio is printed when more than one")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	separate := fs.Bool("separate", true, "run Quire in a process of its own, so that the peak RSS printed is Quire's alone (false: in this process, where a CPU profile also shows the client and the bare handler)")
	child := fs.Bool("child", false, "internal: be the Quire process of -separate")
	bareChild := fs.String("bare-child", "", "internal: be the bare handler's process of -pin, serving the documents in this file")
	pin := fs.Bool("pin", false, "Linux: run Quire and the bare handler each in a process of its own on CPU 0, and the load generator on the other CPUs, like a one-core server measured from outside (implies -separate)")
	workload := fs.String("workload", "page", "page (the -slugs most read pages), page-all (every page), public-list, public-list-deep, admin-list, admin-list-deep: reads against a bare handler serving the same bytes, several separated by commas run one after the other on the same seeded Quire; create: page creates with SQLite synchronous=full and =normal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child {
		return serveChild(ctx, *pages, *blocks, *cpuprofile)
	}
	if *bareChild != "" {
		return serveBare(ctx, *bareChild)
	}
	if *pin {
		*separate = true
		if err := pinSelf(); err != nil {
			return err
		}
	}
	if *workload == "create" {
		if *cpuprofile != "" {
			stop, err := startProfile(*cpuprofile)
			if err != nil {
				return err
			}
			defer stop()
		}
		defer func() {
			fmt.Fprintf(out, "peak RSS of this process (Quire and the load generator): %s\n", rssOf("/proc/self/status"))
		}()
		return runCreate(ctx, out, createOptions{duration: *duration, warmup: *warmup, conns: *conns, blocks: *blocks, rounds: *rounds})
	}
	if fs.NArg() > 0 || *pages < 1 || *conns < 1 || *rounds < 1 || *duration <= 0 || *slice <= 0 || *hot < 0 {
		fs.Usage()
		return errors.New("bad arguments")
	}

	start := time.Now()
	var f *loadtest.Fixture
	var quireURL string
	// peak is the peak RSS to print: Quire's process's with -separate.
	peak, resetPeak := func() string { return rssOf("/proc/self/status") }, func() {
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	}
	if *separate {
		c, err := startChild(ctx, *pages, *blocks, *cpuprofile, *pin)
		if err != nil {
			return err
		}
		defer c.stop()
		f, quireURL, peak, resetPeak = c.fixture(), c.hello.URL, c.peakRSS, c.resetPeak
	} else {
		if *cpuprofile != "" {
			stop, err := startProfile(*cpuprofile)
			if err != nil {
				return err
			}
			defer stop()
		}
		var err error
		if f, quireURL, err = inProcess(ctx, *pages, *blocks); err != nil {
			return err
		}
		defer f.Server.Close()
	}
	seeded := time.Since(start)
	who := "this process (Quire, the bare handler and the load generator)"
	if *separate {
		who = "Quire's process"
	}
	defer func() { fmt.Fprintf(out, "peak RSS of %s: %s\n", who, peak()) }()
	database := "sqlite"
	if os.Getenv("QUIRE_DATABASE_URL") != "" {
		database = "postgres"
	}
	// With -separate this includes the start-up prune the child waits for.
	fmt.Fprintf(out, "quire-load: %d published pages of %d blocks seeded on %s, ready in %s\n",
		len(f.Slugs), *blocks, database, seeded.Round(time.Millisecond))
	where := "the load generator shares the CPU with both servers"
	if *pin {
		where = "Quire's and the bare handler's processes run on CPU 0, the load generator on the others"
	}
	fmt.Fprintf(out, "Quire runs with JSON request logs (formatted, discarded) and metrics on, in %s; %s.\n", who, where)
	for _, name := range strings.Split(*workload, ",") {
		m := measure{name: name, f: f, quireURL: quireURL, conns: *conns, hot: *hot, separate: *separate, pin: *pin,
			warmup: *warmup, duration: *duration, slice: *slice, rounds: *rounds, peak: peak, resetPeak: resetPeak}
		if name == "page-all" {
			m.hot = 0
		}
		if err := m.run(ctx, out); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// measure is one read workload's rounds against the running Quire.
type measure struct {
	name                    string
	f                       *loadtest.Fixture
	quireURL                string
	conns, hot, rounds      int
	separate, pin           bool
	warmup, duration, slice time.Duration
	peak                    func() string
	resetPeak               func()
}

func (m *measure) run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := loadtest.Client(m.conns)
	w, err := prepare(ctx, m.name, m.f, client, m.quireURL, m.hot)
	if err != nil {
		return err
	}
	// The bare handler serves exactly the bytes Quire serves.
	var bareURL string
	if m.separate {
		// Its own process too, so that neither server shares a Go
		// runtime with the load generator.
		b, err := startBare(ctx, w.docs, m.pin)
		if err != nil {
			return err
		}
		defer b.stop()
		bareURL = b.hello.URL
	} else {
		bare := &http.Server{Handler: loadtest.BareURIs(w.docs), ReadHeaderTimeout: 5 * time.Second}
		bareURL, err = listen(ctx, "bare", func(ln net.Listener) error {
			go func() { <-ctx.Done(); bare.Close() }()
			return bare.Serve(ln)
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "workload %s: %s; %d keep-alive connections, %s per target and round in %s slices taking turns; GOMAXPROCS=%d, %s, load avg %s\n",
		m.name, w.describe, m.conns, m.duration, m.slice, runtime.GOMAXPROCS(0), runtime.Version(), loadAvg())

	targets := [2]target{{name: "quire", header: w.header}, {name: "bare"}}
	for i, base := range []string{m.quireURL, bareURL} {
		targets[i].client = client
		if i == 1 {
			targets[i].client = loadtest.Client(m.conns)
		}
		for _, uri := range w.uris {
			targets[i].urls = append(targets[i].urls, base+uri)
		}
		if _, err := drive(ctx, targets[i], m.conns, m.warmup); err != nil {
			return err
		}
	}
	// The peak RSS printed per round is that of serving this workload:
	// the seeding's peak, and an earlier workload's, are forgotten here.
	m.resetPeak()
	turns := max(1, int(m.duration/m.slice))
	var ratios []float64
	for round := 1; round <= m.rounds; round++ {
		var res [2]loadtest.Result
		for turn := range turns {
			// Alternate who goes first, so neither always follows the other.
			for _, i := range [][2]int{{0, 1}, {1, 0}}[turn%2] {
				r, err := drive(ctx, targets[i], m.conns, m.slice)
				if err != nil {
					return err
				}
				res[i] = res[i].Add(r)
			}
		}
		ratio := res[0].RPS() / res[1].RPS()
		ratios = append(ratios, ratio)
		fmt.Fprintf(out, "round %d  load avg %s  peak RSS %s\n  quire %s\n  bare  %s\n  ratio quire/bare %.2f\n", round, loadAvg(), m.peak(), res[0], res[1], ratio)
		if res[0].Errors > 0 || res[1].Errors > 0 {
			return fmt.Errorf("requests failed: quire %d, bare %d", res[0].Errors, res[1].Errors)
		}
	}
	if len(ratios) > 1 {
		s := slices.Clone(ratios)
		slices.Sort(s)
		fmt.Fprintf(out, "ratio quire/bare over %d rounds: min %.2f, median %.2f, max %.2f\n", len(s), s[0], s[len(s)/2], s[len(s)-1])
	}
	return nil
}

// target is one of the two servers a read workload drives.
type target struct {
	name   string
	client *http.Client
	header http.Header
	urls   []string
}

// listen serves on a fresh loopback port and returns its base URL. The
// server's goroutines carry the profiler label server=name, and so do the
// connection goroutines they start, so that a CPU profile tells the two
// servers apart: go tool pprof -tagfocus server=quire.
func listen(ctx context.Context, name string, serve func(net.Listener) error) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go pprof.Do(ctx, pprof.Labels("server", name), func(context.Context) {
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "quire-load: serve:", err)
		}
	})
	return "http://" + ln.Addr().String(), nil
}

// drive runs load against one target, its goroutines (and the client
// connections they open) labelled client=name for the profiler.
func drive(ctx context.Context, t target, conns int, d time.Duration) (res loadtest.Result, err error) {
	pprof.Do(ctx, pprof.Labels("client", t.name), func(ctx context.Context) {
		res, err = loadtest.RunWithHeader(ctx, t.client, t.urls, t.header, conns, 0, d)
	})
	return res, err
}

// inProcess builds Quire in this process on a temporary SQLite database
// (or QUIRE_DATABASE_URL), seeds it and serves it on a loopback port.
func inProcess(ctx context.Context, pages, blocks int) (*loadtest.Fixture, string, error) {
	dir, err := os.MkdirTemp("", "quire-load-")
	if err != nil {
		return nil, "", err
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.DatabaseURL = os.Getenv("QUIRE_DATABASE_URL")
	// Request logging stays on and every record is formatted as JSON, as
	// in production; only the bytes go nowhere.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := loadtest.NewFixture(ctx, cfg, log, pages, blocks)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	go func() { <-ctx.Done(); os.RemoveAll(dir) }()
	u, err := listen(ctx, "quire", func(ln net.Listener) error { return f.Server.Serve(ctx, ln) })
	if err != nil {
		f.Server.Close()
		return nil, "", err
	}
	return f, u, nil
}

func startProfile(path string) (stop func(), err error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}
