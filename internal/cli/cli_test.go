package cli_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/quirecms/quire/internal/cli"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Password hashing here uses the real OWASP argon2 cost (the CLI has no
// knob for it), about 50 ms a hash and more under -race: each `user create`
// costs two (the hasher's timing dummy and the password), so these tests
// create as few users as they can.
const password = "a long enough password"

// syncBuffer is a bytes.Buffer that a running server may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// result is what one run of the command line left behind.
type result struct {
	code           int
	stdout, stderr string
}

// instance is the environment of one Quire installation: a data directory
// and a database, as the variables an operator would set.
type instance struct {
	t   *testing.T
	dsn string
	env map[string]string
}

func newInstance(t *testing.T, dsn string) *instance {
	return &instance{t: t, dsn: dsn, env: map[string]string{
		"QUIRE_DATA_DIR":     t.TempDir(),
		"QUIRE_DATABASE_URL": dsn,
	}}
}

// run calls cli.Main as `quire args...` with stdin as standard input.
func (in *instance) run(stdin string, args ...string) result {
	in.t.Helper()
	var stdout, stderr syncBuffer
	code := cli.Main(context.Background(), args, in.envFor(strings.NewReader(stdin), &stdout, &stderr))
	return result{code, stdout.String(), stderr.String()}
}

func (in *instance) envFor(stdin *strings.Reader, stdout, stderr *syncBuffer) cli.Env {
	return cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return in.env[k] }}
}

// must runs the command and fails the test unless it exits 0.
func (in *instance) must(stdin string, args ...string) result {
	in.t.Helper()
	r := in.run(stdin, args...)
	if r.code != 0 {
		in.t.Fatalf("quire %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func expect(t *testing.T, r result, code int, stream string, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	out := r.stdout
	if stream == "stderr" {
		out = r.stderr
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not contain %q:\n%s", stream, w, out)
		}
	}
}

// openStore opens the instance's database directly, as an inspector would.
func (in *instance) openStore() *store.DB {
	in.t.Helper()
	db, err := store.Open(context.Background(), in.dsn)
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := newInstance(t, dsn)
		r := in.must("", "migrate", "up")
		expect(t, r, 0, "stdout", "00001", "applied")
		r = in.must("", "migrate", "status")
		expect(t, r, 0, "stdout", "00001", "00001_init.sql")
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if !strings.Contains(line, "applied") {
				t.Errorf("after migrate up, %q is not applied", line)
			}
		}
		// Running it again is harmless: migrations run on every start.
		in.must("", "migrate", "up")
	})
}

func TestMigrateStatusDoesNotCreateADatabase(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	r := in.run("", "migrate", "status")
	expect(t, r, 1, "stderr", "no database at", in.dsn)
	if _, err := os.Stat(in.dsn); err == nil {
		t.Errorf("migrate status created %s", in.dsn)
	}
}

func TestUserCreate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := newInstance(t, dsn)
		r := in.must(password+"\n", "user", "create", "--email", "A@Example.com", "--role", "admin", "--display-name", "Ada")
		expect(t, r, 0, "stdout", "created admin a@example.com")

		u, _, err := in.openStore().Reader().UserByEmail(context.Background(), "a@example.com")
		if err != nil {
			t.Fatalf("the user is not in the database: %v", err)
		}
		if u.Role != "admin" || u.DisplayName != "Ada" || !u.Active {
			t.Errorf("stored user = %+v", u)
		}
		expect(t, in.run("", "audit", "verify"), 0, "stdout", "ok: 1 entries verified")

		r = in.run(password+"\n", "user", "create", "--email", "a@example.com", "--role", "editor")
		expect(t, r, 1, "stderr", "quire: ")
		if strings.Contains(r.stderr, "internal") {
			t.Errorf("a duplicate email should be reported as such:\n%s", r.stderr)
		}
		expect(t, in.run("", "audit", "verify"), 0, "stdout", "ok: 1 entries verified")
	})
}

func TestUserCreateRefusesBadInput(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"short password", "short\n", []string{"--email", "a@example.com", "--role", "admin"}, 1, []string{"password", "at least 10 characters"}},
		{"invalid email", password + "\n", []string{"--email", "not-an-email", "--role", "admin"}, 1, []string{"email", "not a valid email"}},
		{"missing email", password + "\n", []string{"--role", "admin"}, 1, []string{"email is required"}},
		{"invalid role", password + "\n", []string{"--email", "a@example.com", "--role", "owner"}, 1, []string{"role", "admin, editor, author, viewer"}},
		{"no password on stdin", "", []string{"--email", "a@example.com", "--role", "admin"}, 1, []string{"no password on stdin"}},
		{"empty line on stdin", "\n", []string{"--email", "a@example.com", "--role", "admin"}, 1, []string{"no password on stdin"}},
		{"password too long", strings.Repeat("x", 5000) + "\n", []string{"--email", "a@example.com", "--role", "admin"}, 1, []string{"password", "at most 1024"}},
		// There is no way to pass a password as an argument: it would end
		// up in shell history and in every process listing.
		{"--password flag", "", []string{"--email", "a@example.com", "--password", "a long enough password"}, 2, []string{"flag provided but not defined: -password"}},
		{"stray argument", password + "\n", []string{"--email", "a@example.com", "a long enough password"}, 2, []string{"unexpected argument"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t, testdb.SQLite(t))
			r := in.run(tc.stdin, append([]string{"user", "create"}, tc.args...)...)
			expect(t, r, tc.code, "stderr", tc.want...)
			if strings.Contains(r.stderr, password) || strings.Contains(r.stdout, password) {
				t.Errorf("the password was echoed:\n%s%s", r.stdout, r.stderr)
			}
			// Bad input changes nothing: not even an empty database is made.
			if entries, _ := os.ReadDir(in.env["QUIRE_DATA_DIR"]); len(entries) > 0 {
				t.Errorf("the data directory is not empty: %v", entries)
			}
			if _, err := os.Stat(in.dsn); err == nil {
				t.Errorf("%s was created", in.dsn)
			}
		})
	}
}

func TestAuditVerify(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		in := newInstance(t, dsn)
		in.must("", "migrate", "up")
		expect(t, in.run("", "audit", "verify"), 0, "stdout", "ok: 0 entries verified")

		in.must(password+"\n", "user", "create", "--email", "a@example.com", "--role", "admin")
		expect(t, in.run("", "audit", "verify"), 0, "stdout", "ok: 1 entries verified")

		entries, err := in.openStore().Reader().AuditEntries(context.Background(), store.AuditFilter{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries: %v, %v", entries, err)
		}
		// Someone with the database owner's rights edits the entry.
		testdb.Tamper(t, dsn, `UPDATE audit_log SET details = '{"x":1}' WHERE seq = 1`)
		r := in.run("", "audit", "verify")
		expect(t, r, 1, "stdout", "FAILED", entries[0].ID, "seq 1", "hash does not match")
	})
}

func TestAuditVerifyWithoutADatabase(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	expect(t, in.run("", "audit", "verify"), 1, "stderr", "no database at")
}

func TestUsage(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	for _, args := range [][]string{{}, {"frobnicate"}, {"migrate"}, {"migrate", "down"}, {"user"}, {"audit", "erase"}} {
		r := in.run("", args...)
		expect(t, r, 2, "stderr", "Usage:", "quire serve", "quire user create")
		if len(args) > 0 {
			expect(t, r, 2, "stderr", "unknown command")
		}
	}
	expect(t, in.run("", "help"), 0, "stdout", "Usage:", "quire migrate up|status", "quire audit verify")
}

func TestServeHelp(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	r := in.run("", "serve", "--help")
	expect(t, r, 0, "stdout", "Usage: quire serve [flags]", "-addr", "QUIRE_ADDR", `default "127.0.0.1:8080"`,
		"QUIRE_DATA_DIR", `default "./quire-data"`, "QUIRE_DATABASE_URL_FILE", "QUIRE_JWT_SECRET_FILE",
		"QUIRE_ADMIN_PASSWORD_FILE", "QUIRE_LOG_FORMAT", "QUIRE_SHUTDOWN_TIMEOUT")
	if r.stderr != "" {
		t.Errorf("--help wrote to stderr: %s", r.stderr)
	}

	r = in.run("", "user", "create", "--help")
	expect(t, r, 0, "stdout", "-email", "-role", "-display-name", "QUIRE_DATABASE_URL")
	if strings.Contains(r.stdout, "\n  -password") {
		t.Errorf("user create offers a password flag:\n%s", r.stdout)
	}
}

func TestBadSettingIsReported(t *testing.T) {
	in := newInstance(t, testdb.SQLite(t))
	in.env["QUIRE_ACCESS_TOKEN_TTL"] = "soon"
	expect(t, in.run("", "serve"), 1, "stderr", "QUIRE_ACCESS_TOKEN_TTL")
	delete(in.env, "QUIRE_ACCESS_TOKEN_TTL")
	expect(t, in.run("", "serve", "--log-level", "loud"), 2, "stderr", "-log-level", "quire serve --help")
}
