package httpapi_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/quirecms/quire"
)

// lifecycle follows one page through its whole life and, after every step,
// checks what each audience sees: the editor (version, ETag,
// has_unpublished_changes), the public (the published snapshot or 404,
// never the working copy) and the auditor (one entry per step, the chain
// intact).
type lifecycle struct {
	t       *testing.T
	e       *env
	editor  string // token of the editor who does every step
	adminT  string
	userID  string // the editor's id
	id      string
	version int64
	// public is what GET /public/pages/{slug} must answer: nil for 404.
	public     *quire.Page
	publicRev  int
	publicETag string
	audits     int // entries about this page so far
}

// step checks the state after one request r. bump says whether the step
// changed the page (and so its version).
func (l *lifecycle) step(name string, r *resp, bump bool, action string, changed bool, details func(d map[string]any)) quire.Page {
	l.t.Helper()
	t := l.t
	if bump {
		l.version++
	}
	p := l.e.getPage(l.editor, l.id)
	if p.Version != l.version {
		t.Fatalf("%s: version %d, want %d", name, p.Version, l.version)
	}
	if p.HasUnpublishedChanges != changed {
		t.Fatalf("%s: has_unpublished_changes = %v, want %v", name, p.HasUnpublishedChanges, changed)
	}
	if (p.PublishedRevisionID != nil) != (l.public != nil) || (p.PublishedAt != nil) != (l.public != nil) {
		t.Fatalf("%s: published_revision_id %v, published_at %v, want published = %v", name, p.PublishedRevisionID, p.PublishedAt, l.public != nil)
	}
	l.checkPublic(name, p)
	l.checkAudit(name, r, action, details)
	l.e.wantAuditOK(l.adminT)
	return p
}

// checkPublic compares the public answer with the snapshot it must show.
func (l *lifecycle) checkPublic(name string, working quire.Page) {
	l.t.Helper()
	t, e := l.t, l.e
	if l.public == nil {
		e.wantPublic404(working.Slug)
		return
	}
	doc, r := e.publicPage(working.Slug)
	if doc.Title != l.public.Title || doc.Slug != working.Slug || doc.Revision != l.publicRev {
		t.Fatalf("%s: public page %q %q rev %d, want %q rev %d", name, doc.Slug, doc.Title, doc.Revision, l.public.Title, l.publicRev)
	}
	if len(doc.Blocks) != len(l.public.Blocks) {
		t.Fatalf("%s: public page has %d blocks, want %d", name, len(doc.Blocks), len(l.public.Blocks))
	}
	for i, b := range doc.Blocks {
		want := l.public.Blocks[i]
		var wc map[string]any
		_ = json.Unmarshal(want.Content, &wc)
		got := map[string]any{}
		for k, v := range b.Content {
			if b.Type == "image" && (k == "url" || k == "width" || k == "height" || k == "mime_type") {
				continue
			}
			got[k] = v
		}
		if b.ID != want.ID || b.Type != want.Type || !reflect.DeepEqual(got, wc) {
			t.Fatalf("%s: public block %d = %+v, want %s %s", name, i, b, want.Type, want.Content)
		}
	}
	if l.publicETag != "" && r.Header.Get("ETag") != l.publicETag {
		t.Fatalf("%s: public ETag changed from %s to %s without a publish", name, l.publicETag, r.Header.Get("ETag"))
	}
	l.publicETag = r.Header.Get("ETag")
}

// checkAudit checks that the step wrote exactly one entry about the page,
// by the editor, carrying the request's id.
func (l *lifecycle) checkAudit(name string, r *resp, action string, details func(d map[string]any)) {
	l.t.Helper()
	t := l.t
	var list struct{ Data []quire.AuditEntry }
	l.e.do("GET", "/api/v1/audit-log?resource_type=page&resource_id="+l.id+"&limit=100", l.adminT, nil).want(t, 200).json(t, &list)
	if len(list.Data) != l.audits+1 {
		t.Fatalf("%s: %d audit entries about the page, want %d", name, len(list.Data), l.audits+1)
	}
	l.audits++
	en := list.Data[0]
	if en.Action != action || en.UserID != l.userID || en.RequestID == "" || en.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("%s: audit entry %s by %s (request %s), want %s by %s (request %s)", name, en.Action, en.UserID, en.RequestID, action, l.userID, r.Header.Get("X-Request-Id"))
	}
	var d map[string]any
	if err := json.Unmarshal(en.Details, &d); err != nil {
		t.Fatal(err)
	}
	if details != nil {
		details(d)
	}
}

func TestPageLifecycle(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		adminT := e.admin().AccessToken
		ed, edPair := e.newUser(quire.RoleEditor)
		l := &lifecycle{t: t, e: e, editor: edPair.AccessToken, adminT: adminT, userID: ed.ID}
		tok := l.editor
		mediaID := e.insertMedia(e.userID(adminT), "cat photo.png", 640, 480)
		revNumber := func(want float64) func(d map[string]any) {
			return func(d map[string]any) {
				if d["revision"] != want || d["revision_id"] == nil {
					t.Fatalf("audit details %v, want revision %v and its id", d, want)
				}
			}
		}

		// Create: a draft that the public cannot see.
		var p quire.Page
		r := e.do("POST", "/api/v1/pages", tok, map[string]any{"slug": "guide", "title": "Guide"}).want(t, 201)
		r.json(t, &p)
		l.id, l.version = p.ID, 0
		l.step("create", r, true, "page.create", false, nil)

		// Edit blocks: one of every type, as an editor's save.
		r = e.do("PUT", "/api/v1/pages/"+l.id+"/blocks", tok, map[string]any{"blocks": everyBlockType(mediaID)}, ifMatch(1)...).want(t, 200)
		r.json(t, &p)
		if len(p.Blocks) != 9 || p.Blocks[3].Type != "image" || p.Blocks[8].Type != "divider" {
			t.Fatalf("blocks after PUT: %+v", p.Blocks)
		}
		l.step("put blocks", r, true, "page.blocks_replace", false, func(d map[string]any) {
			if !reflect.DeepEqual(d["after"], map[string]any{"blocks": 9.0}) {
				t.Fatalf("blocks_replace details %v", d)
			}
		})

		// Save a draft revision: the page itself does not change.
		var draft quire.Revision
		r = e.do("POST", "/api/v1/pages/"+l.id+"/revisions", tok, map[string]any{"note": "first draft"}).want(t, 201)
		r.json(t, &draft)
		if draft.Number != 1 || draft.Status != quire.RevisionDraft || draft.PublishedAt != nil || len(draft.Blocks) != 9 {
			t.Fatalf("draft revision: %+v", draft)
		}
		l.step("save draft", r, false, "page.revision_create", false, revNumber(1))

		// Publish: the public sees exactly the working copy of this moment.
		var rev2 quire.Revision
		r = e.do("POST", "/api/v1/pages/"+l.id+"/publish", tok, map[string]any{"note": "go live"}, ifMatch(2)...).want(t, 200)
		r.json(t, &rev2)
		if rev2.Number != 2 || rev2.Status != quire.RevisionPublished || rev2.PublishedAt == nil {
			t.Fatalf("published revision: %+v", rev2)
		}
		snap1 := e.getPage(tok, l.id)
		l.public, l.publicRev = &snap1, 2
		p = l.step("publish", r, true, "page.publish", false, func(d map[string]any) {
			revNumber(2)(d)
			if d["previous_revision_id"] != nil || d["note"] != "go live" {
				t.Fatalf("publish details %v", d)
			}
		})
		if *p.PublishedRevisionID != rev2.ID || !p.PublishedAt.Equal(*rev2.PublishedAt) {
			t.Fatalf("page points at %v (%v), want %s", *p.PublishedRevisionID, p.PublishedAt, rev2.ID)
		}

		// Edits change the working copy only.
		r = e.do("PATCH", "/api/v1/pages/"+l.id, tok, map[string]any{"title": "Guide (draft edit)"}, ifMatch(3)...).want(t, 200)
		l.step("edit title", r, true, "page.update", true, func(d map[string]any) {
			if !reflect.DeepEqual(d["before"], map[string]any{"title": "Guide"}) || !reflect.DeepEqual(d["after"], map[string]any{"title": "Guide (draft edit)"}) {
				t.Fatalf("update details %v", d)
			}
		})
		para := snap1.Blocks[1].ID
		r = e.do("PATCH", "/api/v1/pages/"+l.id+"/blocks/"+para, tok, map[string]any{"content": map[string]any{"text": "Unpublished words"}}, ifMatch(4)...).want(t, 200)
		l.step("edit block", r, true, "page.block_update", true, nil)
		if strings.Contains(string(e.public("guide").Body), "Unpublished") || strings.Contains(string(e.public("guide").Body), "draft edit") {
			t.Fatal("the public page shows the working copy")
		}

		// Reverting the edits to the published content: nothing unpublished.
		r = e.do("PATCH", "/api/v1/pages/"+l.id, tok, map[string]any{"title": "Guide"}, ifMatch(5)...).want(t, 200)
		l.step("revert title", r, true, "page.update", true, nil)
		r = e.do("PATCH", "/api/v1/pages/"+l.id+"/blocks/"+para, tok, map[string]any{"content": map[string]any{"text": "First paragraph.\nSecond line."}}, ifMatch(6)...).want(t, 200)
		l.step("revert block", r, true, "page.block_update", false, nil)

		// Edit again and publish again: the previous revision is archived.
		r = e.do("POST", "/api/v1/pages/"+l.id+"/blocks", tok, blk("heading", map[string]any{"text": "New section", "level": 3}), ifMatch(7)...).want(t, 201)
		l.step("add block", r, true, "page.block_create", true, func(d map[string]any) {
			if after, _ := d["after"].(map[string]any); after["position"] != 9.0 || after["type"] != "heading" {
				t.Fatalf("block_create details %v", d)
			}
		})
		var rev3 quire.Revision
		r = e.do("POST", "/api/v1/pages/"+l.id+"/publish", tok, nil, ifMatch(8)...).want(t, 200)
		r.json(t, &rev3)
		snap2 := e.getPage(tok, l.id)
		l.public, l.publicRev, l.publicETag = &snap2, 3, ""
		l.step("publish again", r, true, "page.publish", false, func(d map[string]any) {
			revNumber(3)(d)
			if d["previous_revision_id"] != rev2.ID {
				t.Fatalf("publish details %v, want previous revision %s", d, rev2.ID)
			}
		})
		wantStatuses(t, e.revisionList(tok, l.id), "published", "archived", "draft")

		// Restore the first published revision into the working copy: the
		// public still sees revision 3.
		r = e.do("POST", "/api/v1/pages/"+l.id+"/revisions/"+rev2.ID+"/restore", tok, nil, ifMatch(9)...).want(t, 200)
		r.json(t, &p)
		if len(p.Blocks) != 9 || p.Title != "Guide" {
			t.Fatalf("restored page: %s, %d blocks", p.Title, len(p.Blocks))
		}
		for i, b := range p.Blocks {
			if b.ID != rev2.Blocks[i].ID || b.Position != i {
				t.Fatalf("restored block %d: id %s position %d, want id %s", i, b.ID, b.Position, rev2.Blocks[i].ID)
			}
		}
		l.step("restore", r, true, "page.restore", true, revNumber(2))
		wantStatuses(t, e.revisionList(tok, l.id), "published", "archived", "draft")

		// Unpublish: gone from the public, every revision kept.
		r = e.do("POST", "/api/v1/pages/"+l.id+"/unpublish", tok, nil, ifMatch(10)...).want(t, 200)
		l.public = nil
		l.step("unpublish", r, true, "page.unpublish", false, func(d map[string]any) {
			if d["revision_id"] != rev3.ID || d["revision"] != 3.0 {
				t.Fatalf("unpublish details %v, want revision_id %s", d, rev3.ID)
			}
		})
		wantStatuses(t, e.revisionList(tok, l.id), "archived", "archived", "draft")
		var list struct{ Data []map[string]any }
		e.do("GET", "/api/v1/public/pages", "", nil).want(t, 200).json(t, &list)
		if len(list.Data) != 0 {
			t.Fatalf("public list after unpublish: %v", list.Data)
		}

		// Delete: a stale If-Match is refused, the current one works.
		wantProblem(t, e.do("DELETE", "/api/v1/pages/"+l.id, tok, nil, ifMatch(10)...), 412, "")
		r = e.do("DELETE", "/api/v1/pages/"+l.id, tok, nil, ifMatch(11)...).want(t, 204)
		e.do("GET", "/api/v1/pages/"+l.id, tok, nil).want(t, 404)
		e.do("GET", "/api/v1/pages/"+l.id+"/revisions", tok, nil).want(t, 404)
		e.do("GET", "/api/v1/pages/"+l.id+"/revisions/"+rev2.ID, tok, nil).want(t, 404)
		e.wantPublic404("guide")
		l.checkAudit("delete", r, "page.delete", func(d map[string]any) {
			if !reflect.DeepEqual(d["before"], map[string]any{"slug": "guide", "title": "Guide"}) {
				t.Fatalf("delete details %v", d)
			}
		})
		e.wantAuditOK(adminT)
	})
}

// wantStatuses checks revision statuses, newest first.
func wantStatuses(t *testing.T, revs []quire.Revision, want ...string) {
	t.Helper()
	got := make([]string, len(revs))
	published := 0
	for i, r := range revs {
		got[i] = string(r.Status)
		if r.Status == quire.RevisionPublished {
			published++
		}
		if r.Number != len(revs)-i {
			t.Fatalf("revision numbers %v are not n..1", revs)
		}
	}
	if !reflect.DeepEqual(got, want) || published > 1 {
		t.Fatalf("revision statuses %v, want %v", got, want)
	}
}
