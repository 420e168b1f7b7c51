package admin

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// enrolPath is the TOTP enrolment screen: reached from My account, and
// the only screen (with signing out) a user sees whose role requires a
// second factor they have not set up (Principal.MustEnrol).
const enrolPath = Prefix + "/account/two-factor"

// enrolScreen reports whether r is for one of the enrolment screens, the
// ones a user who must enrol may use: TOTP's, and adding a passkey.
func enrolScreen(r *http.Request) bool {
	return r.URL.Path == enrolPath || strings.HasPrefix(r.URL.Path, enrolPath+"/") ||
		strings.HasPrefix(r.URL.Path, Prefix+"/account/passkeys")
}

// toEnrol sends a user who must enrol to the enrolment screen, and on to
// the page they asked for once enrolled.
func (a *Admin) toEnrol(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"title":"your role requires two-factor sign-in: set it up first","status":403}`))
		return
	}
	target := enrolPath
	if r.Method == http.MethodGet && r.URL.Path != Prefix+"/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// enrolData is what the enrolment screens receive.
type enrolData struct {
	// Required: the role requires a second factor; the screen has no
	// navigation, only signing out.
	Required bool
	Next     string
	// PasskeysOn: the screen also offers to add a passkey (Required only).
	PasskeysOn bool
	// Pending is nil before an enrolment is started.
	Pending *service.TOTPEnrolment
	// QR is Pending's QR code, a PNG data URL (the CSP allows img-src
	// data:), typed so that html/template lets it into src.
	QR template.URL
	// Codes are the recovery codes, on the screen after the confirmation.
	Codes []string
}

// enrolPage is a page for the enrolment screens: without the navigation
// while the user must enrol (every other screen would send them back).
func (a *Admin) enrolPage(r *http.Request, next string) page {
	p := a.newPage(r, "Set up two-factor sign-in", "account")
	d := enrolData{Required: p.U.P.MustEnrol, Next: safeNext(next), PasskeysOn: a.passkeysOn()}
	if d.Required {
		p.U = nil
	} else if next == "" {
		d.Next = Prefix + "/account"
	}
	p.Data = d
	return p
}

// enrolForm shows the pending enrolment (QR code, secret, code field), or
// the button that starts one. Starting is a POST, so that no prefetch or
// reload replaces a secret the user has already scanned.
func (a *Admin) enrolForm(w http.ResponseWriter, r *http.Request) {
	a.renderEnrol(w, r, http.StatusOK, a.enrolPage(r, r.URL.Query().Get("next")))
}

func (a *Admin) renderEnrol(w http.ResponseWriter, r *http.Request, status int, p page) {
	d := p.Data.(enrolData)
	en, err := a.TwoFactor.Pending(r.Context(), current(r.Context()).P)
	switch {
	case err == nil:
		d.Pending = en
		if strings.HasPrefix(en.QRCode, "data:image/png;base64,") {
			d.QR = template.URL(en.QRCode) // #nosec G203 -- our own PNG, base64
		}
	case quire.ErrorCode(err) == quire.ENOTFOUND:
	case quire.ErrorCode(err) == quire.ECONFLICT: // already on
		http.Redirect(w, r, Prefix+"/account", http.StatusSeeOther)
		return
	default:
		a.fail(w, r, err)
		return
	}
	p.Data = d
	a.render(w, r, status, "twofactor_enrol", p)
}

// startEnrol makes a new secret (TwoFactor.Enrol, as POST /auth/2fa/totp)
// and shows it.
func (a *Admin) startEnrol(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if _, err := a.TwoFactor.Enrol(r.Context(), current(r.Context()).P); err != nil {
		if quire.ErrorCode(err) == quire.ECONFLICT {
			http.Redirect(w, r, Prefix+"/account", http.StatusSeeOther)
			return
		}
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, enrolPath+"?next="+url.QueryEscape(safeNext(r.PostForm.Get("next"))), http.StatusSeeOther)
}

// confirmEnrol turns TOTP on with a code from the app (TwoFactor.Confirm,
// as POST /auth/2fa/totp/confirm) and shows the recovery codes, once: the
// answer to this POST is the only place they ever appear.
func (a *Admin) confirmEnrol(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	p := a.enrolPage(r, r.PostForm.Get("next"))
	rc, err := a.TwoFactor.Confirm(r.Context(), current(r.Context()).P, r.PostForm.Get("code"))
	if code := quire.ErrorCode(err); code == quire.EINVALID || code == quire.ETOOMANY || code == quire.ECONFLICT {
		p.Fields = fieldErrors(err)
		p.Error = quire.ErrorMessage(err)
		a.renderEnrol(w, r, httpStatus(err), p)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := p.Data.(enrolData)
	d.Codes = rc.Codes
	p.Data = d
	p.Title = "Save your recovery codes"
	a.render(w, r, http.StatusOK, "twofactor_codes", p)
}

// disableTwoFactor turns TOTP off after checking the password again
// (TwoFactor.Disable, as POST /auth/2fa/totp/disable).
func (a *Admin) disableTwoFactor(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	err := a.TwoFactor.Disable(r.Context(), current(r.Context()).P, r.PostForm.Get("password"))
	if err != nil {
		a.accountError(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/account?done=two_factor_off", http.StatusSeeOther)
}
