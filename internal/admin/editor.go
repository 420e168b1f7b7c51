package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// blockView is a block as the editor's forms show it: its content decoded
// into fields, image blocks with their media for a preview.
type blockView struct {
	ID    string
	Type  string
	Index int
	C     map[string]any
	Media *quire.Media
}

func (b blockView) S(field string) string {
	s, _ := b.C[field].(string)
	return s
}

func (b blockView) Items() []string {
	var out []string
	if items, ok := b.C["items"].([]any); ok {
		for _, it := range items {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func (b blockView) Level() int {
	if f, ok := b.C["level"].(float64); ok {
		return int(f)
	}
	return 2
}

// blockTypes are the types the editor offers, with the name a person sees.
var blockTypes = []struct{ Type, Label string }{
	{quire.BlockParagraph, "Paragraph"}, {quire.BlockHeading, "Heading"}, {quire.BlockRichText, "Rich text"},
	{quire.BlockImage, "Image"}, {quire.BlockQuote, "Quote"}, {quire.BlockList, "List"},
	{quire.BlockCode, "Code"}, {quire.BlockEmbed, "Embed"}, {quire.BlockDivider, "Divider"},
}

func blockLabel(t string) string {
	for _, b := range blockTypes {
		if b.Type == t {
			return b.Label
		}
	}
	return t
}

type editorData struct {
	Page      *quire.Page
	Blocks    []blockView
	Templates []blockView
	Types     any
	CanEdit   bool
	CanDelete bool
}

func blockViews(blocks []quire.SnapshotBlock, media map[string]*quire.Media) []blockView {
	out := make([]blockView, len(blocks))
	for i, b := range blocks {
		c := map[string]any{}
		_ = json.Unmarshal(b.Content, &c)
		v := blockView{ID: b.ID, Type: b.Type, Index: i, C: c}
		if id, ok := c["media_id"].(string); ok {
			v.Media = media[id]
		}
		out[i] = v
	}
	return out
}

// mediaOf reads the live media the image blocks name, for previews, in
// one query however many images the page has.
func (a *Admin) mediaOf(r *http.Request, blocks []quire.SnapshotBlock) map[string]*quire.Media {
	var ids []string
	seen := map[string]bool{}
	for _, b := range blocks {
		if b.Type != quire.BlockImage {
			continue
		}
		var c struct {
			MediaID string `json:"media_id"`
		}
		if json.Unmarshal(b.Content, &c) == nil && c.MediaID != "" && !seen[c.MediaID] {
			seen[c.MediaID] = true
			ids = append(ids, c.MediaID)
		}
	}
	out := map[string]*quire.Media{}
	refs, err := a.Media.Refs(r.Context(), current(r.Context()).P, ids)
	if err != nil {
		a.log(r).Warn("media previews", "err", err)
		return out
	}
	for id, m := range refs {
		out[id] = &quire.Media{ID: m.ID, Filename: m.Filename, MimeType: m.MimeType, Width: m.Width, Height: m.Height}
	}
	return out
}

func (a *Admin) editor(w http.ResponseWriter, r *http.Request) {
	u := current(r.Context())
	pg, err := a.Pages.Get(r.Context(), u.P, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	snap := quire.Snapshot(pg.Blocks)
	d := editorData{Page: pg, Blocks: blockViews(snap, a.mediaOf(r, snap)), Types: blockTypes,
		CanEdit:   u.P.Can(quire.RoleEditor) || (u.P.Can(quire.RoleAuthor) && pg.CreatedBy == u.P.UserID),
		CanDelete: u.P.Can(quire.RoleEditor) || (u.P.Can(quire.RoleAuthor) && pg.CreatedBy == u.P.UserID && pg.PublishedRevisionID == nil)}
	for _, t := range blockTypes {
		d.Templates = append(d.Templates, blockView{Type: t.Type, C: map[string]any{}})
	}
	p := a.newPage(r, pg.Title, "pages")
	p.Data = d
	a.render(w, r, http.StatusOK, "editor", p)
}

// saveRequest is the editor's save: what it shows, and the version it
// started from.
type saveRequest struct {
	Version int64              `json:"version"`
	Title   string             `json:"title"`
	Slug    string             `json:"slug"`
	Blocks  []quire.BlockInput `json:"blocks"`
}

// saveLimit is the API's body limit for a whole page.
const saveLimit = 34 << 20

// save stores the editor's working copy with one service call,
// Pages.Save, given the version the editor started from: title, slug and
// blocks are saved together or not at all, with one audit entry and one
// new version, and a save made over someone else's is refused (412),
// never merged. Only the parts that changed are sent; a save that changes
// nothing writes nothing.
func (a *Admin) save(w http.ResponseWriter, r *http.Request) {
	ctx, u, id := r.Context(), current(r.Context()), r.PathValue("id")
	var in saveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, saveLimit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.saveAnswer(w, r, nil, quire.Errorf(quire.ETOOLARGE, "the page is too large to save"))
			return
		}
		a.saveAnswer(w, r, nil, quire.Errorf(quire.EBADREQUEST, "the editor sent a body that is not a page"))
		return
	}
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" {
		v, err := strconv.ParseInt(trimETag(ifMatch), 10, 64)
		if err != nil || v != in.Version {
			a.saveAnswer(w, r, nil, quire.Errorf(quire.EBADREQUEST, "If-Match and the body's version differ"))
			return
		}
	}
	if in.Blocks == nil {
		in.Blocks = []quire.BlockInput{}
	}
	// Normalised contents, to tell whether the blocks changed; Save
	// validates them again, with the media check, in its transaction.
	contents, err := quire.ValidateBlocks(in.Blocks)
	if err != nil {
		a.saveAnswer(w, r, nil, err)
		return
	}
	pg, err := a.Pages.Get(ctx, u.P, id)
	if err != nil {
		a.saveAnswer(w, r, nil, err)
		return
	}
	if pg.Version != in.Version {
		a.conflict(w, r, pg)
		return
	}
	var change service.PageSave
	if in.Title != pg.Title {
		change.Title = &in.Title
	}
	if in.Slug != pg.Slug {
		change.Slug = &in.Slug
	}
	if blocksChanged(pg.Blocks, in.Blocks, contents) {
		change.Blocks = &in.Blocks
	}
	if change.Title == nil && change.Slug == nil && change.Blocks == nil {
		a.saveAnswer(w, r, pg, nil)
		return
	}
	saved, err := a.Pages.Save(ctx, u.P, id, in.Version, change)
	if quire.ErrorCode(err) == quire.EPRECONDITION {
		// Someone saved between the read above and this save.
		if pg, err = a.Pages.Get(ctx, u.P, id); err != nil {
			a.saveAnswer(w, r, nil, err)
			return
		}
		a.conflict(w, r, pg)
		return
	}
	a.saveAnswer(w, r, saved, err)
}

// conflict answers a save made over someone else's with the page as it is
// now, which the editor shows beside its own copy.
func (a *Admin) conflict(w http.ResponseWriter, r *http.Request, now *quire.Page) {
	a.saveAnswer(w, r, now, quire.Errorf(quire.EPRECONDITION, "someone else saved this page after you opened it"))
}

// blocksChanged compares the stored list with the normalised input.
func blocksChanged(stored []quire.Block, in []quire.BlockInput, contents []json.RawMessage) bool {
	if len(stored) != len(in) {
		return true
	}
	for i := range in {
		if stored[i].ID != in[i].ID || stored[i].Type != in[i].Type || !bytes.Equal(stored[i].Content, contents[i]) {
			return true
		}
	}
	return false
}

func trimETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	if len(s) >= 4 && s[:3] == `W/"` && s[len(s)-1] == '"' {
		return s[3 : len(s)-1]
	}
	return s
}

// saveAnswer is the JSON the editor's script reads: the saved page, or an
// error with the fields the service named, and on a conflict the page as
// it is now so that the editor can show both.
func (a *Admin) saveAnswer(w http.ResponseWriter, r *http.Request, pg *quire.Page, err error) {
	status := http.StatusOK
	body := map[string]any{}
	if err != nil {
		status = httpStatus(err)
		if status >= 500 {
			a.log(r).Error("admin save failed", "err", err)
		}
		body["title"] = quire.ErrorMessage(err)
		var e *quire.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			body["errors"] = e.Fields
		}
	}
	if pg != nil {
		if pg.Blocks == nil {
			pg.Blocks = []quire.Block{}
		}
		body["page"] = pg
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(b))
}
