package admin

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

type dashboardData struct {
	Unpublished, Published []*quire.Page
	Activity               []*quire.AuditEntry
	Names                  map[string]string
}

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), current(r.Context())
	var d dashboardData
	var err error
	// Unpublished work: among the 50 most recently updated pages (one
	// keyset read of the updated_at index), those never published or
	// changed since. The status filters would scan every page when few
	// match; the full lists are one click away.
	recent, _, err := a.Pages.List(ctx, u.P, store.PageFilter{Limit: 50})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, pg := range recent {
		if (pg.PublishedRevisionID == nil || pg.HasUnpublishedChanges) && len(d.Unpublished) < 10 {
			d.Unpublished = append(d.Unpublished, pg)
		}
	}
	if d.Published, _, err = a.Pages.List(ctx, u.P, store.PageFilter{Status: "published", Limit: 10}); err != nil {
		a.fail(w, r, err)
		return
	}
	if u.P.Can(quire.RoleAdmin) {
		if d.Activity, err = a.Audit.List(ctx, u.P, store.AuditFilter{Limit: 15}); err != nil {
			a.fail(w, r, err)
			return
		}
		if d.Names, err = a.userNames(r); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	p := a.newPage(r, "Dashboard", "dashboard")
	p.Data = d
	a.render(w, r, http.StatusOK, "dashboard", p)
}

// userNames maps user ids to names for admins (the only role that may list
// users), from one read of the first users.
func (a *Admin) userNames(r *http.Request) (map[string]string, error) {
	names := map[string]string{}
	u := current(r.Context())
	if !u.P.Can(quire.RoleAdmin) {
		return names, nil
	}
	users, _, err := a.Users.List(r.Context(), u.P, "", 100)
	if err != nil {
		return nil, err
	}
	for _, x := range users {
		names[x.ID] = x.Email
		if x.DisplayName != "" {
			names[x.ID] = x.DisplayName
		}
	}
	return names, nil
}

const pageListSize = 25

type pageListData struct {
	Status, Q, Sort, Author string
	Pages                   []*quire.Page
	Next                    template.URL // the next page of the list, empty at the end
	Users                   []*quire.User
}

// pageList is GET /pages of the API as a screen: the same filters and sort
// (an allow-list), the same keyset cursor and the same service call.
func (a *Admin) pageList(w http.ResponseWriter, r *http.Request) {
	u, q := current(r.Context()), r.URL.Query()
	d := pageListData{Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Author: q.Get("author")}
	var v quire.Validator
	switch d.Status {
	case "", "draft", "published", "changed":
	default:
		v.Add("status", "must be draft, published or changed")
	}
	switch d.Sort {
	case "", "updated_at", "created_at":
	default:
		v.Add("sort", "must be updated_at or created_at")
	}
	v.Check(len(d.Q) <= 200, "q", "must be at most 200 characters")
	f := store.PageFilter{Status: d.Status, Q: d.Q, SortBy: d.Sort, Limit: pageListSize + 1}
	switch d.Author {
	case "":
	case "me":
		f.CreatedBy = u.P.UserID
	default:
		v.Check(len(d.Author) <= 64, "author", "is not a user id")
		f.CreatedBy = d.Author
	}
	if c := q.Get("cursor"); c != "" {
		cur, ok := parseCursor(c)
		v.Check(ok, "cursor", "is not a cursor of this list")
		f.After = cur
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	pages, resume, err := a.Pages.List(r.Context(), u.P, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A full page goes on after its last row; a short one that a search
	// window cut off goes on from where the window ended (resume).
	if len(pages) > pageListSize || resume != nil {
		if len(pages) > pageListSize {
			pages = pages[:pageListSize]
			last := pages[len(pages)-1]
			resume = &store.PageCursor{At: last.UpdatedAt, ID: last.ID}
			if d.Sort == "created_at" {
				resume.At = last.CreatedAt
			}
		}
		at, lastID := resume.At, resume.ID
		next := url.Values{}
		for k, val := range map[string]string{"status": d.Status, "q": d.Q, "sort": d.Sort, "author": d.Author} {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("cursor", at.UTC().Format(time.RFC3339Nano)+"|"+lastID)
		d.Next = template.URL(Prefix + "/pages?" + next.Encode()) // built from escaped values
	}
	d.Pages = pages
	if u.P.Can(quire.RoleAdmin) {
		if d.Users, _, err = a.Users.List(r.Context(), u.P, "", 100); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	p := a.newPage(r, "Pages", "pages")
	p.Data = d
	a.render(w, r, http.StatusOK, "pages", p)
}

func parseCursor(s string) (*store.PageCursor, bool) {
	at, id, ok := strings.Cut(s, "|")
	if !ok || id == "" || len(id) > 64 {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, false
	}
	return &store.PageCursor{At: t, ID: id}, true
}

type newPageData struct{ Title, Slug string }

func (a *Admin) newPageForm(w http.ResponseWriter, r *http.Request) {
	if !current(r.Context()).P.Can(quire.RoleAuthor) {
		a.status(w, r, nil, http.StatusForbidden, "Your role does not allow creating pages.")
		return
	}
	p := a.newPage(r, "New page", "pages")
	p.Data = newPageData{}
	a.render(w, r, http.StatusOK, "page_new", p)
}

// createPage is POST /pages: title and slug; blocks are added in the editor.
func (a *Admin) createPage(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	in := service.NewPage{Title: strings.TrimSpace(r.PostForm.Get("title")), Slug: strings.TrimSpace(r.PostForm.Get("slug"))}
	pg, err := a.Pages.Create(r.Context(), current(r.Context()).P, in)
	if code := quire.ErrorCode(err); code == quire.EINVALID || code == quire.ECONFLICT {
		p := a.newPage(r, "New page", "pages")
		p.Data = newPageData{Title: in.Title, Slug: in.Slug}
		p.Fields = fieldErrors(err)
		if code == quire.ECONFLICT {
			p.Fields = map[string]string{"slug": "is already used by another page"}
		}
		p.Error = "The page was not created: see the fields below."
		a.render(w, r, httpStatus(err), "page_new", p)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/pages/"+pg.ID+"?done=created", http.StatusSeeOther)
}

// deletePage deletes with the version the screen showed, as DELETE
// /pages/{id} with If-Match does.
func (a *Admin) deletePage(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	version, ok := formVersion(r)
	if !ok {
		a.status(w, r, nil, http.StatusBadRequest, "The form did not say which version it deletes.")
		return
	}
	if err := a.Pages.Delete(r.Context(), current(r.Context()).P, r.PathValue("id"), version); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/pages?done=deleted", http.StatusSeeOther)
}
