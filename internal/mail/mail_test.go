package mail

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/mailtest"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in, addr, user, pass string
		sec                  Security
		bad                  bool
	}{
		{in: "smtp://u:p%40ss@mail.example.com", addr: "mail.example.com:587", user: "u", pass: "p@ss", sec: StartTLS},
		{in: "smtp://mail.example.com:2525", addr: "mail.example.com:2525", sec: StartTLS},
		{in: "smtps://mail.example.com", addr: "mail.example.com:465", sec: ImplicitTLS},
		{in: "smtp://127.0.0.1:1025?tls=none", addr: "127.0.0.1:1025", sec: NoTLS},
		{in: "smtps://mail.example.com?tls=none", bad: true},
		{in: "smtp://mail.example.com?verify=off", bad: true},
		{in: "http://mail.example.com", bad: true},
		{in: "mail.example.com:25", bad: true},
		{in: "", bad: true},
	} {
		tr, err := ParseURL(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted", c.in)
			} else if strings.Contains(err.Error(), "p@ss") {
				t.Errorf("%q: the error shows the password", c.in)
			}
			continue
		}
		if err != nil || tr.Addr != c.addr || tr.Username != c.user || tr.Password != c.pass || tr.Security != c.sec {
			t.Errorf("%q: %+v, %v", c.in, tr, err)
		}
		if strings.Contains(tr.String(), "p@ss") {
			t.Errorf("%q: String shows the password", c.in)
		}
	}
}

// rig is a database, an outbox sending to a Mailpit and a job queue.
type rig struct {
	db     *store.DB
	dsn    string
	outbox *Outbox
	queue  *jobs.Queue
	mp     *mailtest.Server
}

func newRig(t *testing.T, dsn, smtpURL string, mp *mailtest.Server) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenWith(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := ParseURL(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := New(Config{Transport: tr, From: "Site <site@example.com>", InstanceKey: []byte("0123456789abcdef0123456789abcdef"),
		RetryBase: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	o.Register(workers)
	q, err := jobs.New(db, workers, jobs.Config{PollInterval: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	o.Use(q)
	return &rig{db: db, dsn: dsn, outbox: o, queue: q, mp: mp}
}

func (r *rig) start(t *testing.T) {
	t.Helper()
	if err := r.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.queue.Stop(ctx)
	})
}

func (r *rig) queueMail(t *testing.T, to, link string, rollback bool) {
	t.Helper()
	errRollback := errors.New("roll back")
	err := r.db.InTx(context.Background(), func(tx *store.Tx) error {
		if err := r.outbox.Queue(context.Background(), tx, "password_reset", to, map[string]any{"Site": "Docs & Co", "Email": to, "Link": link}); err != nil {
			return err
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if rollback && !errors.Is(err, errRollback) || !rollback && err != nil {
		t.Fatal(err)
	}
}

// A mail queued in a transaction that rolls back is never sent; one that
// commits is sent, even when it was queued while no worker ran (a node
// that crashed before sending): the job waits in the database.
func TestOutboxSendsOnlyCommittedMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		mp := mailtest.Start(t)
		r := newRig(t, dsn, mp.URL(), mp)
		r.queueMail(t, "gone@example.com", "https://x.example/secret-gone", true)
		r.queueMail(t, "kept@example.com", "https://x.example/qpr_secret-kept", false)
		// The queued job does not hold the link in the clear.
		if args := jobArgs(t, dsn); strings.Contains(args, "secret-kept") || args == "" {
			t.Fatalf("job args hold the message in the clear (or are missing): %q", args)
		}
		r.start(t)
		got := mp.WaitFor(t, "kept@example.com", 1, 10*time.Second)[0]
		if got.Subject != "Reset your Docs & Co password" || got.From.Address != "site@example.com" ||
			!strings.Contains(got.Text, "https://x.example/qpr_secret-kept") || !strings.Contains(got.HTML, `href="https://x.example/qpr_secret-kept"`) ||
			!strings.Contains(got.HTML, "Docs &amp; Co") {
			t.Fatalf("mail %+v", got)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(mp.Messages(t)); n != 1 {
			t.Fatalf("%d mails, want 1 (the rolled-back one must not go out)", n)
		}
	})
}

// Without ?tls=none the connection must be upgraded with STARTTLS: a
// server that does not offer it gets nothing, and the job gives up.
func TestOutboxRequiresStartTLS(t *testing.T) {
	mp := mailtest.Start(t)
	tr, err := ParseURL("smtp://" + mp.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Render("password_reset", "a@example.com", map[string]any{"Site": "S", "Email": "a@example.com", "Link": "https://l"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.encode("s@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	err = tr.send(context.Background(), "s@example.com", "a@example.com", raw)
	if !errors.Is(err, errPermanent) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("send without STARTTLS: %v", err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("%d mails went out in the clear", n)
	}
}

// Credentials in the URL are used (PLAIN, over loopback only).
func TestOutboxAuthenticates(t *testing.T) {
	mp := mailtest.Start(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	r := newRig(t, testdb.SQLite(t), "smtp://user:secret@"+mp.SMTPAddr+"?tls=none", mp)
	r.start(t)
	r.queueMail(t, "auth@example.com", "https://x.example/l", false)
	mp.WaitFor(t, "auth@example.com", 1, 10*time.Second)
}

// jobArgs is the args of every River job, concatenated.
func jobArgs(t *testing.T, dsn string) string {
	t.Helper()
	driver, source := "sqlite", "file:"+dsn
	if strings.HasPrefix(dsn, "postgres") {
		driver, source = "pgx", dsn
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT CAST(args AS TEXT) FROM river_job`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		all.WriteString(s)
	}
	return all.String()
}
