package httpapi_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/testdb"
)

// raceSave is one way a page write can start to use media: it prepares
// what it needs (not racing) and returns the racing request.
type raceSave struct {
	name    string
	prepare func(e *env, tok, mediaID string, try int) func() *resp
}

var raceSaves = []raceSave{
	{"create page with blocks", func(e *env, tok, mediaID string, try int) func() *resp {
		return func() *resp {
			return e.do("POST", "/api/v1/pages", tok, map[string]any{"slug": fmt.Sprintf("created-%d", try), "title": "Created",
				"blocks": []any{imageBlock(mediaID)}})
		}
	}},
	{"PUT blocks", func(e *env, tok, mediaID string, try int) func() *resp {
		p := racePage(e, tok, try, nil)
		return func() *resp {
			return e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", tok, map[string]any{"blocks": []any{imageBlock(mediaID)}}, ifMatch(p.Version)...)
		}
	}},
	{"POST block", func(e *env, tok, mediaID string, try int) func() *resp {
		p := racePage(e, tok, try, nil)
		return func() *resp {
			return e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", tok, imageBlock(mediaID), ifMatch(p.Version)...)
		}
	}},
	{"PATCH block", func(e *env, tok, mediaID string, try int) func() *resp {
		p := racePage(e, tok, try, []any{map[string]any{"type": "paragraph", "content": map[string]any{"text": "soon a picture"}}})
		return func() *resp {
			return e.do("PATCH", "/api/v1/pages/"+p.ID+"/blocks/"+p.Blocks[0].ID, tok, imageBlock(mediaID), ifMatch(p.Version)...)
		}
	}},
	{"restore revision", func(e *env, tok, mediaID string, try int) func() *resp {
		// A draft revision shows the media; the working copy no longer does.
		p := racePage(e, tok, try, []any{imageBlock(mediaID)})
		var rev quire.Revision
		e.do("POST", "/api/v1/pages/"+p.ID+"/revisions", tok, map[string]any{"note": "with the picture"}).want(e.t, 201).json(e.t, &rev)
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", tok, map[string]any{"blocks": []any{}}, ifMatch(p.Version)...).want(e.t, 200).json(e.t, &p)
		return func() *resp {
			return e.do("POST", "/api/v1/pages/"+p.ID+"/revisions/"+rev.ID+"/restore", tok, nil, ifMatch(p.Version)...)
		}
	}},
}

func racePage(e *env, tok string, try int, blocks []any) quire.Page {
	if blocks == nil {
		blocks = []any{}
	}
	var p quire.Page
	e.do("POST", "/api/v1/pages", tok, map[string]any{"slug": fmt.Sprintf("race-%d", try), "title": "Race", "blocks": blocks}).
		want(e.t, 201).json(e.t, &p)
	return p
}

// An admin purging media while a page write starts to use it: exactly one
// of them may win, on both databases, however the two interleave — never
// a purge that succeeds beside a save that kept the media in a working
// copy. Each way a write can add an image block is raced many times.
func TestMediaPurgeRacesPageSaves(t *testing.T) {
	const tries = 25
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		tok := e.admin().AccessToken
		seq := 0
		for _, rs := range raceSaves {
			t.Run(rs.name, func(t *testing.T) {
				e := e.with(t)
				purged, saved := 0, 0
				for try := range tries {
					seq++
					m := e.mustUpload(tok, "race.png", pngOf(8+seq%50, 8+seq/50, byte(seq)))
					save := rs.prepare(e, tok, m.ID, seq)
					var wg sync.WaitGroup
					start := make(chan struct{})
					var saveR, purgeR *resp
					wg.Add(2)
					go func() { defer wg.Done(); <-start; saveR = save() }()
					go func() {
						defer wg.Done()
						<-start
						purgeR = e.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", tok, nil, ifMatch(m.Version)...)
					}()
					close(start)
					wg.Wait()
					saveOK := saveR.Status < 300
					purgeOK := purgeR.Status == 204
					if saveOK && purgeOK {
						t.Fatalf("try %d: both the save (%d) and the purge (%d) succeeded", try, saveR.Status, purgeR.Status)
					}
					if !saveOK && !purgeOK {
						t.Fatalf("try %d: neither succeeded: save %d %s, purge %d %s", try, saveR.Status, saveR.Body, purgeR.Status, purgeR.Body)
					}
					if purgeOK {
						purged++
						wantProblem(t, saveR, saveRefusal(rs.name), "")
					} else {
						saved++
						wantProblem(t, purgeR, 409, "")
						e.do("GET", "/api/v1/media/"+m.ID, tok, nil).want(t, 200) // the page's media is still there
					}
				}
				t.Logf("%d tries: purge won %d, save won %d", tries, purged, saved)
			})
		}
	})
}

// saveRefusal is how a write that names purged media is refused.
func saveRefusal(name string) int {
	if name == "restore revision" {
		return 409
	}
	return 422
}

// The other order on PostgreSQL: a purge holding the media's row makes a
// page save that names the media wait, and the save then finds it gone
// and refuses, instead of keeping a block whose media no longer exists.
func TestMediaPageSaveWaitsForPurge(t *testing.T) {
	e := newEnv(t, testdb.Postgres(t), nil)
	admin := e.admin().AccessToken
	m := e.mustUpload(admin, "hero.png", pngOf(10, 10, 1))
	var page quire.Page
	e.do("POST", "/api/v1/pages", admin, map[string]any{"slug": "race", "title": "Race"}).want(t, 201).json(t, &page)

	db, err := sql.Open("pgx", e.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	purge, err := db.Begin() // a purge that has locked and removed the record, not yet committed
	if err != nil {
		t.Fatal(err)
	}
	defer purge.Rollback()
	if _, err := purge.Exec(`SELECT id FROM media WHERE id = $1 FOR UPDATE`, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := purge.Exec(`DELETE FROM media WHERE id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan *resp, 1)
	go func() {
		done <- e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", admin, map[string]any{"blocks": []any{imageBlock(m.ID)}}, ifMatch(page.Version)...)
	}()
	select {
	case r := <-done:
		t.Fatalf("the save did not wait for the purge: %d %s", r.Status, r.Body)
	case <-time.After(300 * time.Millisecond):
	}
	if err := purge.Commit(); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, <-done, http.StatusUnprocessableEntity, "blocks[0].content.media_id")
}
