package admin

import (
	"encoding/json"
	"net/http"

	"github.com/quirecms/quire"
)

// codeData is what the second sign-in step receives: the challenge the
// first step returned (a secret valid 5 minutes, kept in a hidden field,
// never in the address) and where to go after.
type codeData struct {
	Challenge string
	Next      string
	// Passkey is the passkey options (JSON) when the account has one.
	Passkey string
	// TOTP: the account has an authenticator app (else only a passkey).
	TOTP bool
}

// loginCode is the second step of a two-factor sign-in: a TOTP or a
// recovery code for the challenge, checked by the same Auth.CompleteSignIn
// as POST /auth/login/2fa (its throttle, its five-wrong-codes limit and
// its audit entries).
func (a *Admin) loginCode(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := codeData{Challenge: r.PostForm.Get("challenge"), Next: safeNext(r.PostForm.Get("next")), Passkey: r.PostForm.Get("passkey_options"), TOTP: true}
	if len(d.Passkey) > maxPasskeyOptions || !json.Valid([]byte(d.Passkey)) {
		d.Passkey = ""
	}
	pair, err := a.Auth.CompleteSignIn(r.Context(), d.Challenge, r.PostForm.Get("code"))
	if err != nil {
		p := a.newPage(r, "Two-factor sign-in", "")
		p.Data = d
		if !refused(w, &p, err) {
			if quire.ErrorCode(err) != quire.EUNAUTHORIZED {
				a.fail(w, r, err)
				return
			}
			// A wrong code, or a challenge that is spent or expired: the
			// service's message says which.
			p.Error = quire.ErrorMessage(err)
		}
		a.render(w, r, httpStatus(err), "login_code", p)
		return
	}
	a.signedInAs(w, r, pair, d.Next)
}
