package httpapi_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/store"
)

// Files are served with http.ServeContent semantics: ranges, validators,
// and the headers that keep a browser from running what it receives.
func TestMediaRangeAndConditional(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		data := []byte(strings.Repeat("0123456789", 100)) // 1000 bytes of text
		m := e.mustUpload(tok, "digits.txt", data)
		url := m.URL

		full := e.do("GET", url, "", nil).want(t, 200)
		etag := full.Header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/`) || strings.Contains(etag, m.Checksum) || strings.Contains(etag, m.Checksum[:16]) {
			t.Fatalf("ETag %q: want strong, not derived from the checksum", etag)
		}
		if cc := full.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Fatalf("Cache-Control %q", cc)
		}
		if full.Header.Get("Accept-Ranges") != "bytes" || full.Header.Get("Last-Modified") == "" {
			t.Fatalf("headers %v", full.Header)
		}

		r := e.do("GET", url, "", nil, "Range", "bytes=10-19").want(t, 206)
		if string(r.Body) != "0123456789" || r.Header.Get("Content-Range") != "bytes 10-19/1000" {
			t.Fatalf("range: %q %q", r.Body, r.Header.Get("Content-Range"))
		}
		r = e.do("GET", url, "", nil, "Range", "bytes=-5").want(t, 206)
		if string(r.Body) != "56789" {
			t.Fatalf("suffix range: %q", r.Body)
		}
		r = e.do("GET", url, "", nil, "Range", "bytes=0-1,100-101").want(t, 206)
		mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "multipart/byteranges" {
			t.Fatalf("two ranges: %s", r.Header.Get("Content-Type"))
		}
		parts := 0
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if string(b) != "01" {
				t.Fatalf("part %q", b)
			}
			parts++
		}
		if parts != 2 {
			t.Fatalf("%d parts", parts)
		}
		// Many ranges, or overlapping ones, are refused.
		r = e.do("GET", url, "", nil, "Range", "bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17")
		wantProblem(t, r, http.StatusRequestedRangeNotSatisfiable, "")
		if r.Header.Get("Content-Range") != "bytes */1000" {
			t.Fatalf("Content-Range %q", r.Header.Get("Content-Range"))
		}
		wantProblem(t, e.do("GET", url, "", nil, "Range", "bytes=0-500,100-600"), http.StatusRequestedRangeNotSatisfiable, "")
		wantProblem(t, e.do("GET", url, "", nil, "Range", "bytes=0-,0-"), http.StatusRequestedRangeNotSatisfiable, "")
		e.do("GET", url, "", nil, "Range", "bytes=5000-6000").want(t, http.StatusRequestedRangeNotSatisfiable)

		// Conditional requests.
		e.do("GET", url, "", nil, "If-None-Match", etag).want(t, 304)
		e.do("GET", url, "", nil, "If-None-Match", `"other"`).want(t, 200)
		e.do("GET", url, "", nil, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)).want(t, 304)
		e.do("GET", url, "", nil, "If-Modified-Since", m.CreatedAt.Add(-time.Hour).UTC().Format(http.TimeFormat)).want(t, 200)
		r = e.do("GET", url, "", nil, "Range", "bytes=0-3", "If-Range", etag).want(t, 206)
		if string(r.Body) != "0123" {
			t.Fatalf("If-Range: %q", r.Body)
		}
		e.do("GET", url, "", nil, "Range", "bytes=0-3", "If-Range", `"stale"`).want(t, 200)
		h := e.do("HEAD", url, "", nil).want(t, 200)
		if len(h.Body) != 0 || h.Header.Get("Content-Length") != "1000" {
			t.Fatalf("HEAD: %d bytes, Content-Length %q", len(h.Body), h.Header.Get("Content-Length"))
		}

		// A wrong file name or an unknown id is not found.
		wantProblem(t, e.do("GET", "/media/"+m.ID+"/other.txt", "", nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", "/media/"+store.NewID()+"/digits.txt", "", nil), http.StatusNotFound, "")
		wantProblem(t, e.do("GET", "/media/not-an-id/digits.txt", "", nil), http.StatusNotFound, "")
	})
}

// SVG is never shown inline, even a harmless one, and other files never
// lose the headers that keep them inert.
func TestMediaServedSafely(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		svg := e.mustUpload(tok, "logo.svg", []byte(svgOK))
		r := e.do("GET", svg.URL, "", nil).want(t, 200)
		if r.Header.Get("Content-Type") != "image/svg+xml" || r.Header.Get("Content-Disposition") != `attachment; filename=logo.svg` {
			t.Fatalf("svg headers %v", r.Header)
		}
		nonASCII := e.mustUpload(tok, "résumé \"final\".pdf", pdfOK)
		r = e.do("GET", nonASCII.URL, "", nil).want(t, 200)
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != `résumé "final".pdf` || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("Content-Disposition %q (%v)", r.Header.Get("Content-Disposition"), err)
		}
		if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
			t.Fatalf("headers %v", r.Header)
		}
		// Media metadata is not public: the checksum is shown only to callers
		// who can read the library.
		wantProblem(t, e.do("GET", "/api/v1/media/"+svg.ID, "", nil), http.StatusUnauthorized, "")
		wantProblem(t, e.do("GET", "/api/v1/media", "", nil), http.StatusUnauthorized, "")
		if strings.Contains(string(r.Body), nonASCII.Checksum) {
			t.Fatal("checksum in a public response")
		}
		for _, h := range r.Header {
			if strings.Contains(strings.Join(h, " "), nonASCII.Checksum[:12]) {
				t.Fatalf("checksum in a public header: %v", r.Header)
			}
		}
	})
}
