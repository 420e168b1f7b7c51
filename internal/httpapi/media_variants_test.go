package httpapi_test

import (
	"bytes"
	"image"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/quirecms/quire/internal/config"
)

func decodedSize(t *testing.T, r *resp) (string, int, int) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("variant is not an image: %v", err)
	}
	return format, cfg.Width, cfg.Height
}

// ?w=, ?h= and fit make resized JPEG or PNG variants, only at the
// configured sizes, never larger than the original; each is stored beside
// the original and served from there afterwards.
func TestMediaVariants(t *testing.T) {
	eachStorage(t, func(c *config.Config) { c.MediaVariantSizes = "32,64,100,400" }, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		photo := e.mustUpload(tok, "photo.jpg", jpegOf(200, 100, 1))
		logo := e.mustUpload(tok, "logo.png", pngOf(80, 40, 2))
		cases := []struct {
			media         string
			query         string
			format        string
			width, height int
		}{
			{photo.URL, "w=64", "jpeg", 64, 32},
			{photo.URL, "h=32", "jpeg", 64, 32},
			{photo.URL, "w=64&h=64", "jpeg", 64, 32}, // contain
			{photo.URL, "w=64&h=64&fit=cover", "jpeg", 64, 64},
			{photo.URL, "w=400", "jpeg", 200, 100},                 // never enlarged
			{photo.URL, "w=400&h=400&fit=cover", "jpeg", 100, 100}, // the box shrinks to fit
			{logo.URL, "w=32", "png", 32, 16},
			{logo.URL, "w=32&h=32&fit=COVER", "png", 32, 32},
			{logo.URL, "w=100&h=32&fit=cover", "png", 80, 26}, // 100×32 shrunk into 80×40
		}
		for _, tc := range cases {
			r := e.do("GET", tc.media+"?"+tc.query, "", nil).want(t, 200)
			format, w, h := decodedSize(t, r)
			if format != tc.format || w != tc.width || h != tc.height {
				t.Errorf("%s?%s = %s %d×%d, want %s %d×%d", tc.media, tc.query, format, w, h, tc.format, tc.width, tc.height)
			}
			if ct := r.Header.Get("Content-Type"); ct != "image/"+tc.format || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline") {
				t.Errorf("headers %v", r.Header)
			}
			if etag := r.Header.Get("ETag"); etag == `"`+photo.ID+`"` || !strings.HasPrefix(etag, `"`) {
				t.Errorf("variant ETag %q", etag)
			}
		}
		made := e.srv.Media.VariantsGenerated()
		if made != int64(len(cases)) {
			t.Fatalf("%d variants made, want %d", made, len(cases))
		}
		// Served from storage the second time, with the same validator.
		first := e.do("GET", photo.URL+"?w=64", "", nil).want(t, 200)
		e.do("GET", photo.URL+"?w=64", "", nil, "If-None-Match", first.Header.Get("ETag")).want(t, 304)
		r := e.do("GET", photo.URL+"?w=64", "", nil, "Range", "bytes=0-1").want(t, 206)
		if !bytes.Equal(r.Body, []byte{0xff, 0xd8}) {
			t.Fatalf("range of a stored variant: %x", r.Body)
		}
		if e.srv.Media.VariantsGenerated() != made {
			t.Fatal("a stored variant was made again")
		}
		var variants int
		for _, k := range e.storedKeys() {
			if strings.HasPrefix(k, "media/"+photo.ID+"/") && !strings.HasSuffix(k, "/original") {
				variants++
			}
		}
		if variants != 6 { // the photo's six cases, the same w=64 once
			t.Fatalf("%d variants stored beside the photo: %v", variants, e.storedKeys())
		}

		// Bounds: only configured sizes, known fits, images that can be resized.
		pdf := e.mustUpload(tok, "doc.pdf", pdfOK)
		svg := e.mustUpload(tok, "logo.svg", []byte(svgOK))
		for _, bad := range []struct{ url, field string }{
			{photo.URL + "?w=65", "w"},
			{photo.URL + "?w=5000", "w"},
			{photo.URL + "?h=-1", "h"},
			{photo.URL + "?w=abc", "w"},
			{photo.URL + "?w=64&fit=stretch", "fit"},
			{photo.URL + "?w=64&fit=cover", "fit"},
			{photo.URL + "?fit=cover", "w"},
			{pdf.URL + "?w=64", "w"},
			{svg.URL + "?w=64", "w"},
		} {
			wantProblem(t, e.do("GET", bad.url, "", nil), http.StatusUnprocessableEntity, bad.field)
		}
		if e.srv.Media.VariantsGenerated() != made {
			t.Fatal("a refused request made a variant")
		}
		// Other query parameters are ignored: the original is served.
		r = e.do("GET", photo.URL+"?v=2", "", nil).want(t, 200)
		if r.Header.Get("ETag") != `"`+photo.ID+`"` {
			t.Fatalf("ETag %q", r.Header.Get("ETag"))
		}

		// Purge removes the variants with the original.
		e.do("DELETE", "/api/v1/media/"+photo.ID+"?purge=true", tok, nil).want(t, 204)
		for _, k := range e.storedKeys() {
			if strings.Contains(k, photo.ID) {
				t.Fatalf("purge left %s", k)
			}
		}
	})
}

// Many requests for a variant nobody made yet make it once.
func TestMediaVariantSingleFlight(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		m := e.mustUpload(e.admin().AccessToken, "big.png", noisyPNG(600, 400))
		const n = 12
		bodies := make([][]byte, n)
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := e.do("GET", m.URL+"?w=320&h=320&fit=cover", "", nil)
				statuses[i], bodies[i] = r.Status, r.Body
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if statuses[i] != 200 || !bytes.Equal(bodies[i], bodies[0]) {
				t.Fatalf("request %d: %d, %d bytes", i, statuses[i], len(bodies[i]))
			}
		}
		if got := e.srv.Media.VariantsGenerated(); got != 1 {
			t.Fatalf("variant made %d times", got)
		}
	})
}

// An image over the pixel budget cannot be uploaded, so no variant ever
// decodes one; the budget is configurable.
func TestMediaPixelBudget(t *testing.T) {
	eachStorage(t, func(c *config.Config) { c.MediaMaxPixels = 100 * 100 }, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		e.mustUpload(tok, "ok.png", pngOf(100, 100, 1))
		p := wantProblem(t, e.upload(tok, "big.png", pngOf(101, 100, 1)), http.StatusUnprocessableEntity, "file")
		if !strings.Contains(p.Detail, "101×100") {
			t.Fatalf("detail %q", p.Detail)
		}
	})
}
