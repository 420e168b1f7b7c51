package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
	"github.com/quirecms/quire/internal/testdb"
)

// Benchmarks of the paths that matter at real size: 10,000 published
// pages seeded straight through the store, request logging (JSON,
// formatted then discarded) and metrics on, as in production. They run
// only with -bench:
//
//	go test -bench . -benchmem -run '^$' ./internal/httpapi/
//
// and on PostgreSQL too when QUIRE_TEST_DATABASE_URL is set. Each op is
// one request through the whole handler (middleware, router, handler),
// without a network; allocs/op includes building the request with
// http.NewRequest (3 allocations).

const (
	benchPages  = 10_000
	benchBlocks = 8   // per seeded page: about 2 KB of public JSON
	benchHot    = 100 // slugs the cache-hit benchmark cycles through
	editBlocks  = 50  // blocks of the page the editor benchmarks work on
)

func BenchmarkPages(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchPagesOn(b, testdb.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchPagesOn(b, testdb.Postgres(b)) })
}

func benchPagesOn(b *testing.B, dsn string) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir, cfg.DatabaseURL = b.TempDir(), dsn
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := loadtest.NewFixture(ctx, cfg, log, benchPages, benchBlocks)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Server.Close() })
	h := &benchClient{api: f.Server.API, sink: newSink()}

	login, _ := json.Marshal(map[string]string{"email": f.Email, "password": f.Password})
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	h.decode(b, h.do(b, "POST", "/api/v1/auth/login", login, nil, 200), &tokens)
	auth := http.Header{"Authorization": {"Bearer " + tokens.AccessToken}}

	body, _ := json.Marshal(map[string]any{"slug": "bench/fifty-blocks", "title": "Fifty blocks", "blocks": loadtest.Blocks(1, editBlocks)})
	var page struct {
		ID string `json:"id"`
	}
	h.decode(b, h.do(b, "POST", "/api/v1/pages", body, auth, 201), &page)
	replace, _ := json.Marshal(map[string]any{"blocks": loadtest.Blocks(2, editBlocks)})

	public := func(slug string) string { return "/api/v1/public/pages/" + slug }
	b.Run("public_by_slug_hit", func(b *testing.B) {
		hot := f.Slugs[:benchHot]
		for _, slug := range hot {
			h.do(b, "GET", public(slug), nil, nil, 200)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			h.do(b, "GET", public(hot[i%len(hot)]), nil, nil, 200)
			i++
		}
	})
	b.Run("public_by_slug_cold", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			slug := f.Slugs[i%len(f.Slugs)]
			f.Server.API.Delivery.Invalidate(slug)
			h.do(b, "GET", public(slug), nil, nil, 200)
			i++
		}
	})
	// The lists, first page and 5,000 rows down (the cursor found by
	// walking there first): a cached public list and the admin list.
	deep := func(path string, hdr http.Header) string {
		cursor := ""
		for range 50 {
			var l struct {
				NextCursor string `json:"next_cursor"`
			}
			u := path + "?limit=100"
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			h.decode(b, h.do(b, "GET", u, nil, hdr, 200), &l)
			cursor = l.NextCursor
		}
		return path + "?limit=20&cursor=" + cursor
	}
	for _, l := range []struct {
		name, path string
		hdr        http.Header
	}{
		{"public_list_hit", "/api/v1/public/pages?limit=20", nil},
		{"public_list_deep_hit", deep("/api/v1/public/pages", nil), nil},
		{"admin_list", "/api/v1/pages?limit=20", auth},
		{"admin_list_deep", deep("/api/v1/pages", auth), auth},
	} {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.do(b, "GET", l.path, nil, l.hdr, 200)
			}
		})
	}
	b.Run("editor_get_page_50_blocks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.do(b, "GET", "/api/v1/pages/"+page.ID, nil, auth, 200)
		}
	})
	b.Run("put_50_blocks", func(b *testing.B) {
		b.ReportAllocs()
		hdr := auth.Clone()
		hdr.Set("Content-Type", "application/json")
		hdr.Set("If-Match", h.do(b, "GET", "/api/v1/pages/"+page.ID, nil, auth, 200).h.Get("ETag"))
		for b.Loop() {
			hdr.Set("If-Match", h.do(b, "PUT", "/api/v1/pages/"+page.ID+"/blocks", replace, hdr, 200).h.Get("ETag"))
		}
	})
	b.Run("publish_50_blocks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.do(b, "POST", "/api/v1/pages/"+page.ID+"/publish", nil, auth, 200)
		}
	})
}

// benchClient sends requests straight to the handler and keeps the
// answer in a reused sink, so that the measure is the server's work.
type benchClient struct {
	api  http.Handler
	sink *sink
}

func (c *benchClient) do(b *testing.B, method, path string, body []byte, h http.Header, want int) *sink {
	r, err := http.NewRequest(method, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	if h != nil {
		r.Header = h
	}
	if body != nil {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	c.sink.reset()
	c.api.ServeHTTP(c.sink, r)
	if c.sink.status != want {
		b.Fatalf("%s %s: status %d, want %d: %s", method, path, c.sink.status, want, c.sink.body.Bytes())
	}
	return c.sink
}

func (c *benchClient) decode(b *testing.B, s *sink, v any) {
	if err := json.Unmarshal(s.body.Bytes(), v); err != nil {
		b.Fatal(err)
	}
}

// sink is a reusable http.ResponseWriter.
type sink struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newSink() *sink { return &sink{h: http.Header{}} }

func (s *sink) Header() http.Header { return s.h }

func (s *sink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.body.Write(p)
}

func (s *sink) reset() {
	clear(s.h)
	s.status = 0
	s.body.Reset()
}
