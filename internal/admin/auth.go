package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// formLimit bounds the body of the admin's plain forms.
const formLimit = 64 << 10

func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, formLimit)
	return r.ParseForm() == nil
}

type loginData struct {
	Email string
	Next  string
	// Passkeys offers passwordless sign-in (passkeys are on).
	Passkeys bool
}

func (a *Admin) loginForm(w http.ResponseWriter, r *http.Request) {
	p := a.newPage(r, "Sign in", "")
	p.Data = loginData{Next: safeNext(r.URL.Query().Get("next")), Passkeys: a.passkeysOn()}
	a.render(w, r, http.StatusOK, "login", p)
}

// login signs in through the API's own login (Auth.Login): the same
// throttle, the same audit entries and the same server-side session; the
// refresh token becomes the cookie and the access token is dropped.
func (a *Admin) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	email := r.PostForm.Get("email")
	d := loginData{Email: email, Next: safeNext(r.PostForm.Get("next")), Passkeys: a.passkeysOn()}
	res, err := a.Auth.BrowserSignIn(r.Context(), email, r.PostForm.Get("password"))
	if err == nil && res.Challenge != nil {
		p := a.newPage(r, "Two-factor sign-in", "")
		p.Data = codeData{Challenge: res.Challenge.Challenge, Next: d.Next, Passkey: passkeyOptionsJSON(res.Challenge.Passkey),
			TOTP: len(res.Challenge.Methods) > 0 && res.Challenge.Methods[0] == "totp"}
		a.render(w, r, http.StatusOK, "login_code", p)
		return
	}
	if err != nil {
		p := a.newPage(r, "Sign in", "")
		p.Data = d
		switch quire.ErrorCode(err) {
		case quire.EUNAUTHORIZED:
			p.Error = "The email or the password is not right."
		case quire.ETOOMANY:
			var e *quire.Error
			if errors.As(err, &e) && e.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
			p.Error = "Too many failed sign-ins. Wait a few minutes and try again."
		default:
			a.fail(w, r, err)
			return
		}
		a.render(w, r, httpStatus(err), "login", p)
		return
	}
	a.signedInAs(w, r, res.Tokens, d.Next)
}

// signedInAs makes pair this browser's session and goes on to next.
func (a *Admin) signedInAs(w http.ResponseWriter, r *http.Request, pair *service.TokenPair, next string) {
	// Signing in again in the same browser ends the session it had, so
	// that no forgotten session stays valid behind the new cookie.
	if old := a.sessionSecret(r); old != "" {
		if err := a.Auth.Logout(r.Context(), old); err != nil {
			a.log(r).Warn("could not end the previous admin session", "err", err)
		}
	}
	a.setSession(w, r, pair.RefreshToken)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends this browser's session, as POST /auth/logout does for a
// refresh token.
func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	if secret := a.sessionSecret(r); secret != "" {
		if err := a.Auth.Logout(r.Context(), secret); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.clearSession(w, r)
	http.Redirect(w, r, Prefix+"/login?done=signed_out", http.StatusSeeOther)
}

func (a *Admin) account(w http.ResponseWriter, r *http.Request) {
	a.renderAccount(w, r, http.StatusOK, a.newPage(r, "My account", "account"))
}

// logoutAll ends every session and token of the user, this one included.
func (a *Admin) logoutAll(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.LogoutAll(r.Context(), current(r.Context()).P); err != nil {
		a.fail(w, r, err)
		return
	}
	a.clearSession(w, r)
	http.Redirect(w, r, Prefix+"/login?done=signed_out", http.StatusSeeOther)
}

// changePassword ends every other session; this one continues with the
// new refresh token the service issued in it.
func (a *Admin) changePassword(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	u := current(r.Context())
	pair, err := a.Auth.ChangePassword(r.Context(), u.P, r.PostForm.Get("current_password"), r.PostForm.Get("new_password"))
	if err != nil {
		a.accountError(w, r, err)
		return
	}
	a.setSession(w, r, pair.RefreshToken)
	http.Redirect(w, r, Prefix+"/account?done=password", http.StatusSeeOther)
}
