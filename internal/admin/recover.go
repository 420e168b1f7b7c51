package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// The screens a signed-out person reaches from the accounts mails: accept
// an invitation, ask for a reset link, choose a new password. Each calls
// the same service method as its API route (POST /auth/invitations/accept,
// /auth/password/forgot, /auth/password/reset), with its throttle and
// audit entries; the secret travels in the link's ?token= and then in a
// hidden field of the form.

// tokenData is what the invitation and reset screens receive.
type tokenData struct {
	Token       string
	DisplayName string
	// Bad is set once the service refused the token: the screen then says
	// so instead of showing the form again.
	Bad bool
}

// tokenLimit bounds the secret read from the address; the services refuse
// longer ones anyway.
const tokenLimit = 128

func queryToken(r *http.Request) string {
	t := r.URL.Query().Get("token")
	if len(t) > tokenLimit {
		return ""
	}
	return t
}

// refused fills p with the service's validation or throttle error and
// reports whether err was one of them (else the caller fails with it).
func refused(w http.ResponseWriter, p *page, err error) bool {
	switch quire.ErrorCode(err) {
	case quire.EINVALID:
		p.Fields = fieldErrors(err)
		p.Error = "Please correct the marked fields."
	case quire.ETOOMANY:
		var e *quire.Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		p.Error = "Too many attempts from this address. Wait a while and try again."
	default:
		return false
	}
	return true
}

func (a *Admin) invitationForm(w http.ResponseWriter, r *http.Request) {
	p := a.newPage(r, "Accept your invitation", "")
	t := queryToken(r)
	p.Data = tokenData{Token: t, Bad: t == ""}
	a.render(w, r, http.StatusOK, "invitation", p)
}

// acceptInvitation makes the account, then signs in with the chosen
// password through the API's own login, as the sign-in screen does.
func (a *Admin) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	in := service.AcceptInvitation{Token: r.PostForm.Get("token"), Password: r.PostForm.Get("password"),
		DisplayName: r.PostForm.Get("display_name")}
	u, err := a.Invites.Accept(r.Context(), in)
	if err != nil {
		p := a.newPage(r, "Accept your invitation", "")
		if !refused(w, &p, err) {
			a.fail(w, r, err)
			return
		}
		_, bad := p.Fields["token"]
		p.Data = tokenData{Token: in.Token, DisplayName: in.DisplayName, Bad: bad}
		a.render(w, r, httpStatus(err), "invitation", p)
		return
	}
	pair, err := a.Auth.Login(r.Context(), u.Email, in.Password)
	if err != nil {
		// The account exists; only the sign-in failed (throttle, say).
		a.log(r).Warn("sign-in after accepting an invitation failed", "err", err)
		http.Redirect(w, r, Prefix+"/login?done=account_created", http.StatusSeeOther)
		return
	}
	a.setSession(w, r, pair.RefreshToken)
	http.Redirect(w, r, Prefix+"/?done=welcome", http.StatusSeeOther)
}

func (a *Admin) forgotForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "forgot", a.newPage(r, "Forgot your password?", ""))
}

// forgot answers the same whether or not the address has an account: the
// service takes about the same time either way, and so does the redirect.
func (a *Admin) forgot(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	email := r.PostForm.Get("email")
	if err := a.Recovery.Forgot(r.Context(), email); err != nil {
		p := a.newPage(r, "Forgot your password?", "")
		if !refused(w, &p, err) {
			a.fail(w, r, err)
			return
		}
		p.Data = email
		a.render(w, r, httpStatus(err), "forgot", p)
		return
	}
	http.Redirect(w, r, Prefix+"/password/forgot?done=reset_sent", http.StatusSeeOther)
}

func (a *Admin) resetForm(w http.ResponseWriter, r *http.Request) {
	p := a.newPage(r, "Choose a new password", "")
	t := queryToken(r)
	p.Data = tokenData{Token: t, Bad: t == ""}
	a.render(w, r, http.StatusOK, "reset", p)
}

// reset sets the new password; every session of the account has ended,
// so the person signs in again with it.
func (a *Admin) reset(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	token := r.PostForm.Get("token")
	if err := a.Recovery.Reset(r.Context(), token, r.PostForm.Get("new_password")); err != nil {
		p := a.newPage(r, "Choose a new password", "")
		if !refused(w, &p, err) {
			a.fail(w, r, err)
			return
		}
		_, bad := p.Fields["token"]
		p.Data = tokenData{Token: token, Bad: bad}
		a.render(w, r, httpStatus(err), "reset", p)
		return
	}
	a.clearSession(w, r)
	http.Redirect(w, r, Prefix+"/login?done=password_reset", http.StatusSeeOther)
}
