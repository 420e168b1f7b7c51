package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/testdb"
)

// Two nodes on one PostgreSQL: a publish, a slug change, an unpublish and
// a public setting change on A are served by B within a second, although
// B had the old answers cached (its cache TTL is minutes).
func TestOtherNodeServesChangesWithinASecond(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	startMu.Lock()
	a := newJobsEnv(t, dsn, nil)
	startMu.Unlock()
	b := secondNode(t, a)
	b.startJobs()
	tok := a.admin().AccessToken

	page := a.createPage(tok, "shared", "Shared", blk("paragraph", map[string]any{"text": "first"}))
	a.publishPage(tok, page.ID)
	within := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: node B still serves the old answer after 1 s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	within("first publish", func() bool { return b.public("shared").Status == 200 })
	// B now has the page cached.
	if r := b.public("shared"); !strings.Contains(string(r.Body), "first") {
		t.Fatalf("B serves %s", r.Body)
	}
	cur := a.getPage(tok, page.ID)
	a.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", tok, map[string]any{"blocks": []any{blk("paragraph", map[string]any{"text": "second"})}}, ifMatch(cur.Version)...).want(t, 200)
	a.publishPage(tok, page.ID)
	within("republish", func() bool { return strings.Contains(string(b.public("shared").Body), "second") })

	cur = a.getPage(tok, page.ID)
	a.do("PATCH", "/api/v1/pages/"+page.ID, tok, map[string]any{"slug": "moved"}, ifMatch(cur.Version)...).want(t, 200)
	within("slug change", func() bool { return b.public("shared").Status == 404 && b.public("moved").Status == 200 })

	cur = a.getPage(tok, page.ID)
	a.do("POST", "/api/v1/pages/"+page.ID+"/unpublish", tok, nil, ifMatch(cur.Version)...).want(t, 200)
	within("unpublish", func() bool { return b.public("moved").Status == 404 })

	a.do("PUT", "/api/v1/settings/site.title", tok, map[string]any{"value": "One", "public": true}).want(t, 201)
	within("public setting", func() bool {
		return strings.Contains(string(b.do("GET", "/api/v1/public/settings", "", nil).Body), "One")
	})
	a.do("PUT", "/api/v1/settings/site.title", tok, map[string]any{"value": "Two"}).want(t, 200)
	within("public setting change", func() bool {
		return strings.Contains(string(b.do("GET", "/api/v1/public/settings", "", nil).Body), "Two")
	})
}

// Two nodes dispatch from one event log: every event reaches an endpoint
// once (one delivery, one request), and events recorded while no node ran
// are delivered when one starts.
func TestWebhookFanOutOnceAcrossNodesAndRestarts(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	startMu.Lock()
	a := newJobsEnv(t, dsn, nil)
	startMu.Unlock()
	tok := a.admin().AccessToken
	rc := newReceiver(t)
	hook := a.createWebhook(tok, rc.URL, "page.published")
	if err := a.srv.StopJobs(); err != nil { // nothing runs: events only accumulate
		t.Fatal(err)
	}
	for i := range 3 {
		p := a.createPage(tok, "down-"+string(rune('a'+i)), "Down")
		a.publishPage(tok, p.ID)
	}
	time.Sleep(300 * time.Millisecond)
	if rc.count() != 0 {
		t.Fatal("delivered while nothing ran")
	}
	b := secondNode(t, a)
	b.startJobs()
	c := secondNode(t, a)
	c.startJobs()
	for i := range 3 {
		p := b.createPage(tok, "up-"+string(rune('a'+i)), "Up")
		c.publishPage(tok, p.ID)
	}
	got := rc.wait(t, 6)
	time.Sleep(500 * time.Millisecond)
	if rc.count() != 6 {
		t.Fatalf("%d requests for 6 events", rc.count())
	}
	seen := map[string]bool{}
	for _, g := range got {
		verify(t, hook.Secret, g)
		if seen[g.Header.Get("webhook-id")] {
			t.Fatalf("event %s delivered twice", g.Header.Get("webhook-id"))
		}
		seen[g.Header.Get("webhook-id")] = true
	}
	if n := len(b.deliveries(tok, hook.ID)); n != 6 {
		t.Fatalf("%d deliveries for 6 events", n)
	}
}
