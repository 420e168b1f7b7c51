package httpapi_test

import (
	"context"
	"testing"

	"github.com/quirecms/quire"
)

// events returns every recorded event after seq, oldest first.
func (e *env) events(after int64) []*quire.Event {
	e.t.Helper()
	evs, err := e.srv.DB.Reader().EventsAfter(context.Background(), after, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// wantEvents checks the types (and for pages the slug and public flag) of
// the events recorded after seq, and returns the last seq.
func (e *env) wantEvents(after int64, want ...quire.Event) int64 {
	e.t.Helper()
	got := e.events(after)
	if len(got) != len(want) {
		var types []string
		for _, g := range got {
			types = append(types, g.Type)
		}
		e.t.Fatalf("events after %d = %v, want %d", after, types, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.Type || g.ResourceID != w.ResourceID || g.Slug != w.Slug || g.PreviousSlug != w.PreviousSlug ||
			g.Revision != w.Revision || g.Public != w.Public {
			e.t.Fatalf("event %d = %+v, want %+v", i, *g, w)
		}
		if g.Seq != after+int64(i)+1 {
			e.t.Fatalf("event %d has seq %d, want %d (no gaps)", i, g.Seq, after+int64(i)+1)
		}
	}
	if len(got) == 0 {
		return after
	}
	return got[len(got)-1].Seq
}

// Every write path records its event with the change; a refused write
// records none.
func TestEventsRecordedWithEachChange(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		seq := e.wantEvents(0)
		page := e.createPage(tok, "hello", "Hello")
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPageCreated, ResourceID: page.ID, Slug: "hello"})

		e.do("PATCH", "/api/v1/pages/"+page.ID, tok, map[string]any{"title": "Hi"}, ifMatch(page.Version)...).want(t, 200)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPageUpdated, ResourceID: page.ID, Slug: "hello"})

		// A stale If-Match changes nothing and records nothing.
		e.do("PATCH", "/api/v1/pages/"+page.ID, tok, map[string]any{"title": "Stale"}, ifMatch(page.Version)...).want(t, 412)
		seq = e.wantEvents(seq)

		rev := e.publishPage(tok, page.ID)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPagePublished, ResourceID: page.ID, Slug: "hello", Revision: rev.Number, Public: true})

		cur := e.getPage(tok, page.ID)
		e.do("PATCH", "/api/v1/pages/"+page.ID, tok, map[string]any{"slug": "hello-there"}, ifMatch(cur.Version)...).want(t, 200)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPageUpdated, ResourceID: page.ID, Slug: "hello-there", PreviousSlug: "hello", Public: true})

		cur = e.getPage(tok, page.ID)
		e.do("POST", "/api/v1/pages/"+page.ID+"/unpublish", tok, nil, ifMatch(cur.Version)...).want(t, 200)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPageUnpublished, ResourceID: page.ID, Slug: "hello-there", Revision: rev.Number, Public: true})

		cur = e.getPage(tok, page.ID)
		e.do("DELETE", "/api/v1/pages/"+page.ID, tok, nil, ifMatch(cur.Version)...).want(t, 204)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventPageDeleted, ResourceID: page.ID, Slug: "hello-there"})

		e.do("PUT", "/api/v1/settings/site.title", tok, map[string]any{"value": "Mine", "public": true}).want(t, 201)
		e.do("PUT", "/api/v1/settings/secret.flag", tok, map[string]any{"value": 1}).want(t, 201)
		seq = e.wantEvents(seq,
			quire.Event{Type: quire.EventSettingChanged, ResourceID: "site.title", Slug: "site.title", Public: true},
			quire.Event{Type: quire.EventSettingChanged, ResourceID: "secret.flag", Slug: "secret.flag"})
		e.do("DELETE", "/api/v1/settings/site.title", tok, nil).want(t, 204)
		seq = e.wantEvents(seq, quire.Event{Type: quire.EventSettingDeleted, ResourceID: "site.title", Slug: "site.title", Public: true})

		// Reads and a viewer's refused write record nothing.
		_, viewer := e.newUser(quire.RoleViewer)
		e.do("POST", "/api/v1/pages", viewer.AccessToken, map[string]any{"slug": "nope", "title": "No"}).want(t, 403)
		e.do("GET", "/api/v1/pages", tok, nil).want(t, 200)
		e.wantEvents(seq)
	})
}
