package admin

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
)

// views holds one template set per screen: the layout plus that screen.
type views struct{ t map[string]*template.Template }

var funcs = template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"label":      blockLabel,
	"mediaURL":   func(m *quire.Media) string { return quire.MediaURL(m.ID, m.Filename) },
	"blk":        func(b blockView, edit bool) blockArgs { return blockArgs{B: b, Edit: edit} },
	"levels":     func() []int { return []int{1, 2, 3, 4, 5, 6} },
	"mediaTypes": func() any { return mediaTypes },
	"deref2": func(n *int) int {
		if n == nil {
			return 0
		}
		return *n
	},
	"isImage": func(m *quire.Media) bool { return strings.HasPrefix(m.MimeType, "image/") },
	"kb": func(n int64) string {
		if n >= 1<<20 {
			return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
		}
		return strconv.FormatInt((n+1023)/1024, 10) + " KB"
	},
	"roles": func() []quire.Role { return quire.Roles },
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}

func parseViews() (*views, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	v := &views{t: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html", n)
		if err != nil {
			return nil, fmt.Errorf("admin template %s: %w", name, err)
		}
		v.t[name] = t
	}
	return v, nil
}

// blockArgs is what the block partials receive.
type blockArgs struct {
	B    blockView
	Edit bool
}

// page is what every screen's template receives.
type page struct {
	Title string
	Nav   string // which navigation entry is current
	U     *user  // nil on the sign-in page
	Flash string
	Error string
	// Fields are validation messages by the field name the service used.
	Fields map[string]string
	Data   any
}

// Can reports whether the signed-in user's role is at least min; templates
// use it to show only what the role allows (the services decide anyway).
func (p page) Can(min string) bool { return p.U != nil && p.U.P.Can(quire.Role(min)) }

// flashes are the messages a redirect may ask for with ?done=; a fixed
// table, so a link cannot make the admin say anything else.
var flashes = map[string]string{
	"signed_out":      "You are signed out.",
	"created":         "Page created.",
	"deleted":         "Page deleted.",
	"saved":           "Saved.",
	"published":       "Published.",
	"unpublished":     "Unpublished: the page is no longer public.",
	"draft":           "Draft revision saved.",
	"restored":        "Revision restored into the working copy. Publish to make it public.",
	"password":        "Password changed. Every other session has ended.",
	"media_saved":     "File details saved.",
	"media_deleted":   "File moved to the trash.",
	"media_restored":  "File restored from the trash.",
	"media_purged":    "File removed for good.",
	"uploaded":        "Uploaded.",
	"setting_saved":   "Setting saved.",
	"setting_deleted": "Setting deleted.",
	"user_created":    "User created.",
	"user_saved":      "User saved.",
	"token_revoked":   "Token revoked.",
	"session_ended":   "Session ended: that browser or app is signed out.",
	"passkey_added":   "Passkey added.",
	"sessions_ended":  "Every session of this user has ended.",
	"passkey_renamed": "Passkey renamed.",
	"passkey_removed": "Passkey removed.",
	"welcome":         "Welcome! Your account is ready.",
	"account_created": "Your account is ready: sign in with your new password.",
	"reset_sent":      "If an account uses this address, a link to choose a new password is on its way.",
	"password_reset":  "Password changed, and every session ended: sign in with the new password.",
	"two_factor_off":  "Two-factor sign-in is off: your password alone signs you in.",
}

func (a *Admin) newPage(r *http.Request, title, nav string) page {
	return page{Title: title, Nav: nav, U: current(r.Context()), Flash: flashes[r.URL.Query().Get("done")]}
}

// render writes screen name with p, rendering into a buffer first so that
// a template error is a clean 500 rather than half a page.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := a.views.t[name]
	if !ok {
		a.log(r).Error("no such admin template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		a.log(r).Error("render admin template", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// status renders the error screen with a message.
func (a *Admin) status(w http.ResponseWriter, r *http.Request, _ error, code int, msg string) {
	p := a.newPage(r, http.StatusText(code), "")
	p.Error = msg
	p.Data = code
	a.render(w, r, code, "error", p)
}

// httpStatus maps a domain error code to its HTTP status, as the API does.
func httpStatus(err error) int {
	switch quire.ErrorCode(err) {
	case quire.EINVALID:
		return http.StatusUnprocessableEntity
	case quire.EBADREQUEST:
		return http.StatusBadRequest
	case quire.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case quire.EFORBIDDEN:
		return http.StatusForbidden
	case quire.ENOTFOUND:
		return http.StatusNotFound
	case quire.ECONFLICT:
		return http.StatusConflict
	case quire.EPRECONDITION:
		return http.StatusPreconditionFailed
	case quire.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case quire.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail renders a service error: its public message only, and a log line
// with the cause for 5xx.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := httpStatus(err)
	if code == http.StatusUnauthorized {
		a.clearSession(w, r)
		a.toLogin(w, r)
		return
	}
	if code >= 500 {
		a.log(r).Error("admin request failed", "path", r.URL.Path, "err", err)
	}
	if code == http.StatusForbidden && administrative(r.URL.Path) {
		// As the API does: refused attempts on users, tokens, settings and
		// the audit log are audited (rate-limited by the service).
		if u := current(r.Context()); u != nil {
			a.Auth.RecordForbidden(r.Context(), u.P, "admin "+r.Pattern, "service")
		}
	}
	a.status(w, r, err, code, quire.ErrorMessage(err))
}

// administrative reports whether path is an admin screen of the routes the
// API audits refusals on.
func administrative(path string) bool {
	for _, p := range []string{"/users", "/tokens", "/settings", "/audit"} {
		if path == Prefix+p || strings.HasPrefix(path, Prefix+p+"/") {
			return true
		}
	}
	return false
}

// fieldErrors returns the messages of a validation error by field.
func fieldErrors(err error) map[string]string {
	var e *quire.Error
	if !errors.As(err, &e) || e.Code != quire.EINVALID {
		return nil
	}
	m := map[string]string{}
	for _, f := range e.Fields {
		m[f.Field] = f.Message
	}
	return m
}

func (a *Admin) notFound(w http.ResponseWriter, r *http.Request) {
	a.status(w, r, nil, http.StatusNotFound, "There is nothing at this address.")
}
