package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

// sse is one Server-Sent Event as a client parses it.
type sse struct {
	ID, Event, Data string
}

// sseStream reads a live stream over real HTTP.
type sseStream struct {
	resp   *http.Response
	events chan sse
	cancel context.CancelFunc
}

func openStream(t *testing.T, base, path, token string, header ...string) (*sseStream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sseStream{resp: resp, events: make(chan sse, 100), cancel: cancel}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.Data != "" || cur.Event != "" {
					s.events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, "id: "):
				cur.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				cur.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(s.close)
	return s, 200
}

func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next event, failing after a few seconds.
func (s *sseStream) next(t *testing.T) sse {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sse{}
}

// quiet fails if an event arrives within d.
func (s *sseStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(d):
	}
}

func TestEventStream(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		srv := httptest.NewServer(e.srv.API)
		t.Cleanup(srv.Close) // after the streams' cleanups: Close waits for their handlers
		tok := e.admin().AccessToken
		_, viewer := e.newUser(quire.RoleViewer)
		admin, _ := openStream(t, srv.URL, "/api/v1/events", tok)
		view, _ := openStream(t, srv.URL, "/api/v1/events", viewer.AccessToken)
		public, _ := openStream(t, srv.URL, "/api/v1/public/events", "")

		page := e.createPage(tok, "live", "Live")
		rev := e.publishPage(tok, page.ID)
		e.do("PUT", "/api/v1/settings/internal.flag", tok, map[string]any{"value": true}).want(t, 201)

		created := admin.next(t)
		published := admin.next(t)
		setting := admin.next(t)
		if created.Event != quire.EventPageCreated || published.Event != quire.EventPagePublished || setting.Event != quire.EventSettingChanged {
			t.Fatalf("admin saw %v %v %v", created, published, setting)
		}
		var ev quire.Event
		if err := json.Unmarshal([]byte(published.Data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ResourceID != page.ID || ev.Slug != "live" || ev.Revision != rev.Number || strconv.FormatInt(ev.Seq, 10) != published.ID {
			t.Fatalf("event %+v (id %s)", ev, published.ID)
		}
		// A viewer sees pages but not a private setting.
		if v := view.next(t); v.Event != quire.EventPageCreated {
			t.Fatalf("viewer saw %+v", v)
		}
		if v := view.next(t); v.Event != quire.EventPagePublished {
			t.Fatalf("viewer saw %+v", v)
		}
		view.quiet(t, 300*time.Millisecond)
		// The public stream carries only the publish, by slug.
		p := public.next(t)
		if p.Event != quire.EventPagePublished || !strings.Contains(p.Data, `"slug":"live"`) || strings.Contains(p.Data, page.ID) {
			t.Fatalf("public saw %+v", p)
		}
		public.quiet(t, 300*time.Millisecond)

		// Resuming after the first event replays what came after it.
		resumed, _ := openStream(t, srv.URL, "/api/v1/events", tok, "Last-Event-ID", created.ID)
		if r := resumed.next(t); r.Event != quire.EventPagePublished || r.ID != published.ID {
			t.Fatalf("resumed with %+v", r)
		}
		if r := resumed.next(t); r.Event != quire.EventSettingChanged {
			t.Fatalf("resumed with %+v", r)
		}
		// A position older than what is kept gets a reset.
		e.execRaw(`DELETE FROM events WHERE seq < (SELECT MAX(seq) FROM events)`)
		stale, _ := openStream(t, srv.URL, "/api/v1/events", tok, "Last-Event-ID", created.ID)
		if r := stale.next(t); r.Event != "reset" {
			t.Fatalf("stale resume got %+v, want reset", r)
		}
		// Bad resume ids are a 422.
		if _, status := openStream(t, srv.URL, "/api/v1/events", tok, "Last-Event-ID", "abc"); status != 422 {
			t.Fatalf("bad Last-Event-ID: %d", status)
		}
	})
}

// Each user has a bounded number of streams on a node.
func TestEventStreamBound(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		srv := httptest.NewServer(e.srv.API)
		t.Cleanup(srv.Close) // after the streams' cleanups: Close waits for their handlers
		tok := e.admin().AccessToken
		var open []*sseStream
		for range 5 {
			s, status := openStream(t, srv.URL, "/api/v1/events", tok)
			if status != 200 {
				t.Fatalf("stream refused with %d", status)
			}
			open = append(open, s)
		}
		if _, status := openStream(t, srv.URL, "/api/v1/events", tok); status != 429 {
			t.Fatalf("sixth stream: %d, want 429", status)
		}
		open[0].close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, status := openStream(t, srv.URL, "/api/v1/events", tok)
			if status == 200 {
				s.close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a closed stream's slot was not given back")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
