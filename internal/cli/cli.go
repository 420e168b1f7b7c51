// Package cli is the quire command line: serve, migrate, user create and
// audit verify. It parses arguments, loads the configuration and calls the
// same services the HTTP API uses.
//
// Exit codes: 0 success, 1 failure (bad setting, invalid input, a broken
// audit chain, a database error), 2 a mistake in the command line itself.
package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// Env is what the command line reads and writes; tests pass their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

const usage = `quire — a headless CMS in one binary

Usage:
  quire serve [flags]                      run the server (quire serve --help lists every setting)
  quire migrate up|status [flags]          apply or list database migrations
  quire user create --email E --role R     create a user; the password is read from stdin or a prompt
  quire audit verify [flags]               check the audit log's hash chain
  quire audit prune --before DATE          remove older entries, keeping the chain verifiable
  quire audit export [--since DATE]        stream entries with their hashes as JSON lines
  quire media gc [--dry-run]               remove stored bytes no media record owns (--min-age 1h)
  quire revisions prune [--dry-run]        remove revisions the retention policy no longer keeps
  quire export --out FILE                 write the whole instance to one portable archive
  quire import [--media-to s3|local] FILE  load an archive into an empty database
  quire backup --out FILE                 back up a running instance (a portable archive) without stopping it
  quire restore [--force] FILE             restore a backup into an empty database (--force: empty it first)
  quire help                               show this text

Every command takes the settings of quire serve (QUIRE_DATABASE_URL,
QUIRE_DATA_DIR, ...) as environment variables or flags.
`

// Main runs the command in args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	name := strings.Join(args[:min(2, len(args))], " ")
	switch {
	case args[0] == "serve":
		name = "serve"
		err = serve(ctx, args[1:], env)
	case name == "migrate up", name == "migrate status":
		err = migrate(ctx, args[1], args[2:], env)
	case name == "user create":
		err = userCreate(ctx, args[2:], env)
	case name == "audit verify":
		err = auditVerify(ctx, args[2:], env)
	case name == "audit prune":
		err = auditPrune(ctx, args[2:], env)
	case name == "audit export":
		err = auditExport(ctx, args[2:], env)
	case name == "media gc":
		err = mediaGC(ctx, args[2:], env)
	case name == "revisions prune":
		err = revisionsPrune(ctx, args[2:], env)
	case args[0] == "export":
		name = "export"
		err = exportCmd(ctx, args[1:], env)
	case args[0] == "import":
		name = "import"
		err = importCmd(ctx, args[1:], env)
	case args[0] == "backup":
		name = "backup"
		err = backupCmd(ctx, args[1:], env)
	case args[0] == "restore":
		name = "restore"
		err = restoreCmd(ctx, args[1:], env)
	case args[0] == "help", args[0] == "-h", args[0] == "-help", args[0] == "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "quire: unknown command %q\n\n%s", strings.Join(args, " "), usage)
		return 2
	}
	var exit exitError
	var usageErr *config.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exit):
		return int(exit)
	case errors.As(err, &usageErr):
		fmt.Fprintf(env.Stderr, "quire %s: %v\nRun 'quire %s --help' for its flags.\n", name, err, name)
		return 2
	}
	fmt.Fprintf(env.Stderr, "quire: %v\n", err)
	return 1
}

// exitError ends the program with a code after the command printed its own message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// load parses the command's flags and the environment into a Config. The
// flag package's output is held back: --help goes to stdout in full, and a
// flag mistake is reported by Main in one line instead of the whole listing.
func load(name string, args []string, env Env, extra func(*flag.FlagSet)) (config.Config, error) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("quire "+name, flag.ContinueOnError)
	fs.SetOutput(&out)
	if extra != nil {
		extra(fs)
	}
	cfg, err := config.Load(fs, args, env.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = out.WriteTo(env.Stdout)
	}
	return cfg, err
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level, _ := cfg.Level()
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, env Env) error {
	cfg, err := load("serve", args, env, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stderr)
	s, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("QUIRE_ADDR: %w", err)
	}
	return s.Serve(ctx, ln)
}

// openExisting opens the configured database for a command that only
// reads it, refusing to create an empty SQLite file at a mistyped path.
func openExisting(ctx context.Context, cfg config.Config) (*store.DB, error) {
	if !cfg.IsPostgres() {
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.DSN(), "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s (set QUIRE_DATA_DIR or QUIRE_DATABASE_URL, or run `quire migrate up`): %w", path, err)
		}
	}
	return store.Open(ctx, cfg.DSN())
}

func migrate(ctx context.Context, sub string, args []string, env Env) error {
	cfg, err := load("migrate "+sub, args, env, nil)
	if err != nil {
		return err
	}
	var db *store.DB
	if sub == "up" {
		db, err = store.Open(ctx, cfg.DSN())
	} else {
		db, err = openExisting(ctx, cfg)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "up" {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied " + m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(env.Stdout, "%05d  %-40s %s\n", m.Version, m.Name, state)
	}
	return nil
}

func userCreate(ctx context.Context, args []string, env Env) error {
	var email, role, name string
	cfg, err := load("user create", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email of the new user (required)")
		fs.StringVar(&role, "role", "viewer", "admin, editor, author or viewer")
		fs.StringVar(&name, "display-name", "", "display name")
	})
	if err != nil {
		return err
	}
	// Check what the flags say before asking for a password, so that a
	// typo does not cost a prompt, and before touching the database.
	var v quire.Validator
	quire.ValidateEmail(&v, "email", quire.NormalizeEmail(email))
	quire.ValidateRole(&v, "role", quire.Role(role))
	quire.ValidateDisplayName(&v, "display_name", name)
	if err := v.Err(); err != nil {
		return fieldErrors(env, err)
	}
	password, err := readPassword(env)
	if err != nil {
		return err
	}
	quire.ValidatePassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return fieldErrors(env, err)
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	users := service.NewUsers(db, auth.NewHasher(auth.DefaultArgon2), nil) // a server sees the change within service.AccountCacheTTL
	u, err := users.CreateSystem(ctx, service.NewUser{Email: email, Password: password, Role: quire.Role(role), DisplayName: name})
	if err != nil {
		if quire.ErrorCode(err) == quire.EINTERNAL {
			return err
		}
		return fieldErrors(env, err)
	}
	fmt.Fprintf(env.Stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

// fieldErrors prints a domain error, one line per invalid field, and ends
// the command with exit code 1.
func fieldErrors(env Env, err error) error {
	var qe *quire.Error
	if !errors.As(err, &qe) || len(qe.Fields) == 0 {
		fmt.Fprintf(env.Stderr, "quire: %s\n", quire.ErrorMessage(err))
		return exitError(1)
	}
	for _, f := range qe.Fields {
		fmt.Fprintf(env.Stderr, "quire: %s %s\n", f.Field, f.Message)
	}
	return exitError(1)
}

func auditVerify(ctx context.Context, args []string, env Env) error {
	cfg, err := load("audit verify", args, env, nil)
	if err != nil {
		return err
	}
	audit, closeDB, err := openAudit(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := audit.VerifySystem(ctx)
	if err != nil {
		return err
	}
	if !res.OK {
		fmt.Fprintf(env.Stdout, "FAILED: entry %s (seq %d) does not verify: %s\n%d entries checked\n", res.FirstBadID, res.FirstBad, res.Reason, res.Entries)
		return exitError(1)
	}
	fmt.Fprintf(env.Stdout, "ok: %d entries verified\n", res.Entries)
	return nil
}
