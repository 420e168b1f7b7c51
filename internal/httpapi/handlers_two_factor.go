package httpapi

import "net/http"

type secondFactorRequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

func (a *API) loginSecondFactor(w http.ResponseWriter, r *http.Request) {
	var in secondFactorRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pair, err := a.auth.CompleteSignIn(r.Context(), in.Challenge, in.Code)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

func (a *API) twoFactorStatus(w http.ResponseWriter, r *http.Request) {
	st, err := a.TwoFactor.Status(r.Context(), principal(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	en, err := a.TwoFactor.Enrol(r.Context(), principal(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, en)
}

type totpCodeRequest struct {
	Code string `json:"code"`
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var in totpCodeRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	codes, err := a.TwoFactor.Confirm(r.Context(), principal(r.Context()), in.Code)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, codes)
}

type passwordCheckRequest struct {
	Password string `json:"password"`
}

func (a *API) disableTOTP(w http.ResponseWriter, r *http.Request) {
	var in passwordCheckRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.TwoFactor.Disable(r.Context(), principal(r.Context()), in.Password); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
