package httpapi

import (
	"net/http"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

func writeWebhook(w http.ResponseWriter, status int, hook *quire.Webhook) {
	w.Header().Set("ETag", etag(hook.Version))
	writeJSON(w, status, hook)
}

// writeWebhookSecret answers with the endpoint and its secret, which is
// never shown again; no cache may keep it.
func writeWebhookSecret(w http.ResponseWriter, status int, hook *service.WebhookWithSecret) {
	w.Header().Set("ETag", etag(hook.Version))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, hook)
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	hooks, err := a.Webhooks.List(r.Context(), principal(r.Context()), after, limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	next := ""
	if len(hooks) > limit {
		hooks, next = hooks[:limit], hooks[limit-1].ID
	}
	writeJSON(w, http.StatusOK, list(hooks, next))
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.NewWebhook
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	hook, err := a.Webhooks.Create(r.Context(), principal(r.Context()), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeWebhookSecret(w, http.StatusCreated, hook)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := a.Webhooks.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeWebhook(w, http.StatusOK, hook)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var in service.WebhookPatch
	versionedWrite(w, r, &in, http.StatusOK, writeWebhook, func(p *quire.Principal, version int64) (*quire.Webhook, error) {
		return a.Webhooks.Update(r.Context(), p, r.PathValue("id"), version, in)
	})
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		return a.Webhooks.Delete(r.Context(), p, r.PathValue("id"), version)
	})
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	versionedWrite(w, r, nil, http.StatusOK, writeWebhookSecret, func(p *quire.Principal, version int64) (*service.WebhookWithSecret, error) {
		return a.Webhooks.RotateSecret(r.Context(), p, r.PathValue("id"), version)
	})
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) {
	before, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ds, err := a.Webhooks.Deliveries(r.Context(), principal(r.Context()), r.PathValue("id"), before, limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	next := ""
	if len(ds) > limit {
		ds, next = ds[:limit], ds[limit-1].ID
	}
	writeJSON(w, http.StatusOK, list(ds, next))
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request) {
	d, err := a.Webhooks.Redeliver(r.Context(), principal(r.Context()), r.PathValue("id"), r.PathValue("delivery_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request) {
	d, err := a.Webhooks.SendTest(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}
