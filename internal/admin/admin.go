// Package admin is Quire's browser admin at /admin: server-rendered
// html/template pages with a little JavaScript, embedded in the binary.
// Every action calls the same service methods as the API handlers with
// the same principal, so permission checks and audit entries are the
// API's; this package only renders and decodes forms.
package admin

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/quirecms/quire/internal/service"
)

// Prefix is where the admin is mounted.
const Prefix = "/admin"

//go:embed templates static
var files embed.FS

// Deps is what the admin needs from the rest of the program.
type Deps struct {
	Auth     *service.Auth
	Users    *service.Users
	Tokens   *service.Tokens
	Audit    *service.Audit
	Settings *service.Settings
	Pages    *service.Pages
	Media    *service.Media
	// Invites and Recovery serve the invitation and password reset
	// screens the accounts mails link to.
	Invites  *service.Invitations
	Recovery *service.Recovery
	// Sessions lists and ends the signed-in user's sessions (My account).
	Sessions *service.Sessions
	// TwoFactor enrols, shows and turns off TOTP (My account, and the
	// enrolment a role may require at sign-in).
	TwoFactor *service.TwoFactor
	// Passkeys registers, renames and removes the user's passkeys; nil or
	// not Enabled hides the passkey screens.
	Passkeys *service.Passkeys
	// Trusted proxies may say, with X-Forwarded-Proto, that the browser
	// spoke HTTPS to them; then the session cookie is Secure.
	Trusted []netip.Prefix
	Log     *slog.Logger
	// MaxUpload is the largest media file (QUIRE_MAX_UPLOAD_BYTES).
	MaxUpload int64
	// Route, if set, is told the admin pattern that served each request
	// (httpapi.SetRoute: the label of the request's metrics and log line).
	Route func(ctx context.Context, pattern string)
}

// Admin is the http.Handler of the admin.
type Admin struct {
	Deps
	views   *views
	handler http.Handler
}

// New builds the admin with every screen registered.
func New(d Deps) (*Admin, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.MaxUpload <= 0 {
		d.MaxUpload = 25 << 20
	}
	v, err := parseViews()
	if err != nil {
		return nil, err
	}
	a := &Admin{Deps: d, views: v}
	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", staticFiles(static)))
	mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET "+Prefix+"/login", a.loginForm)
	mux.HandleFunc("POST "+Prefix+"/login", a.login)
	mux.HandleFunc("POST "+Prefix+"/login/2fa", a.loginCode)
	mux.HandleFunc("POST "+Prefix+"/login/2fa/passkey", a.loginCodePasskey)
	mux.HandleFunc("POST "+Prefix+"/login/passkey/options", a.passkeySignInOptions)
	mux.HandleFunc("POST "+Prefix+"/login/passkey", a.passkeySignIn)
	mux.HandleFunc("POST "+Prefix+"/logout", a.logout)
	mux.HandleFunc("GET "+Prefix+"/invitation", a.invitationForm)
	mux.HandleFunc("POST "+Prefix+"/invitation", a.acceptInvitation)
	mux.HandleFunc("GET "+Prefix+"/password/forgot", a.forgotForm)
	mux.HandleFunc("POST "+Prefix+"/password/forgot", a.forgot)
	mux.HandleFunc("GET "+Prefix+"/password/reset", a.resetForm)
	mux.HandleFunc("POST "+Prefix+"/password/reset", a.reset)
	a.routes(mux)
	mux.HandleFunc(Prefix+"/", a.signedIn(a.notFound))

	// Every state-changing request must come from the admin's own origin:
	// Sec-Fetch-Site (or Origin against Host) is checked by the standard
	// library, so a cross-site form post is refused with 403.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(a.crossOrigin))
	a.handler = securityHeaders(cop.Handler(labelRoutes(mux, d.Route)))
	return a, nil
}

// labelRoutes reports the pattern mux routed each request with to label,
// once mux is done (the mux sets r.Pattern on the request it is given).
// Only patterns are reported, never paths: an unknown /admin/... is the
// catch-all "/admin/", so a scanner cannot add metric series.
func labelRoutes(mux *http.ServeMux, label func(context.Context, string)) http.Handler {
	if label == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { label(r.Context(), r.Pattern) }()
		mux.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// csp allows nothing inline: scripts, styles, images and requests come
// from the admin's own origin only (images also from blob: for upload
// previews and data: for the rich-text toolbar's icons), and no other site
// may frame the admin. The style hashes are the exact default styles the
// vendored Trix 2.1.19 inserts (see static/vendor/README.md), and the
// empty string: Trix inserts each style element empty, then fills it.
const csp = "default-src 'none'; script-src 'self'; " +
	"style-src 'self' 'sha256-jAP18ioNeNaQBBU5RJvT96kjJnVxHvZs+s8WUNiLnvA=' 'sha256-c5Z9aB2t69CSpeI1aC8dDLr7LZYZlynV8iY/8Uc9ZFk=' " +
	"'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; " +
	"img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every admin answer carries. They
// replace the API's (its CSP forbids everything a page needs).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the embedded CSS, JavaScript and vendored libraries.
// They change only with the binary, so browsers may keep them a while.
func staticFiles(fsys fs.FS) http.Handler {
	fsrv := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

func (a *Admin) crossOrigin(w http.ResponseWriter, r *http.Request) {
	a.log(r).Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	a.status(w, r, nil, http.StatusForbidden, "This request came from another site and was refused.")
}

func (a *Admin) log(r *http.Request) *slog.Logger {
	return a.Log.With("request_id", service.MetaFrom(r.Context()).RequestID)
}
