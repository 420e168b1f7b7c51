package service

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// recordingQueue keeps the jobs inserted through it.
type recordingQueue struct{ args []river.JobArgs }

func (q *recordingQueue) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) error {
	q.args = append(q.args, args)
	return nil
}

// The background prune job removes what the retention policy lets go, one
// audit entry per page and run; a run that reaches the end of its time
// slice goes on in a new job from where it stopped; running it again
// removes nothing and writes no audit entry.
func TestPruneJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		u := &quire.User{Email: "prune@example.com", Role: quire.RoleAdmin, Active: true}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "hash") }); err != nil {
			t.Fatal(err)
		}
		p := &quire.Principal{UserID: u.ID, Role: u.Role}
		pages := NewPages(db, nil)
		ids := map[string]bool{}
		for _, slug := range []string{"one", "two", "three"} {
			pg, err := pages.Create(ctx, p, NewPage{Slug: slug, Title: slug, Blocks: []quire.BlockInput{{Type: "paragraph", Content: json.RawMessage(`{"text":"x"}`)}}})
			if err != nil {
				t.Fatal(err)
			}
			for range 4 {
				if _, err := pages.SaveDraft(ctx, p, pg.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
			ids[pg.ID] = true
		}
		r, err := NewRetention(db, quire.RetentionPolicy{KeepLast: 2})
		if err != nil {
			t.Fatal(err)
		}
		q := &recordingQueue{}
		r.UseJobs(q)
		w := &pruneWorker{r: r, slice: 0, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		audits := func() []*quire.AuditEntry {
			es, err := db.Reader().AuditEntries(ctx, store.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var out []*quire.AuditEntry
			for _, e := range es {
				if e.Action == quire.ActionRevisionsPrune {
					out = append(out, e)
				}
			}
			return out
		}

		// A zero slice stops after the first page: each run prunes one page
		// and continues in a new job.
		args := pruneArgs{}
		for run := 1; ; run++ {
			q.args = nil
			if err := w.Work(ctx, &river.Job[pruneArgs]{Args: args}); err != nil {
				t.Fatal(err)
			}
			if got := len(audits()); got != min(run, 3) {
				t.Fatalf("after run %d: %d prune audit entries", run, got)
			}
			if len(q.args) == 0 {
				if run < 3 {
					t.Fatalf("run %d ended the prune early", run)
				}
				break
			}
			if run > 4 || len(q.args) != 1 {
				t.Fatalf("run %d continued with %v", run, q.args)
			}
			args = q.args[0].(pruneArgs)
		}
		for _, e := range audits() {
			var d map[string]any
			_ = json.Unmarshal(e.Details, &d)
			if !ids[e.ResourceID] || d["revisions"] != 2.0 || e.UserID != "" {
				t.Fatalf("audit entry %s %s", e.ResourceID, e.Details)
			}
			delete(ids, e.ResourceID)
			revs, err := db.Reader().Revisions(ctx, e.ResourceID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != 2 || revs[0].Number != 4 || revs[1].Number != 3 {
				t.Fatalf("page %s kept %d revisions", e.ResourceID, len(revs))
			}
		}

		// A whole slice: the next day's run finds nothing.
		w.slice = pruneSlice
		q.args = nil
		if err := w.Work(ctx, &river.Job[pruneArgs]{Args: pruneArgs{}}); err != nil {
			t.Fatal(err)
		}
		if len(audits()) != 3 || len(q.args) != 0 {
			t.Fatalf("second run: %d audit entries, continued %v", len(audits()), q.args)
		}
	})
}

// The day's first prune job also deletes account rows that ended over a
// day ago (links, challenges, sessions with their refresh tokens), and
// leaves the ones that ended since and the live ones.
func TestPruneJobAccountRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		u := &quire.User{Email: "accounts@example.com", Role: quire.RoleEditor, Active: true}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "hash") }); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ends := map[string]time.Time{"old": now.Add(-accountRowsGrace - time.Hour), "recent": now.Add(-time.Hour), "live": now.Add(time.Hour)}
		hash := func(name, kind string) string { return auth.HashSecret(name + kind) }
		sessions := map[string]string{}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for name, end := range ends {
				if err := tx.CreateAccountToken(ctx, &store.AccountToken{Purpose: store.PurposeReset, UserID: u.ID, Email: u.Email, ExpiresAt: end}, hash(name, "link")); err != nil {
					return err
				}
				if err := tx.CreateChallenge(ctx, &store.Challenge{UserID: u.ID, ExpiresAt: end}, hash(name, "challenge")); err != nil {
					return err
				}
				s := &store.Session{UserID: u.ID, ExpiresAt: end}
				if err := tx.CreateSession(ctx, s); err != nil {
					return err
				}
				sessions[name] = s.ID
				if err := tx.AddRefreshToken(ctx, s.ID, hash(name, "refresh"), end); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRetention(db, quire.RetentionPolicy{KeepLast: 2})
		if err != nil {
			t.Fatal(err)
		}
		w := &pruneWorker{r: r, slice: pruneSlice, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := w.Work(ctx, &river.Job[pruneArgs]{Args: pruneArgs{}}); err != nil {
			t.Fatal(err)
		}
		rd := db.Reader()
		for name := range ends {
			_, e1 := rd.AccountTokenByHash(ctx, store.PurposeReset, hash(name, "link"))
			_, e2 := rd.ChallengeByHash(ctx, hash(name, "challenge"))
			_, e3 := rd.Session(ctx, sessions[name])
			_, e4 := rd.RefreshTokenByHash(ctx, hash(name, "refresh"))
			for i, err := range []error{e1, e2, e3, e4} {
				gone := quire.ErrorCode(err) == quire.ENOTFOUND || quire.ErrorCode(err) == quire.EUNAUTHORIZED
				if err != nil && !gone {
					t.Fatal(err)
				}
				if gone != (name == "old") {
					t.Errorf("%s row %d: gone %v", name, i, gone)
				}
			}
		}
	})
}
