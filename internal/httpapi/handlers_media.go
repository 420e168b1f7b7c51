package httpapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// Bounds on a multipart upload besides the file itself: its parts, and
// everything that is not file content (boundaries, part headers, the alt
// and title fields) together.
const (
	maxUploadParts    = 8
	maxUploadOverhead = 64 << 10
	maxUploadField    = 8 << 10
	// uploadBodySlack is what the route's body limit allows beyond the
	// file limit, so that the file limit is the one a client meets.
	uploadBodySlack = maxUploadOverhead + 16<<10
)

func writeMedia(w http.ResponseWriter, status int, m *quire.Media) {
	w.Header().Set("ETag", etag(m.Version))
	writeJSON(w, status, m)
}

func badUpload(format string, args ...any) error {
	return quire.Errorf(quire.EBADREQUEST, format, args...)
}

func uploadField(field, message string) error {
	return quire.Invalid(quire.FieldError{Field: field, Message: message})
}

// uploadMedia streams a multipart body: the file part goes to storage as
// it arrives (the service hashes and inspects it on the way), the small
// alt and title fields may come before or after it. Any failure after the
// bytes were stored removes them.
func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), principal(r.Context())
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, r, badUpload("the body must be multipart/form-data with a file field"))
		return
	}
	body := &meteredBody{r: r.Body}
	mr := multipart.NewReader(body, params["boundary"])
	var up *service.Upload
	defer func() {
		if up != nil {
			up.Discard(ctx) // a no-op once committed
		}
	}()
	var alt, title string
	seen := map[string]bool{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, r, body.cause(badUpload("the multipart body is malformed: %v", err)))
			return
		}
		if n >= maxUploadParts {
			writeError(w, r, badUpload("a media upload has at most %d parts (file, alt, title)", maxUploadParts))
			return
		}
		name := part.FormName()
		if seen[name] {
			writeError(w, r, uploadField(name, "appears more than once"))
			return
		}
		seen[name] = true
		switch name {
		case "file":
			up, err = a.Media.Stage(ctx, p, part.FileName(), &filePart{part: part, body: body})
			if err != nil {
				writeError(w, r, err)
				return
			}
		case "alt", "title":
			b, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
			switch {
			case err != nil:
				writeError(w, r, body.cause(badUpload("the multipart body could not be read")))
				return
			case len(b) > maxUploadField:
				writeError(w, r, uploadField(name, "is too long"))
				return
			case !utf8.Valid(b):
				writeError(w, r, uploadField(name, "must be valid UTF-8"))
				return
			}
			if name == "alt" {
				alt = string(b)
			} else {
				title = string(b)
			}
		default:
			writeError(w, r, uploadField(name, "is not a field of a media upload (file, alt, title)"))
			return
		}
	}
	if up == nil {
		writeError(w, r, uploadField("file", "is required"))
		return
	}
	m, created, err := up.Commit(ctx, p, alt, title)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK // the same bytes were already in the library
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", v1+"/media/"+m.ID)
	}
	writeMedia(w, status, m)
}

// meteredBody counts what the multipart reader takes from the body, so
// that everything besides file content (part headers, boundaries, small
// fields, the number of parts) is bounded together.
type meteredBody struct {
	r         io.Reader
	total     int64
	fileBytes int64
	err       error // why the body stopped: too large, or too much overhead
}

var errOverhead = quire.Errorf(quire.EBADREQUEST, "the multipart headers and fields exceed 64 KiB")

func (m *meteredBody) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	m.total += int64(n)
	// The multipart reader buffers ahead (4 KiB), hence the slack.
	if m.total-m.fileBytes > maxUploadOverhead+8<<10 {
		m.err = errOverhead
		return 0, m.err
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		m.err = quire.Errorf(quire.ETOOLARGE, "the request body is larger than %d bytes", tooBig.Limit)
		return n, m.err
	}
	return n, err
}

// cause is the body's own failure if it had one, else fallback.
func (m *meteredBody) cause(fallback error) error {
	if m.err != nil {
		return m.err
	}
	return fallback
}

// filePart reads the file part and credits its bytes to the meter.
type filePart struct {
	part *multipart.Part
	body *meteredBody
}

func (f *filePart) Read(p []byte) (int, error) {
	n, err := f.part.Read(p)
	f.body.fileBytes += int64(n)
	if err != nil && err != io.EOF && f.body.err != nil {
		return n, f.body.err
	}
	return n, err
}

var mediaTypeFilter = regexp.MustCompile(`^[a-z]+(/[a-z0-9.+-]+)?$`)

func (a *API) listMedia(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.MediaFilter{TypePrefix: q.Get("type"), UploadedBy: q.Get("uploaded_by"), Q: q.Get("q"), Limit: limit + 1}
	var v quire.Validator
	for key := range q {
		switch key {
		case "type", "uploaded_by", "q", "deleted", "limit", "cursor":
		default:
			v.Add(key, "is not a filter of this list (type, uploaded_by, q, deleted)")
		}
	}
	switch q.Get("deleted") {
	case "", "false":
	case "true":
		f.Deleted = true
	default:
		v.Add("deleted", "must be true or false")
	}
	v.Check(f.TypePrefix == "" || mediaTypeFilter.MatchString(f.TypePrefix), "type", "must be a type such as image or image/png")
	v.Check(len(f.Q) <= 200, "q", "must be at most 200 characters")
	v.Check(len(f.UploadedBy) <= 64, "uploaded_by", "is not a user id")
	if after != "" {
		c, ok := parsePageCursor(after)
		v.Check(ok, "cursor", "is not a cursor returned by this list")
		f.After = c
	}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	items, resume, err := a.Media.List(r.Context(), principal(r.Context()), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next := keysetPage(items, limit, func(m *quire.Media) string { return pageCursor(m.CreatedAt, m.ID) }, resumeCursor(resume))
	writeJSON(w, http.StatusOK, list(items, next))
}

func (a *API) getMedia(w http.ResponseWriter, r *http.Request) {
	m, err := a.Media.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeMedia(w, http.StatusOK, m)
}

func (a *API) updateMedia(w http.ResponseWriter, r *http.Request) {
	var in service.MediaPatch
	versionedWrite(w, r, &in, http.StatusOK, writeMedia, func(p *quire.Principal, version int64) (*quire.Media, error) {
		return a.Media.Update(r.Context(), p, r.PathValue("id"), version, in)
	})
}

// deleteMedia soft-deletes, or with ?purge=true removes for good (admins).
func (a *API) deleteMedia(w http.ResponseWriter, r *http.Request) {
	var purge bool
	switch q := r.URL.Query(); q.Get("purge") {
	case "", "false":
	case "true":
		purge = true
	default:
		writeError(w, r, quire.Invalid(quire.FieldError{Field: "purge", Message: "must be true or false"}))
		return
	}
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		if purge {
			return a.Media.Purge(r.Context(), p, r.PathValue("id"), version)
		}
		return a.Media.Delete(r.Context(), p, r.PathValue("id"), version)
	})
}

func (a *API) restoreMedia(w http.ResponseWriter, r *http.Request) {
	versionedWrite(w, r, nil, http.StatusOK, writeMedia, func(p *quire.Principal, version int64) (*quire.Media, error) {
		return a.Media.Restore(r.Context(), p, r.PathValue("id"), version)
	})
}

// mediaFileQuery: a file URL takes only the variant parameters; anything
// else is ignored (cache busters), never an error.
func mediaFileQuery(r *http.Request) service.VariantRequest {
	q := r.URL.Query()
	return service.VariantRequest{W: q.Get("w"), H: q.Get("h"), Fit: strings.ToLower(q.Get("fit"))}
}
