package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// A schedule that names a revision publishes that revision, not the
// working copy of the moment; GET /pages/{id} shows the pending schedule;
// retention keeps the named revision while it is scheduled.
func TestScheduledPublishOfNamedRevision(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		page := e.createPage(tok, "named", "Named", blk("paragraph", map[string]any{"text": "approved text"}))
		var rev quire.Revision
		e.do("POST", "/api/v1/pages/"+page.ID+"/revisions", tok, map[string]any{"note": "approved"}).want(t, 201).json(t, &rev)
		// Work goes on after the approved version, with newer drafts.
		cur := e.getPage(tok, page.ID)
		e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", tok, map[string]any{"blocks": []any{blk("paragraph", map[string]any{"text": "work in progress"})}}, ifMatch(cur.Version)...).want(t, 200)
		for range 3 {
			e.do("POST", "/api/v1/pages/"+page.ID+"/revisions", tok, nil).want(t, 201)
		}

		soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		for _, c := range []map[string]any{
			{"unpublish_at": soon, "revision_id": rev.ID},                               // nothing to publish it at
			{"publish_at": soon, "revision_id": "0190f5d2-0000-7000-8000-000000000000"}, // not a revision
			{"publish_at": soon, "revision_id": strings.Repeat("x", 65)},
		} {
			p := e.schedule(tok, page, c).want(t, 422).problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != "revision_id" {
				t.Fatalf("%v: %+v", c, p)
			}
		}
		other := e.createPage(tok, "other", "Other")
		var otherRev quire.Revision
		e.do("POST", "/api/v1/pages/"+other.ID+"/revisions", tok, nil).want(t, 201).json(t, &otherRev)
		e.schedule(tok, page, map[string]any{"publish_at": soon, "revision_id": otherRev.ID}).want(t, 422)

		e.schedule(tok, page, map[string]any{"publish_at": soon, "revision_id": rev.ID, "note": "go live"}).want(t, 200)
		got := e.getPage(tok, page.ID)
		if got.Schedule == nil || got.Schedule.RevisionID != rev.ID || got.Schedule.PublishAt == nil {
			t.Fatalf("page carries schedule %+v", got.Schedule)
		}

		// The strictest policy keeps only the newest revision, and the
		// scheduled one.
		r, err := service.NewRetention(e.srv.DB, quire.RetentionPolicy{KeepLast: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Prune(context.Background(), false, nil); err != nil {
			t.Fatal(err)
		}
		revs := e.revisionList(tok, page.ID)
		if len(revs) != 2 || revs[1].ID != rev.ID {
			t.Fatalf("after prune: %+v", revs)
		}

		seq := e.events(0)[len(e.events(0))-1].Seq
		e.schedule(tok, page, map[string]any{"publish_at": time.Now().Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano), "revision_id": rev.ID}).want(t, 200)
		e.waitPublic("named", true, 30*time.Second)
		if body := string(e.public("named").Body); !strings.Contains(body, "approved text") || strings.Contains(body, "work in progress") {
			t.Fatalf("public page %s", body)
		}
		got = e.getPage(tok, page.ID)
		if got.Schedule != nil || got.PublishedRevisionID == nil || *got.PublishedRevisionID != rev.ID || !got.HasUnpublishedChanges {
			t.Fatalf("after the publish: schedule %+v, published %v, changes %v", got.Schedule, got.PublishedRevisionID, got.HasUnpublishedChanges)
		}
		if len(got.Blocks) != 1 || !strings.Contains(string(got.Blocks[0].Content), "work in progress") {
			t.Fatalf("the working copy changed: %+v", got.Blocks)
		}
		var pubs []*quire.Event
		for _, ev := range e.events(seq) {
			if ev.Type == quire.EventPagePublished {
				pubs = append(pubs, ev)
			}
		}
		if len(pubs) != 1 || pubs[0].Revision != rev.Number {
			t.Fatalf("published events %+v", pubs)
		}
		if n := e.countAudit("page.publish", page.ID); n != 1 {
			t.Fatalf("%d publish entries", n)
		}
		if revs := e.revisionList(tok, page.ID); len(revs) != 2 || revs[1].Status != "published" {
			t.Fatalf("revisions after: %+v", revs)
		}
		e.wantAuditOK(tok)
	})
}
