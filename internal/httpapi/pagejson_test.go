package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

// The hand-written page encoders answer exactly as writeJSON did: status,
// headers and body. quire's TestAppendPageJSON and FuzzPageJSON cover the
// page itself; this covers the envelope and the fallback.
func TestPageWritersMatchWriteJSON(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 123000000, time.UTC)
	rev := "r1"
	pages := func() []*quire.Page {
		return []*quire.Page{
			{ID: "a", Slug: "a", Title: "A <&> \u2028", CreatedAt: now, UpdatedAt: now, Version: 3},
			{ID: "b", Slug: "b/c", Title: "B", CreatedAt: now, UpdatedAt: now, PublishedRevisionID: &rev, PublishedAt: &now},
			{ID: "c", CreatedAt: now, UpdatedAt: now, Blocks: benchBlocks(2, now)},
		}
	}
	for _, tc := range []struct {
		name  string
		pages []*quire.Page
		next  string
	}{
		{"nil", nil, ""},
		{"empty", []*quire.Page{}, "2026-11-30T08:00:00Z|x"},
		{"one", pages()[:1], ""},
		{"three", pages(), "2026-11-30T08:00:00.123Z|c?<>&\xff"},
		{"nil page", []*quire.Page{nil}, ""},
		{"bad year", []*quire.Page{{CreatedAt: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}}, "n"},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			want := httptest.NewRecorder()
			writeJSON(want, http.StatusOK, list(tc.pages, tc.next))
			got := httptest.NewRecorder()
			writePageList(got, tc.pages, tc.next)
			sameResponse(t, got, want)
		})
	}
	for i, p := range append(pages(), &quire.Page{Version: 9, UpdatedAt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)}) {
		t.Run(fmt.Sprint("page ", i), func(t *testing.T) {
			want := httptest.NewRecorder()
			q := *p
			want.Header().Set("ETag", etag(q.Version))
			if q.Blocks == nil {
				q.Blocks = []quire.Block{}
			}
			writeJSON(want, http.StatusCreated, &q)
			got := httptest.NewRecorder()
			writePage(got, http.StatusCreated, p)
			sameResponse(t, got, want)
		})
	}
}

func sameResponse(t *testing.T, got, want *httptest.ResponseRecorder) {
	t.Helper()
	if got.Code != want.Code || got.Body.String() != want.Body.String() {
		t.Fatalf("got %d %q\nwant %d %q", got.Code, got.Body, want.Code, want.Body)
	}
	for _, h := range []string{"Content-Type", "ETag"} {
		if got.Header().Get(h) != want.Header().Get(h) {
			t.Errorf("%s: got %q, want %q", h, got.Header().Get(h), want.Header().Get(h))
		}
	}
	// writeJSON leaves the length to net/http; the appended answers say it
	// (what they cannot encode falls back to writeJSON, with no body).
	if n := got.Header().Get("Content-Length"); got.Body.Len() > 0 && n != strconv.Itoa(got.Body.Len()) {
		t.Errorf("Content-Length %q for a body of %d bytes", n, got.Body.Len())
	}
}

// benchBlocks makes n blocks like those of internal/loadtest (heading,
// paragraphs, list, quote: about 2 KB for 8), with content spaced as
// PostgreSQL's jsonb returns it.
func benchBlocks(n int, at time.Time) []quire.Block {
	text := strings.Repeat("Sentence 1 of a page about load testing, long enough to look like prose. ", 3)
	out := make([]quire.Block, n)
	for k := range out {
		var typ, content string
		switch {
		case k == 0:
			typ, content = quire.BlockHeading, `{"text": "Page 1", "level": 1}`
		case k%4 == 1 || k%4 == 3:
			typ, content = quire.BlockParagraph, `{"text": "`+text+`"}`
		case k%8 == 2:
			typ, content = quire.BlockList, `{"items": ["one item", "another item", "a third item"], "style": "unordered"}`
		default:
			typ, content = quire.BlockQuote, `{"cite": "Donald Knuth", "text": "Premature optimisation is the root of all evil."}`
		}
		out[k] = quire.Block{ID: fmt.Sprintf("01JDQ3V8Y6ZP1M4R7N2K5X9B%02d", k), Type: typ, Position: k,
			Content: json.RawMessage(content), CreatedBy: "01JDQ3V8Y6ZP1M4R7N2K5X9USR", CreatedAt: at, UpdatedAt: at}
	}
	return out
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks measure encoding only.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkPageJSON compares writeJSON (encoding/json) with the
// hand-written encoders on the answer to POST /pages (a page of 8 blocks)
// and on a page of the admin list (20 pages, no blocks):
//
//	go test -run '^$' -bench PageJSON -benchmem ./internal/httpapi/
func BenchmarkPageJSON(b *testing.B) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)
	rev := "01JDQ3V8Y6ZP1M4R7N2K5X9REV"
	newPage := func(i int, blocks []quire.Block) *quire.Page {
		return &quire.Page{ID: fmt.Sprintf("01JDQ3V8Y6ZP1M4R7N2K5X9P%02d", i), Slug: fmt.Sprintf("blog/post-%d", i),
			Title: fmt.Sprintf("Post %d: notes on load testing", i), CreatedBy: "01JDQ3V8Y6ZP1M4R7N2K5X9USR",
			UpdatedBy: "01JDQ3V8Y6ZP1M4R7N2K5X9USR", CreatedAt: at, UpdatedAt: at, Version: 4,
			PublishedRevisionID: &rev, PublishedAt: &at, Blocks: blocks}
	}
	page := newPage(0, benchBlocks(8, at))
	var pages []*quire.Page
	for i := range 20 {
		pages = append(pages, newPage(i, nil))
	}
	const next = "2026-11-30T08:00:00.123456789Z|01JDQ3V8Y6ZP1M4R7N2K5X9P19"
	w := &discardWriter{h: http.Header{}}
	b.Run("page8/encoding_json", func(b *testing.B) {
		for b.Loop() {
			writeJSON(w, http.StatusCreated, page)
		}
	})
	b.Run("page8/appender", func(b *testing.B) {
		for b.Loop() {
			writePage(w, http.StatusCreated, page)
		}
	})
	b.Run("list20/encoding_json", func(b *testing.B) {
		for b.Loop() {
			writeJSON(w, http.StatusOK, list(pages, next))
		}
	})
	b.Run("list20/appender", func(b *testing.B) {
		for b.Loop() {
			writePageList(w, pages, next)
		}
	})
}
