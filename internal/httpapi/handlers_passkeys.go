package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/quirecms/quire"
)

// The browser's PublicKeyCredential (its toJSON() form) travels as raw
// JSON to the WebAuthn library, which parses and checks it.

type passkeySecondFactorRequest struct {
	Challenge  string          `json:"challenge"`
	Credential json.RawMessage `json:"credential"`
}

func needCredential(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return quire.Invalid(quire.FieldError{Field: "credential", Message: "is required"})
	}
	return nil
}

func (a *API) loginSecondFactorPasskey(w http.ResponseWriter, r *http.Request) {
	var in passkeySecondFactorRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := needCredential(in.Credential); err != nil {
		writeError(w, r, err)
		return
	}
	pair, err := a.auth.CompleteSignInPasskey(r.Context(), in.Challenge, in.Credential)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

func (a *API) beginPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	c, err := a.auth.BeginPasskeySignIn(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

type passkeyFinishRequest struct {
	Ceremony   string          `json:"ceremony"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func (a *API) finishPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ceremony   string          `json:"ceremony"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := needCredential(in.Credential); err != nil {
		writeError(w, r, err)
		return
	}
	pair, err := a.auth.FinishPasskeySignIn(r.Context(), in.Ceremony, in.Credential)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

func (a *API) listPasskeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.Passkeys.List(r.Context(), principal(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(keys, ""))
}

func (a *API) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	c, err := a.Passkeys.BeginRegistration(r.Context(), principal(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

func (a *API) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	var in passkeyFinishRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := needCredential(in.Credential); err != nil {
		writeError(w, r, err)
		return
	}
	k, err := a.Passkeys.FinishRegistration(r.Context(), principal(r.Context()), in.Ceremony, in.Name, in.Credential)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, k)
}

func (a *API) renamePasskey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	k, err := a.Passkeys.Rename(r.Context(), principal(r.Context()), r.PathValue("id"), in.Name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (a *API) removePasskey(w http.ResponseWriter, r *http.Request) {
	var in passwordCheckRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.Passkeys.Remove(r.Context(), principal(r.Context()), r.PathValue("id"), in.Password); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
