package httpapi

import (
	"net/http"

	"github.com/quirecms/quire/internal/service"
)

type forgotRequest struct {
	Email string `json:"email"`
}

func (a *API) forgotPassword(w http.ResponseWriter, r *http.Request) {
	var in forgotRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.Recovery.Forgot(r.Context(), in.Email); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

type resetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) {
	var in resetRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.Recovery.Reset(r.Context(), in.Token, in.NewPassword); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) createResetLink(w http.ResponseWriter, r *http.Request) {
	link, err := a.Recovery.CreateResetLink(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, link)
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next, err := a.Invites.List(r.Context(), principal(r.Context()), after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (a *API) createInvitation(w http.ResponseWriter, r *http.Request) {
	var in service.NewInvitation
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	inv, err := a.Invites.Create(r.Context(), principal(r.Context()), in)
	writeInvitation(w, r, inv, err)
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := a.Invites.Resend(r.Context(), principal(r.Context()), r.PathValue("id"))
	writeInvitation(w, r, inv, err)
}

func writeInvitation(w http.ResponseWriter, r *http.Request, inv *service.Invitation, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, inv)
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	if err := a.Invites.Revoke(r.Context(), principal(r.Context()), r.PathValue("id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	var in service.AcceptInvitation
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := a.Invites.Accept(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeUser(w, http.StatusCreated, u)
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, next, err := a.Sessions.List(r.Context(), principal(r.Context()), after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) {
	if err := a.Sessions.Revoke(r.Context(), principal(r.Context()), r.PathValue("id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) revokeUserSessions(w http.ResponseWriter, r *http.Request) {
	if err := a.Sessions.RevokeUser(r.Context(), principal(r.Context()), r.PathValue("id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
