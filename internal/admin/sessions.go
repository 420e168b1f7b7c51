package admin

import (
	"net/http"

	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// sessionListSize is how many sessions My account shows a screen.
const sessionListSize = 25

// accountData is what My account receives: the signed-in user's live
// sessions (Sessions.List, as GET /auth/sessions), a keyset page of them.
type accountData struct {
	Sessions []*store.SessionInfo
	Next     string
	// TwoFactor is what TwoFactor.Status says (as GET /auth/2fa).
	TwoFactor *service.TwoFactorStatus
	// Passkeys is nil when passkeys are off (no QUIRE_PUBLIC_URL).
	Passkeys   []*service.PasskeyInfo
	PasskeysOn bool
}

func (a *Admin) renderAccount(w http.ResponseWriter, r *http.Request, status int, p page) {
	after := r.URL.Query().Get("after")
	if len(after) > 64 {
		a.status(w, r, nil, http.StatusUnprocessableEntity, "after is not a session id.")
		return
	}
	list, next, err := a.Sessions.List(r.Context(), current(r.Context()).P, after, sessionListSize)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tf, err := a.TwoFactor.Status(r.Context(), current(r.Context()).P)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := accountData{Sessions: list, Next: next, TwoFactor: tf}
	if a.passkeysOn() {
		if d.Passkeys, err = a.Passkeys.List(r.Context(), current(r.Context()).P); err != nil {
			a.fail(w, r, err)
			return
		}
		d.PasskeysOn = true
	}
	p.Data = d
	a.render(w, r, status, "account", p)
}

// endSession ends one of the user's sessions through Sessions.Revoke (as
// DELETE /auth/sessions/{id}); ending this browser's own is signing out.
func (a *Admin) endSession(w http.ResponseWriter, r *http.Request) {
	u := current(r.Context())
	id := r.PathValue("id")
	if err := a.Sessions.Revoke(r.Context(), u.P, id); err != nil {
		a.fail(w, r, err)
		return
	}
	if id == u.P.SessionID {
		a.clearSession(w, r)
		http.Redirect(w, r, Prefix+"/login?done=signed_out", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"/account?done=session_ended", http.StatusSeeOther)
}
