package httpapi

import (
	"net/http"
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
