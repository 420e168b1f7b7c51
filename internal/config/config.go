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
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/clientip"
	"github.com/quirecms/quire/internal/mail"
)

// Config is every setting of `quire serve`.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	DBTimeout       time.Duration
	SQLiteSync      string
	SQLiteCache     int64 // SQLite page cache per connection, bytes
	SQLiteMmap      int64 // SQLite memory-mapped I/O, bytes
	PageCacheBytes  int64 // budget of the public page cache
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
	MaxPageBody     int64 // JSON body limit of the routes that carry a whole page
	MaxUploadBytes  int64
	MetricsToken    string // bearer token of /metrics on the public address
	MetricsAddr     string // a listen address of its own for /metrics
	RequireIfMatch  bool   // 428 for page, block and revision writes without If-Match
	LoginFailures   int
	LoginIPFailures int
	LoginWindow     time.Duration
	ShutdownTimeout time.Duration
	PublicMaxAge    time.Duration
	PreviewURL      string        // front-end preview URL template with {token} and {slug}
	RevisionsKeep   int           // retention: newest revisions kept per page
	RevisionsMinAge time.Duration // retention: revisions younger than this are kept
	AdminUI         bool          // serve the browser admin at /admin

	MediaTypes        string // comma-separated detected types accepted on upload
	MediaMaxPixels    int64
	MediaVariantSizes string // comma-separated widths/heights of image variants
	MediaMaxAge       time.Duration
	MediaKeepMetadata bool // store images as uploaded, EXIF and all
	S3Endpoint        string
	S3Bucket          string
	S3Region          string
	S3AccessKey       string
	S3SecretKey       string
	S3PathStyle       bool
	S3Prefix          string

	WebhookAllowPrivate bool
	WebhookDisableAfter time.Duration
	WebhookSecretGrace  time.Duration
	EventRetention      time.Duration
	WebhookRetryBase    time.Duration
	JobRescueAfter      time.Duration

	SMTPURL   string // outgoing mail server; empty: no mail
	MailFrom  string // sender of outgoing mail
	PublicURL string // where people reach Quire; links in mail point there
}

// setting is one row of the settings table: the variable, its flag twin,
// its default, what it means, whether it is a secret (then VAR_FILE works
// and the value is never echoed in errors or logs), and how it is parsed.
type setting struct {
	env, flag, def, usage string
	secret                bool
	set                   func(*Config, string) error
}

// settings is the one table behind Load, --help and the README's table.
var settings = []setting{
	{"QUIRE_ADDR", "addr", "127.0.0.1:8080", "address to listen on (host:port)", false, text(func(c *Config) *string { return &c.Addr }, checkAddr)},
	{"QUIRE_DATA_DIR", "data-dir", "./quire-data", "directory for the SQLite database, media and the generated signing key", false, text(func(c *Config) *string { return &c.DataDir }, nil)},
	{"QUIRE_DATABASE_URL", "database-url", "", "postgres://… to use PostgreSQL; empty means SQLite at <data-dir>/quire.db", true, text(func(c *Config) *string { return &c.DatabaseURL }, checkDatabaseURL)},
	{"QUIRE_DB_TIMEOUT", "db-timeout", "5s", "longest a write transaction may take, or a read may wait for the database's answer, before it is rolled back and answered 503", false, dur(func(c *Config) *time.Duration { return &c.DBTimeout })},
	{"QUIRE_SQLITE_SYNCHRONOUS", "sqlite-synchronous", "full", "SQLite durability: full (an acknowledged write survives a power cut) or normal (faster commits; the last writes before a power cut may be lost)", false, text(func(c *Config) *string { return &c.SQLiteSync }, checkSynchronous)},
	{"QUIRE_SQLITE_CACHE_BYTES", "sqlite-cache-bytes", "4194304", "SQLite page cache of each database connection, in bytes (up to 9 connections; pages read through the memory map cost little of it)", false, num(func(c *Config) *int64 { return &c.SQLiteCache })},
	{"QUIRE_SQLITE_MMAP_BYTES", "sqlite-mmap-bytes", "268435456", "how much of the SQLite database file is read through one shared memory map instead of copies in each connection's cache, in bytes; size it to the database file", false, num(func(c *Config) *int64 { return &c.SQLiteMmap })},
	{"QUIRE_PAGE_CACHE_BYTES", "page-cache-bytes", "25165824", "bytes of encoded published pages kept in memory for public delivery; past it, entries are evicted at random and read again from the database when asked for", false, num(func(c *Config) *int64 { return &c.PageCacheBytes })},
	{"QUIRE_ADMIN_EMAIL", "admin-email", "", "email of the admin created on the first start of an empty database, with QUIRE_ADMIN_PASSWORD", false, text(func(c *Config) *string { return &c.AdminEmail }, nil)},
	{"QUIRE_ADMIN_PASSWORD", "admin-password", "", "password of that admin (prefer QUIRE_ADMIN_PASSWORD_FILE)", true, text(func(c *Config) *string { return &c.AdminPassword }, nil)},
	{"QUIRE_JWT_SECRET", "jwt-secret", "", "signing key for access tokens, at least 32 bytes; when empty, generated once and kept in the data directory (SQLite) or the database (PostgreSQL)", true, text(func(c *Config) *string { return &c.JWTSecret }, checkSecretLen)},
	{"QUIRE_ACCESS_TOKEN_TTL", "access-token-ttl", "15m", "lifetime of access tokens", false, dur(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"QUIRE_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "lifetime of a login session (refresh tokens)", false, dur(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"QUIRE_LOG_FORMAT", "log-format", "text", "log format: text or json", false, text(func(c *Config) *string { return &c.LogFormat }, checkLogFormat)},
	{"QUIRE_LOG_LEVEL", "log-level", "info", "log level: debug, info, warn or error", false, text(func(c *Config) *string { return &c.LogLevel }, checkLogLevel)},
	{"QUIRE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed", false, text(func(c *Config) *string { return &c.TrustedProxies }, checkProxies)},
	{"QUIRE_CORS_ORIGINS", "cors-origins", "", "comma-separated origins allowed by CORS (* allows any); empty turns CORS off", false, text(func(c *Config) *string { return &c.CORSOrigins }, nil)},
	{"QUIRE_MAX_BODY_BYTES", "max-body-bytes", "1048576", "largest JSON request body, in bytes", false, num(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"QUIRE_MAX_PAGE_BODY_BYTES", "max-page-body-bytes", "4194304", "largest JSON body of the two routes that carry a whole page (POST /api/v1/pages, PUT /api/v1/pages/{id}/blocks), in bytes; at least QUIRE_MAX_BODY_BYTES", false, num(func(c *Config) *int64 { return &c.MaxPageBody })},
	{"QUIRE_MAX_UPLOAD_BYTES", "max-upload-bytes", "26214400", "largest media upload, in bytes", false, num(func(c *Config) *int64 { return &c.MaxUploadBytes })},
	{"QUIRE_LOGIN_MAX_FAILURES", "login-max-failures", "5", "failed sign-ins per account and client address pair within the window before 429 (for that pair only); an account's failures from all addresses past twice this only slow its sign-ins down (1 s doubling to 30 s), never refuse them", false, count(func(c *Config) *int { return &c.LoginFailures })},
	{"QUIRE_LOGIN_MAX_FAILURES_PER_IP", "login-max-failures-per-ip", "20", "failed logins per client address within the window before 429", false, count(func(c *Config) *int { return &c.LoginIPFailures })},
	{"QUIRE_LOGIN_WINDOW", "login-window", "15m", "window of the login throttle", false, dur(func(c *Config) *time.Duration { return &c.LoginWindow })},
	{"QUIRE_METRICS_TOKEN", "metrics-token", "", "bearer token that GET /metrics on QUIRE_ADDR requires, at least 32 bytes; when empty, /metrics is not served there (404)", true, text(func(c *Config) *string { return &c.MetricsToken }, checkSecretLen)},
	{"QUIRE_METRICS_ADDR", "metrics-addr", "", "a separate address (host:port) serving only GET /metrics, for a scraper on a private network; empty means none", false, text(func(c *Config) *string { return &c.MetricsAddr }, checkAddr)},
	{"QUIRE_REQUIRE_IF_MATCH", "require-if-match", "true", "answer 428 to writes to pages, blocks and revisions (PATCH/DELETE page, POST/PUT/PATCH/DELETE blocks, publish, unpublish, restore) that send no If-Match", false, boolean(func(c *Config) *bool { return &c.RequireIfMatch })},
	{"QUIRE_PUBLIC_MAX_AGE", "public-max-age", "30s", "Cache-Control max-age of public delivery (published pages)", false, dur(func(c *Config) *time.Duration { return &c.PublicMaxAge })},
	{"QUIRE_PREVIEW_URL", "preview-url", "", "front-end address of preview links, with {token} (required) and {slug} placeholders, e.g. https://site.example/api/preview?token={token}&slug={slug}; empty means preview answers carry no url", false, text(func(c *Config) *string { return &c.PreviewURL }, checkPreviewURL)},
	{"QUIRE_REVISIONS_KEEP", "revisions-keep", "50", "retention: the newest revisions of each page that quire revisions prune always keeps", false, count(func(c *Config) *int { return &c.RevisionsKeep })},
	{"QUIRE_REVISIONS_KEEP_FOR", "revisions-keep-for", "2160h", "retention: revisions younger than this are always kept (2160h is 90 days); published ones and those of live preview links are kept whatever their age", false, dur(func(c *Config) *time.Duration { return &c.RevisionsMinAge })},
	{"QUIRE_ADMIN_UI", "admin-ui", "true", "serve the browser admin at /admin (false: the API only)", false, boolean(func(c *Config) *bool { return &c.AdminUI })},
	{"QUIRE_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long a graceful shutdown waits for requests in flight", false, dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"QUIRE_MEDIA_TYPES", "media-types", strings.Join(quire.DefaultMediaTypes, ","), "comma-separated media types accepted on upload, as detected from the bytes", false, text(func(c *Config) *string { return &c.MediaTypes }, checkMediaTypes)},
	{"QUIRE_MEDIA_MAX_PIXELS", "media-max-pixels", "40000000", "largest image accepted, in pixels (width × height), so that no upload can make a variant exhaust memory", false, num(func(c *Config) *int64 { return &c.MediaMaxPixels })},
	{"QUIRE_MEDIA_VARIANT_SIZES", "media-variant-sizes", "64,128,256,320,480,640,800,1024,1280,1600,1920,2560", "the only values ?w= and ?h= of image variants accept, comma-separated", false, text(func(c *Config) *string { return &c.MediaVariantSizes }, checkSizes)},
	{"QUIRE_MEDIA_MAX_AGE", "media-max-age", "8760h", "Cache-Control max-age of media files, which are immutable (a deleted file stays in caches that long)", false, dur(func(c *Config) *time.Duration { return &c.MediaMaxAge })},
	{"QUIRE_MEDIA_KEEP_METADATA", "media-keep-metadata", "false", "store uploaded images as they are, EXIF (GPS position, camera serial), XMP, IPTC and text chunks included; by default they are removed", false, boolean(func(c *Config) *bool { return &c.MediaKeepMetadata })},
	{"QUIRE_S3_ENDPOINT", "s3-endpoint", "", "URL of an S3-compatible service (https://s3.eu-west-1.amazonaws.com); set it to keep media in a bucket instead of <data-dir>/media", false, text(func(c *Config) *string { return &c.S3Endpoint }, checkHTTPURL)},
	{"QUIRE_S3_BUCKET", "s3-bucket", "", "bucket for media; it must exist", false, text(func(c *Config) *string { return &c.S3Bucket }, nil)},
	{"QUIRE_S3_REGION", "s3-region", "us-east-1", "region of the bucket", false, text(func(c *Config) *string { return &c.S3Region }, nil)},
	{"QUIRE_S3_ACCESS_KEY", "s3-access-key", "", "access key id for the bucket", false, text(func(c *Config) *string { return &c.S3AccessKey }, nil)},
	{"QUIRE_S3_SECRET_KEY", "s3-secret-key", "", "secret access key for the bucket (prefer QUIRE_S3_SECRET_KEY_FILE)", true, text(func(c *Config) *string { return &c.S3SecretKey }, nil)},
	{"QUIRE_S3_PATH_STYLE", "s3-path-style", "false", "address the bucket in the path (http://host/bucket/key), as most self-hosted S3 services need", false, boolean(func(c *Config) *bool { return &c.S3PathStyle })},
	{"QUIRE_S3_PREFIX", "s3-prefix", "", "key prefix inside the bucket, so that several installations can share one", false, text(func(c *Config) *string { return &c.S3Prefix }, nil)},
	{"QUIRE_WEBHOOK_ALLOW_PRIVATE", "webhook-allow-private", "false", "let webhook deliveries reach loopback, private and link-local addresses (tests, private networks); off, they are refused at connect time", false, boolean(func(c *Config) *bool { return &c.WebhookAllowPrivate })},
	{"QUIRE_WEBHOOK_DISABLE_AFTER", "webhook-disable-after", "72h", "a webhook endpoint whose every delivery failed for this long is switched off", false, dur(func(c *Config) *time.Duration { return &c.WebhookDisableAfter })},
	{"QUIRE_WEBHOOK_RETRY_BASE", "webhook-retry-base", "30s", "wait before the first retry of a failed webhook delivery; each retry waits twice as long, at most 6h", false, dur(func(c *Config) *time.Duration { return &c.WebhookRetryBase })},
	{"QUIRE_JOB_RESCUE_AFTER", "job-rescue-after", "1m", "a background job still running after this long is taken to be abandoned by a node that died and is run again, here or on another node; keep it above the longest job (a 10 s webhook delivery)", false, dur(func(c *Config) *time.Duration { return &c.JobRescueAfter })},
	{"QUIRE_EVENT_RETENTION", "event-retention", "168h", "how long recorded events are kept, so that live streams can resume (Last-Event-ID) after a disconnection", false, dur(func(c *Config) *time.Duration { return &c.EventRetention })},
	{"QUIRE_SMTP_URL", "smtp-url", "", "outgoing mail server: smtp://user:password@host:587 (STARTTLS required), smtps://…:465 (TLS), or smtp://host:25?tls=none (in the clear, a local relay only); empty means no mail: admins hand over reset and invitation links themselves", true, text(func(c *Config) *string { return &c.SMTPURL }, checkSMTPURL)},
	{"QUIRE_MAIL_FROM", "mail-from", "", "sender of outgoing mail, e.g. Quire <cms@example.com>; required with QUIRE_SMTP_URL", false, text(func(c *Config) *string { return &c.MailFrom }, checkMailFrom)},
	{"QUIRE_PUBLIC_URL", "public-url", "", "address where people reach Quire (https://cms.example.com); links in mail (password reset, invitations) point to its /admin screens; required with QUIRE_SMTP_URL", false, text(func(c *Config) *string { return &c.PublicURL }, checkPublicURL)},
	{"QUIRE_WEBHOOK_SECRET_GRACE", "webhook-secret-grace", "24h", "after a webhook secret rotation, how long the old secret signs beside the new one", false, dur(func(c *Config) *time.Duration { return &c.WebhookSecretGrace })},
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

// UsageError is a mistake in the command line itself: an unknown flag, a
// bad flag value, a stray argument. The flag set has already explained it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Load registers every setting as a flag on fs, parses args, and fills a
// Config from, in order of precedence: the flag, the environment variable
// (through getenv), the file named by VAR_FILE for secrets, the default.
// Every bad value is reported, each naming its variable or flag. --help
// prints every setting with its variable and default and returns an error
// wrapping flag.ErrHelp.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	fromFlag := map[string]string{}
	for _, s := range settings {
		fs.Func(s.flag, s.help(), func(v string) error {
			if v == "" && s.def != "" {
				return errors.New("must not be empty")
			}
			if err := s.set(&Config{}, v); err != nil {
				return err // the flag package names the flag
			}
			fromFlag[s.flag] = v
			return nil
		})
	}
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return Config{}, &UsageError{err}
	}
	if fs.NArg() > 0 {
		// Not echoed: a stray argument may well be a password typed in the wrong place.
		err := fmt.Errorf("unexpected argument after the flags (%d of them); settings are flags such as --addr", fs.NArg())
		fmt.Fprintln(fs.Output(), err)
		return Config{}, &UsageError{err}
	}
	c := Default()
	var errs []error
	for _, s := range settings {
		if v, ok := fromFlag[s.flag]; ok {
			_ = s.set(&c, v) // checked while parsing
			continue
		}
		v, name, err := lookup(s, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return c, errors.Join(append(errs, c.validate())...)
}

// help is the flag's usage line: what it means, its variable and default.
func (s setting) help() string {
	vars := s.env
	if s.secret {
		vars += " or " + s.env + "_FILE"
	}
	return fmt.Sprintf("%s\nenv %s, default %q", s.usage, vars, s.def)
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: %s [flags]\n\n", fs.Name())
	fmt.Fprint(w, "Every setting is an environment variable with a flag twin; the flag wins.\n"+
		"A secret may instead be read from the file named by the variable plus _FILE\n"+
		"(one trailing newline is ignored).\n\n")
	fs.PrintDefaults()
}

// lookup returns the environment's value of s, from VAR or, for a secret,
// from the file named by VAR_FILE; name is the variable it came from.
func lookup(s setting, getenv func(string) string) (value, name string, err error) {
	v := getenv(s.env)
	if !s.secret {
		return v, s.env, nil
	}
	fileVar := s.env + "_FILE"
	path := getenv(fileVar)
	switch {
	case path == "":
		return v, s.env, nil
	case v != "":
		return "", fileVar, fmt.Errorf("%s and %s are both set; set only one", s.env, fileVar)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fileVar, fmt.Errorf("%s: %w", fileVar, err)
	}
	v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", fileVar, fmt.Errorf("%s: %s is empty", fileVar, path)
	}
	return v, fileVar, nil
}

// validate checks what involves more than one setting.
func (c Config) validate() error {
	if c.MaxPageBody < c.MaxBodyBytes {
		return errors.New("QUIRE_MAX_PAGE_BODY_BYTES must be at least QUIRE_MAX_BODY_BYTES: a page may always carry what any other body may")
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		return errors.New("QUIRE_METRICS_ADDR must differ from QUIRE_ADDR")
	}
	if c.S3Endpoint != "" && (c.S3Bucket == "" || c.S3AccessKey == "" || c.S3SecretKey == "") {
		return errors.New("QUIRE_S3_ENDPOINT needs QUIRE_S3_BUCKET, QUIRE_S3_ACCESS_KEY and QUIRE_S3_SECRET_KEY")
	}
	if c.SMTPURL != "" && (c.MailFrom == "" || c.PublicURL == "") {
		return errors.New("QUIRE_SMTP_URL needs QUIRE_MAIL_FROM and QUIRE_PUBLIC_URL (the sender, and where the links in mail point)")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return errors.New("QUIRE_ADMIN_EMAIL and QUIRE_ADMIN_PASSWORD must be set together (or neither)")
	}
	if c.AdminEmail == "" {
		return nil
	}
	var v quire.Validator
	quire.ValidateEmail(&v, "QUIRE_ADMIN_EMAIL", quire.NormalizeEmail(c.AdminEmail))
	quire.ValidatePassword(&v, "QUIRE_ADMIN_PASSWORD", c.AdminPassword)
	if err := v.Err(); err != nil {
		var qe *quire.Error
		errors.As(err, &qe)
		var errs []error
		for _, f := range qe.Fields {
			errs = append(errs, fmt.Errorf("%s: %s", f.Field, f.Message))
		}
		return errors.Join(errs...)
	}
	return nil
}

// Level parses LogLevel.
func (c Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("QUIRE_LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return l, nil
}

// IsPostgres reports whether DatabaseURL selects PostgreSQL; the store
// treats anything else as a SQLite file path.
func (c Config) IsPostgres() bool { return isPostgresURL(c.DatabaseURL) }

// DSN is the database to open: the PostgreSQL URL, or the SQLite file in the data directory.
func (c Config) DSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "quire.db")
}

// LogValue is the redacted form of the configuration, safe to log: no
// password, signing key or database credentials.
func (c Config) LogValue() slog.Value {
	database, target := "sqlite", c.DSN()
	if c.IsPostgres() {
		database, target = "postgres", redactURL(c.DatabaseURL)
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database", database),
		slog.String("database_url", target),
		slog.String("admin_email", c.AdminEmail),
		slog.Bool("jwt_secret_set", c.JWTSecret != ""),
		slog.String("log_format", c.LogFormat),
		slog.String("log_level", c.LogLevel),
		slog.String("trusted_proxies", c.TrustedProxies),
		slog.String("cors_origins", c.CORSOrigins),
		slog.Duration("access_token_ttl", c.AccessTokenTTL),
		slog.Duration("refresh_token_ttl", c.RefreshTokenTTL),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Int64("max_page_body_bytes", c.MaxPageBody),
		slog.Int64("max_upload_bytes", c.MaxUploadBytes),
		slog.Bool("metrics_token_set", c.MetricsToken != ""),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("require_if_match", c.RequireIfMatch),
		slog.String("media_storage", c.MediaStorage()),
		slog.Bool("webhook_allow_private", c.WebhookAllowPrivate),
		slog.Bool("admin_ui", c.AdminUI),
		slog.String("mail", c.mailTarget()),
	)
}

// mailTarget names the SMTP server without its password, for logs.
func (c Config) mailTarget() string {
	t, err := mail.ParseURL(c.SMTPURL)
	if c.SMTPURL == "" || err != nil {
		return "off"
	}
	return t.String() + " from " + c.MailFrom
}

// MediaStorage names where media bytes go, for logs: "local <dir>" or
// "s3 <endpoint>/<bucket>" (never credentials).
func (c Config) MediaStorage() string {
	if c.S3Endpoint == "" {
		return "local " + filepath.Join(c.DataDir, "media")
	}
	return "s3 " + redactURL(c.S3Endpoint) + " bucket " + c.S3Bucket
}

// MediaTypeList is QUIRE_MEDIA_TYPES as a list.
func (c Config) MediaTypeList() []string { return splitComma(c.MediaTypes) }

// VariantSizeList is QUIRE_MEDIA_VARIANT_SIZES as numbers.
func (c Config) VariantSizeList() []int {
	var out []int
	for _, s := range splitComma(c.MediaVariantSizes) {
		n, _ := strconv.Atoi(s) // checked when loaded
		out = append(out, n)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactURL drops the password from a database URL, in the user info and
// in any query parameter that could hold one.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// --- parsers ---

func text(p func(*Config) *string, check func(string) error) func(*Config, string) error {
	return func(c *Config, v string) error {
		if check != nil && v != "" {
			if err := check(v); err != nil {
				return err
			}
		}
		*p(c) = v
		return nil
	}
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 15m or 720h, got %q", v)
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

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

var mediaTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$`)

func checkMediaTypes(v string) error {
	list := splitComma(v)
	if len(list) == 0 {
		return errors.New("must list at least one media type")
	}
	for _, t := range list {
		if !mediaTypeRE.MatchString(t) {
			return fmt.Errorf("%q is not a media type such as image/png", t)
		}
	}
	return nil
}

func checkSizes(v string) error {
	list := splitComma(v)
	if len(list) == 0 || len(list) > 32 {
		return errors.New("must list from 1 to 32 sizes")
	}
	for _, s := range list {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 8192 {
			return fmt.Errorf("%q is not a size from 1 to 8192", s)
		}
	}
	return nil
}

func checkSMTPURL(v string) error {
	_, err := mail.ParseURL(v)
	return err
}

func checkMailFrom(v string) error {
	if _, err := netmail.ParseAddress(v); err != nil {
		return errors.New("must be an address such as cms@example.com or Quire <cms@example.com>")
	}
	return nil
}

func checkPublicURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be an http:// or https:// address without credentials or query, such as https://cms.example.com")
	}
	return nil
}

func checkHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errors.New("must be an http:// or https:// URL without credentials, such as https://s3.eu-west-1.amazonaws.com")
	}
	return nil
}

// checkPreviewURL accepts an absolute http(s) URL template that places the
// token somewhere: without {token} the front-end could not fetch anything.
func checkPreviewURL(v string) error {
	if !strings.Contains(v, "{token}") {
		return errors.New("must contain {token}, e.g. https://site.example/api/preview?token={token}&slug={slug}")
	}
	u, err := url.Parse(quire.PreviewURL(v, "t", "s"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errors.New("must be an http:// or https:// URL without credentials, e.g. https://site.example/api/preview?token={token}&slug={slug}")
	}
	return nil
}

func checkAddr(v string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return fmt.Errorf("must be host:port such as 127.0.0.1:8080 or :8080, got %q", v)
	}
	return nil
}

// checkDatabaseURL accepts a postgres:// URL or a SQLite path; it never
// echoes the value, which may hold a password.
func checkDatabaseURL(v string) error {
	if isPostgresURL(v) {
		if _, err := url.Parse(v); err != nil {
			return errors.New("is not a valid postgres:// URL")
		}
		return nil
	}
	if scheme, _, ok := strings.Cut(v, "://"); ok && scheme != "sqlite" {
		return fmt.Errorf("must be a postgres:// URL or a SQLite file path; the scheme %q is not supported", scheme)
	}
	return nil
}

func checkSecretLen(v string) error {
	if len(v) < 32 {
		return fmt.Errorf("must be at least 32 bytes, got %d", len(v))
	}
	return nil
}

func checkSynchronous(v string) error {
	if v != "full" && v != "normal" {
		return fmt.Errorf("must be full or normal, got %q", v)
	}
	return nil
}

func checkLogFormat(v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("must be text or json, got %q", v)
	}
	return nil
}

func checkLogLevel(v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("must be debug, info, warn or error, got %q", v)
	}
	return nil
}

func checkProxies(v string) error {
	_, err := clientip.ParseTrusted(v)
	return err
}
