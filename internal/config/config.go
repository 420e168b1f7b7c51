// Package config holds Quire's one configuration struct. Every setting is an
// environment variable with a flag twin (the flag wins); secrets may also
// come from a file named by the variable with a _FILE suffix. Config is
// loaded once in main and passed down; nothing reads the environment later.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of `quire serve`.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	AdminEmail      string
	AdminPassword   string
	JWTSecret       string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	LogFormat       string
	LogLevel        string
	TrustedProxies  string
	CORSOrigins     string
	MaxBodyBytes    int64
	MaxUploadBytes  int64
	LoginFailures   int
	LoginIPFailures int
	LoginWindow     time.Duration
	ShutdownTimeout time.Duration
}

type setting struct {
	env, flag, def, usage string
	secret                bool
	set                   func(*Config, string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 15m, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

func num(p func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("must be a positive integer, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

func count(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("must be a positive integer, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

var settings = []setting{
	{"QUIRE_ADDR", "addr", "127.0.0.1:8080", "address to listen on", false, str(func(c *Config) *string { return &c.Addr })},
	{"QUIRE_DATA_DIR", "data-dir", "./quire-data", "directory for the SQLite database, media and generated secrets", false, str(func(c *Config) *string { return &c.DataDir })},
	{"QUIRE_DATABASE_URL", "database-url", "", "postgres://… to use PostgreSQL; empty means SQLite at <data-dir>/quire.db", true, str(func(c *Config) *string { return &c.DatabaseURL })},
	{"QUIRE_ADMIN_EMAIL", "admin-email", "", "email of the admin created on first start of an empty database", false, str(func(c *Config) *string { return &c.AdminEmail })},
	{"QUIRE_ADMIN_PASSWORD", "admin-password", "", "password of that admin (prefer QUIRE_ADMIN_PASSWORD_FILE)", true, str(func(c *Config) *string { return &c.AdminPassword })},
	{"QUIRE_JWT_SECRET", "jwt-secret", "", "signing key for access tokens, at least 32 bytes; generated and stored once when empty", true, str(func(c *Config) *string { return &c.JWTSecret })},
	{"QUIRE_ACCESS_TOKEN_TTL", "access-token-ttl", "15m", "lifetime of access tokens", false, dur(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"QUIRE_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "lifetime of a login session (refresh tokens)", false, dur(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"QUIRE_LOG_FORMAT", "log-format", "text", "log format: text or json", false, str(func(c *Config) *string { return &c.LogFormat })},
	{"QUIRE_LOG_LEVEL", "log-level", "info", "log level: debug, info, warn or error", false, str(func(c *Config) *string { return &c.LogLevel })},
	{"QUIRE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed", false, str(func(c *Config) *string { return &c.TrustedProxies })},
	{"QUIRE_CORS_ORIGINS", "cors-origins", "", "comma-separated origins allowed by CORS; empty turns CORS off", false, str(func(c *Config) *string { return &c.CORSOrigins })},
	{"QUIRE_MAX_BODY_BYTES", "max-body-bytes", "1048576", "largest JSON request body", false, num(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"QUIRE_MAX_UPLOAD_BYTES", "max-upload-bytes", "26214400", "largest media upload", false, num(func(c *Config) *int64 { return &c.MaxUploadBytes })},
	{"QUIRE_LOGIN_MAX_FAILURES", "login-max-failures", "5", "failed logins per account within the window before 429", false, count(func(c *Config) *int { return &c.LoginFailures })},
	{"QUIRE_LOGIN_MAX_FAILURES_PER_IP", "login-max-failures-per-ip", "20", "failed logins per client address within the window before 429", false, count(func(c *Config) *int { return &c.LoginIPFailures })},
	{"QUIRE_LOGIN_WINDOW", "login-window", "15m", "window of the login throttle", false, dur(func(c *Config) *time.Duration { return &c.LoginWindow })},
	{"QUIRE_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long a graceful shutdown waits for requests in flight", false, dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
}

// Default returns the configuration with nothing set.
func Default() Config {
	var c Config
	for _, s := range settings {
		if err := s.set(&c, s.def); err != nil && s.def != "" {
			panic("config: bad default for " + s.env + ": " + err.Error())
		}
	}
	return c
}

// Load reads the environment (through getenv, and files for *_FILE), then
// the flags in args, into a Config. A bad value is an error naming the
// variable; --help prints every setting with its variable and default.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	for _, s := range settings {
		v, err := lookup(s, getenv)
		if err != nil {
			return c, err
		}
		if v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env, err)
			}
		}
		s := s
		fs.Func(s.flag, fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def), func(v string) error {
			return s.set(&c, v)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.validate()
}

func lookup(s setting, getenv func(string) string) (string, error) {
	if v := getenv(s.env); v != "" {
		return v, nil
	}
	if !s.secret {
		return "", nil
	}
	path := getenv(s.env + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", s.env, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (c Config) validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("QUIRE_LOG_FORMAT: must be text or json, got %q", c.LogFormat))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("QUIRE_JWT_SECRET: must be at least 32 bytes"))
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("QUIRE_ADMIN_EMAIL and QUIRE_ADMIN_PASSWORD must be set together"))
	}
	return errors.Join(errs...)
}

// Level parses LogLevel.
func (c Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("QUIRE_LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return l, nil
}

// DSN is the database to open: the PostgreSQL URL, or the SQLite file in the data directory.
func (c Config) DSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "quire.db")
}

// LogValue is the redacted form of the configuration, safe to log: no
// password, key or database credentials.
func (c Config) LogValue() slog.Value {
	database := "sqlite"
	if c.DatabaseURL != "" {
		database = "postgres"
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database", database),
		slog.Bool("jwt_secret_set", c.JWTSecret != ""),
		slog.String("trusted_proxies", c.TrustedProxies),
		slog.String("cors_origins", c.CORSOrigins),
		slog.Duration("access_token_ttl", c.AccessTokenTTL),
		slog.Duration("refresh_token_ttl", c.RefreshTokenTTL),
	)
}
