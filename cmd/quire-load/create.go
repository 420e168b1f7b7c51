package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
)

// createOptions are the flags of -workload create.
type createOptions struct {
	duration, warmup time.Duration
	conns, blocks    int
	rounds           int
}

// runCreate measures page creates (POST /api/v1/pages) on SQLite with
// synchronous=FULL and =NORMAL, each round on a fresh database per mode,
// the modes taking turns to go first; on PostgreSQL (QUIRE_DATABASE_URL)
// the setting does not apply and one mode runs.
func runCreate(ctx context.Context, out io.Writer, o createOptions) error {
	modes := []string{"full", "normal"}
	if os.Getenv("QUIRE_DATABASE_URL") != "" {
		modes = []string{"postgres"}
	}
	fmt.Fprintf(out, "POST /api/v1/pages with %d blocks each, %d keep-alive connections, %s per mode and round after %s of warm-up; GOMAXPROCS=%d, %s\n",
		o.blocks, o.conns, o.duration, o.warmup, runtime.GOMAXPROCS(0), runtime.Version())
	for round := 1; round <= o.rounds; round++ {
		for k := range modes {
			mode := modes[(k+round-1)%len(modes)]
			res, err := createRound(ctx, mode, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "round %d  %-8s %s  load avg %s\n", round, mode, res, loadAvg())
			if res.Errors > 0 {
				return fmt.Errorf("%d creates failed", res.Errors)
			}
		}
	}
	return nil
}

func createRound(ctx context.Context, mode string, o createOptions) (loadtest.Result, error) {
	dir, err := os.MkdirTemp("", "quire-load-create-")
	if err != nil {
		return loadtest.Result{}, err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.DatabaseURL = os.Getenv("QUIRE_DATABASE_URL")
	if mode != "postgres" {
		cfg.SQLiteSync = mode
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := loadtest.NewFixture(ctx, cfg, log, 1, 1)
	if err != nil {
		return loadtest.Result{}, err
	}
	defer f.Server.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	base, err := listen(ctx, "quire", func(ln net.Listener) error { return f.Server.Serve(ctx, ln) })
	if err != nil {
		return loadtest.Result{}, err
	}
	client := loadtest.Client(o.conns)
	token, err := login(ctx, client, base, f.Email, f.Password)
	if err != nil {
		return loadtest.Result{}, err
	}
	// A prefix of the round's own: on PostgreSQL every round writes to the
	// same database, and a slug taken by an earlier round would be a 409.
	prefix := "create-" + mode + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return loadtest.RunCreates(ctx, client, base, token, prefix, o.blocks, o.conns, o.warmup, o.duration)
}

func login(ctx context.Context, client *http.Client, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: status %d: %v", resp.StatusCode, err)
	}
	return tokens.AccessToken, nil
}

// loadAvg is the one-minute load average, which says how much else the
// machine was doing during a measurement.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
