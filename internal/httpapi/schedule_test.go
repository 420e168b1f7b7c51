package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/testdb"
)

func (e *env) schedule(token string, page quire.Page, body map[string]any) *resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/pages/"+page.ID+"/schedule", token, body, ifMatch(e.getPage(token, page.ID).Version)...)
}

// countAudit counts entries with action on resource id.
func (e *env) countAudit(action, id string) int {
	n := 0
	for _, a := range e.auditLog() {
		if a.Action == action && a.ResourceID == id {
			n++
		}
	}
	return n
}

// waitPublished waits until the public API serves slug (or, with
// want=false, no longer does).
func (e *env) waitPublic(slug string, want bool, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := e.public(slug)
		if (r.Status == 200) == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("public %s: %d after %s, want published=%v", slug, r.Status, within, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestScheduleValidation(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		page := e.createPage(tok, "later", "Later")
		past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		sooner := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{}, "publish_at"},
			{map[string]any{"publish_at": past}, "publish_at"},
			{map[string]any{"unpublish_at": past}, "unpublish_at"},
			{map[string]any{"publish_at": soon, "unpublish_at": sooner}, "unpublish_at"},
		} {
			p := e.schedule(tok, page, c.body).want(t, 422).problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
				t.Fatalf("%v: %+v", c.body, p)
			}
		}
		e.do("POST", "/api/v1/pages/"+page.ID+"/schedule", tok, map[string]any{"publish_at": soon}, ifMatch(page.Version+7)...).want(t, 412)
		_, author := e.newUser(quire.RoleAuthor)
		e.do("POST", "/api/v1/pages/"+page.ID+"/schedule", author.AccessToken, map[string]any{"publish_at": soon}).want(t, 403)
		e.do("GET", "/api/v1/pages/"+page.ID+"/schedule", tok, nil).want(t, 404)
		if n := e.countAudit("page.schedule", page.ID); n != 0 {
			t.Fatalf("%d schedule entries from refused requests", n)
		}
	})
}

// A scheduled publish happens at its time, once, with its revision, audit
// entry and event; the schedule is then gone. A scheduled unpublish
// follows. Cancelling stops one that has not happened.
func TestScheduledPublishAndUnpublish(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		page := e.createPage(tok, "launch", "Launch", blk("paragraph", map[string]any{"text": "v1"}))
		at := time.Now().Add(700 * time.Millisecond)
		var s quire.PageSchedule
		e.schedule(tok, page, map[string]any{"publish_at": at.UTC().Format(time.RFC3339Nano), "unpublish_at": at.Add(2 * time.Second).UTC().Format(time.RFC3339Nano), "note": "launch"}).
			want(t, 200).json(t, &s)
		if s.PublishAt == nil || s.UnpublishAt == nil {
			t.Fatalf("schedule %+v", s)
		}
		e.do("GET", "/api/v1/pages/"+page.ID+"/schedule", tok, nil).want(t, 200)
		seq := e.events(0)[len(e.events(0))-1].Seq
		e.wantPublic404("launch")
		// Wait for the publish by its audit entry rather than by the public
		// page: on a loaded machine the publish and the unpublish two
		// seconds later can both run between two polls of the public API.
		for deadline := time.Now().Add(30 * time.Second); e.countAudit("page.publish", page.ID) == 0; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no scheduled publish after 30s")
			}
		}
		if time.Now().Before(at) {
			t.Fatal("published before its time")
		}
		e.waitPublic("launch", false, 30*time.Second)
		time.Sleep(300 * time.Millisecond)
		if n := e.countAudit("page.publish", page.ID); n != 1 {
			t.Fatalf("%d publish entries, want 1", n)
		}
		if n := e.countAudit("page.unpublish", page.ID); n != 1 {
			t.Fatalf("%d unpublish entries, want 1", n)
		}
		var types []string
		for _, ev := range e.events(seq) {
			types = append(types, ev.Type)
		}
		if len(types) != 2 || types[0] != quire.EventPagePublished || types[1] != quire.EventPageUnpublished {
			t.Fatalf("events %v", types)
		}
		revs := e.revisionList(tok, page.ID)
		if len(revs) != 1 || revs[0].Note != "launch" {
			t.Fatalf("revisions %+v", revs)
		}
		e.do("GET", "/api/v1/pages/"+page.ID+"/schedule", tok, nil).want(t, 404)
		e.wantAuditOK(tok)

		// Cancelled before its time: nothing happens.
		e.schedule(tok, page, map[string]any{"publish_at": time.Now().Add(400 * time.Millisecond).UTC().Format(time.RFC3339Nano)}).want(t, 200)
		e.do("DELETE", "/api/v1/pages/"+page.ID+"/schedule", tok, nil, ifMatch(e.getPage(tok, page.ID).Version)...).want(t, 204)
		// Replaced: only the new time counts.
		e.schedule(tok, page, map[string]any{"publish_at": time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)}).want(t, 200)
		e.schedule(tok, page, map[string]any{"publish_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)}).want(t, 200)
		// River promotes due jobs every few seconds: give the stale jobs time to run (and do nothing).
		time.Sleep(7 * time.Second)
		e.wantPublic404("launch")
		if n := e.countAudit("page.publish", page.ID); n != 1 {
			t.Fatalf("%d publish entries after a cancel and a replacement, want 1", n)
		}
	})
}

// A time that passed while no node ran is acted on right after start.
func TestScheduledPublishAfterDowntime(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		startMu.Lock()
		e := newJobsEnv(t, dsn, nil)
		startMu.Unlock()
		tok := e.admin().AccessToken
		page := e.createPage(tok, "overnight", "Overnight")
		e.schedule(tok, page, map[string]any{"publish_at": time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)}).want(t, 200)
		if err := e.srv.StopJobs(); err != nil { // "everything is down"
			t.Fatal(err)
		}
		time.Sleep(800 * time.Millisecond)
		e.wantPublic404("overnight")
		// A new node (the old one is gone) starts on the same database.
		b := secondNode(t, e)
		b.startJobs()
		b.waitPublic("overnight", true, 30*time.Second)
		if n := b.countAudit("page.publish", page.ID); n != 1 {
			t.Fatalf("%d publish entries, want 1", n)
		}
	})
}

// Two nodes both running jobs: each scheduled publish happens once.
func TestScheduledPublishOnceWithTwoNodes(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	startMu.Lock()
	a := newJobsEnv(t, dsn, nil)
	startMu.Unlock()
	b := secondNode(t, a)
	b.startJobs()
	tok := a.admin().AccessToken
	var pages []quire.Page
	for i := range 6 {
		p := a.createPage(tok, "twin-"+string(rune('a'+i)), "Twin")
		node := a
		if i%2 == 1 {
			node = b
		}
		node.schedule(tok, p, map[string]any{"publish_at": time.Now().Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano)}).want(t, 200)
		pages = append(pages, p)
	}
	for _, p := range pages {
		b.waitPublic(p.Slug, true, 30*time.Second)
	}
	time.Sleep(500 * time.Millisecond)
	for _, p := range pages {
		if n := a.countAudit("page.publish", p.ID); n != 1 {
			t.Fatalf("page %s published %d times", p.Slug, n)
		}
		if revs := a.revisionList(tok, p.ID); len(revs) != 1 {
			t.Fatalf("page %s has %d revisions", p.Slug, len(revs))
		}
	}
}

// secondNode starts another instance on e's database and data directory
// (the same signing key), with its jobs not yet running.
func secondNode(t *testing.T, e *env) *env {
	t.Helper()
	cfg := e.cfg
	// cfg names the admin, who exists already: the second bootstrap does nothing.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log, server.Options{Argon2: auth.FastArgon2,
		JobPollInterval: 50 * time.Millisecond, WebhookRetryBase: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, srv: srv, cfg: cfg, schema: newOpenAPIChecker(t, srv.API)}
}
