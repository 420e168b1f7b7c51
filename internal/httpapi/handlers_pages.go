package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/delivery"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// pageCursor encodes the keyset position of the last page of a list.
func pageCursor(at time.Time, id string) string {
	return at.UTC().Format(time.RFC3339Nano) + "|" + id
}

func parsePageCursor(s string) (*store.PageCursor, bool) {
	at, id, ok := strings.Cut(s, "|")
	if !ok {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || id == "" {
		return nil, false
	}
	return &store.PageCursor{At: t, ID: id}, true
}

func (a *API) listPages(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.PageFilter{Status: q.Get("status"), CreatedBy: q.Get("created_by"), Q: q.Get("q"), SortBy: q.Get("sort"), Limit: limit + 1}
	var v quire.Validator
	// Filters and sorts are an allow-list: nothing else reaches SQL.
	for key := range q {
		switch key {
		case "status", "created_by", "q", "sort", "limit", "cursor":
		default:
			v.Add(key, "is not a filter of this list (status, created_by, q, sort)")
		}
	}
	switch f.Status {
	case "", "draft", "published", "changed":
	default:
		v.Add("status", "must be draft, published or changed")
	}
	switch f.SortBy {
	case "", "updated_at", "created_at":
	default:
		v.Add("sort", "must be updated_at or created_at")
	}
	v.Check(len(f.Q) <= 200, "q", "must be at most 200 characters")
	v.Check(len(f.CreatedBy) <= 64, "created_by", "is not a user id")
	if after != "" {
		c, ok := parsePageCursor(after)
		v.Check(ok, "cursor", "is not a cursor returned by this list")
		f.After = c
	}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	pages, resume, err := a.Pages.List(r.Context(), principal(r.Context()), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	pages, next := keysetPage(pages, limit, func(p *quire.Page) string {
		if f.SortBy == "created_at" {
			return pageCursor(p.CreatedAt, p.ID)
		}
		return pageCursor(p.UpdatedAt, p.ID)
	}, resumeCursor(resume))
	for _, p := range pages {
		p.Blocks = nil // lists carry no blocks
	}
	writePageList(w, pages, next)
}

func (a *API) createPage(w http.ResponseWriter, r *http.Request) {
	var in service.NewPage
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := a.Pages.Create(r.Context(), principal(r.Context()), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", v1+"/pages/"+p.ID)
	writePage(w, http.StatusCreated, p)
}

func (a *API) getPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.Pages.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, http.StatusOK, p)
}

// pageWrite is versionedWrite for changes that answer with the page.
func (a *API) pageWrite(w http.ResponseWriter, r *http.Request, body any, status int, fn func(p *quire.Principal, version int64) (*quire.Page, error)) {
	versionedWrite(w, r, body, status, writePage, fn)
}

func (a *API) updatePage(w http.ResponseWriter, r *http.Request) {
	var in service.PagePatch
	a.pageWrite(w, r, &in, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.Update(r.Context(), p, r.PathValue("id"), v, in)
	})
}

func (a *API) deletePage(w http.ResponseWriter, r *http.Request) {
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		return a.Pages.Delete(r.Context(), p, r.PathValue("id"), version)
	})
}

func (a *API) listBlocks(w http.ResponseWriter, r *http.Request) {
	p, err := a.Pages.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, map[string]any{"data": nonNil(p.Blocks)})
}

type blockList struct {
	Blocks []quire.BlockInput `json:"blocks"`
}

func (a *API) replaceBlocks(w http.ResponseWriter, r *http.Request) {
	var in blockList
	a.pageWrite(w, r, &in, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		if in.Blocks == nil {
			return nil, quire.Invalid(quire.FieldError{Field: "blocks", Message: "is required (an empty list removes every block)"})
		}
		return a.Pages.ReplaceBlocks(r.Context(), p, r.PathValue("id"), v, in.Blocks)
	})
}

func (a *API) addBlock(w http.ResponseWriter, r *http.Request) {
	var in service.NewBlock
	a.pageWrite(w, r, &in, http.StatusCreated, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.AddBlock(r.Context(), p, r.PathValue("id"), v, in)
	})
}

func (a *API) updateBlock(w http.ResponseWriter, r *http.Request) {
	var in service.BlockPatch
	a.pageWrite(w, r, &in, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.UpdateBlock(r.Context(), p, r.PathValue("id"), r.PathValue("block_id"), v, in)
	})
}

func (a *API) deleteBlock(w http.ResponseWriter, r *http.Request) {
	a.pageWrite(w, r, nil, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.DeleteBlock(r.Context(), p, r.PathValue("id"), r.PathValue("block_id"), v)
	})
}

type noteInput struct {
	Note string `json:"note"`
}

// optionalNote decodes {note} when there is a body; an empty body means no note.
func optionalNote(r *http.Request) (string, error) {
	if r.ContentLength == 0 {
		return "", nil
	}
	var in noteInput
	err := decode(r, &in)
	return in.Note, err
}

func (a *API) listRevisions(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	afterNumber := 0
	if after != "" {
		if afterNumber, err = strconv.Atoi(after); err != nil || afterNumber <= 0 {
			writeError(w, r, quire.Invalid(quire.FieldError{Field: "cursor", Message: "is not a cursor returned by this list"}))
			return
		}
	}
	revs, err := a.Pages.Revisions(r.Context(), principal(r.Context()), r.PathValue("id"), afterNumber, limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	revs, next := keysetPage(revs, limit, func(r *quire.Revision) string { return strconv.Itoa(r.Number) }, "")
	for _, rev := range revs {
		rev.Blocks = nil
	}
	writeJSON(w, http.StatusOK, list(revs, next))
}

func (a *API) saveDraft(w http.ResponseWriter, r *http.Request) {
	note, err := optionalNote(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rev, err := a.Pages.SaveDraft(r.Context(), principal(r.Context()), r.PathValue("id"), note)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rev)
}

func (a *API) getRevision(w http.ResponseWriter, r *http.Request) {
	rev, err := a.Pages.Revision(r.Context(), principal(r.Context()), r.PathValue("id"), r.PathValue("rid"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rev)
}

func (a *API) restoreRevision(w http.ResponseWriter, r *http.Request) {
	a.pageWrite(w, r, nil, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.Restore(r.Context(), p, r.PathValue("id"), r.PathValue("rid"), v)
	})
}

func (a *API) publish(w http.ResponseWriter, r *http.Request) {
	note, err := optionalNote(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rev, err := a.Pages.Publish(r.Context(), principal(r.Context()), r.PathValue("id"), version, note)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rev)
}

func (a *API) unpublish(w http.ResponseWriter, r *http.Request) {
	a.pageWrite(w, r, nil, http.StatusOK, func(p *quire.Principal, v int64) (*quire.Page, error) {
		return a.Pages.Unpublish(r.Context(), p, r.PathValue("id"), v)
	})
}

// --- public delivery ---

// publicPage is the hot path: a cache lookup and a write of bytes encoded once.
func (a *API) publicPage(w http.ResponseWriter, r *http.Request) {
	doc, err := a.Delivery.Page(r.Context(), r.PathValue("slug"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if doc.NotFound {
		writeError(w, r, errNothingPublished)
		return
	}
	a.serveDocument(w, r, doc)
}

// serveDocument answers with a cached public document: its strong ETag,
// 304 when If-None-Match names it, else its bytes.
func (a *API) serveDocument(w http.ResponseWriter, r *http.Request, doc *delivery.Document) {
	// The four values share one backing array (each slice capped at one,
	// so that an Add elsewhere copies) and go in under their canonical names.
	v := make([]string, 4)
	v[0], v[1] = doc.ETag, a.publicCacheControl
	h := w.Header()
	h["Etag"], h["Cache-Control"] = v[0:1:1], v[1:2:2]
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, doc.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	v[2], v[3] = "application/json", strconv.Itoa(len(doc.Body))
	h["Content-Type"], h["Content-Length"] = v[2:3:3], v[3:4:4]
	_, _ = w.Write(doc.Body)
}

var errNothingPublished = quire.Errorf(quire.ENOTFOUND, "nothing is published at this slug")

// listPublicPages serves the public list as the public page is served:
// encoded once per cursor and limit into the delivery cache, with a strong
// ETag and 304, until a publish, unpublish, slug change or delete drops it.
func (a *API) listPublicPages(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var cursor *store.PageCursor
	if after != "" {
		c, ok := parsePageCursor(after)
		if !ok {
			writeError(w, r, quire.Invalid(quire.FieldError{Field: "cursor", Message: "is not a cursor returned by this list"}))
			return
		}
		cursor = c
	}
	// The key is made of the parsed values only, so that other query
	// parameters cannot multiply the cached entries.
	key := strconv.Itoa(limit) + "|" + after
	doc, err := a.Delivery.List(r.Context(), key, func(ctx context.Context) ([]byte, error) {
		pages, err := a.Delivery.Summaries(ctx, cursor, limit+1)
		if err != nil {
			return nil, err
		}
		pages, next := keysetPage(pages, limit, func(s delivery.Summary) string { return pageCursor(s.PublishedAt, s.PageID) }, "")
		body, err := json.Marshal(list(pages, next))
		return append(body, '\n'), err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	a.serveDocument(w, r, doc)
}
