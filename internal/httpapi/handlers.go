package httpapi

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.Ready != nil {
		if err := a.Ready(r); err != nil {
			// Probes repeat every few seconds: a warning, once per interval.
			a.notReady.report(r.Context(), logger(r.Context()), slog.LevelWarn, "not ready", err)
			detail := "the database does not answer"
			if quire.ErrorCode(err) == quire.ESTORAGEFULL {
				detail = "the database's disk is full"
			}
			problemStatus(w, r, http.StatusServiceUnavailable, detail)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// etag is the strong validator of a versioned resource.
func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// ifMatch returns the version required by If-Match: 0 when the header is
// absent or "*". A header that names no version of ours can never match.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(h, `"v`), `"`), 10, 64)
	if err != nil || v <= 0 || !strings.HasPrefix(h, `"v`) {
		return 0, quire.Errorf(quire.EPRECONDITION, "If-Match does not match the current version")
	}
	return v, nil
}

// versionedWrite is the shape of every write to a versioned resource:
// decode the body (when body is non-nil), read If-Match, run fn as the
// caller, and answer with what it returns through write (which sets the
// new ETag). Errors at any step become problems.
func versionedWrite[T any](w http.ResponseWriter, r *http.Request, body any, status int,
	write func(http.ResponseWriter, int, T), fn func(p *quire.Principal, version int64) (T, error)) {
	if body != nil {
		if err := decode(r, body); err != nil {
			writeError(w, r, err)
			return
		}
	}
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := fn(principal(r.Context()), version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	write(w, status, out)
}

// versionedDelete reads If-Match, runs fn as the caller and answers 204.
func versionedDelete(w http.ResponseWriter, r *http.Request, fn func(p *quire.Principal, version int64) error) {
	versionedWrite(w, r, nil, http.StatusNoContent, func(w http.ResponseWriter, status int, _ struct{}) { w.WriteHeader(status) },
		func(p *quire.Principal, version int64) (struct{}, error) { return struct{}{}, fn(p, version) })
}

// page reads ?limit= (1–100, default 20) and the opaque ?cursor= (at
// most 128 bytes decoded: a setting key is up to 100).
func page(r *http.Request) (after string, limit int, err error) {
	q := r.URL.Query()
	limit = 20
	var v quire.Validator
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			v.Add("limit", "must be an integer from 1 to 100")
		}
		limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 || len(b) > 128 || !cleanText(string(b)) {
			v.Add("cursor", "is not a cursor returned by this list")
		}
		after = string(b)
	}
	if err := v.Err(); err != nil {
		return "", 0, err
	}
	return after, limit, nil
}

// List is the envelope of every list response.
type List[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func list[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Data: items}
	if next != "" {
		c := base64.RawURLEncoding.EncodeToString([]byte(next))
		l.NextCursor = &c
	}
	return l
}

// keysetPage finishes a list read with limit+1 rows: it keeps limit and
// returns the next cursor, the key of the last row kept when more follow,
// else resume (where a filtered window stopped; "" at the end).
func keysetPage[T any](items []T, limit int, key func(T) string, resume string) ([]T, string) {
	if len(items) > limit {
		return items[:limit], key(items[limit-1])
	}
	return items, resume
}

// resumeCursor encodes a store's resume position ("" when none).
func resumeCursor(c *store.PageCursor) string {
	if c == nil {
		return ""
	}
	return pageCursor(c.At, c.ID)
}

func writeUser(w http.ResponseWriter, status int, u *quire.User) {
	w.Header().Set("ETag", etag(u.Version))
	writeJSON(w, status, u)
}

// --- auth ---

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := a.auth.SignIn(r.Context(), in.Email, in.Password)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if res.Challenge != nil {
		writeJSON(w, http.StatusAccepted, res.Challenge)
		return
	}
	writeJSON(w, http.StatusOK, res.Tokens)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pair, err := a.auth.Refresh(r.Context(), in.RefreshToken)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	var in refreshRequest
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.auth.Logout(r.Context(), in.RefreshToken); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) logoutAll(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.LogoutAll(r.Context(), principal(r.Context())); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenIdentity is GET /auth/me's answer to an API token: the token itself,
// never the admin who made it.
type tokenIdentity struct {
	Kind string `json:"kind"` // "api_token"
	*quire.APIToken
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if p != nil && p.TokenID != "" {
		t, err := a.Tokens.Self(r.Context(), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, tokenIdentity{Kind: "api_token", APIToken: t})
		return
	}
	u, err := a.Users.Self(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeUser(w, http.StatusOK, u)
}

type selfUpdate struct {
	DisplayName *string `json:"display_name"`
}

func (a *API) updateMe(w http.ResponseWriter, r *http.Request) {
	var in selfUpdate
	versionedWrite(w, r, &in, http.StatusOK, writeUser, func(p *quire.Principal, version int64) (*quire.User, error) {
		// Required, as the OpenAPI document says: {} must not blank the name.
		if in.DisplayName == nil {
			return nil, quire.Invalid(quire.FieldError{Field: "display_name", Message: "is required"})
		}
		return a.Users.UpdateSelf(r.Context(), p, version, *in.DisplayName)
	})
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) {
	var in passwordChange
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pair, err := a.auth.ChangePassword(r.Context(), principal(r.Context()), in.CurrentPassword, in.NewPassword)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

// --- users ---

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	users, next, err := a.Users.List(r.Context(), principal(r.Context()), after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(users, next))
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var in service.NewUser
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := a.Users.Create(r.Context(), principal(r.Context()), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/users/%s", v1, u.ID))
	writeUser(w, http.StatusCreated, u)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.Users.Get(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeUser(w, http.StatusOK, u)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var in service.UserPatch
	versionedWrite(w, r, &in, http.StatusOK, writeUser, func(p *quire.Principal, version int64) (*quire.User, error) {
		return a.Users.Update(r.Context(), p, r.PathValue("id"), version, in)
	})
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		return a.Users.Delete(r.Context(), p, r.PathValue("id"), version)
	})
}

// --- API tokens ---

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tokens, next, err := a.Tokens.List(r.Context(), principal(r.Context()), after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(tokens, next))
}

// createdToken is the one response that carries a token's secret.
type createdToken struct {
	*quire.APIToken
	Token string `json:"token"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var in service.NewToken
	if err := decode(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t, secret, err := a.Tokens.Create(r.Context(), principal(r.Context()), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createdToken{APIToken: t, Token: secret})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := a.Tokens.Revoke(r.Context(), principal(r.Context()), r.PathValue("id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request) {
	res, err := a.Audit.Verify(r.Context(), principal(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
