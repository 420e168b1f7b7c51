package service

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Save changes title, slug and blocks under one version: refused blocks
// leave title and slug as they were with no audit entry or event; a good
// save bumps the version once, keeps the ids it names and writes one
// audit entry and one event; a stale version is 412; an author may not
// save another's page. Update and ReplaceBlocks are Save with one part.
func TestPagesSaveIsOneWrite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testdb.Open(t, dsn)
		principal := func(email string, role quire.Role) *quire.Principal {
			u := &quire.User{Email: email, Role: role, Active: true}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "hash") }); err != nil {
				t.Fatal(err)
			}
			return &quire.Principal{UserID: u.ID, Role: u.Role}
		}
		editor := principal("editor@example.com", quire.RoleEditor)
		author := principal("author@example.com", quire.RoleAuthor)
		pages := NewPages(db, nil)
		para := func(text string) quire.BlockInput {
			c, _ := json.Marshal(map[string]string{"text": text})
			return quire.BlockInput{Type: quire.BlockParagraph, Content: c}
		}
		pg, err := pages.Create(ctx, editor, NewPage{Slug: "before", Title: "Before", Blocks: []quire.BlockInput{para("one")}})
		if err != nil {
			t.Fatal(err)
		}
		counts := func() (audits, events int) {
			es, err := db.Reader().AuditEntries(ctx, store.AuditFilter{ResourceType: "page", ResourceID: pg.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			evs, err := db.Reader().EventsAfter(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			return len(es), len(evs)
		}
		audits, events := counts()
		title, slug := "After", "after"

		bad := []quire.BlockInput{para("fine"), {Type: quire.BlockEmbed, Content: json.RawMessage(`{"url":"http://example.com/x"}`)}}
		_, err = pages.Save(ctx, editor, pg.ID, pg.Version, PageSave{PagePatch: PagePatch{Title: &title, Slug: &slug}, Blocks: &bad})
		if quire.ErrorCode(err) != quire.EINVALID {
			t.Fatalf("invalid blocks: %v", err)
		}
		now, err := pages.Get(ctx, editor, pg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Title != "Before" || now.Slug != "before" || now.Version != pg.Version || len(now.Blocks) != 1 {
			t.Fatalf("a refused save changed the page: %q %q v%d %d blocks", now.Title, now.Slug, now.Version, len(now.Blocks))
		}
		if a, e := counts(); a != audits || e != events {
			t.Fatalf("a refused save wrote %d audit entries and %d events", a-audits, e-events)
		}

		if _, err := pages.Save(ctx, author, pg.ID, pg.Version, PageSave{PagePatch: PagePatch{Title: &title}}); quire.ErrorCode(err) != quire.EFORBIDDEN {
			t.Fatalf("an author saved another's page: %v", err)
		}

		kept := para("one, edited")
		kept.ID = pg.Blocks[0].ID
		good := []quire.BlockInput{kept, para("two")}
		saved, err := pages.Save(ctx, editor, pg.ID, pg.Version, PageSave{PagePatch: PagePatch{Title: &title, Slug: &slug}, Blocks: &good})
		if err != nil {
			t.Fatal(err)
		}
		if saved.Version != pg.Version+1 || saved.Title != title || saved.Slug != slug || len(saved.Blocks) != 2 || saved.Blocks[0].ID != kept.ID {
			t.Fatalf("saved: v%d (from v%d) %q %q %+v", saved.Version, pg.Version, saved.Title, saved.Slug, saved.Blocks)
		}
		if a, e := counts(); a != audits+1 || e != events+1 {
			t.Fatalf("one save wrote %d audit entries and %d events", a-audits, e-events)
		}
		es, _ := db.Reader().AuditEntries(ctx, store.AuditFilter{ResourceType: "page", ResourceID: pg.ID, Limit: 1})
		var d struct {
			Before map[string]any `json:"before"`
			After  map[string]any `json:"after"`
		}
		_ = json.Unmarshal(es[0].Details, &d)
		if es[0].Action != ActionPageSave || d.Before["title"] != "Before" || d.After["slug"] != "after" || d.Before["blocks"] != float64(1) || d.After["blocks"] != float64(2) {
			t.Errorf("audit entry %s %s", es[0].Action, es[0].Details)
		}

		// The version the save started from is gone now.
		if _, err := pages.Save(ctx, editor, pg.ID, pg.Version, PageSave{Blocks: &good}); quire.ErrorCode(err) != quire.EPRECONDITION {
			t.Fatalf("stale version: %v", err)
		}
		// The API's two paths are Save with one part, with their own actions.
		if saved, err = pages.Update(ctx, editor, pg.ID, saved.Version, PagePatch{Title: &slug}); err != nil {
			t.Fatal(err)
		}
		if _, err := pages.ReplaceBlocks(ctx, editor, pg.ID, saved.Version, good[:1]); err != nil {
			t.Fatal(err)
		}
		es, _ = db.Reader().AuditEntries(ctx, store.AuditFilter{ResourceType: "page", ResourceID: pg.ID, Limit: 2})
		if es[0].Action != ActionBlocksReplace || es[1].Action != ActionPageUpdate {
			t.Errorf("actions %s, %s", es[0].Action, es[1].Action)
		}
	})
}
