// Package server assembles Quire: it opens the store, runs migrations,
// loads or creates the signing key, bootstraps the first admin, wires the
// services into the HTTP API, and runs the HTTP server with graceful
// shutdown. Tests start it on :0 in a temp directory.
package server

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/admin"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/clientip"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/delivery"
	"github.com/quirecms/quire/internal/eventstream"
	"github.com/quirecms/quire/internal/httpapi"
	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/mail"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/webhook"
)

// publicCacheTTL is a safety net: this node's writes invalidate its cache
// at once, other nodes' writes reach it through the event log within a
// second (see followEvents); the TTL only bounds staleness if that fails.
const publicCacheTTL = 5 * time.Minute

// Server is a running Quire instance.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	DB    *store.DB
	Users *service.Users
	Auth  *service.Auth
	Audit *service.Audit
	Media *service.Media
	Jobs  *jobs.Queue
	// Events follows the event log: live streams, other nodes' changes.
	Events *eventstream.Hub
	API    *httpapi.API
	// metricsAddr is where QUIRE_METRICS_ADDR listens, once Serve runs.
	metricsAddr atomic.Value
	Pages       *service.Pages
	// Settings is the settings service (the admin and tests use it too).
	Settings *service.Settings
	// Recovery is password reset (forgot, reset, admin-made links).
	Recovery *service.Recovery
	sender   *webhook.Sender
	// stopDispatch ends the webhook dispatcher started by StartJobs and
	// waits for it.
	stopDispatch func()
}

// Options are knobs that only tests and tools turn.
type Options struct {
	// Argon2 overrides the password hashing cost; zero means auth.DefaultArgon2.
	Argon2 auth.Argon2Params
	// JobPollInterval and WebhookRetryBase shorten the job queue's idle
	// poll and the webhook backoff; zero means the defaults.
	JobPollInterval  time.Duration
	WebhookRetryBase time.Duration
	// MailRetryBase shortens the mail retry backoff; ForgotDuration the
	// least time a password reset request takes (zero: the defaults).
	MailRetryBase  time.Duration
	ForgotDuration time.Duration
	// JobRescueAfter shortens how long a job left running by a dead node
	// waits to be taken over (production: 1 minute, jobs.Config).
	JobRescueAfter time.Duration
}

// New opens the database, migrates it and builds the services and API.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*Server, error) {
	db, err := store.OpenWith(ctx, cfg.DSN(), store.Options{Timeout: cfg.DBTimeout, SQLiteSynchronous: cfg.SQLiteSync,
		SQLiteCacheBytes: cfg.SQLiteCache, SQLiteMmapBytes: cfg.SQLiteMmap})
	if err != nil {
		return nil, err
	}
	s, err := build(ctx, cfg, log, opts, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options, db *store.DB) (*Server, error) {
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	key, err := signingKey(ctx, cfg, db, true)
	if err != nil {
		return nil, err
	}
	issuer, err := auth.NewIssuer(key, "quire", "quire-api", cfg.AccessTokenTTL, nil)
	if err != nil {
		return nil, err
	}
	params := opts.Argon2
	if params == (auth.Argon2Params{}) {
		params = auth.DefaultArgon2
	}
	hasher := auth.NewHasher(params)
	trusted, err := clientip.ParseTrusted(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("QUIRE_TRUSTED_PROXIES: %w", err)
	}
	accounts := service.NewAccountCache(service.AccountCacheTTL, nil)
	totpSealer, err := service.NewTOTPSealer(key)
	if err != nil {
		return nil, err
	}
	relyingParty, err := service.NewWebAuthn(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, DB: db,
		Users: service.NewUsers(db, hasher, accounts),
		Auth: service.NewAuth(db, service.AuthConfig{Hasher: hasher, Issuer: issuer, RefreshTTL: cfg.RefreshTokenTTL,
			AccountFailures: cfg.LoginFailures, AddrFailures: cfg.LoginIPFailures, Window: cfg.LoginWindow, Accounts: accounts, TOTP: totpSealer, WebAuthn: relyingParty,
			Failures: loginFailures(db), Log: log}),
		Audit: service.NewAudit(db, checkpointKey(key)),
	}
	deliveryPages := delivery.NewPages(db, publicCacheTTL)
	deliveryPages.SetBudget(cfg.PageCacheBytes)
	pages := service.NewPages(db, deliveryPages.Invalidate)
	outbox, err := newOutbox(cfg, key, opts.MailRetryBase, log)
	if err != nil {
		return nil, err
	}
	sender, err := buildJobs(s, key, opts, pages, outbox)
	if err != nil {
		return nil, err
	}
	s.Recovery = service.NewRecovery(db, service.RecoveryConfig{Hasher: hasher, Accounts: accounts, Mail: outbox, PublicURL: cfg.PublicURL,
		MinDuration: opts.ForgotDuration, Log: log,
		Failures: loginFailures(db)})
	settings := service.NewSettings(db)
	s.Events = eventstream.New(db, eventstream.Config{Retention: cfg.EventRetention, Log: log,
		OnChange: followEvents(db.Dialect(), deliveryPages, settings)})
	files, err := OpenMediaStorage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.Media = service.NewMedia(db, service.MediaConfig{Storage: files, MaxUploadBytes: cfg.MaxUploadBytes,
		AllowedTypes: cfg.MediaTypeList(), MaxPixels: cfg.MediaMaxPixels, VariantSizes: cfg.VariantSizeList(),
		KeepMetadata: cfg.MediaKeepMetadata, Invalidate: deliveryPages.Invalidate, Log: log})
	tokens := service.NewTokens(db)
	twoFactor := service.NewTwoFactor(db, s.Auth)
	invites, sessions := service.NewInvitations(db, s.Recovery), service.NewSessions(db, accounts)
	passkeys := service.NewPasskeys(db, s.Auth)
	s.Pages, s.Settings = pages, settings
	s.API = httpapi.New(httpapi.Deps{
		Media: s.Media, MaxUpload: cfg.MaxUploadBytes, MediaMaxAge: cfg.MediaMaxAge, Previews: service.NewPreviews(db, cfg.PreviewURL),
		Pages: pages, Delivery: deliveryPages, PublicMaxAge: cfg.PublicMaxAge,
		Auth: s.Auth, Users: s.Users, Tokens: tokens, Recovery: s.Recovery,
		Invites: invites, Sessions: sessions, TwoFactor: twoFactor, Passkeys: passkeys, Audit: s.Audit, Settings: settings,
		Webhooks: service.NewWebhooks(db, sender, cfg.WebhookSecretGrace), Events: s.Events,
		Ready: func(r *http.Request) error { return db.Ready(r.Context()) },
		Log:   log, Registry: prometheus.NewRegistry(), Trusted: trusted,
		Origins: splitList(cfg.CORSOrigins), MaxBody: cfg.MaxBodyBytes, MaxPageBody: cfg.MaxPageBody,
		MetricsToken: cfg.MetricsToken, OptionalIfMatch: !cfg.RequireIfMatch,
	})
	// The browser admin runs behind the API's middleware (request ids and
	// audit metadata) and calls the same services.
	if cfg.AdminUI {
		adm, err := admin.New(admin.Deps{Auth: s.Auth, Users: s.Users, Tokens: tokens, Audit: s.Audit, Settings: settings,
			Pages: pages, Media: s.Media, Invites: invites, Recovery: s.Recovery, Sessions: sessions, Passkeys: passkeys, Trusted: trusted, Log: log, MaxUpload: cfg.MaxUploadBytes,
			TwoFactor: twoFactor, Route: httpapi.SetRoute})
		if err != nil {
			return nil, err
		}
		s.API.Mount(admin.Prefix, adm)
		s.API.Mount(admin.Prefix+"/", adm)
	}
	if err := s.bootstrapAdmin(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// buildJobs makes the durable job queue with its workers (webhook
// deliveries, scheduled publishing, mail) and the webhook sender, which
// makes deliveries from the event log (StartJobs runs it).
func buildJobs(s *Server, instanceKey []byte, opts Options, pages *service.Pages, outbox *mail.Outbox) (*webhook.Sender, error) {
	box, err := webhook.NewBox(instanceKey)
	if err != nil {
		return nil, err
	}
	sender := webhook.New(s.DB, box, webhook.Config{AllowPrivate: s.cfg.WebhookAllowPrivate, DisableAfter: s.cfg.WebhookDisableAfter,
		RetryBase: cmp.Or(opts.WebhookRetryBase, s.cfg.WebhookRetryBase), Log: s.log})
	workers := river.NewWorkers()
	sender.Register(workers)
	pages.EnableScheduling(workers)
	outbox.Register(workers)
	retention, err := service.NewRetention(s.DB, quire.RetentionPolicy{KeepLast: s.cfg.RevisionsKeep, KeepFor: s.cfg.RevisionsMinAge})
	if err != nil {
		return nil, err
	}
	retention.EnablePruning(workers, s.log)
	if s.Jobs, err = jobs.New(s.DB, workers, jobs.Config{PollInterval: opts.JobPollInterval, RescueAfter: cmp.Or(opts.JobRescueAfter, s.cfg.JobRescueAfter),
		Periodic: []*river.PeriodicJob{service.PrunePeriodic()}, Log: s.log}); err != nil {
		return nil, err
	}
	sender.Use(s.Jobs)
	pages.UseJobs(s.Jobs)
	outbox.Use(s.Jobs)
	retention.UseJobs(s.Jobs)
	s.sender = sender
	return sender, nil
}

// loginFailures is where the login throttles (and the password reset and
// invitation link limits) count: in the database on PostgreSQL, which
// several nodes share; in memory on SQLite (one node).
func loginFailures(db *store.DB) func(string) auth.Failures {
	if db.Dialect() != store.Postgres {
		return nil
	}
	return func(scope string) auth.Failures { return db.LoginFailures(scope) }
}

// followEvents returns what a node does with events found in the log. On
// PostgreSQL several nodes share the database: a public change committed
// by any node (this one included, harmlessly) drops the affected cache
// entries here, so that every node serves it within a second. SQLite has
// one node, whose writes already invalidate its caches.
func followEvents(d store.Dialect, pages *delivery.Pages, settings *service.Settings) func([]*quire.Event) {
	if d != store.Postgres {
		return nil
	}
	return func(evs []*quire.Event) {
		var slugs []string
		all, publicSettings := false, false
		for _, ev := range evs {
			if !ev.Public {
				continue
			}
			switch ev.ResourceType {
			case "page":
				slugs = append(slugs, ev.Slug)
				if ev.PreviousSlug != "" {
					slugs = append(slugs, ev.PreviousSlug)
				}
			case "media":
				all = true
			case "setting":
				publicSettings = true
			}
		}
		if all {
			pages.InvalidateAll()
		} else if len(slugs) > 0 {
			pages.Invalidate(slugs...)
		}
		if publicSettings {
			settings.InvalidatePublic()
		}
	}
}

// OpenMediaStorage opens where media bytes are kept: the S3 bucket when
// QUIRE_S3_ENDPOINT is set, else the data directory, where every media
// key (media/<id>/…) lands in <data-dir>/media.
func OpenMediaStorage(ctx context.Context, cfg config.Config) (storage.Storage, error) {
	if cfg.S3Endpoint == "" {
		return storage.NewLocal(cfg.DataDir)
	}
	return storage.NewS3(ctx, storage.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
		AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PathStyle: cfg.S3PathStyle, Prefix: cfg.S3Prefix})
}

// bootstrapAdmin creates the configured admin on an empty database, once;
// without one configured it says in one line how to create the first admin.
func (s *Server) bootstrapAdmin(ctx context.Context) error {
	n, err := s.DB.Reader().CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	if s.cfg.AdminEmail == "" {
		s.log.Warn("no users yet: create the first admin with `quire user create --email you@example.com --role admin` (password read from stdin)")
		return nil
	}
	u, err := s.Users.CreateSystem(ctx, service.NewUser{Email: s.cfg.AdminEmail, Password: s.cfg.AdminPassword, Role: quire.RoleAdmin})
	if quire.ErrorCode(err) == quire.ECONFLICT {
		return nil // another node bootstrapped it first
	}
	if err != nil {
		return fmt.Errorf("bootstrap the admin from QUIRE_ADMIN_EMAIL and QUIRE_ADMIN_PASSWORD: %w", err)
	}
	s.log.Info("created the first admin", "email", u.Email, "user_id", u.ID)
	return nil
}

// signingKey is QUIRE_JWT_SECRET, else a key generated once and kept in
// the database (PostgreSQL, shared by every node) or in the data directory
// with mode 0600 (SQLite).
func signingKey(ctx context.Context, cfg config.Config, db *store.DB, create bool) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	generate := func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	if !create {
		generate = nil // read only: a tool must not mint a key that the server never used
	}
	var secret string
	if db.Dialect() == store.Postgres {
		var err error
		if secret, err = db.InstanceSecret(ctx, "jwt_signing_key", generate); err != nil {
			return nil, err
		}
	} else {
		path := filepath.Join(cfg.DataDir, "jwt.key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			secret = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist) && generate == nil:
			return nil, errNoKey
		case errors.Is(err, os.ErrNotExist):
			if secret, err = generate(); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, err
			}
			// O_EXCL: if two processes race, one fails instead of both writing.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, fmt.Errorf("store signing key: %w", err)
			}
			_, werr := f.WriteString(secret + "\n")
			if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
				return nil, fmt.Errorf("store signing key: %w", err)
			}
		default:
			return nil, fmt.Errorf("read signing key: %w", err)
		}
	}
	key, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(key) < 32 {
		return nil, errors.New("the stored signing key is damaged; remove it (every session will end) or set QUIRE_JWT_SECRET")
	}
	return key, nil
}

// checkpointKey derives the audit checkpoint key from the signing key, so
// that one secret protects both and neither can be used for the other.
func checkpointKey(signingKey []byte) []byte {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte("quire audit checkpoint key v1"))
	return m.Sum(nil)
}

var errNoKey = errors.New("no signing key yet")

// AuditKey returns the audit checkpoint key of the instance behind db, for
// command-line tools that work on the database without a server. With
// create false it only reads: it returns nil when the instance has no key
// yet (then no checkpoint can verify, which verification reports), rather
// than minting a key that the server never used, say in a mistyped
// QUIRE_DATA_DIR.
func AuditKey(ctx context.Context, cfg config.Config, db *store.DB, create bool) ([]byte, error) {
	key, err := signingKey(ctx, cfg, db, create)
	if errors.Is(err, errNoKey) || (err != nil && !create && db.Dialect() == store.Postgres && errors.Is(err, store.ErrNoSecret)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return checkpointKey(key), nil
}

// Serve accepts connections on ln and runs background jobs until ctx is
// done, then shuts down gracefully: the HTTP servers first (no new work
// comes in), then the jobs (running ones finish or are handed back to the
// queue), the database last (Close). With QUIRE_METRICS_ADDR set it also
// serves /metrics there, and stops when either server fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.StartJobs(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return err
	}
	return errors.Join(s.serveHTTP(ctx, ln), s.stopJobs())
}

func (s *Server) serveHTTP(ctx context.Context, ln net.Listener) error {
	if s.cfg.MetricsAddr == "" {
		return s.serve(ctx, ln, s.API, s.Events.Close, "quire is listening", "config", s.cfg)
	}
	mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("QUIRE_METRICS_ADDR: %w", err)
	}
	s.metricsAddr.Store(mln.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		err := s.serve(ctx, mln, s.API.MetricsHandler(), nil, "serving /metrics")
		cancel()
		errc <- err
	}()
	err = s.serve(ctx, ln, s.API, s.Events.Close, "quire is listening", "config", s.cfg)
	cancel()
	return errors.Join(err, <-errc)
}

// MetricsAddr is the address /metrics is served on when QUIRE_METRICS_ADDR
// is set (its port resolved), once Serve has started; else "".
func (s *Server) MetricsAddr() string {
	a, _ := s.metricsAddr.Load().(string)
	return a
}

// serve runs one HTTP server on ln until ctx is done; its start is logged
// as msg with attrs. onShutdown, if not nil, runs when the shutdown begins
// (live event streams never end on their own).
func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler, onShutdown func(), msg string, attrs ...any) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info(msg, append([]any{"addr", ln.Addr().String()}, attrs...)...)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "addr", ln.Addr().String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(<-errc, http.ErrServerClosed) || err != nil {
		return err
	}
	return nil
}

func (s *Server) stopJobs() error {
	if s.stopDispatch != nil {
		s.stopDispatch()
		s.stopDispatch = nil
	}
	s.Events.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.Jobs.Stop(ctx)
}

// StartJobs runs the background work — the job queue and the event log
// follower — without serving HTTP (Serve calls it; so do tests that drive
// the API directly); StopJobs stops it.
func (s *Server) StartJobs(ctx context.Context) error {
	go s.Events.Run(ctx)
	if err := s.Jobs.Start(ctx); err != nil {
		return err
	}
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.stopDispatch = func() { cancel(); <-done }
	go func() {
		defer close(done)
		s.sender.Run(dctx, s.Events.Wake)
	}()
	return nil
}

// StopJobs stops the background workers started by StartJobs.
func (s *Server) StopJobs() error { return s.stopJobs() }

// Close releases the database.
func (s *Server) Close() error { return s.DB.Close() }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
