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

const librarySize = 30

type libraryData struct {
	Q, Type string
	Trash   bool
	Items   []*quire.Media
	Next    template.URL
	MaxMB   int64
}

// mediaTypes are the type filters the library offers (a type prefix, as
// GET /media?type= takes).
var mediaTypes = []struct{ Value, Label string }{
	{"image", "Images"}, {"video", "Video"}, {"audio", "Audio"}, {"application/pdf", "PDF"}, {"text", "Text"},
}

// library is GET /media of the API as a grid, with the trash (deleted=true)
// for editors and admins.
func (a *Admin) library(w http.ResponseWriter, r *http.Request) {
	u, q := current(r.Context()), r.URL.Query()
	d := libraryData{Q: strings.TrimSpace(q.Get("q")), Type: q.Get("type"), Trash: q.Get("trash") == "1", MaxMB: a.MaxUpload >> 20}
	var v quire.Validator
	v.Check(len(d.Q) <= 200, "q", "must be at most 200 characters")
	ok := d.Type == ""
	for _, t := range mediaTypes {
		ok = ok || t.Value == d.Type
	}
	v.Check(ok, "type", "is not a type filter of the library")
	f := store.MediaFilter{TypePrefix: d.Type, Q: d.Q, Deleted: d.Trash, Limit: librarySize + 1}
	if c := q.Get("cursor"); c != "" {
		cur, ok := parseCursor(c)
		v.Check(ok, "cursor", "is not a cursor of this list")
		f.After = cur
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	items, resume, err := a.Media.List(r.Context(), u.P, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A full page goes on after its last item; a short one that a search
	// window cut off goes on from where the window ended (resume).
	if len(items) > librarySize || resume != nil {
		if len(items) > librarySize {
			items = items[:librarySize]
			last := items[len(items)-1]
			resume = &store.PageCursor{At: last.CreatedAt, ID: last.ID}
		}
		next := url.Values{}
		for k, val := range map[string]string{"q": d.Q, "type": d.Type} {
			if val != "" {
				next.Set(k, val)
			}
		}
		if d.Trash {
			next.Set("trash", "1")
		}
		next.Set("cursor", resume.At.UTC().Format(time.RFC3339Nano)+"|"+resume.ID)
		d.Next = template.URL(Prefix + "/media?" + next.Encode())
	}
	d.Items = items
	title := "Media"
	if d.Trash {
		title = "Media trash"
	}
	p := a.newPage(r, title, "media")
	p.Data = d
	a.render(w, r, http.StatusOK, "library", p)
}

type mediaEditData struct {
	M       *quire.Media
	Uses    []store.MediaUse
	CanEdit bool
}

func (a *Admin) mediaEdit(w http.ResponseWriter, r *http.Request) {
	u := current(r.Context())
	m, err := a.Media.Get(r.Context(), u.P, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	uses, err := a.Media.UsedBy(r.Context(), u.P, m.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p := a.newPage(r, m.Filename, "media")
	p.Data = mediaEditData{M: m, Uses: uses, CanEdit: u.P.Can(quire.RoleEditor) || (u.P.Can(quire.RoleAuthor) && m.UploadedBy == u.P.UserID)}
	a.render(w, r, http.StatusOK, "media_edit", p)
}

// mediaAction runs one change with the version the screen showed.
func (a *Admin) mediaAction(w http.ResponseWriter, r *http.Request, fn func(p *quire.Principal, id string, version int64) error, to, done string) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	version, _ := formVersion(r)
	id := r.PathValue("id")
	if err := fn(current(r.Context()).P, id, version); err != nil {
		switch quire.ErrorCode(err) {
		case quire.EPRECONDITION:
			a.status(w, r, err, http.StatusPreconditionFailed, "Someone changed this file after you opened it. Nothing was done: open it again.")
		case quire.EINVALID:
			p := a.newPage(r, "Media", "media")
			p.Error = quire.ErrorMessage(err)
			m, gerr := a.Media.Get(r.Context(), current(r.Context()).P, id)
			if gerr != nil {
				a.fail(w, r, gerr)
				return
			}
			p.Fields = fieldErrors(err)
			p.Data = mediaEditData{M: m, CanEdit: true}
			a.render(w, r, http.StatusUnprocessableEntity, "media_edit", p)
		default:
			a.fail(w, r, err)
		}
		return
	}
	if to == "" {
		to = Prefix + "/media/" + id
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"done="+done, http.StatusSeeOther)
}

func (a *Admin) mediaUpdate(w http.ResponseWriter, r *http.Request) {
	a.mediaAction(w, r, func(p *quire.Principal, id string, version int64) error {
		alt, title := r.PostForm.Get("alt"), r.PostForm.Get("title")
		_, err := a.Media.Update(r.Context(), p, id, version, service.MediaPatch{Alt: &alt, Title: &title})
		return err
	}, "", "media_saved")
}

func (a *Admin) mediaDelete(w http.ResponseWriter, r *http.Request) {
	a.mediaAction(w, r, func(p *quire.Principal, id string, version int64) error {
		return a.Media.Delete(r.Context(), p, id, version)
	}, Prefix+"/media", "media_deleted")
}

func (a *Admin) mediaRestore(w http.ResponseWriter, r *http.Request) {
	a.mediaAction(w, r, func(p *quire.Principal, id string, version int64) error {
		_, err := a.Media.Restore(r.Context(), p, id, version)
		return err
	}, "", "media_restored")
}

func (a *Admin) mediaPurge(w http.ResponseWriter, r *http.Request) {
	a.mediaAction(w, r, func(p *quire.Principal, id string, version int64) error {
		return a.Media.Purge(r.Context(), p, id, version)
	}, Prefix+"/media?trash=1", "media_purged")
}
