package httpapi_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/quirecms/quire"
)

// A whole-list save that names existing blocks keeps their ids, so a
// front-end keyed on block ids sees edits, not replacements.
func TestReplaceBlocksKeepsNamedIDs(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		var page quire.Page
		e.do("POST", "/api/v1/pages", admin, map[string]any{"slug": "ids", "title": "Ids", "blocks": []any{
			map[string]any{"type": "paragraph", "content": map[string]any{"text": "one"}},
			map[string]any{"type": "paragraph", "content": map[string]any{"text": "two"}},
		}}).want(t, 201).json(t, &page)
		first, second := page.Blocks[0], page.Blocks[1]

		body := fmt.Sprintf(`{"blocks":[
			{"id":%q,"type":"paragraph","content":{"text":"two, edited"}},
			{"type":"divider","content":{}},
			{"id":%q,"type":"heading","content":{"text":"one","level":2}}]}`, second.ID, first.ID)
		var saved quire.Page
		e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", admin, body, "If-Match", fmt.Sprintf(`"v%d"`, page.Version)).want(t, 200).json(t, &saved)
		if saved.Blocks[0].ID != second.ID || saved.Blocks[2].ID != first.ID || saved.Blocks[1].ID == first.ID || saved.Blocks[1].ID == second.ID {
			t.Fatalf("ids not kept: %+v", saved.Blocks)
		}
		if !saved.Blocks[0].CreatedAt.Equal(second.CreatedAt) {
			t.Fatalf("created_at of a kept block changed: %v → %v", second.CreatedAt, saved.Blocks[0].CreatedAt)
		}
		var c map[string]any
		_ = json.Unmarshal(saved.Blocks[0].Content, &c)
		if c["text"] != "two, edited" {
			t.Fatalf("content not saved: %s", saved.Blocks[0].Content)
		}

		// Ids that are not the page's, or named twice, are refused, and nothing changes.
		for _, bad := range []string{
			`{"blocks":[{"id":"not-a-block","type":"divider","content":{}}]}`,
			fmt.Sprintf(`{"blocks":[{"id":%q,"type":"divider","content":{}},{"id":%q,"type":"divider","content":{}}]}`, first.ID, first.ID),
		} {
			r := e.do("PUT", "/api/v1/pages/"+page.ID+"/blocks", admin, bad, anyVersion...).want(t, 422)
			if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Field[:9] != "blocks[0]" && p.Errors[0].Field[:9] != "blocks[1]" {
				t.Fatalf("problem does not name the block: %s", r.Body)
			}
		}
		var now quire.Page
		e.do("GET", "/api/v1/pages/"+page.ID, admin, nil).want(t, 200).json(t, &now)
		if now.Version != saved.Version {
			t.Fatalf("a refused save changed the page: v%d → v%d", saved.Version, now.Version)
		}
		e.do("POST", "/api/v1/pages", admin, map[string]any{"slug": "ids-2", "title": "T", "blocks": []any{
			map[string]any{"id": first.ID, "type": "divider", "content": map[string]any{}},
		}}).want(t, 422)
	})
}
