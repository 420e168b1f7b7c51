package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/quirecms/quire"
)

// Concurrent writers to one page, through the real router: on PostgreSQL
// they race for the page row, on SQLite for the single write connection.

const writers = 10

// race runs fn(i) for i in 0..n-1 at once and returns the statuses.
func race(n int, fn func(i int) *resp) []int {
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = fn(i).Status
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// wantDense checks that the page's blocks sit at positions 0..n-1 and
// returns their paragraph texts in order.
func wantDense(t *testing.T, p quire.Page) []string {
	t.Helper()
	texts := make([]string, len(p.Blocks))
	for i, b := range p.Blocks {
		if b.Position != i {
			t.Fatalf("block %d has position %d: positions are not dense", i, b.Position)
		}
		var c struct{ Text string }
		_ = json.Unmarshal(b.Content, &c)
		texts[i] = c.Text
	}
	return texts
}

func TestConcurrentPublish(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		p := e.createPage(adm, "contended", "Contended", blk("paragraph", map[string]any{"text": "x"}))
		// Half the publishers log in as editors of their own, half share an API token.
		tokens := make([]string, writers)
		shared := e.newAPIToken(quire.RoleEditor)
		for i := range tokens {
			tokens[i] = shared
			if i%2 == 0 {
				_, pair := e.newUser(quire.RoleEditor)
				tokens[i] = pair.AccessToken
			}
		}
		statuses := race(writers, func(i int) *resp {
			return e.do("POST", "/api/v1/pages/"+p.ID+"/publish", tokens[i], map[string]any{"note": fmt.Sprint("publisher ", i)}, anyVersion...)
		})
		if count(statuses, 200) != writers {
			t.Fatalf("statuses %v: every publish should queue and succeed", statuses)
		}
		// wantStatuses also checks the numbers are 1..n with none repeated.
		revs := e.revisionList(adm, p.ID)
		wantStatuses(t, revs, append([]string{"published"}, slices.Repeat([]string{"archived"}, writers-1)...)...)
		got := e.getPage(adm, p.ID)
		if *got.PublishedRevisionID != revs[0].ID || got.Version != int64(1+writers) || got.HasUnpublishedChanges {
			t.Fatalf("page after the race: %+v", got)
		}
		if doc, _ := e.publicPage("contended"); doc.Revision != writers {
			t.Fatalf("public revision %d, want %d", doc.Revision, writers)
		}

		// Draft saves (which lock the page without changing it) racing
		// publishes: revision numbers stay unique and gapless.
		statuses = race(writers, func(i int) *resp {
			if i%2 == 0 {
				return e.do("POST", "/api/v1/pages/"+p.ID+"/revisions", tokens[i], nil)
			}
			return e.do("POST", "/api/v1/pages/"+p.ID+"/publish", tokens[i], nil, anyVersion...)
		})
		if count(statuses, 201) != writers/2 || count(statuses, 200) != writers/2 {
			t.Fatalf("statuses %v", statuses)
		}
		revs = e.revisionList(adm, p.ID)
		published := 0
		for i, r := range revs {
			if r.Number != 2*writers-i {
				t.Fatalf("revision numbers: %v", revs)
			}
			if r.Status == quire.RevisionPublished {
				published++
			}
		}
		if published != 1 {
			t.Fatalf("%d published revisions", published)
		}
		// The revision list pages through all of them by number.
		if got := field(walkQuery(t, e, "/api/v1/pages/"+p.ID+"/revisions", adm, 3), "id"); len(got) != 2*writers || got[0] != revs[0].ID || got[len(got)-1] != revs[len(revs)-1].ID {
			t.Fatalf("revision pages: %d items", len(got))
		}
		e.wantAuditOK(adm)
		publishes, drafts := 0, 0
		for _, a := range e.auditActions() {
			switch a {
			case "page.publish":
				publishes++
			case "page.revision_create":
				drafts++
			}
		}
		if publishes != writers+writers/2 || drafts != writers/2 {
			t.Fatalf("%d publish and %d draft entries, want %d and %d", publishes, drafts, writers+writers/2, writers/2)
		}
	})
}

func TestConcurrentStaleIfMatch(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		p := e.createPage(adm, "title-race", "Original")
		tokens := make([]string, writers)
		for i := range tokens {
			_, pair := e.newUser(quire.RoleEditor)
			tokens[i] = pair.AccessToken
		}
		bodies := make([]*resp, writers)
		statuses := race(writers, func(i int) *resp {
			bodies[i] = e.do("PATCH", "/api/v1/pages/"+p.ID, tokens[i], map[string]any{"title": fmt.Sprint("Title by ", i)}, ifMatch(p.Version)...)
			return bodies[i]
		})
		if count(statuses, 200) != 1 || count(statuses, 412) != writers-1 {
			t.Fatalf("statuses %v: want one 200 and the rest 412", statuses)
		}
		winner := slices.Index(statuses, 200)
		got := e.getPage(adm, p.ID)
		if got.Title != fmt.Sprint("Title by ", winner) || got.Version != p.Version+1 {
			t.Fatalf("final page %q v%d, want the winner's title (%d) at v%d", got.Title, got.Version, winner, p.Version+1)
		}
		for i, r := range bodies {
			if i != winner {
				wantProblem(t, r, 412, "")
			}
		}
		e.wantAuditOK(adm)
	})
}

func TestConcurrentBlockWrites(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adm := e.admin().AccessToken
		ed := e.newAPIToken(quire.RoleEditor)

		t.Run("inserts at the end", func(t *testing.T) {
			e := e.with(t)
			p := e.createPage(adm, "inserts", "Inserts")
			statuses := race(writers, func(i int) *resp {
				return e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", ed, blk("paragraph", map[string]any{"text": fmt.Sprint(i)}), anyVersion...)
			})
			if count(statuses, 201) != writers {
				t.Fatalf("statuses %v", statuses)
			}
			got := e.getPage(adm, p.ID)
			texts := wantDense(t, got)
			slices.Sort(texts)
			want := make([]string, writers)
			for i := range want {
				want[i] = fmt.Sprint(i)
			}
			slices.Sort(want)
			if !slices.Equal(texts, want) || got.Version != int64(1+writers) {
				t.Fatalf("blocks %v at v%d, want each of %v once at v%d", texts, got.Version, want, 1+writers)
			}
		})

		t.Run("inserts at the start and in the middle", func(t *testing.T) {
			e := e.with(t)
			p := e.createPage(adm, "mixed-inserts", "Mixed", blk("paragraph", map[string]any{"text": "a"}), blk("paragraph", map[string]any{"text": "z"}))
			statuses := race(writers, func(i int) *resp {
				return e.do("POST", "/api/v1/pages/"+p.ID+"/blocks", ed, map[string]any{"type": "paragraph", "content": map[string]any{"text": fmt.Sprint(i)}, "position": i % 3}, anyVersion...)
			})
			if count(statuses, 201) != writers {
				t.Fatalf("statuses %v", statuses)
			}
			if texts := wantDense(t, e.getPage(adm, p.ID)); len(texts) != writers+2 {
				t.Fatalf("%d blocks, want %d", len(texts), writers+2)
			}
		})

		t.Run("moves and deletes", func(t *testing.T) {
			e := e.with(t)
			var blocks []map[string]any
			for i := range 2 * writers {
				blocks = append(blocks, blk("paragraph", map[string]any{"text": fmt.Sprint("b", i)}))
			}
			p := e.createPage(adm, "moves", "Moves", blocks...)
			// Even blocks are deleted, odd ones moved, all at once.
			statuses := race(2*writers, func(i int) *resp {
				path := "/api/v1/pages/" + p.ID + "/blocks/" + p.Blocks[i].ID
				if i%2 == 0 {
					return e.do("DELETE", path, ed, nil, anyVersion...)
				}
				return e.do("PATCH", path, ed, map[string]any{"position": (i * 7) % (2 * writers)}, anyVersion...)
			})
			if count(statuses, 200) != 2*writers {
				t.Fatalf("statuses %v", statuses)
			}
			got := e.getPage(adm, p.ID)
			texts := wantDense(t, got)
			slices.Sort(texts)
			var want []string
			for i := 1; i < 2*writers; i += 2 {
				want = append(want, fmt.Sprint("b", i))
			}
			slices.Sort(want)
			if !slices.Equal(texts, want) {
				t.Fatalf("blocks %v, want %v", texts, want)
			}
		})
		e.wantAuditOK(adm)
	})
}
