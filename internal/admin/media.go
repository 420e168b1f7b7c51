package admin

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// pickerItem is what the image picker needs of a media record.
type pickerItem struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Title    string `json:"title"`
	Alt      string `json:"alt"`
	URL      string `json:"url"`
	Thumb    string `json:"thumb"`
	Width    *int   `json:"width"`
	Height   *int   `json:"height"`
}

func toPickerItem(m *quire.Media) pickerItem {
	u := quire.MediaURL(m.ID, m.Filename)
	return pickerItem{ID: m.ID, Filename: m.Filename, Title: m.Title, Alt: m.Alt, URL: u, Thumb: u + "?w=320", Width: m.Width, Height: m.Height}
}

const pickerSize = 24

// mediaPicker lists images for the image block's picker: GET /media of the
// API, filtered to images, with its keyset cursor.
func (a *Admin) mediaPicker(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.MediaFilter{TypePrefix: "image", Q: strings.TrimSpace(q.Get("q")), Limit: pickerSize + 1}
	if len(f.Q) > 200 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"title": "q must be at most 200 characters"})
		return
	}
	if c := q.Get("cursor"); c != "" {
		cur, ok := parseCursor(c)
		if !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"title": "cursor is not a cursor of this list"})
			return
		}
		f.After = cur
	}
	list, resume, err := a.Media.List(r.Context(), current(r.Context()).P, f)
	if err != nil {
		writeJSON(w, httpStatus(err), map[string]any{"title": quire.ErrorMessage(err)})
		return
	}
	next := ""
	if len(list) > pickerSize {
		list = list[:pickerSize]
		last := list[len(list)-1]
		next = last.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID
	} else if resume != nil { // a search window ended before the page was full
		next = resume.At.UTC().Format(time.RFC3339Nano) + "|" + resume.ID
	}
	items := make([]pickerItem, len(list))
	for i, m := range list {
		items[i] = toPickerItem(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": items, "next_cursor": next})
}

// uploadFieldLimit bounds alt and title in an upload form.
const uploadFieldLimit = 8 << 10

// upload is POST /media of the API for the admin's scripts: the file is
// streamed into storage by Media.Stage and recorded by Commit, with the
// same checks, deduplication and audit entry.
func (a *Admin) upload(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), current(r.Context()).P
	// The library's script asks for JSON; a plain form post (no script)
	// gets a page.
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	fail := func(err error) {
		if !asJSON {
			a.status(w, r, err, httpStatus(err), "The upload failed: "+quire.ErrorMessage(err))
			return
		}
		writeJSON(w, httpStatus(err), map[string]any{"title": quire.ErrorMessage(err)})
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail(quire.Errorf(quire.EBADREQUEST, "the upload must be multipart/form-data with a file field"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.MaxUpload+64<<10)
	mr := multipart.NewReader(r.Body, params["boundary"])
	var up *service.Upload
	defer func() {
		if up != nil {
			up.Discard(ctx) // a no-op once committed
		}
	}()
	fields := map[string]string{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(quire.Errorf(quire.ETOOLARGE, "the file is larger than the upload limit"))
			return
		}
		if err != nil || n > 4 {
			fail(quire.Errorf(quire.EBADREQUEST, "the upload form could not be read"))
			return
		}
		switch name := part.FormName(); name {
		case "file":
			if up != nil {
				fail(quire.Errorf(quire.EBADREQUEST, "send one file per upload"))
				return
			}
			if up, err = a.Media.Stage(ctx, p, part.FileName(), part); err != nil {
				if errors.As(err, &tooBig) {
					err = quire.Errorf(quire.ETOOLARGE, "the file is larger than the upload limit")
				}
				fail(err)
				return
			}
		case "alt", "title":
			b, err := io.ReadAll(io.LimitReader(part, uploadFieldLimit+1))
			if err != nil || len(b) > uploadFieldLimit || !utf8.Valid(b) {
				fail(quire.Invalid(quire.FieldError{Field: name, Message: "is too long or not text"}))
				return
			}
			fields[name] = string(b)
		}
	}
	if up == nil {
		fail(quire.Invalid(quire.FieldError{Field: "file", Message: "is required"}))
		return
	}
	m, created, err := up.Commit(ctx, p, fields["alt"], fields["title"])
	if err != nil {
		fail(err)
		return
	}
	up = nil
	if !asJSON {
		http.Redirect(w, r, Prefix+"/media/"+m.ID+"?done=uploaded", http.StatusSeeOther)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toPickerItem(m))
}
