package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

// Every allowed type is accepted, detected from its bytes whatever its
// name says, and served back byte for byte with the headers its type calls for.
func TestMediaUploadEveryAllowedType(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		_, author := e.newUser(quire.RoleAuthor)
		cases := []struct {
			name, filename, mime string
			data                 []byte
			w, h                 int
			inline               bool
		}{
			{"jpeg", "photo.jpg", "image/jpeg", jpegOf(40, 30, 1), 40, 30, true},
			{"png", "chart.bin", "image/png", pngOf(20, 10, 2), 20, 10, true},
			{"gif", "anim.gif", "image/gif", gifOf(8, 4), 8, 4, true},
			{"webp", "pixel.webp", "image/webp", webp1x1, 1, 1, true},
			{"avif", "photo.avif", "image/avif", avifOf(1200, 800), 1200, 800, true},
			{"svg", "logo.svg", "image/svg+xml", []byte(svgOK), 0, 0, false},
			{"pdf", "report.pdf", "application/pdf", pdfOK, 0, 0, false},
			{"mp4", "clip.mp4", "video/mp4", mp4Of(), 0, 0, true},
			{"webm", "clip.webm", "video/webm", webmOf(), 0, 0, true},
			{"mp3", "song.mp3", "audio/mpeg", mp3Of(), 0, 0, true},
			{"text", "notes.exe", "text/plain; charset=utf-8", []byte("plain notes, nothing more\n"), 0, 0, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.upload(author.AccessToken, tc.filename, tc.data, "alt", "alt of "+tc.name, "title", "Title "+tc.name).want(t, 201)
				var m quire.Media
				r.json(t, &m)
				// The name takes the extension of the detected type.
				stored := map[string]string{"chart.bin": "chart.png", "notes.exe": "notes.txt"}[tc.filename]
				if stored == "" {
					stored = tc.filename
				}
				if m.MimeType != tc.mime || m.SizeBytes != int64(len(tc.data)) || m.Filename != stored || m.Alt != "alt of "+tc.name || m.Title != "Title "+tc.name {
					t.Fatalf("media = %+v", m)
				}
				if tc.w > 0 && (m.Width == nil || *m.Width != tc.w || *m.Height != tc.h) {
					t.Fatalf("dimensions = %v×%v, want %d×%d", m.Width, m.Height, tc.w, tc.h)
				}
				if tc.w == 0 && m.Width != nil {
					t.Fatalf("dimensions for a %s: %v", tc.mime, *m.Width)
				}
				if r.Header.Get("Location") != "/api/v1/media/"+m.ID || r.Header.Get("ETag") != `"v1"` || m.URL != quire.MediaURL(m.ID, stored) {
					t.Fatalf("Location %q, ETag %q, url %q", r.Header.Get("Location"), r.Header.Get("ETag"), m.URL)
				}
				f := e.do("GET", m.URL, "", nil).want(t, 200)
				if !bytes.Equal(f.Body, tc.data) {
					t.Fatal("served bytes differ from the upload")
				}
				h := f.Header
				if h.Get("Content-Type") != tc.mime || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
					t.Fatalf("headers %v", h)
				}
				wantDisposition := "attachment"
				if tc.inline {
					wantDisposition = "inline"
				}
				if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, wantDisposition+";") || !strings.Contains(cd, stored) {
					t.Fatalf("Content-Disposition %q, want %s", cd, wantDisposition)
				}
			})
		}
		if got := e.mediaAudit(); len(got) != len(cases) || slices.ContainsFunc(got, func(a string) bool { return a != quire.ActionMediaUpload }) {
			t.Fatalf("audit = %v", got)
		}
	})
}

// Refused files get a 422 naming the file field, and nothing is stored:
// no record, no bytes, no audit entry.
func TestMediaUploadRefused(t *testing.T) {
	html := []byte("<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n")
	png1 := pngOf(4, 4, 9)
	svg := func(inner string) []byte {
		return []byte(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">` + inner + `</svg>`)
	}
	cases := []struct {
		name, filename string
		data           []byte
		says           string
	}{
		{"HTML renamed .png", "cat.png", html, "text/html"},
		{"SVG with script", "logo.svg", svg(`<script>alert(1)</script>`), "<script>"},
		{"SVG with an event handler", "logo.svg", svg(`<rect width="5" height="5" onload="alert(1)"/>`), "event handler"},
		{"SVG with foreignObject", "logo.svg", svg(`<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="x"/></body></foreignObject>`), "foreignObject"},
		{"SVG with a javascript: link", "logo.svg", svg(`<a xlink:href=" java&#x09;script:alert(1)"><circle r="3"/></a>`), "javascript"},
		{"SVG animating href", "logo.svg", svg(`<a><set attributeName="href" to="javascript:alert(1)"/></a>`), "href"},
		{"SVG with an HTML data URL", "logo.svg", svg(`<image href="data:text/html;base64,PHNjcmlwdD4="/>`), "data:"},
		{"SVG with entities", "logo.svg", []byte(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "xx">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>`), "entit"},
		{"SVG style expression", "logo.svg", svg(`<style>rect{background:url("javascript:alert(1)")}</style>`), "javascript"},
		{"polyglot PNG+HTML appended", "cat.png", append(bytes.Clone(png1), html...), "polyglot"},
		{"polyglot PNG with script in a text chunk", "cat.png", withPNGText(png1, "Comment\x00<script>alert(1)</script>"), "polyglot"},
		{"PNG declaring 100000×100000 pixels", "bomb.png", withPNGSize(png1, 100000, 100000), "100000×100000"},
		{"AVIF declaring too many pixels", "bomb.avif", avifOf(60000, 60000), "60000×60000"},
		{"XHTML that looks like SVG", "page.svg", []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>`), "root element"},
		{"truncated PNG", "broken.png", png1[:30], "not a readable image"},
		{"Windows executable", "setup.txt", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 200)...), "not allowed"},
		{"empty file", "empty.txt", nil, "empty"},
	}
	eachStorage(t, nil, func(t *testing.T, e *env) {
		_, author := e.newUser(quire.RoleAuthor)
		audit := len(e.auditLog())
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				p := wantProblem(t, e.upload(author.AccessToken, tc.filename, tc.data), http.StatusUnprocessableEntity, "file")
				if !strings.Contains(p.Detail, tc.says) {
					t.Fatalf("detail %q does not say %q", p.Detail, tc.says)
				}
			})
		}
		if keys := e.storedKeys(); len(keys) != 0 {
			t.Fatalf("refused uploads left bytes behind: %v", keys)
		}
		if n := e.mediaRows(); n != 0 {
			t.Fatalf("%d media records", n)
		}
		if n := len(e.auditLog()); n != audit {
			t.Fatalf("refused uploads wrote %d audit entries", n-audit)
		}
	})
}

// A body over the limit answers 413 and leaves nothing behind, whether the
// limit is met in the first bytes or deep in the stream, on both storages.
func TestMediaUploadTooLarge(t *testing.T) {
	const limit = 64 << 10
	eachStorage(t, func(c *config.Config) { c.MaxUploadBytes = limit }, func(t *testing.T, e *env) {
		_, author := e.newUser(quire.RoleAuthor)
		text := bytes.Repeat([]byte("0123456789abcdef\n"), limit/17+100)
		wantProblem(t, e.upload(author.AccessToken, "big.txt", text), http.StatusRequestEntityTooLarge, "file")
		big := noisyPNG(200, 200) // ~160 KiB of PNG
		if len(big) <= limit {
			t.Fatalf("fixture too small: %d", len(big))
		}
		wantProblem(t, e.upload(author.AccessToken, "big.png", big), http.StatusRequestEntityTooLarge, "")
		// Exactly at the limit is fine.
		e.mustUpload(author.AccessToken, "exact.txt", text[:limit])
		if keys := e.storedKeys(); len(keys) != 1 {
			t.Fatalf("stored %v", keys)
		}
		if got := e.mediaAudit(); !slices.Equal(got, []string{quire.ActionMediaUpload}) {
			t.Fatalf("audit = %v", got)
		}
	})
}

// The multipart envelope is bounded too: parts, headers, fields.
func TestMediaUploadMultipartBounds(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		_, author := e.newUser(quire.RoleAuthor)
		tok := author.AccessToken
		post := func(parts ...filePart) *resp {
			body, ct := multipartBody(t, parts...)
			return e.do("POST", "/api/v1/media", tok, body, "Content-Type", ct)
		}
		file := filePart{name: "file", filename: "a.txt", data: []byte("some text")}
		many := []filePart{file}
		for i := 0; i < 5000; i++ {
			many = append(many, filePart{name: fmt.Sprintf("x%d", i), data: []byte("y")})
		}
		wantProblem(t, post(many...), http.StatusUnprocessableEntity, "x0") // unknown field, first of thousands
		many = many[:1]
		for i := 0; i < 5000; i++ {
			many = append(many, filePart{name: "alt", data: []byte("y")})
		}
		wantProblem(t, post(many...), http.StatusUnprocessableEntity, "alt") // a field twice
		manyTitles := []filePart{file}
		for i := 0; i < 5000; i++ {
			manyTitles = append(manyTitles, filePart{header: textproto.MIMEHeader{"Content-Disposition": {`form-data; name="title"`}, "X-Pad": {"z"}}})
		}
		r := post(manyTitles...)
		if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
			t.Fatalf("thousands of parts: %d %s", r.Status, r.Body)
		}
		huge := textproto.MIMEHeader{"Content-Disposition": {`form-data; name="alt"`}, "X-Pad": {strings.Repeat("p", 100<<10)}}
		wantProblem(t, post(filePart{header: huge}, file), http.StatusBadRequest, "")
		wantProblem(t, post(file, file), http.StatusUnprocessableEntity, "file")
		wantProblem(t, post(filePart{name: "alt", data: []byte("no file")}), http.StatusUnprocessableEntity, "file")
		wantProblem(t, post(file, filePart{name: "alt", data: bytes.Repeat([]byte("a"), 1001)}), http.StatusUnprocessableEntity, "alt")
		wantProblem(t, post(file, filePart{name: "title", data: []byte("line\nbreak")}), http.StatusUnprocessableEntity, "title")
		wantProblem(t, e.do("POST", "/api/v1/media", tok, map[string]string{"file": "x"}), http.StatusBadRequest, "")
		wantProblem(t, e.do("POST", "/api/v1/media", tok, "--x--", "Content-Type", "multipart/form-data; boundary=x"), http.StatusUnprocessableEntity, "file")
		wantProblem(t, e.do("POST", "/api/v1/media", tok, "garbage", "Content-Type", "multipart/form-data; boundary=x"), http.StatusBadRequest, "")
		if keys := e.storedKeys(); len(keys) != 0 {
			t.Fatalf("left behind: %v", keys)
		}
		if n := e.mediaRows(); n != 0 {
			t.Fatalf("%d media records", n)
		}
		// Fields may come before the file.
		body, ct := multipartBody(t, filePart{name: "title", data: []byte("First")}, filePart{name: "alt", data: []byte("A")}, file)
		var m quire.Media
		e.do("POST", "/api/v1/media", tok, body, "Content-Type", ct).want(t, 201).json(t, &m)
		if m.Title != "First" || m.Alt != "A" {
			t.Fatalf("media = %+v", m)
		}
	})
}

// File names are display names: path parts, control and bidi characters
// go, the length is bounded, and the name never reaches storage.
func TestMediaFilenameSanitised(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		encoded := func(name string) filePart {
			return filePart{header: textproto.MIMEHeader{"Content-Disposition": {`form-data; name="file"; filename*=UTF-8''` + name}}, data: []byte("text " + name)}
		}
		cases := []struct {
			part filePart
			want string
		}{
			{encoded("..%2F..%2Fetc%2Fpass%01wd%0A.txt"), "passwd.txt"},
			{encoded("..%5C..%5Cwindows%5Cevil%1B%5B31m.txt"), "evil[31m.txt"},
			{encoded("invoice%E2%80%AEtxt.exe"), "invoicetxt.txt"}, // and text gets .txt
			{encoded("...hidden.txt"), "hidden.txt"},
			{encoded("%0A%0D%09"), "file.txt"},
			{filePart{name: "file", filename: strings.Repeat("long", 100) + ".txt", data: []byte("long name")}, strings.Repeat("long", 49) + ".txt"},
		}
		for _, tc := range cases {
			body, ct := multipartBody(t, tc.part)
			var m quire.Media
			e.do("POST", "/api/v1/media", tok, body, "Content-Type", ct).want(t, 201).json(t, &m)
			if m.Filename != tc.want {
				t.Errorf("filename = %q, want %q", m.Filename, tc.want)
				continue
			}
			e.do("GET", m.URL, "", nil).want(t, 200)
		}
		for _, k := range e.storedKeys() {
			if !strings.HasPrefix(k, "media/") || strings.Contains(k, "txt") || strings.Contains(k, "..") {
				t.Errorf("storage key %q comes from a file name", k)
			}
		}
	})
}

// The same bytes are stored once: a second upload, by anyone, answers 200
// with the existing record, unchanged, and the audit log says it was
// deduplicated. Deleted media does not count: its bytes come back as new
// media, and the deleted one can then not be restored beside it.
func TestMediaDedup(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		a, authorA := e.newUser(quire.RoleAuthor)
		b, authorB := e.newUser(quire.RoleAuthor)
		data := jpegOf(30, 20, 5)
		first := e.mustUpload(authorA.AccessToken, "a.jpg", data, "alt", "A's alt")
		var second quire.Media
		e.upload(authorB.AccessToken, "b.jpg", data, "alt", "B's alt").want(t, 200).json(t, &second)
		if second.ID != first.ID || second.Alt != "A's alt" || second.Filename != "a.jpg" || second.UploadedBy != a.ID {
			t.Fatalf("dedup returned %+v", second)
		}
		var again quire.Media
		e.upload(authorA.AccessToken, "a.jpg", data).want(t, 200).json(t, &again)
		if again.ID != first.ID {
			t.Fatal("second upload by the same author was not deduplicated")
		}
		if keys := e.storedKeys(); len(keys) != 1 {
			t.Fatalf("bytes stored %d times: %v", len(keys), keys)
		}
		if got := e.mediaAudit(); !slices.Equal(got, []string{quire.ActionMediaUpload, quire.ActionMediaDedup, quire.ActionMediaDedup}) {
			t.Fatalf("audit = %v", got)
		}
		log := e.auditLog()
		dedup := log[len(log)-2]
		var details map[string]any
		_ = json.Unmarshal(dedup.Details, &details)
		if dedup.UserID != b.ID || dedup.ResourceID != first.ID || details["deduplicated"] != true || details["filename"] != "b.jpg" {
			t.Fatalf("dedup entry %+v %s", dedup, dedup.Details)
		}

		// Deleted media is out of the library: the same bytes are new media.
		e.do("DELETE", "/api/v1/media/"+first.ID, authorA.AccessToken, nil).want(t, 204)
		fresh := e.mustUpload(authorB.AccessToken, "b.jpg", data)
		if fresh.ID == first.ID {
			t.Fatal("upload matched deleted media")
		}
		editor := e.newAPIToken(quire.RoleEditor)
		p := wantProblem(t, e.do("POST", "/api/v1/media/"+first.ID+"/restore", editor, nil), http.StatusConflict, "")
		if !strings.Contains(p.Detail, fresh.ID) {
			t.Fatalf("restore conflict does not name the live media: %s", p.Detail)
		}
	})
}

// Two uploads of the same new bytes at once make one media.
func TestMediaDedupConcurrent(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		data := pngOf(50, 50, 77)
		statuses := make(chan int, 6)
		ids := make(chan string, 6)
		for range 6 {
			go func() {
				r := e.upload(tok, "same.png", data)
				var m quire.Media
				_ = json.Unmarshal(r.Body, &m)
				statuses <- r.Status
				ids <- m.ID
			}()
		}
		created, seen := 0, map[string]bool{}
		for range 6 {
			if s := <-statuses; s == 201 {
				created++
			} else if s != 200 {
				t.Fatalf("status %d", s)
			}
			seen[<-ids] = true
		}
		if created != 1 || len(seen) != 1 {
			t.Fatalf("%d created, ids %v", created, seen)
		}
		if keys := e.storedKeys(); len(keys) != 1 {
			t.Fatalf("stored %v", keys)
		}
	})
}
