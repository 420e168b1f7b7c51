package httpapi_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
)

// GET /pages: keyset pagination, filters from an allow-list, two sorts.
func TestPageList(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		a, aPair := e.newUser(quire.RoleAuthor)
		b, bPair := e.newUser(quire.RoleAuthor)
		at, bt := aPair.AccessToken, bPair.AccessToken
		titles := map[string]string{} // id → title
		var created []string          // ids, oldest first
		mk := func(token, slug, title string) string {
			p := e.createPage(token, slug, title)
			titles[p.ID] = title
			created = append(created, p.ID)
			return p.ID
		}
		alpha := mk(at, "alpha", "Alpha Guide")
		mk(at, "percent", "50% off")
		mk(at, "hundreds", "500 things")
		mk(at, "under", "a_b notes")
		mk(at, "axb", "axb notes")
		mk(at, "back", `back\slash`)
		beta := mk(bt, "beta", "Beta")
		mk(bt, "gamma", "GUIDE to gamma")
		e.publishPage(adm, alpha)
		e.publishPage(adm, beta)
		e.do("PATCH", "/api/v1/pages/"+beta, adm, map[string]any{"title": "Beta, edited"}, anyVersion...).want(t, 200)
		titles[beta] = "Beta, edited"
		// Touch the oldest draft so that the two sorts disagree.
		e.do("PATCH", "/api/v1/pages/"+created[1], at, map[string]any{"title": "50% off"}, anyVersion...).want(t, 200)

		// Expected orders, from the pages themselves: newest first, id breaking ties.
		type key struct {
			at time.Time
			id string
		}
		order := func(by func(p quire.Page) time.Time) []string {
			var keys []key
			for _, id := range created {
				keys = append(keys, key{by(e.getPage(adm, id)), id})
			}
			sort.Slice(keys, func(i, j int) bool {
				if !keys[i].at.Equal(keys[j].at) {
					return keys[i].at.After(keys[j].at)
				}
				return keys[i].id > keys[j].id
			})
			out := make([]string, len(keys))
			for i, k := range keys {
				out[i] = k.id
			}
			return out
		}
		byUpdated := order(func(p quire.Page) time.Time { return p.UpdatedAt })
		byCreated := order(func(p quire.Page) time.Time { return p.CreatedAt })
		if slices.Equal(byUpdated, byCreated) {
			t.Fatal("fixture: the two sorts should differ")
		}

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", byUpdated},
			{"sort=updated_at", byUpdated},
			{"sort=created_at", byCreated},
		} {
			for _, limit := range []int{1, 2, 3, 100} {
				got := field(walkQuery(t, e, "/api/v1/pages?"+tc.query, adm, limit), "id")
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s limit %d: %v, want %v", tc.query, limit, got, tc.want)
				}
			}
		}

		// Filters, each walked two at a time; results keep the sort order.
		filtered := func(keep func(id string) bool) []string {
			return slices.DeleteFunc(slices.Clone(byUpdated), func(id string) bool { return !keep(id) })
		}
		titled := func(ts ...string) func(string) bool {
			return func(id string) bool { return slices.Contains(ts, titles[id]) }
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"status=draft", filtered(func(id string) bool { return id != alpha && id != beta })},
			{"status=published", filtered(func(id string) bool { return id == alpha || id == beta })},
			{"status=changed", []string{beta}},
			{"created_by=" + b.ID, filtered(titled("Beta, edited", "GUIDE to gamma"))},
			{"created_by=" + a.ID + "&status=published", []string{alpha}},
			{"created_by=nobody", nil},
			{"q=guide", filtered(titled("Alpha Guide", "GUIDE to gamma"))},
			{"q=GUIDE", filtered(titled("Alpha Guide", "GUIDE to gamma"))},
			{"q=" + url.QueryEscape("50%"), filtered(titled("50% off"))},
			{"q=" + url.QueryEscape("%"), filtered(titled("50% off"))},
			{"q=a_b", filtered(titled("a_b notes"))},
			{"q=_", filtered(titled("a_b notes"))},
			{"q=" + url.QueryEscape(`\`), filtered(titled(`back\slash`))},
			{"q=notes&status=draft&created_by=" + a.ID + "&sort=created_at", []string{created[4], created[3]}},
		} {
			got := field(walkQuery(t, e, "/api/v1/pages?"+tc.query, adm, 2), "id")
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("%s: %v, want %v", tc.query, got, tc.want)
			}
		}
		// A list item is a summary: no blocks.
		var l struct{ Data []map[string]any }
		e.do("GET", "/api/v1/pages?limit=1", adm, nil).want(t, 200).json(t, &l)
		if l.Data[0]["blocks"] != nil {
			t.Fatalf("list item carries blocks: %v", l.Data[0])
		}

		for _, tc := range []struct{ query, field string }{
			{"status=archived", "status"},
			{"status=DRAFT", "status"},
			{"sort=title", "sort"},
			{"sort=-updated_at", "sort"},
			{"color=red", "color"},
			{"order=asc", "order"},
			{"cursor=" + url.QueryEscape("bm9wZQ"), "cursor"},
			{"cursor=%21%21", "cursor"},
			{"limit=101", "limit"},
			{"q=" + strings.Repeat("x", 201), "q"},
		} {
			wantProblem(t, e.do("GET", "/api/v1/pages?"+tc.query, adm, nil), 422, tc.field)
		}
	})
}

// Invalid blocks of every type are refused over HTTP, naming the block
// and the field, and a refused write stores nothing.
func TestBlockValidation(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		valid := []any{blk("heading", map[string]any{"text": "T", "level": 1}), blk("divider", nil), blk("paragraph", map[string]any{"text": "P"})}
		p := e.createPage(adm, "validation", "Validation", everyBlockType(e.insertMedia(e.userID(adm), "a.png", 1, 1))[:3]...)
		before := e.pageState(adm, p.ID)

		uuid := "0190f3f4-0000-7000-8000-000000000001"
		cases := []struct {
			typ     string
			content any
			field   string // after "blocks[3]." or alone for single blocks
		}{
			{"heading", map[string]any{"text": "x", "level": 7}, "content.level"},
			{"heading", map[string]any{"text": "x", "level": 0}, "content.level"},
			{"heading", map[string]any{"text": "x", "level": "2"}, "content.level"},
			{"heading", map[string]any{"text": "x", "level": 2.5}, "content.level"},
			{"heading", map[string]any{"level": 2}, "content.text"},
			{"heading", map[string]any{"text": "", "level": 2}, "content.text"},
			{"heading", map[string]any{"text": "line\nbreak", "level": 2}, "content.text"},
			{"heading", map[string]any{"text": "x", "level": 2, "color": "red"}, "content.color"},
			{"paragraph", map[string]any{"text": 5}, "content.text"},
			{"paragraph", map[string]any{}, "content.text"},
			{"paragraph", map[string]any{"text": "nul\u0000byte"}, "content.text"},
			{"rich_text", map[string]any{"html": ""}, "content.html"},
			{"rich_text", map[string]any{"html": []string{"<p>"}}, "content.html"},
			{"image", map[string]any{"media_id": "not-a-uuid"}, "content.media_id"},
			{"image", map[string]any{"alt": "no media"}, "content.media_id"},
			{"image", map[string]any{"media_id": uuid, "alt": strings.Repeat("a", 1001)}, "content.alt"},
			{"quote", map[string]any{"cite": "who"}, "content.text"},
			{"list", map[string]any{"style": "numbered", "items": []string{"a"}}, "content.style"},
			{"list", map[string]any{"style": "ordered", "items": []string{}}, "content.items"},
			{"list", map[string]any{"style": "ordered", "items": []string{"a", ""}}, "content.items[1]"},
			{"list", map[string]any{"style": "ordered", "items": "a"}, "content.items"},
			{"code", map[string]any{"code": "x", "language": "C++"}, "content.language"},
			{"code", map[string]any{"language": "go"}, "content.code"},
			{"embed", map[string]any{"url": "http://example.com/video"}, "content.url"},
			{"embed", map[string]any{"url": "https://user:pw@example.com/"}, "content.url"},
			{"embed", map[string]any{"url": "javascript:alert(1)"}, "content.url"},
			{"divider", map[string]any{"x": 1}, "content.x"},
			{"video", map[string]any{}, "type"},
			{"", map[string]any{}, "type"},
			{"paragraph", []any{}, "content"},
			{"paragraph", "text", "content"},
			{"divider", nil, "content"},
		}
		for _, c := range cases {
			block := map[string]any{"type": c.typ, "content": c.content}
			whole := append(slices.Clone(valid), block)
			wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": whole}, anyVersion...), 422, "blocks[3]."+c.field)
			wantProblem(t, e.do("POST", "/api/v1/pages", adm, map[string]any{"slug": "v", "title": "V", "blocks": whole}), 422, "blocks[3]."+c.field)
			wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, block, anyVersion...), 422, c.field)
			if c.typ != "" {
				wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+p.Blocks[0].ID, adm, block, anyVersion...), 422, c.field)
			}
		}
		// Every error of every block at once.
		two := []any{blk("heading", map[string]any{"text": "", "level": 9}), blk("divider", nil), blk("embed", map[string]any{"url": "ftp://x"})}
		pr := wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": two}, anyVersion...), 422, "blocks[2].content.url")
		if len(pr.Errors) != 3 {
			t.Fatalf("errors: %+v", pr.Errors)
		}
		wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{}, anyVersion...), 422, "blocks")
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"type": "divider", "content": map[string]any{}, "position": -1}, anyVersion...), 422, "position")
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+p.Blocks[0].ID, adm, map[string]any{"position": -2}, anyVersion...), 422, "position")

		// Size limits answer 413.
		big := strings.Repeat("x", 70_000)
		wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": []any{blk("divider", nil), blk("paragraph", map[string]any{"text": big})}}, anyVersion...), 413, "blocks[1].content")
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, blk("paragraph", map[string]any{"text": big}), anyVersion...), 413, "content")
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+p.Blocks[0].ID, adm, map[string]any{"content": map[string]any{"text": big}}, anyVersion...), 413, "content")
		dividers := func(n int) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = blk("divider", nil)
			}
			return out
		}
		wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": dividers(501)}, anyVersion...), 413, "blocks")
		wantProblem(t, e.do("POST", "/api/v1/pages", adm, map[string]any{"slug": "big", "title": "Big", "blocks": dividers(501)}), 413, "blocks")

		// A stale or malformed If-Match stores nothing either.
		for _, tag := range []string{`"v0"`, `"v2"`, `"v999"`, `W/"v1"`, "garbage"} {
			wantProblem(t, e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": valid}, "If-Match", tag), 412, "")
		}
		wantProblem(t, e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+quire.BlockDivider, adm, map[string]any{"position": 0}, anyVersion...), 404, "")
		if after := e.pageState(adm, p.ID); after != before {
			t.Fatalf("refused writes changed the page:\n%+v\n%+v", before, after)
		}
		var l struct{ Data []quire.Page }
		e.do("GET", "/api/v1/pages", adm, nil).want(t, 200).json(t, &l)
		if len(l.Data) != 1 {
			t.Fatalf("a refused create stored a page: %d pages", len(l.Data))
		}

		// At the limits: 500 blocks are fine, a 501st added alone is not.
		var full quire.Page
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", adm, map[string]any{"blocks": dividers(500)}, anyVersion...).want(t, 200).json(t, &full)
		if len(full.Blocks) != 500 || full.Blocks[499].Position != 499 {
			t.Fatalf("500 blocks: %d", len(full.Blocks))
		}
		wantProblem(t, e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, blk("divider", nil), anyVersion...), 413, "")
		if got := e.getPage(adm, p.ID); got.Version != full.Version || len(got.Blocks) != 500 {
			t.Fatalf("refused 501st block: version %d → %d, %d blocks", full.Version, got.Version, len(got.Blocks))
		}
	})
}

// rich_text is sanitised when it is written: what is stored, read back
// and published is the safe subset.
func TestRichTextSanitisedOnWrite(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		html := `<p onclick="steal()">Hi<script>alert(1)</script> <a href="javascript:alert(2)">bad</a> <a href="https://ok.example/">ok</a><img src=x onerror=alert(3)></p><style>p{}</style>`
		p := e.createPage(adm, "rich", "Rich", blk("rich_text", map[string]any{"html": html}))
		check := func(where, stored string) {
			t.Helper()
			for _, bad := range []string{"script", "alert", "onclick", "javascript", "<img", "onerror", "<style"} {
				if strings.Contains(stored, bad) {
					t.Fatalf("%s keeps %q: %s", where, bad, stored)
				}
			}
			if !strings.Contains(stored, "Hi") || !strings.Contains(stored, `<a href="https://ok.example/" rel="noopener noreferrer nofollow">ok</a>`) {
				t.Fatalf("%s lost the safe part: %s", where, stored)
			}
		}
		htmlOf := func(b quire.Block) string {
			var c struct{ HTML string }
			if err := json.Unmarshal(b.Content, &c); err != nil {
				t.Fatal(err)
			}
			return c.HTML
		}
		check("create response", htmlOf(p.Blocks[0]))
		check("stored page", htmlOf(e.getPage(adm, p.ID).Blocks[0]))
		var added quire.Page
		e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", adm, blk("rich_text", map[string]any{"html": html}), anyVersion...).want(t, 201).json(t, &added)
		check("added block", htmlOf(added.Blocks[1]))
		e.publishPage(adm, p.ID)
		doc, _ := e.publicPage("rich")
		check("public page", doc.Blocks[0].Content["html"].(string))
		// Sanitising is idempotent: saving the stored html again is no change.
		var again quire.Page
		e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+added.Blocks[1].ID, adm, map[string]any{"content": map[string]any{"html": doc.Blocks[0].Content["html"]}}, anyVersion...).want(t, 200).json(t, &again)
		if string(again.Blocks[1].Content) != string(added.Blocks[1].Content) {
			t.Fatalf("re-saving sanitised html changed it: %s → %s", added.Blocks[1].Content, again.Blocks[1].Content)
		}
	})
}
