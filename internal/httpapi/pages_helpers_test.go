package httpapi_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Helpers shared by the page, block, revision and public delivery tests.

// eachParallel is each, with the test and its database subtests run in
// parallel with other parallel tests: every instance has its own database.
func eachParallel(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	eachParallelWith(t, nil, fn)
}

// eachParallelWith is eachParallel with a configuration tweak.
func eachParallelWith(t *testing.T, tweak func(*config.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		startMu.Lock()
		e := newEnv(t, dsn, tweak)
		startMu.Unlock()
		fn(t, e)
	})
}

// startMu serialises the start of parallel instances. Migrations on
// PostgreSQL take a server-wide session lock that goose polls every five
// seconds, so two instances migrating at once cost one of them 5 s;
// taking turns here costs a fraction of that.
var startMu sync.Mutex

// ifMatch is the header pair that makes a write conditional on version v.
func ifMatch(v int64) []string { return []string{"If-Match", `"v` + strconv.FormatInt(v, 10) + `"`} }

// blk is one block as a client sends it.
func blk(typ string, content map[string]any) map[string]any {
	if content == nil {
		content = map[string]any{}
	}
	return map[string]any{"type": typ, "content": content}
}

// everyBlockType is one valid block of each type; the image names mediaID.
func everyBlockType(mediaID string) []map[string]any {
	return []map[string]any{
		blk("heading", map[string]any{"text": "Welcome", "level": 2}),
		blk("paragraph", map[string]any{"text": "First paragraph.\nSecond line."}),
		blk("rich_text", map[string]any{"html": `<p>Some <strong>bold</strong> text</p>`}),
		blk("image", map[string]any{"media_id": mediaID, "alt": "A cat", "caption": "Our cat"}),
		blk("quote", map[string]any{"text": "Simplicity is prerequisite for reliability.", "cite": "Dijkstra"}),
		blk("list", map[string]any{"style": "ordered", "items": []string{"one", "two"}}),
		blk("code", map[string]any{"language": "go", "code": "fmt.Println(\"hi\")"}),
		blk("embed", map[string]any{"url": "https://www.youtube.com/watch?v=abc"}),
		blk("divider", nil),
	}
}

func (e *env) createPage(token, slug, title string, blocks ...map[string]any) quire.Page {
	e.t.Helper()
	body := map[string]any{"slug": slug, "title": title}
	if blocks != nil {
		body["blocks"] = blocks
	}
	var p quire.Page
	r := e.do("POST", "/api/v1/pages", token, body).want(e.t, 201)
	r.json(e.t, &p)
	if r.Header.Get("ETag") != ifMatch(p.Version)[1] {
		e.t.Fatalf("ETag %q for version %d", r.Header.Get("ETag"), p.Version)
	}
	return p
}

// getPage reads a page and checks that its ETag is its version.
func (e *env) getPage(token, id string) quire.Page {
	e.t.Helper()
	var p quire.Page
	r := e.do("GET", "/api/v1/pages/"+id, token, nil).want(e.t, 200)
	r.json(e.t, &p)
	if r.Header.Get("ETag") != ifMatch(p.Version)[1] {
		e.t.Fatalf("ETag %q for version %d", r.Header.Get("ETag"), p.Version)
	}
	return p
}

func (e *env) publishPage(token, id string) quire.Revision {
	e.t.Helper()
	var rev quire.Revision
	e.do("POST", "/api/v1/pages/"+id+"/publish", token, nil, e.current(token, id)...).want(e.t, 200).json(e.t, &rev)
	return rev
}

// current is the If-Match header naming the page's version as token reads
// it now, for writes whose test is not about concurrent edits.
func (e *env) current(token, id string) []string {
	e.t.Helper()
	return ifMatch(e.getPage(token, id).Version)
}

// anyVersion is "If-Match: *": the client overwrites whatever version is
// there, for writes to pages that may not exist or whose version the test
// does not follow.
var anyVersion = []string{"If-Match", "*"}

func (e *env) revisionList(token, id string) []quire.Revision {
	e.t.Helper()
	var l struct{ Data []quire.Revision }
	e.do("GET", "/api/v1/pages/"+id+"/revisions?limit=100", token, nil).want(e.t, 200).json(e.t, &l)
	return l.Data
}

// publicDoc is the public JSON of a published page.
type publicDoc struct {
	Slug        string        `json:"slug"`
	Title       string        `json:"title"`
	Blocks      []publicBlock `json:"blocks"`
	PublishedAt time.Time     `json:"published_at"`
	Revision    int           `json:"revision"`
}

type publicBlock struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Content map[string]any `json:"content"`
}

func (e *env) public(slug string, headers ...string) *resp {
	e.t.Helper()
	return e.do("GET", "/api/v1/public/pages/"+slug, "", nil, headers...)
}

func (e *env) publicPage(slug string) (publicDoc, *resp) {
	e.t.Helper()
	var d publicDoc
	r := e.public(slug).want(e.t, 200)
	r.json(e.t, &d)
	return d, r
}

func (e *env) wantPublic404(slug string) {
	e.t.Helper()
	wantProblem(e.t, e.public(slug), 404, "")
}

func (e *env) userID(token string) string {
	e.t.Helper()
	var u quire.User
	e.me(token).want(e.t, 200).json(e.t, &u)
	return u.ID
}

func (e *env) wantAuditOK(token string) {
	e.t.Helper()
	var v quire.AuditVerification
	e.do("GET", "/api/v1/audit-log/verify", token, nil).want(e.t, 200).json(e.t, &v)
	if !v.OK || v.Entries == 0 {
		e.t.Fatalf("audit verification: %+v", v)
	}
}

// rawDB opens the test's database directly, for rows that no route writes
// yet (media) or changes behind the server's back.
func (e *env) rawDB() (*sql.DB, bool) {
	e.t.Helper()
	dsn := e.cfg.DSN()
	pg := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	driver, source := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if pg {
		driver, source = "pgx", dsn
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		e.t.Fatal(err)
	}
	return db, pg
}

// execRaw runs one statement with ? placeholders straight on the database.
func (e *env) execRaw(query string, args ...any) {
	e.t.Helper()
	db, pg := e.rawDB()
	defer db.Close()
	if pg {
		n := 0
		var b strings.Builder
		for _, r := range query {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// insertMedia adds an image to the media table the way the media feature
// will, and returns its id. A zero width or height is stored as NULL (an
// image whose size could not be read).
func (e *env) insertMedia(uploaderID, filename string, width, height int) string {
	e.t.Helper()
	id := store.NewID()
	var w, h any
	if width > 0 && height > 0 {
		w, h = width, height
	}
	sum := make([]byte, 32)
	_, _ = rand.Read(sum)
	now := e.dbTime(time.Now())
	e.execRaw(`INSERT INTO media (id, filename, mime_type, size_bytes, checksum_sha256, width, height, storage_key, uploaded_by_user_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, filename, "image/png", 1234, hex.EncodeToString(sum), w, h, "objects/"+id, uploaderID, now, now)
	return id
}

// deleteMedia soft-deletes media, as DELETE /media/{id} will.
func (e *env) deleteMedia(id string) {
	e.t.Helper()
	e.execRaw(`UPDATE media SET deleted_at = ? WHERE id = ?`, e.dbTime(time.Now()), id)
}

// pageState is what "nothing was stored" compares: the page as the API
// returns it and the length of the audit log.
type pageState struct {
	version int64
	blocks  string
	title   string
	slug    string
	audit   int
}

func (e *env) pageState(token, id string) pageState {
	e.t.Helper()
	p := e.getPage(token, id)
	b, _ := json.Marshal(p.Blocks)
	return pageState{version: p.Version, blocks: string(b), title: p.Title, slug: p.Slug, audit: len(e.auditLog())}
}

// walkQuery follows next_cursor through a list whose path may carry a
// query, returning every item.
func walkQuery(t *testing.T, e *env, path, token string, limit int) []map[string]any {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var items []map[string]any
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatal("pagination does not end")
		}
		u := path + sep + "limit=" + strconv.Itoa(limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Data       []map[string]any `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		e.do("GET", u, token, nil).want(t, 200).json(t, &page)
		if len(page.Data) > limit {
			t.Fatalf("page of %d items with limit %d", len(page.Data), limit)
		}
		items = append(items, page.Data...)
		if page.NextCursor == nil {
			return items
		}
		if len(page.Data) != limit {
			t.Fatalf("short page (%d) with a next cursor", len(page.Data))
		}
		cursor = *page.NextCursor
	}
}

// field returns the values of key in items, as strings.
func field(items []map[string]any, key string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it[key].(string)
	}
	return out
}
