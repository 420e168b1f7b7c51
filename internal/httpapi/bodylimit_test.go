package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/testdb"
)

// countingBody is a request body of n bytes of JSON-looking text that
// counts how much of it the server reads.
type countingBody struct {
	n, read int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.n-b.read)
	for i := range k {
		p[i] = ' '
	}
	if b.read == 0 && k > 0 {
		p[0] = '{'
	}
	b.read += k
	return int(k), nil
}

// sendBig sends a body of n bytes to path, announcing its length or not
// (chunked), and returns the response and how many bytes were read.
func (e *env) sendBig(method, path, token string, n int64, announce bool, headers ...string) (*resp, int64) {
	e.t.Helper()
	body := &countingBody{n: n}
	req := httptest.NewRequest(method, path, body)
	req.ContentLength = -1
	if announce {
		req.ContentLength = n
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.API.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.schema.check(e.t, req, r)
	return r, body.read
}

// A body over the limit is refused with 413 before it is parsed: with a
// Content-Length, before a byte is read; without one, once the limit is
// passed. The whole-page routes have their own limit, 4 MiB by default,
// not the 34 MiB they once had.
func TestBodyLimitAnswers413BeforeParsing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		page := e.createPage(admin, "limits", "Limits")
		const twenty = 20 << 20
		routes := []struct{ method, path string }{
			{"POST", "/api/v1/pages"},
			{"PUT", "/api/v1/pages/" + page.ID + "/blocks"},
			{"POST", "/api/v1/pages/" + page.ID + "/blocks"},
			{"PATCH", "/api/v1/pages/" + page.ID},
			{"PUT", "/api/v1/settings/site.title"},
			{"POST", "/api/v1/users"},
		}
		for _, rt := range routes {
			t.Run(rt.method+" "+rt.path, func(t *testing.T) {
				e := e.with(t)
				r, read := e.sendBig(rt.method, rt.path, admin, twenty, true, ifMatch(page.Version)...)
				r.want(t, http.StatusRequestEntityTooLarge)
				if read != 0 {
					t.Errorf("read %d bytes of a body announced as too large", read)
				}
				if p := r.problem(t); !strings.Contains(p.Detail, "larger than") {
					t.Errorf("detail %q", p.Detail)
				}
				r, read = e.sendBig(rt.method, rt.path, admin, twenty, false, ifMatch(page.Version)...)
				r.want(t, http.StatusRequestEntityTooLarge)
				if limit := int64(4 << 20); read > limit+64<<10 {
					t.Errorf("read %d bytes of a chunked body; the largest limit is %d", read, limit)
				}
			})
		}
		if got := e.getPage(admin, page.ID); got.Version != page.Version {
			t.Errorf("the page changed: version %d → %d", page.Version, got.Version)
		}
	})
}

// bigPage is a page body of about n bytes: paragraphs of 60 000 characters.
func bigPage(slug string, n int) map[string]any {
	var blocks []map[string]any
	for size := 0; size < n; size += 60_000 {
		blocks = append(blocks, blk("paragraph", map[string]any{"text": strings.Repeat("x", 60_000)}))
	}
	return map[string]any{"slug": slug, "title": "Big", "blocks": blocks}
}

func TestPageBodyLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		// Over QUIRE_MAX_BODY_BYTES but within QUIRE_MAX_PAGE_BODY_BYTES.
		e.do("POST", "/api/v1/pages", admin, bigPage("two-mib", 2<<20)).want(t, http.StatusCreated)
		// Every block within the domain limits, the body over the page limit.
		r := e.do("POST", "/api/v1/pages", admin, bigPage("five-mib", 5<<20)).want(t, http.StatusRequestEntityTooLarge)
		if p := r.problem(t); !strings.Contains(p.Detail, fmt.Sprint(4<<20)) {
			t.Errorf("detail %q does not name the limit", p.Detail)
		}
		// Other JSON routes keep QUIRE_MAX_BODY_BYTES.
		r = e.do("PUT", "/api/v1/settings/big", admin, map[string]any{"value": strings.Repeat("x", 1<<20)}).want(t, http.StatusRequestEntityTooLarge)
		if p := r.problem(t); !strings.Contains(p.Detail, fmt.Sprint(1<<20)) {
			t.Errorf("detail %q does not name QUIRE_MAX_BODY_BYTES", p.Detail)
		}
	})
	t.Run("configured", func(t *testing.T) {
		e := newEnv(t, testdb.SQLite(t), func(c *config.Config) { c.MaxPageBody = 1 << 20 })
		e.do("POST", "/api/v1/pages", e.admin().AccessToken, bigPage("two-mib", 2<<20)).want(t, http.StatusRequestEntityTooLarge)
	})
}

// A page grown block by block stops at quire.MaxPageContentBytes, so a
// page at its limits can always be read and saved back whole within
// QUIRE_MAX_PAGE_BODY_BYTES.
func TestPageContentLimitHoldsBlockByBlock(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		full := blk("paragraph", map[string]any{"text": strings.Repeat("y", 60_000)}) // 60 011 bytes of content
		var blocks []any
		for len(blocks)*60_011+60_011 <= quire.MaxPageContentBytes {
			blocks = append(blocks, full)
		}
		p := e.createPage(admin, "full", "Full")
		var page quire.Page
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", admin, map[string]any{"blocks": blocks}, ifMatch(p.Version)...).want(t, 200).json(t, &page)
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", admin, full, ifMatch(page.Version)...), 413, "blocks")
		wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", admin, map[string]any{"blocks": append(blocks, full)}, ifMatch(page.Version)...), 413, "blocks")
		// A small block still fits; growing it does not.
		e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", admin, blk("paragraph", map[string]any{"text": "tiny"}), ifMatch(page.Version)...).want(t, 201).json(t, &page)
		last := page.Blocks[len(page.Blocks)-1].ID
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+last, admin, map[string]any{"content": full["content"]}, ifMatch(page.Version)...), 413, "blocks")
		if got := e.getPage(admin, p.ID); got.Version != page.Version {
			t.Fatalf("a refused change changed the page: version %d → %d", page.Version, got.Version)
		}
		// The page as read goes back whole in one request.
		raw := e.do("GET", "/api/v1/pages/"+p.ID, admin, nil).want(t, 200).Body
		if len(raw) > 4<<20 {
			t.Fatalf("a page at its limits reads as %d bytes", len(raw))
		}
		var whole struct {
			Blocks []map[string]any `json:"blocks"`
		}
		if err := json.Unmarshal(raw, &whole); err != nil {
			t.Fatal(err)
		}
		for _, b := range whole.Blocks {
			delete(b, "position")
			delete(b, "created_by")
			delete(b, "created_at")
			delete(b, "updated_at")
		}
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", admin, map[string]any{"blocks": whole.Blocks}, ifMatch(page.Version)...).want(t, 200)
	})
}
