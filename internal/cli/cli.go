// Package cli is the quire command line: serve, migrate, user create and
// audit verify. It parses arguments, loads the configuration and calls the
// same services the HTTP API uses.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/quirecms/quire"
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
`

// Main runs the command in args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch cmd := strings.Join(args[:min(2, len(args))], " "); {
	case args[0] == "serve":
		err = serve(ctx, args[1:], env)
	case cmd == "migrate up", cmd == "migrate status":
		err = migrate(ctx, args[1], args[2:], env)
	case cmd == "user create":
		err = userCreate(ctx, args[2:], env)
	case cmd == "audit verify":
		err = auditVerify(ctx, args[2:], env)
	case args[0] == "help", args[0] == "-h", args[0] == "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "quire: unknown command %q\n\n%s", strings.Join(args, " "), usage)
		return 2
	}
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exit):
		return int(exit)
	}
	fmt.Fprintf(env.Stderr, "quire: %v\n", err)
	return 1
}

// exitError ends the program with a code after the command printed its own message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func load(name string, args []string, env Env, extra func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet("quire "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	if extra != nil {
		extra(fs)
	}
	return config.Load(fs, args, env.Getenv)
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
		return err
	}
	return s.Serve(ctx, ln)
}

func migrate(ctx context.Context, sub string, args []string, env Env) error {
	cfg, err := load("migrate "+sub, args, env, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DSN())
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
	if email == "" {
		return errors.New("--email is required")
	}
	password, err := readPassword(env)
	if err != nil {
		return err
	}
	s, err := server.New(ctx, cfg, newLogger(cfg, io.Discard), server.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.Users.CreateSystem(ctx, service.NewUser{Email: email, Password: password, Role: quire.Role(role), DisplayName: name})
	if err != nil {
		var qe *quire.Error
		if errors.As(err, &qe) && len(qe.Fields) > 0 {
			for _, f := range qe.Fields {
				fmt.Fprintf(env.Stderr, "quire: %s %s\n", f.Field, f.Message)
			}
			return exitError(1)
		}
		return errors.New(quire.ErrorMessage(err))
	}
	fmt.Fprintf(env.Stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

// readPassword prompts twice on a terminal; otherwise it reads one line
// from stdin. Passwords never come from flags, which end up in shell
// history and process listings.
func readPassword(env Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Repeat password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4*quire.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin (pipe it in, e.g. `printf '%s\\n' \"$PW\" | quire user create …`)")
	}
	return line, nil
}

func auditVerify(ctx context.Context, args []string, env Env) error {
	cfg, err := load("audit verify", args, env, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Reader().VerifyAudit(ctx)
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
