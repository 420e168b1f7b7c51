package admin

import (
	"encoding/json"
	"net/http"

	"github.com/quirecms/quire"
)

// Passkeys in the admin: static/passkeys.js asks the browser
// (navigator.credentials.create/get) with options from the services and
// posts its answer, as the credential's toJSON(), in a hidden field of an
// ordinary form; the handlers call the same services as the API routes
// (/auth/2fa/passkeys/…, /auth/login/passkey…), so the limits, throttles
// and audit entries are the same.

// maxPasskeyOptions bounds the passkey options a second-step form posts
// back (to offer the passkey again after a refusal).
const maxPasskeyOptions = 16 << 10

func (a *Admin) passkeysOn() bool { return a.Passkeys != nil && a.Passkeys.Enabled() }

// jsonError answers a script's request with the service's message.
func jsonError(w http.ResponseWriter, err error) {
	writeJSON(w, httpStatus(err), map[string]string{"error": quire.ErrorMessage(err)})
}

// passkeyOptions begins a registration for My account's form.
func (a *Admin) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	if !a.passkeysOn() {
		http.NotFound(w, r)
		return
	}
	c, err := a.Passkeys.BeginRegistration(r.Context(), current(r.Context()).P)
	if err != nil {
		jsonError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

// accountError shows My account again with the service's refusal (a
// field to correct, too many attempts, a conflict), or fails for errors
// that are not the user's. Fields named in unmarked are said only in the
// message at the top: My account has several forms, and a field of the
// same name in another one must not show the error.
func (a *Admin) accountError(w http.ResponseWriter, r *http.Request, err error, unmarked ...string) {
	switch quire.ErrorCode(err) {
	case quire.EINVALID, quire.ETOOMANY, quire.ECONFLICT:
	default:
		a.fail(w, r, err)
		return
	}
	p := a.newPage(r, "My account", "account")
	refused(w, &p, err) // the marked fields, Retry-After
	p.Error = quire.ErrorMessage(err)
	for _, f := range unmarked {
		delete(p.Fields, f)
	}
	a.renderAccount(w, r, httpStatus(err), p)
}

func (a *Admin) addPasskey(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := r.PostForm
	_, err := a.Passkeys.FinishRegistration(r.Context(), current(r.Context()).P, f.Get("ceremony"), f.Get("name"), []byte(f.Get("credential")))
	if err != nil {
		a.accountError(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/account?done=passkey_added", http.StatusSeeOther)
}

func (a *Admin) renamePasskey(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if _, err := a.Passkeys.Rename(r.Context(), current(r.Context()).P, r.PathValue("id"), r.PostForm.Get("name")); err != nil {
		a.accountError(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/account?done=passkey_renamed", http.StatusSeeOther)
}

func (a *Admin) removePasskey(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if err := a.Passkeys.Remove(r.Context(), current(r.Context()).P, r.PathValue("id"), r.PostForm.Get("password")); err != nil {
		// A wrong password is said at the top, not under the two-factor
		// section's password field.
		a.accountError(w, r, err, "password")
		return
	}
	http.Redirect(w, r, Prefix+"/account?done=passkey_removed", http.StatusSeeOther)
}

// passkeySignInOptions begins a passwordless sign-in for the sign-in
// screen's passkey button.
func (a *Admin) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	c, err := a.Auth.BeginPasskeySignIn(r.Context())
	if err != nil {
		jsonError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

// passkeySignIn finishes a passwordless sign-in (Auth.FinishPasskeySignIn).
func (a *Admin) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	pair, err := a.Auth.FinishPasskeySignIn(r.Context(), r.PostForm.Get("ceremony"), []byte(r.PostForm.Get("credential")))
	if err != nil {
		p := a.newPage(r, "Sign in", "")
		p.Data = loginData{Next: next, Passkeys: a.passkeysOn()}
		if !refused(w, &p, err) {
			if c := quire.ErrorCode(err); c != quire.EUNAUTHORIZED && c != quire.ECONFLICT {
				a.fail(w, r, err)
				return
			}
			p.Error = "The passkey was not accepted. Try again, or sign in with your password."
		}
		a.render(w, r, httpStatus(err), "login", p)
		return
	}
	a.signedInAs(w, r, pair, next)
}

// passkeyOptionsJSON is the second step's passkey options as the form
// carries them.
func passkeyOptionsJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// loginCodePasskey answers the second step with a passkey
// (Auth.CompleteSignInPasskey, as POST /auth/login/2fa/passkey).
func (a *Admin) loginCodePasskey(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := codeData{Challenge: r.PostForm.Get("challenge"), Next: safeNext(r.PostForm.Get("next")), Passkey: r.PostForm.Get("passkey_options")}
	if len(d.Passkey) > maxPasskeyOptions || !json.Valid([]byte(d.Passkey)) {
		d.Passkey = ""
	}
	pair, err := a.Auth.CompleteSignInPasskey(r.Context(), d.Challenge, []byte(r.PostForm.Get("credential")))
	if err != nil {
		p := a.newPage(r, "Two-factor sign-in", "")
		p.Data = d
		if !refused(w, &p, err) {
			if c := quire.ErrorCode(err); c != quire.EUNAUTHORIZED && c != quire.ECONFLICT {
				a.fail(w, r, err)
				return
			}
			p.Error = quire.ErrorMessage(err)
		}
		a.render(w, r, httpStatus(err), "login_code", p)
		return
	}
	a.signedInAs(w, r, pair, d.Next)
}
