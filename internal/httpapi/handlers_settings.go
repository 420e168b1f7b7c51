package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

func writeSetting(w http.ResponseWriter, status int, s *quire.Setting) {
	w.Header().Set("ETag", etag(s.Version))
	writeJSON(w, status, s)
}

func (a *API) listSettings(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, err := a.Settings.List(r.Context(), principal(r.Context()), after, limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next := keysetPage(items, limit, func(s *quire.Setting) string { return s.Key }, "")
	writeJSON(w, http.StatusOK, list(items, next))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) getSetting(w http.ResponseWriter, r *http.Request) {
	s, err := a.Settings.Get(r.Context(), principal(r.Context()), r.PathValue("key"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeSetting(w, http.StatusOK, s)
}

func (a *API) putSetting(w http.ResponseWriter, r *http.Request) {
	var in service.SettingInput
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s, created, err := a.Settings.Put(r.Context(), principal(r.Context()), r.PathValue("key"), version, in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeSetting(w, status, s)
}

func (a *API) deleteSetting(w http.ResponseWriter, r *http.Request) {
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		return a.Settings.Delete(r.Context(), p, r.PathValue("key"), version)
	})
}

// publicSettings serves the cached public document with a strong ETag;
// clients revalidate every time (no-cache) and usually get a 304, so a
// setting made private disappears for them at once.
func (a *API) publicSettings(w http.ResponseWriter, r *http.Request) {
	doc, err := a.Settings.Public(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("ETag", doc.ETag)
	h.Set("Cache-Control", "public, no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), doc.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(doc.Body)
}

// etagMatches implements If-None-Match's list and "*" (weak comparison).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// --- audit log ---

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{ResourceType: q.Get("resource_type"), ResourceID: q.Get("resource_id"),
		UserID: q.Get("user_id"), APITokenID: q.Get("api_token_id"), Action: q.Get("action"), Limit: limit + 1}
	var v quire.Validator
	for name, val := range map[string]string{"resource_type": f.ResourceType, "resource_id": f.ResourceID, "user_id": f.UserID, "api_token_id": f.APITokenID, "action": f.Action} {
		v.Check(len(val) <= 200, name, "must be at most 200 characters")
	}
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				v.Add(name, "must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z")
				continue
			}
			*dst = &t
		}
	}
	if after != "" {
		seq, err := strconv.ParseInt(after, 10, 64)
		if err != nil || seq <= 0 {
			v.Add("cursor", "is not a cursor returned by this list")
		}
		f.BeforeSeq = seq
	}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	entries, err := a.Audit.List(r.Context(), principal(r.Context()), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	entries, next := keysetPage(entries, limit, func(e *quire.AuditEntry) string { return strconv.FormatInt(e.Seq, 10) }, "")
	writeJSON(w, http.StatusOK, list(entries, next))
}

func (a *API) getAudit(w http.ResponseWriter, r *http.Request) {
	e, err := a.Audit.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
