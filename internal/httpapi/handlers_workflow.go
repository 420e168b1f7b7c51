package httpapi

import (
	"net/http"
	"strconv"

	"github.com/quirecms/quire/internal/service"
)

func (a *API) createPreview(w http.ResponseWriter, r *http.Request) {
	var in service.NewPreview
	// An empty body asks for the defaults: the working copy, for an hour.
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
	}
	out, err := a.Previews.Create(r.Context(), principal(r.Context()), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The answer holds a secret: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (a *API) listPreviews(w http.ResponseWriter, r *http.Request) {
	before, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	previews, err := a.Previews.List(r.Context(), principal(r.Context()), r.PathValue("id"), before, limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	next := ""
	if len(previews) > limit {
		previews, next = previews[:limit], previews[limit-1].ID
	}
	writeJSON(w, http.StatusOK, list(previews, next))
}

func (a *API) revokePreview(w http.ResponseWriter, r *http.Request) {
	if err := a.Previews.Revoke(r.Context(), principal(r.Context()), r.PathValue("id"), r.PathValue("pid")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// preview serves a preview link to whoever holds the token. Every answer,
// found or not, is kept out of caches, search engines and Referer headers:
// the URL itself is the credential.
func (a *API) preview(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Referrer-Policy", "no-referrer")
	body, err := a.Delivery.Preview(r.Context(), r.PathValue("token"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (a *API) diffRevisions(w http.ResponseWriter, r *http.Request) {
	d, err := a.Pages.Diff(r.Context(), principal(r.Context()), r.PathValue("id"), r.PathValue("rid"), r.URL.Query().Get("to"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
