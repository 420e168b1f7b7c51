package admin

import (
	"net/http"
	"strings"

	"github.com/quirecms/quire"
)

// The publishing actions are plain forms: each sends the version the
// screen showed, as the API's If-Match, and lands back on the editor.

func (a *Admin) pageAction(w http.ResponseWriter, r *http.Request, fn func(p *quire.Principal, id string, version int64, note string) error, done string) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	version, ok := formVersion(r)
	if !ok {
		version = 0
	}
	id := r.PathValue("id")
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if err := fn(current(r.Context()).P, id, version, note); err != nil {
		if quire.ErrorCode(err) == quire.EPRECONDITION {
			a.status(w, r, err, http.StatusPreconditionFailed,
				"Someone changed this page after you opened it. Nothing was done: open the page again to see the latest version.")
			return
		}
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/pages/"+id+"?done="+done, http.StatusSeeOther)
}

func (a *Admin) saveDraft(w http.ResponseWriter, r *http.Request) {
	a.pageAction(w, r, func(p *quire.Principal, id string, _ int64, note string) error {
		_, err := a.Pages.SaveDraft(r.Context(), p, id, note)
		return err
	}, "draft")
}

func (a *Admin) publish(w http.ResponseWriter, r *http.Request) {
	a.pageAction(w, r, func(p *quire.Principal, id string, version int64, note string) error {
		_, err := a.Pages.Publish(r.Context(), p, id, version, note)
		return err
	}, "published")
}

func (a *Admin) unpublish(w http.ResponseWriter, r *http.Request) {
	a.pageAction(w, r, func(p *quire.Principal, id string, version int64, _ string) error {
		_, err := a.Pages.Unpublish(r.Context(), p, id, version)
		return err
	}, "unpublished")
}

func (a *Admin) restore(w http.ResponseWriter, r *http.Request) {
	a.pageAction(w, r, func(p *quire.Principal, id string, version int64, _ string) error {
		_, err := a.Pages.Restore(r.Context(), p, id, r.PathValue("rid"), version)
		return err
	}, "restored")
}

type historyData struct {
	Page      *quire.Page
	Revisions []*quire.Revision
	Next      int
	Names     map[string]string
}

const historySize = 30

// history lists a page's revisions, newest first, in keyset pages by number.
func (a *Admin) history(w http.ResponseWriter, r *http.Request) {
	u, id := current(r.Context()), r.PathValue("id")
	pg, err := a.Pages.Get(r.Context(), u.P, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	after := 0
	if s := r.URL.Query().Get("before"); s != "" {
		n, ok := atoiPositive(s)
		if !ok {
			a.status(w, r, nil, http.StatusUnprocessableEntity, "before must be a revision number.")
			return
		}
		after = n
	}
	revs, err := a.Pages.Revisions(r.Context(), u.P, id, after, historySize+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := historyData{Page: pg}
	if len(revs) > historySize {
		revs = revs[:historySize]
		d.Next = revs[len(revs)-1].Number
	}
	d.Revisions = revs
	if d.Names, err = a.userNames(r); err != nil {
		a.fail(w, r, err)
		return
	}
	p := a.newPage(r, "History of "+pg.Title, "pages")
	p.Data = d
	a.render(w, r, http.StatusOK, "history", p)
}

type revisionData struct {
	Page     *quire.Page
	Revision *quire.Revision
	Blocks   []blockView
}

func (a *Admin) revision(w http.ResponseWriter, r *http.Request) {
	u, id := current(r.Context()), r.PathValue("id")
	pg, err := a.Pages.Get(r.Context(), u.P, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rev, err := a.Pages.Revision(r.Context(), u.P, id, r.PathValue("rid"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p := a.newPage(r, "Revision "+itoa(rev.Number)+" of "+pg.Title, "pages")
	p.Data = revisionData{Page: pg, Revision: rev, Blocks: blockViews(rev.Blocks, a.mediaOf(r, rev.Blocks))}
	a.render(w, r, http.StatusOK, "revision", p)
}
