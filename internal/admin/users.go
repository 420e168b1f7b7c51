package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

const userListSize = 50

type usersData struct {
	Users []*quire.User
	Next  string
	Form  service.NewUser
}

// users is GET /users of the API (admins), with the create form.
func (a *Admin) users(w http.ResponseWriter, r *http.Request) {
	a.renderUsers(w, r, http.StatusOK, usersData{Form: service.NewUser{Role: quire.RoleEditor}}, nil)
}

func (a *Admin) renderUsers(w http.ResponseWriter, r *http.Request, status int, d usersData, formErr error) {
	after := r.URL.Query().Get("after")
	if len(after) > 64 {
		a.status(w, r, nil, http.StatusUnprocessableEntity, "after is not a user id.")
		return
	}
	users, next, err := a.Users.List(r.Context(), current(r.Context()).P, after, userListSize)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d.Users, d.Next = users, next
	p := a.newPage(r, "Users", "users")
	p.Data = d
	if formErr != nil {
		p.Fields = fieldErrors(formErr)
		if quire.ErrorCode(formErr) == quire.ECONFLICT {
			p.Fields = map[string]string{"email": "is already used by another user"}
		}
		p.Error = "The user was not created: see the form below."
	}
	a.render(w, r, status, "users", p)
}

// createUser is POST /users: the admin sets a first password that the
// user changes in My account.
func (a *Admin) createUser(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	in := service.NewUser{Email: strings.TrimSpace(r.PostForm.Get("email")), DisplayName: strings.TrimSpace(r.PostForm.Get("display_name")),
		Role: quire.Role(r.PostForm.Get("role")), Password: r.PostForm.Get("password")}
	_, err := a.Users.Create(r.Context(), current(r.Context()).P, in)
	if code := quire.ErrorCode(err); code == quire.EINVALID || code == quire.ECONFLICT {
		in.Password = ""
		a.renderUsers(w, r, httpStatus(err), usersData{Form: in}, err)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/users?done=user_created", http.StatusSeeOther)
}

func (a *Admin) userEdit(w http.ResponseWriter, r *http.Request) {
	u, err := a.Users.Get(r.Context(), current(r.Context()).P, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p := a.newPage(r, u.Email, "users")
	p.Data = u
	a.render(w, r, http.StatusOK, "user", p)
}

// userEndSessions ends every session and access token of a user, as
// POST /users/{id}/logout-all (Sessions.RevokeUser: admins, audited).
func (a *Admin) userEndSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.Sessions.RevokeUser(r.Context(), current(r.Context()).P, id); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/users/"+url.PathEscape(id)+"?done=sessions_ended", http.StatusSeeOther)
}

// userSave is PATCH /users/{id}: name, role and active, with the version
// the form showed. A role change or deactivation ends the user's sessions.
func (a *Admin) userSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	version, _ := formVersion(r)
	name := strings.TrimSpace(r.PostForm.Get("display_name"))
	role := quire.Role(r.PostForm.Get("role"))
	active := r.PostForm.Get("active") == "on"
	patch := service.UserPatch{DisplayName: &name, Role: &role, Active: &active}
	id := r.PathValue("id")
	_, err := a.Users.Update(r.Context(), current(r.Context()).P, id, version, patch)
	if code := quire.ErrorCode(err); code == quire.EINVALID || code == quire.ECONFLICT || code == quire.EPRECONDITION {
		u, gerr := a.Users.Get(r.Context(), current(r.Context()).P, id)
		if gerr != nil {
			a.fail(w, r, gerr)
			return
		}
		p := a.newPage(r, u.Email, "users")
		p.Data = u
		p.Fields = fieldErrors(err)
		p.Error = "Not saved: " + quire.ErrorMessage(err)
		a.render(w, r, httpStatus(err), "user", p)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/users?done=user_saved", http.StatusSeeOther)
}

type tokensData struct {
	Tokens  []*quire.APIToken
	Next    string
	Created *quire.APIToken
	Secret  string
	Form    service.NewToken
	Days    string
	Scopes  []scopeChoice
}

// scopeChoice is one checkbox of the token form.
type scopeChoice struct {
	Scope   quire.Scope
	Checked bool
}

func scopeChoices(chosen []quire.Scope) []scopeChoice {
	out := make([]scopeChoice, len(quire.Scopes))
	for i, s := range quire.Scopes {
		out[i] = scopeChoice{Scope: s, Checked: slices.Contains(chosen, s)}
	}
	return out
}

// newTokenForm is the form's starting point: a read-only token, which is
// what a front-end needs.
func newTokenForm() service.NewToken {
	return service.NewToken{Role: quire.RoleViewer, Scopes: []quire.Scope{quire.ScopeContentRead}}
}

func (a *Admin) tokens(w http.ResponseWriter, r *http.Request) {
	a.renderTokens(w, r, http.StatusOK, tokensData{Form: newTokenForm()}, nil)
}

func (a *Admin) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData, formErr error) {
	after := r.URL.Query().Get("after")
	if len(after) > 64 {
		a.status(w, r, nil, http.StatusUnprocessableEntity, "after is not a token id.")
		return
	}
	list, next, err := a.Tokens.List(r.Context(), current(r.Context()).P, after, userListSize)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d.Tokens, d.Next = list, next
	d.Scopes = scopeChoices(d.Form.Scopes)
	p := a.newPage(r, "API tokens", "tokens")
	p.Data = d
	if formErr != nil {
		p.Fields = fieldErrors(formErr)
		p.Error = "The token was not created: see the form below."
	}
	a.render(w, r, status, "tokens", p)
}

// createToken is POST /api-tokens; the secret is shown on this answer only
// (no-store), never stored or shown again.
func (a *Admin) createToken(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	in := service.NewToken{Name: strings.TrimSpace(r.PostForm.Get("name")), Role: quire.Role(r.PostForm.Get("role"))}
	for _, s := range r.PostForm["scopes"] {
		if len(in.Scopes) < len(quire.Scopes)+1 { // a bound; the service refuses duplicates and unknown scopes
			in.Scopes = append(in.Scopes, quire.Scope(s))
		}
	}
	days := strings.TrimSpace(r.PostForm.Get("days"))
	var formErr error
	if days != "" {
		n, ok := atoiPositive(days)
		if !ok || n > 3650 {
			formErr = quire.Invalid(quire.FieldError{Field: "expires_at", Message: "must be a number of days from 1 to 3650, or empty for no expiry"})
		} else {
			t := time.Now().UTC().AddDate(0, 0, n)
			in.ExpiresAt = &t
		}
	}
	var tok *quire.APIToken
	var secret string
	if formErr == nil {
		tok, secret, formErr = a.Tokens.Create(r.Context(), current(r.Context()).P, in)
	}
	if quire.ErrorCode(formErr) == quire.EINVALID {
		a.renderTokens(w, r, http.StatusUnprocessableEntity, tokensData{Form: in, Days: days}, formErr)
		return
	}
	if formErr != nil {
		a.fail(w, r, formErr)
		return
	}
	a.renderTokens(w, r, http.StatusCreated, tokensData{Created: tok, Secret: secret, Form: newTokenForm()}, nil)
}

func (a *Admin) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := a.Tokens.Revoke(r.Context(), current(r.Context()).P, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/tokens?done=token_revoked", http.StatusSeeOther)
}
