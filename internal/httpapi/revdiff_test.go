package httpapi_test

import (
	"testing"

	"github.com/quirecms/quire"
)

func TestRevisionDiffThroughTheAPI(t *testing.T) {
	eachParallel(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		_, viewer := e.newUser(quire.RoleViewer)
		p := e.createPage(admin, "diffed", "First title",
			blk("heading", map[string]any{"text": "Hello", "level": 2}),
			blk("rich_text", map[string]any{"html": "<p>The quick <strong>brown</strong> fox.</p>"}),
			blk("paragraph", map[string]any{"text": "to be removed"}),
			blk("divider", nil))
		published := e.publishPage(admin, p.ID)
		ids := []string{p.Blocks[0].ID, p.Blocks[1].ID, p.Blocks[2].ID, p.Blocks[3].ID}
		// Move the divider first, edit the rich text, drop the paragraph, add a quote.
		e.do("PUT", "/api/v1/pages/"+p.ID+"/blocks", admin, map[string]any{"blocks": []any{
			map[string]any{"id": ids[3], "type": "divider", "content": map[string]any{}},
			map[string]any{"id": ids[0], "type": "heading", "content": map[string]any{"text": "Hello", "level": 2}},
			map[string]any{"id": ids[1], "type": "rich_text", "content": map[string]any{"html": "<p>The quick <em>red</em> fox.</p>"}},
			blk("quote", map[string]any{"text": "New here"}),
		}}, anyVersion...).want(t, 200)
		e.do("PATCH", "/api/v1/pages/"+p.ID, admin, map[string]any{"title": "Second title"}, anyVersion...).want(t, 200)
		if !e.getPage(admin, p.ID).HasUnpublishedChanges {
			t.Fatal("has_unpublished_changes = false")
		}

		var d quire.RevisionDiff
		e.do("GET", "/api/v1/pages/"+p.ID+"/revisions/"+published.ID+"/diff", viewer.AccessToken, nil).want(t, 200).json(t, &d)
		if d.Identical || d.Title == nil || d.Title.To != "Second title" || d.Slug != nil || !d.To.WorkingCopy || *d.From.RevisionID != published.ID {
			t.Fatalf("diff %+v", d)
		}
		if want := (quire.DiffSummary{Added: 1, Removed: 1, Changed: 1, Moved: 1, Unchanged: 1}); d.Summary != want {
			t.Fatalf("summary %+v, want %+v", d.Summary, want)
		}
		byID := map[string]quire.BlockChange{}
		for _, c := range d.Blocks {
			byID[c.ID] = c
		}
		if c := byID[ids[3]]; c.Change != quire.BlockMoved || *c.OldPosition != 3 || *c.NewPosition != 0 {
			t.Fatalf("divider %+v", c)
		}
		rich := byID[ids[1]]
		if rich.Change != quire.BlockChanged || len(rich.Patch) != 2 || rich.Patch[0].Op != "test" || rich.Patch[1].Path != "/html" {
			t.Fatalf("rich text %+v", rich)
		}
		want := []quire.TextChange{{Op: "equal", Text: "The quick"}, {Op: "delete", Text: "brown"}, {Op: "insert", Text: "red"}, {Op: "equal", Text: "fox."}}
		if len(rich.TextDiff) != len(want) {
			t.Fatalf("text diff %+v", rich.TextDiff)
		}
		for i := range want {
			if rich.TextDiff[i] != want[i] {
				t.Fatalf("text diff %+v, want %+v", rich.TextDiff, want)
			}
		}
		if c := byID[ids[2]]; c.Change != quire.BlockRemoved || c.NewPosition != nil || len(c.Content) == 0 {
			t.Fatalf("removed %+v", c)
		}

		// Saved as a revision, the same changes; the revision against the
		// working copy is identical.
		var draft quire.Revision
		e.do("POST", "/api/v1/pages/"+p.ID+"/revisions", admin, nil).want(t, 201).json(t, &draft)
		var d2 quire.RevisionDiff
		e.do("GET", "/api/v1/pages/"+p.ID+"/revisions/"+published.ID+"/diff?to="+draft.ID, admin, nil).want(t, 200).json(t, &d2)
		if d2.Summary != d.Summary || d2.To.WorkingCopy || *d2.To.Number != draft.Number {
			t.Fatalf("revision to revision %+v", d2)
		}
		var same quire.RevisionDiff
		e.do("GET", "/api/v1/pages/"+p.ID+"/revisions/"+draft.ID+"/diff?to=working", admin, nil).want(t, 200).json(t, &same)
		if !same.Identical || len(same.Blocks) != 0 || same.Summary.Unchanged != 4 {
			t.Fatalf("draft against working copy %+v", same)
		}

		other := e.createPage(admin, "other-page", "Other")
		otherRev := e.publishPage(admin, other.ID)
		base := "/api/v1/pages/" + p.ID + "/revisions/"
		wantProblem(t, e.do("GET", base+published.ID+"/diff?to="+otherRev.ID, admin, nil), 422, "to")
		wantProblem(t, e.do("GET", base+otherRev.ID+"/diff", admin, nil), 404, "")
		wantProblem(t, e.do("GET", "/api/v1/pages/"+other.ID+"/revisions/"+published.ID+"/diff", admin, nil), 404, "")
	})
}
