package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the configuration table in README.md")

// load runs Load the way the command line does, with env as the whole
// environment; out receives what the flag package prints.
func load(t *testing.T, env map[string]string, args ...string) (Config, string, error) {
	t.Helper()
	var out bytes.Buffer
	fs := flag.NewFlagSet("quire serve", flag.ContinueOnError)
	fs.SetOutput(&out)
	c, err := Load(fs, args, func(k string) string { return env[k] })
	return c, out.String(), err
}

func mustLoad(t *testing.T, env map[string]string, args ...string) Config {
	t.Helper()
	c, out, err := load(t, env, args...)
	if err != nil {
		t.Fatalf("Load(%v, %q): %v\n%s", env, args, err, out)
	}
	return c
}

// writeFile writes a secret file the way `echo secret > file` or a
// container orchestrator would, and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsWithNothingSet(t *testing.T) {
	c := mustLoad(t, nil)
	if c != Default() {
		t.Errorf("Load with nothing set = %+v, want Default() %+v", c, Default())
	}
	want := Config{
		Addr: "127.0.0.1:8080", DataDir: "./quire-data", AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: 720 * time.Hour,
		LogFormat: "text", LogLevel: "info", MaxBodyBytes: 1 << 20, MaxPageBody: 4 << 20, MaxUploadBytes: 25 << 20, SQLiteCache: 4 << 20, SQLiteMmap: 256 << 20, PageCacheBytes: 24 << 20, RequireIfMatch: true,
		LoginFailures: 5, LoginIPFailures: 20, LoginWindow: 15 * time.Minute, ShutdownTimeout: 15 * time.Second, PublicMaxAge: 30 * time.Second,
		RevisionsKeep: 50, RevisionsMinAge: 90 * 24 * time.Hour,
		MediaTypes:        "image/jpeg,image/png,image/gif,image/webp,image/avif,image/svg+xml,application/pdf,video/mp4,video/webm,audio/mpeg,text/plain",
		MediaMaxPixels:    40_000_000,
		MediaVariantSizes: "64,128,256,320,480,640,800,1024,1280,1600,1920,2560",
		MediaMaxAge:       8760 * time.Hour, S3Region: "us-east-1",
		DBTimeout: 5 * time.Second, SQLiteSync: "full",
		WebhookDisableAfter: 72 * time.Hour, WebhookSecretGrace: 24 * time.Hour, EventRetention: 168 * time.Hour, AdminUI: true,
		WebhookRetryBase: 30 * time.Second, JobRescueAfter: time.Minute,
	}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	if got := c.DSN(); got != filepath.Join("quire-data", "quire.db") {
		t.Errorf("DSN() = %q, want the SQLite file in the data directory", got)
	}
	if c.IsPostgres() {
		t.Error("IsPostgres() with nothing set")
	}
	if l, err := c.Level(); err != nil || l != slog.LevelInfo {
		t.Errorf("Level() = %v, %v", l, err)
	}
}

func TestEnvironmentSetsValues(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"QUIRE_ADDR":               "0.0.0.0:9000",
		"QUIRE_DATA_DIR":           "/var/lib/quire",
		"QUIRE_DATABASE_URL":       "postgres://quire@db:5432/quire",
		"QUIRE_ACCESS_TOKEN_TTL":   "5m",
		"QUIRE_MAX_BODY_BYTES":     "2048",
		"QUIRE_LOGIN_MAX_FAILURES": "3",
		"QUIRE_LOG_FORMAT":         "json",
		"QUIRE_LOG_LEVEL":          "debug",
		"QUIRE_TRUSTED_PROXIES":    "10.0.0.0/8, 127.0.0.1",
	})
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, "0.0.0.0:9000"},
		{"DataDir", c.DataDir, "/var/lib/quire"},
		{"DSN", c.DSN(), "postgres://quire@db:5432/quire"},
		{"IsPostgres", c.IsPostgres(), true},
		{"AccessTokenTTL", c.AccessTokenTTL, 5 * time.Minute},
		{"MaxBodyBytes", c.MaxBodyBytes, int64(2048)},
		{"LoginFailures", c.LoginFailures, 3},
		{"LogFormat", c.LogFormat, "json"},
		{"LogLevel", c.LogLevel, "debug"},
		{"TrustedProxies", c.TrustedProxies, "10.0.0.0/8, 127.0.0.1"},
		{"RefreshTokenTTL (unset)", c.RefreshTokenTTL, 720 * time.Hour},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	env := map[string]string{"QUIRE_ADDR": "127.0.0.1:1111", "QUIRE_ACCESS_TOKEN_TTL": "5m", "QUIRE_DATABASE_URL": "postgres://db/quire"}
	c := mustLoad(t, env, "--addr", "127.0.0.1:2222", "-access-token-ttl=1h", "--database-url=")
	if c.Addr != "127.0.0.1:2222" || c.AccessTokenTTL != time.Hour {
		t.Errorf("Addr, AccessTokenTTL = %q, %v; want the flags' values", c.Addr, c.AccessTokenTTL)
	}
	if c.DatabaseURL != "" || c.IsPostgres() {
		t.Errorf("--database-url= should switch back to SQLite, got %q", c.DatabaseURL)
	}

	t.Run("a bad variable does not matter when its flag is given", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"QUIRE_LOG_FORMAT": "xml"}, "--log-format", "json")
		if c.LogFormat != "json" {
			t.Errorf("LogFormat = %q", c.LogFormat)
		}
	})
	t.Run("the flag also wins over a _FILE secret", func(t *testing.T) {
		path := writeFile(t, strings.Repeat("f", 40)+"\n")
		c := mustLoad(t, map[string]string{"QUIRE_JWT_SECRET_FILE": path}, "--jwt-secret", strings.Repeat("g", 40))
		if c.JWTSecret != strings.Repeat("g", 40) {
			t.Errorf("JWTSecret = %q", c.JWTSecret)
		}
	})
}

func TestSecretsFromFiles(t *testing.T) {
	jwt := strings.Repeat("k", 48)
	cases := []struct {
		env     string
		content string
		want    string
		field   func(Config) string
	}{
		{"QUIRE_JWT_SECRET", jwt + "\n", jwt, func(c Config) string { return c.JWTSecret }},
		{"QUIRE_JWT_SECRET", jwt + "\r\n", jwt, func(c Config) string { return c.JWTSecret }},
		{"QUIRE_JWT_SECRET", jwt, jwt, func(c Config) string { return c.JWTSecret }},
		{"QUIRE_DATABASE_URL", "postgres://quire:pw@db/quire\n", "postgres://quire:pw@db/quire", func(c Config) string { return c.DatabaseURL }},
		// Only the line ending goes: spaces inside and at the end of a password are the password.
		{"QUIRE_ADMIN_PASSWORD", "a passphrase with spaces \n", "a passphrase with spaces ", func(c Config) string { return c.AdminPassword }},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s_FILE %q", tc.env, tc.content), func(t *testing.T) {
			env := map[string]string{tc.env + "_FILE": writeFile(t, tc.content)}
			if tc.env == "QUIRE_ADMIN_PASSWORD" {
				env["QUIRE_ADMIN_EMAIL"] = "admin@example.com"
			}
			c := mustLoad(t, env)
			if got := tc.field(c); got != tc.want {
				t.Errorf("value = %q, want %q", got, tc.want)
			}
		})
	}

	errCases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"missing file", map[string]string{"QUIRE_JWT_SECRET_FILE": filepath.Join(t.TempDir(), "nope")}, []string{"QUIRE_JWT_SECRET_FILE"}},
		{"empty file", map[string]string{"QUIRE_DATABASE_URL_FILE": writeFile(t, "\n")}, []string{"QUIRE_DATABASE_URL_FILE", "empty"}},
		{"both set", map[string]string{"QUIRE_JWT_SECRET": jwt, "QUIRE_JWT_SECRET_FILE": writeFile(t, jwt)}, []string{"QUIRE_JWT_SECRET", "QUIRE_JWT_SECRET_FILE", "only one"}},
		{"short key in file", map[string]string{"QUIRE_JWT_SECRET_FILE": writeFile(t, "tooshort\n")}, []string{"QUIRE_JWT_SECRET_FILE", "32 bytes"}},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.env)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "tooshort") || strings.Contains(err.Error(), jwt) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}

	t.Run("only secrets have a _FILE form", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"QUIRE_ADDR_FILE": writeFile(t, "0.0.0.0:1\n")})
		if c.Addr != "127.0.0.1:8080" {
			t.Errorf("QUIRE_ADDR_FILE was read: Addr = %q", c.Addr)
		}
	})
}

func TestBadValuesNameTheVariable(t *testing.T) {
	pw := "a long enough password"
	cases := []struct {
		name   string
		env    map[string]string
		want   []string
		secret string // must not appear in the error
	}{
		{"duration", map[string]string{"QUIRE_ACCESS_TOKEN_TTL": "soon"}, []string{"QUIRE_ACCESS_TOKEN_TTL", "duration"}, ""},
		{"negative duration", map[string]string{"QUIRE_LOGIN_WINDOW": "-1m"}, []string{"QUIRE_LOGIN_WINDOW"}, ""},
		{"duration without unit", map[string]string{"QUIRE_SHUTDOWN_TIMEOUT": "15"}, []string{"QUIRE_SHUTDOWN_TIMEOUT"}, ""},
		{"integer", map[string]string{"QUIRE_MAX_BODY_BYTES": "1MB"}, []string{"QUIRE_MAX_BODY_BYTES", "integer"}, ""},
		{"zero", map[string]string{"QUIRE_LOGIN_MAX_FAILURES": "0"}, []string{"QUIRE_LOGIN_MAX_FAILURES"}, ""},
		{"fraction", map[string]string{"QUIRE_LOGIN_MAX_FAILURES_PER_IP": "2.5"}, []string{"QUIRE_LOGIN_MAX_FAILURES_PER_IP"}, ""},
		{"log format", map[string]string{"QUIRE_LOG_FORMAT": "xml"}, []string{"QUIRE_LOG_FORMAT", "text or json"}, ""},
		{"log level", map[string]string{"QUIRE_LOG_LEVEL": "loud"}, []string{"QUIRE_LOG_LEVEL", "debug, info, warn or error"}, ""},
		{"sqlite synchronous", map[string]string{"QUIRE_SQLITE_SYNCHRONOUS": "off"}, []string{"QUIRE_SQLITE_SYNCHRONOUS", "full or normal"}, ""},
		{"zero database timeout", map[string]string{"QUIRE_DB_TIMEOUT": "0s"}, []string{"QUIRE_DB_TIMEOUT"}, ""},
		{"short JWT secret", map[string]string{"QUIRE_JWT_SECRET": "s3cr3t-but-short"}, []string{"QUIRE_JWT_SECRET", "32 bytes"}, "s3cr3t-but-short"},
		{"admin email without password", map[string]string{"QUIRE_ADMIN_EMAIL": "admin@example.com"}, []string{"QUIRE_ADMIN_EMAIL", "QUIRE_ADMIN_PASSWORD"}, ""},
		{"admin password without email", map[string]string{"QUIRE_ADMIN_PASSWORD": pw}, []string{"QUIRE_ADMIN_EMAIL", "QUIRE_ADMIN_PASSWORD"}, pw},
		{"invalid admin email", map[string]string{"QUIRE_ADMIN_EMAIL": "admin", "QUIRE_ADMIN_PASSWORD": pw}, []string{"QUIRE_ADMIN_EMAIL", "email"}, pw},
		{"short admin password", map[string]string{"QUIRE_ADMIN_EMAIL": "admin@example.com", "QUIRE_ADMIN_PASSWORD": "hunter2"}, []string{"QUIRE_ADMIN_PASSWORD", "10 characters"}, "hunter2"},
		{"address", map[string]string{"QUIRE_ADDR": "8080"}, []string{"QUIRE_ADDR", "host:port"}, ""},
		{"database scheme", map[string]string{"QUIRE_DATABASE_URL": "mysql://root:dbpass@db/quire"}, []string{"QUIRE_DATABASE_URL", "postgres://"}, "dbpass"},
		{"trusted proxies", map[string]string{"QUIRE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, []string{"QUIRE_TRUSTED_PROXIES", "proxy.local"}, ""},
		{"page body below the JSON body limit", map[string]string{"QUIRE_MAX_BODY_BYTES": "2097152", "QUIRE_MAX_PAGE_BODY_BYTES": "1048576"}, []string{"QUIRE_MAX_PAGE_BODY_BYTES", "QUIRE_MAX_BODY_BYTES"}, ""},
		{"short metrics token", map[string]string{"QUIRE_METRICS_TOKEN": "metrics-short"}, []string{"QUIRE_METRICS_TOKEN", "32 bytes"}, "metrics-short"},
		{"metrics address", map[string]string{"QUIRE_METRICS_ADDR": "9090"}, []string{"QUIRE_METRICS_ADDR", "host:port"}, ""},
		{"metrics address is the API's", map[string]string{"QUIRE_ADDR": "127.0.0.1:9000", "QUIRE_METRICS_ADDR": "127.0.0.1:9000"}, []string{"QUIRE_METRICS_ADDR", "QUIRE_ADDR"}, ""},
		{"require If-Match", map[string]string{"QUIRE_REQUIRE_IF_MATCH": "sometimes"}, []string{"QUIRE_REQUIRE_IF_MATCH", "true or false"}, ""},
		{"every bad value at once", map[string]string{"QUIRE_LOG_FORMAT": "xml", "QUIRE_MAX_UPLOAD_BYTES": "big"}, []string{"QUIRE_LOG_FORMAT", "QUIRE_MAX_UPLOAD_BYTES"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.env)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var ue *UsageError
			if errors.As(err, &ue) {
				t.Errorf("a bad environment variable is not a command-line mistake: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q echoes a secret", err)
			}
		})
	}
}

func TestCommandLineMistakes(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--access-token-ttl", "soon"}, "-access-token-ttl"},
		{[]string{"--log-format=xml"}, "-log-format"},
		{[]string{"--log-level="}, "must not be empty"},
		{[]string{"--jwt-secret=short"}, "32 bytes"},
		{[]string{"--password", "x"}, "-password"},
		{[]string{"stray"}, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := load(t, nil, tc.args...)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a *UsageError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	_, out, err := load(t, nil, "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, s := range settings {
		for _, w := range []string{s.env, "-" + s.flag + " ", fmt.Sprintf("default %q", s.def), s.usage} {
			if !strings.Contains(out, w) {
				t.Errorf("--help does not show %q for %s", w, s.env)
			}
		}
		if s.secret && !strings.Contains(out, s.env+"_FILE") {
			t.Errorf("--help does not mention %s_FILE", s.env)
		}
	}
	if t.Failed() {
		t.Logf("--help printed:\n%s", out)
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	secrets := []string{"admin-pw-1234567", strings.Repeat("J", 40), "db-pw-98765", "query-pw-4321", strings.Repeat("M", 40)}
	c := mustLoad(t, map[string]string{
		"QUIRE_METRICS_TOKEN":  secrets[4],
		"QUIRE_ADMIN_EMAIL":    "admin@example.com",
		"QUIRE_ADMIN_PASSWORD": secrets[0],
		"QUIRE_JWT_SECRET":     secrets[1],
		"QUIRE_DATABASE_URL":   "postgres://quire:" + secrets[2] + "@db.internal:5432/quire?sslmode=require&password=" + secrets[3],
	})
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("starting", "config", c)
		logged := buf.String()
		for _, s := range secrets {
			if strings.Contains(logged, s) {
				t.Errorf("the log holds the secret %q:\n%s", s, logged)
			}
		}
		for _, w := range []string{"db.internal", "postgres", "127.0.0.1:8080", "jwt_secret_set", "metrics_token_set"} {
			if !strings.Contains(logged, w) {
				t.Errorf("the log lacks %q:\n%s", w, logged)
			}
		}
	}

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "config", Default())
	if !strings.Contains(buf.String(), "database=sqlite") || !strings.Contains(buf.String(), "quire.db") {
		t.Errorf("the SQLite configuration should show its file:\n%s", buf.String())
	}
}

// The README's configuration table is generated from the settings table,
// so that it cannot drift: `go test ./internal/config -update` rewrites it.
const (
	tableStart = "<!-- config-table: generated from internal/config by `go test ./internal/config -update` -->\n"
	tableEnd   = "<!-- /config-table -->"
)

func markdownTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Flag | Default | Meaning |\n|---|---|---|---|\n")
	for _, s := range settings {
		name := "`" + s.env + "`"
		if s.secret {
			name += " or `" + s.env + "_FILE`"
		}
		def := "(empty)"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		usage := strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace(s.usage)
		fmt.Fprintf(&b, "| %s | `--%s` | %s | %s |\n", name, s.flag, def, usage)
	}
	return b.String()
}

func TestREADMEConfigTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", tableStart, tableEnd)
	}
	want := markdownTable()
	if got := readme[i+len(tableStart) : j]; got == want {
		return
	}
	if *update {
		readme = readme[:i+len(tableStart)] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table is out of date; run go test ./internal/config -update. It should be:\n%s", want)
}

// The settings of the HTTP hardening: the page body limit, the metrics
// token (a secret, so _FILE works) and address, and If-Match.
func TestHardeningSettings(t *testing.T) {
	token := strings.Repeat("t", 40)
	c := mustLoad(t, map[string]string{
		"QUIRE_MAX_PAGE_BODY_BYTES": "8388608",
		"QUIRE_METRICS_TOKEN_FILE":  writeFile(t, token+"\n"),
		"QUIRE_METRICS_ADDR":        "127.0.0.1:9090",
		"QUIRE_REQUIRE_IF_MATCH":    "false",
	})
	if c.MaxPageBody != 8<<20 || c.MetricsToken != token || c.MetricsAddr != "127.0.0.1:9090" || c.RequireIfMatch {
		t.Errorf("got MaxPageBody %d, MetricsToken %q, MetricsAddr %q, RequireIfMatch %v", c.MaxPageBody, c.MetricsToken, c.MetricsAddr, c.RequireIfMatch)
	}
	if d := Default(); !d.RequireIfMatch || d.MetricsToken != "" || d.MetricsAddr != "" || d.MaxPageBody != 4<<20 {
		t.Errorf("defaults: If-Match required %v, metrics token %q, metrics addr %q, page body %d; want on, none, none, 4 MiB",
			d.RequireIfMatch, d.MetricsToken, d.MetricsAddr, d.MaxPageBody)
	}
}
