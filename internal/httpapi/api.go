// Package httpapi is Quire's HTTP transport: the route table, middleware,
// JSON and problem encoding, and the OpenAPI document generated from the
// same table. Handlers decode, call a service, and encode; rules live in
// the services.
package httpapi

import (
	"encoding/json"
	"github.com/quirecms/quire/internal/delivery"
	"github.com/quirecms/quire/internal/eventstream"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// Public marks a route that needs no credentials.
const Public quire.Role = ""

// AnyScope marks a route every API token may call whatever its scopes
// (GET /auth/me: a token may always ask who it is).
const AnyScope quire.Scope = "*"

// Route is one entry of the route table. The permission tests and the
// OpenAPI document are generated from this table, so a route cannot be
// added without both.
type Route struct {
	Method    string
	Path      string
	MinRole   quire.Role // Public, or the least role allowed
	Summary   string
	Tag       string
	Request   string         // component schema of the JSON body, if any
	Responses map[int]string // status → component schema ("" for no body)
	// SessionOnly routes refuse API tokens: they act on the caller's own
	// login (password, logout-all, profile), which a token does not have,
	// or manage users and API tokens, which the services reserve for
	// interactive logins (service.requireSession); the flag documents that
	// rule for the HTTP layer, the permission tests and the OpenAPI doc.
	// Refusals (403) on routes whose MinRole is admin are audited.
	SessionOnly bool
	// Scope is what an API token needs besides MinRole (quire.Scope.Grants);
	// AnyScope for any token. Every non-public route names one, except
	// SessionOnly routes, which no token may call anyway.
	Scope quire.Scope
	// MaxBody overrides the JSON body limit (routes that carry whole pages).
	MaxBody int64
	// RequireIfMatch routes answer 428 without If-Match (unless
	// Deps.OptionalIfMatch); the OpenAPI document then marks it required.
	RequireIfMatch bool
	// Security names the security scheme of a route with a credential of
	// its own rather than a user's (only /metrics).
	Security string
	// RequestType is the media type of the body when it is not JSON.
	RequestType string
	// Enrolment routes answer a user whose role requires two-factor
	// sign-in before they have set it up (Principal.MustEnrol); no other
	// authenticated route does.
	Enrolment bool
	// Query names the query parameters the route reads (documented as strings).
	Query   []string
	handler http.HandlerFunc
}

// Deps is what the API needs from the rest of the program.
type Deps struct {
	Auth     *service.Auth
	Users    *service.Users
	Recovery *service.Recovery
	Invites  *service.Invitations
	Sessions *service.Sessions
	// TwoFactor turns TOTP sign-in on and off.
	TwoFactor *service.TwoFactor
	Tokens    *service.Tokens
	Audit     *service.Audit
	Settings  *service.Settings
	Pages     *service.Pages
	Delivery  *delivery.Pages
	Previews  *service.Previews
	Media     *service.Media
	Webhooks  *service.Webhooks
	Events    *eventstream.Hub
	// MaxUpload is the largest media file; MediaMaxAge the Cache-Control
	// max-age of media files.
	MaxUpload   int64
	MediaMaxAge time.Duration
	// PublicMaxAge is the Cache-Control max-age of public delivery.
	PublicMaxAge time.Duration
	Ready        func(r *http.Request) error
	Log          *slog.Logger
	Registry     *prometheus.Registry
	Trusted      []netip.Prefix
	Origins      []string
	MaxBody      int64
	// MaxPageBody is the body limit of the routes that carry a whole page.
	MaxPageBody int64
	// MetricsToken is the bearer token /metrics requires; empty hides it (404).
	MetricsToken string
	// OptionalIfMatch turns QUIRE_REQUIRE_IF_MATCH off: no route answers 428.
	OptionalIfMatch bool
	// Passkeys registers, lists, renames and removes WebAuthn credentials.
	Passkeys *service.Passkeys
}

// API is the HTTP handler of Quire.
type API struct {
	Deps
	auth    *service.Auth
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []Route
	metrics *metrics
	trusted []netip.Prefix
	origins []string
	maxBody int64
	handler http.Handler
	doc     []byte // the OpenAPI document, encoded once
	outage  outageLog
	// notReady logs failed readiness checks, apart from outage so that
	// a probe cannot swallow the outage's first ERROR line.
	notReady outageLog

	publicCacheControl string
	mediaCacheControl  string
}

// New builds the handler with every route registered.
func New(d Deps) *API {
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	d.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &API{Deps: d, auth: d.Auth, log: d.Log, mux: http.NewServeMux(), metrics: newMetrics(d.Registry),
		trusted: d.Trusted, origins: d.Origins, maxBody: d.MaxBody,
		outage: outageLog{every: outageLogInterval}, notReady: outageLog{every: outageLogInterval}}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.publicCacheControl = "public, max-age=" + strconv.Itoa(int(d.PublicMaxAge.Seconds()))
	if a.MaxUpload <= 0 {
		a.MaxUpload = 25 << 20
	}
	a.mediaCacheControl = "public, max-age=" + strconv.Itoa(int(d.MediaMaxAge.Seconds())) + ", immutable"
	if a.MaxPageBody <= 0 {
		a.MaxPageBody = 4 << 20
	}
	a.routes = a.table()
	for _, rt := range a.routes {
		h := rt.handler
		if rt.RequireIfMatch && !a.OptionalIfMatch {
			h = requireIfMatch(h)
		}
		if rt.MinRole != Public {
			if rt.Scope == "" && !rt.SessionOnly {
				panic("httpapi: route " + rt.Method + " " + rt.Path + " declares no scope")
			}
			h = a.authenticate(rt, h)
		}
		a.mux.Handle(rt.Method+" "+rt.Path, a.limitBody(rt, h))
	}
	a.doc, _ = json.Marshal(a.Document())
	a.handler = a.outer(a.mux)
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// limitBody caps the request body of a route: its own limit or the default.
// A body that announces a larger Content-Length is refused before anything
// else (authentication included) runs and before a byte of it is read; one
// that does not (chunked) is cut by MaxBytesReader once it passes the limit,
// and decode answers 413 before parsing any of it.
func (a *API) limitBody(rt Route, next http.HandlerFunc) http.HandlerFunc {
	limit := a.maxBody
	if rt.MaxBody > 0 {
		limit = rt.MaxBody
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			// The server closes the connection rather than drain the body.
			w.Header().Set("Connection", "close")
			writeError(w, r, quire.Errorf(quire.ETOOLARGE, "the request body is larger than %d bytes", limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody { // a GET has nothing to limit
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next(w, r)
	}
}

// RouteFor returns the route the mux picks for r, the way it would serve it.
func (a *API) RouteFor(r *http.Request) (Route, bool) {
	_, pattern := a.mux.Handler(r)
	for _, rt := range a.routes {
		if rt.Method+" "+rt.Path == pattern {
			return rt, true
		}
	}
	return Route{}, false
}

// Routes returns the route table.
func (a *API) Routes() []Route { return a.routes }

const v1 = "/api/v1"

func (a *API) table() []Route {
	return []Route{
		{Method: "GET", Path: "/healthz", Summary: "The process is up", Tag: "operations", Responses: map[int]string{200: "Health"}, handler: a.healthz},
		{Method: "GET", Path: "/readyz", Summary: "The database answers", Tag: "operations", Responses: map[int]string{200: "Health", 503: "Problem"}, handler: a.readyz},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics (text format); needs the bearer token QUIRE_METRICS_TOKEN, and answers 404 when none is configured", Tag: "operations", Security: "metricsToken", Responses: map[int]string{200: "", 401: "Problem", 404: "Problem"},
			handler: a.metricsRoute()},
		{Method: "GET", Path: v1 + "/openapi.json", Summary: "This OpenAPI document", Tag: "operations", Responses: map[int]string{200: ""}, handler: a.openapi},

		{Method: "POST", Path: v1 + "/auth/login", Summary: "Log in with email and password", Tag: "auth", Request: "LoginRequest", Responses: map[int]string{200: "TokenPair", 202: "SignInChallenge", 401: "Problem", 429: "Problem"}, handler: a.login},
		{Method: "POST", Path: v1 + "/auth/login/2fa", Summary: "Second step of a two-factor sign-in: the challenge and a TOTP or recovery code", Tag: "auth", Request: "SignInSecondFactor", Responses: map[int]string{200: "TokenPair", 401: "Problem", 429: "Problem"}, handler: a.loginSecondFactor},
		{Method: "GET", Path: v1 + "/auth/2fa", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "The caller's second factors", Tag: "auth", Responses: map[int]string{200: "TwoFactorStatus"}, handler: a.twoFactorStatus},
		{Method: "POST", Path: v1 + "/auth/2fa/totp", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Start a TOTP enrolment: a new secret as otpauth URI and QR code, on once confirmed", Tag: "auth", Responses: map[int]string{200: "TOTPEnrolment", 409: "Problem"}, handler: a.enrolTOTP},
		{Method: "POST", Path: v1 + "/auth/2fa/totp/confirm", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Turn TOTP on with a code from the app; returns ten recovery codes, once", Tag: "auth", Request: "TOTPCode", Responses: map[int]string{200: "RecoveryCodes", 409: "Problem", 422: "Problem", 429: "Problem"}, handler: a.confirmTOTP},
		{Method: "POST", Path: v1 + "/auth/2fa/totp/disable", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Turn two-factor sign-in off (password checked again)", Tag: "auth", Request: "PasswordCheck", Responses: map[int]string{204: "", 404: "Problem", 422: "Problem", 429: "Problem"}, handler: a.disableTOTP},
		{Method: "POST", Path: v1 + "/auth/login/2fa/passkey", MaxBody: service.MaxPasskeyBody, Summary: "Second step of a two-factor sign-in answered with a passkey: the challenge and the assertion for its passkey options", Tag: "auth", Request: "SignInPasskeySecondFactor", Responses: map[int]string{200: "TokenPair", 401: "Problem", 409: "Problem", 413: "Problem", 429: "Problem"}, handler: a.loginSecondFactorPasskey},
		{Method: "POST", Path: v1 + "/auth/login/passkey", Summary: "Begin a passwordless sign-in with a passkey: options for navigator.credentials.get", Tag: "auth", Responses: map[int]string{200: "PasskeyCeremony", 409: "Problem", 429: "Problem"}, handler: a.beginPasskeySignIn},
		{Method: "POST", Path: v1 + "/auth/login/passkey/finish", MaxBody: service.MaxPasskeyBody, Summary: "Finish a passwordless sign-in with the browser's assertion", Tag: "auth", Request: "PasskeySignIn", Responses: map[int]string{200: "TokenPair", 401: "Problem", 409: "Problem", 413: "Problem", 429: "Problem"}, handler: a.finishPasskeySignIn},
		{Method: "GET", Path: v1 + "/auth/2fa/passkeys", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "The caller's passkeys", Tag: "auth", Responses: map[int]string{200: "PasskeyList"}, handler: a.listPasskeys},
		{Method: "POST", Path: v1 + "/auth/2fa/passkeys/register", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Begin registering a passkey: options for navigator.credentials.create", Tag: "auth", Responses: map[int]string{200: "PasskeyCeremony", 409: "Problem"}, handler: a.beginPasskeyRegistration},
		{Method: "POST", Path: v1 + "/auth/2fa/passkeys/register/finish", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, MaxBody: service.MaxPasskeyBody, Summary: "Finish registering a passkey with the browser's answer and a name", Tag: "auth", Request: "PasskeyRegistration", Responses: map[int]string{201: "Passkey", 409: "Problem", 413: "Problem", 422: "Problem", 429: "Problem"}, handler: a.finishPasskeyRegistration},
		{Method: "PATCH", Path: v1 + "/auth/2fa/passkeys/{id}", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Rename one of the caller's passkeys", Tag: "auth", Request: "PasskeyRename", Responses: map[int]string{200: "Passkey", 404: "Problem", 422: "Problem"}, handler: a.renamePasskey},
		{Method: "POST", Path: v1 + "/auth/2fa/passkeys/{id}/remove", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Remove one of the caller's passkeys (password checked again)", Tag: "auth", Request: "PasswordCheck", Responses: map[int]string{204: "", 404: "Problem", 422: "Problem", 429: "Problem"}, handler: a.removePasskey},
		{Method: "POST", Path: v1 + "/auth/refresh", Summary: "Exchange a refresh token for a new pair (rotation)", Tag: "auth", Request: "RefreshRequest", Responses: map[int]string{200: "TokenPair", 401: "Problem"}, handler: a.refresh},
		{Method: "POST", Path: v1 + "/auth/logout", Summary: "End the session of a refresh token", Tag: "auth", Request: "RefreshRequest", Responses: map[int]string{204: ""}, handler: a.logout},
		{Method: "POST", Path: v1 + "/auth/logout-all", Enrolment: true, MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Invalidate every token of the caller", Tag: "auth", Responses: map[int]string{204: ""}, handler: a.logoutAll},
		{Method: "GET", Path: v1 + "/auth/me", Enrolment: true, MinRole: quire.RoleViewer, Scope: AnyScope, Summary: "The calling user, or for an API token the token itself", Tag: "auth", Responses: map[int]string{200: "Me"}, handler: a.me},
		{Method: "PATCH", Path: v1 + "/auth/me", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Change the caller's display name (If-Match)", Tag: "auth", Request: "SelfUpdate", Responses: map[int]string{200: "User", 412: "Problem"}, handler: a.updateMe},
		{Method: "POST", Path: v1 + "/auth/password", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "Change the caller's password; ends every other session", Tag: "auth", Request: "PasswordChange", Responses: map[int]string{200: "TokenPair", 422: "Problem"}, handler: a.changePassword},

		{Method: "POST", Path: v1 + "/auth/password/forgot", Summary: "Mail a password reset link (valid 1 hour) if the address has an account; the answer is the same either way", Tag: "auth", Request: "PasswordForgot", Responses: map[int]string{202: "", 422: "Problem", 429: "Problem"}, handler: a.forgotPassword},
		{Method: "POST", Path: v1 + "/auth/password/reset", Summary: "Choose a new password with a reset link's token; ends every session of the account", Tag: "auth", Request: "PasswordReset", Responses: map[int]string{204: "", 422: "Problem", 429: "Problem"}, handler: a.resetPassword},

		{Method: "POST", Path: v1 + "/auth/invitations/accept", Summary: "Accept an invitation: make the account with a chosen password", Tag: "auth", Request: "InvitationAccept", Responses: map[int]string{201: "User", 409: "Problem", 422: "Problem", 429: "Problem"}, handler: a.acceptInvitation},
		{Method: "GET", Path: v1 + "/auth/sessions", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "The caller's sign-in sessions, the current one marked", Tag: "auth", Responses: map[int]string{200: "SessionList"}, handler: a.listSessions},
		{Method: "DELETE", Path: v1 + "/auth/sessions/{id}", MinRole: quire.RoleViewer, SessionOnly: true, Summary: "End one of the caller's sessions", Tag: "auth", Responses: map[int]string{204: "", 404: "Problem"}, handler: a.revokeSession},

		{Method: "GET", Path: v1 + "/users", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "List users", Tag: "users", Responses: map[int]string{200: "UserList"}, handler: a.listUsers},
		{Method: "POST", Path: v1 + "/users", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Create a user", Tag: "users", Request: "NewUser", Responses: map[int]string{201: "User", 409: "Problem", 422: "Problem"}, handler: a.createUser},
		{Method: "GET", Path: v1 + "/users/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Get a user", Tag: "users", Responses: map[int]string{200: "User", 404: "Problem"}, handler: a.getUser},
		{Method: "PATCH", Path: v1 + "/users/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Update a user (If-Match)", Tag: "users", Request: "UserPatch", Responses: map[int]string{200: "User", 409: "Problem", 412: "Problem", 422: "Problem"}, handler: a.updateUser},
		{Method: "DELETE", Path: v1 + "/users/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Delete a user who owns no content (If-Match)", Tag: "users", Responses: map[int]string{204: "", 409: "Problem", 412: "Problem"}, handler: a.deleteUser},

		{Method: "GET", Path: v1 + "/users/invitations", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "List pending invitations", Tag: "users", Responses: map[int]string{200: "InvitationList"}, handler: a.listInvitations},
		{Method: "POST", Path: v1 + "/users/invitations", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Invite someone (mailed; without SMTP the link is in the answer, once); valid 7 days", Tag: "users", Request: "NewInvitation", Responses: map[int]string{201: "Invitation", 409: "Problem", 422: "Problem"}, handler: a.createInvitation},
		{Method: "POST", Path: v1 + "/users/invitations/{id}/resend", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Send a pending invitation again with a new link (the old one ends), valid another 7 days", Tag: "users", Responses: map[int]string{201: "Invitation", 404: "Problem"}, handler: a.resendInvitation},
		{Method: "DELETE", Path: v1 + "/users/invitations/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Revoke a pending invitation", Tag: "users", Responses: map[int]string{204: "", 404: "Problem"}, handler: a.revokeInvitation},
		{Method: "POST", Path: v1 + "/users/{id}/logout-all", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "End every session and access token of a user", Tag: "users", Responses: map[int]string{204: "", 404: "Problem"}, handler: a.revokeUserSessions},
		{Method: "POST", Path: v1 + "/users/{id}/password-reset", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Make a password reset link for a user to hand over yourself (not mailed); the token is shown once", Tag: "users", Responses: map[int]string{201: "ResetLink", 404: "Problem", 409: "Problem"}, handler: a.createResetLink},

		{Method: "GET", Path: v1 + "/api-tokens", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "List API tokens", Tag: "api-tokens", Responses: map[int]string{200: "APITokenList"}, handler: a.listTokens},
		{Method: "POST", Path: v1 + "/api-tokens", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Create an API token; the secret is shown once", Tag: "api-tokens", Request: "NewAPIToken", Responses: map[int]string{201: "APITokenCreated", 422: "Problem"}, handler: a.createToken},
		{Method: "DELETE", Path: v1 + "/api-tokens/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, SessionOnly: true, Summary: "Revoke an API token", Tag: "api-tokens", Responses: map[int]string{204: "", 404: "Problem"}, handler: a.revokeToken},

		{Method: "GET", Path: v1 + "/pages", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "List pages (filters status, created_by, q; sort updated_at|created_at)", Tag: "pages", Responses: map[int]string{200: "PageList", 422: "Problem"}, handler: a.listPages},
		{Method: "POST", Path: v1 + "/pages", MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, MaxBody: a.MaxPageBody, Summary: "Create a page, optionally with blocks", Tag: "pages", Request: "NewPage", Responses: map[int]string{201: "Page", 409: "Problem", 413: "Problem", 422: "Problem"}, handler: a.createPage},
		{Method: "GET", Path: v1 + "/pages/{id}", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "Get a page with its ordered blocks", Tag: "pages", Responses: map[int]string{200: "Page", 404: "Problem"}, handler: a.getPage},
		{Method: "PATCH", Path: v1 + "/pages/{id}", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Change a page's title or slug (If-Match; authors: own pages)", Tag: "pages", Request: "PagePatch", Responses: map[int]string{200: "Page", 409: "Problem", 412: "Problem", 422: "Problem"}, handler: a.updatePage},
		{Method: "DELETE", Path: v1 + "/pages/{id}", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Delete a page (If-Match; authors: own, never published)", Tag: "pages", Responses: map[int]string{204: "", 404: "Problem", 412: "Problem"}, handler: a.deletePage},
		{Method: "GET", Path: v1 + "/pages/{id}/blocks", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "A page's ordered blocks", Tag: "blocks", Responses: map[int]string{200: "BlockItems", 404: "Problem"}, handler: a.listBlocks},
		{Method: "POST", Path: v1 + "/pages/{id}/blocks", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Add one block (at position, default the end)", Tag: "blocks", Request: "NewBlock", Responses: map[int]string{201: "Page", 412: "Problem", 413: "Problem", 422: "Problem"}, handler: a.addBlock},
		{Method: "PUT", Path: v1 + "/pages/{id}/blocks", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, MaxBody: a.MaxPageBody, Summary: "Replace the whole ordered block list atomically (If-Match); blocks may name existing ids to keep them", Tag: "blocks", Request: "BlockList", Responses: map[int]string{200: "Page", 412: "Problem", 413: "Problem", 422: "Problem"}, handler: a.replaceBlocks},
		{Method: "PATCH", Path: v1 + "/pages/{id}/blocks/{block_id}", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Change one block's content or position (If-Match)", Tag: "blocks", Request: "BlockPatch", Responses: map[int]string{200: "Page", 404: "Problem", 412: "Problem", 413: "Problem", 422: "Problem"}, handler: a.updateBlock},
		{Method: "DELETE", Path: v1 + "/pages/{id}/blocks/{block_id}", RequireIfMatch: true, MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Remove one block (If-Match)", Tag: "blocks", Responses: map[int]string{200: "Page", 404: "Problem", 412: "Problem"}, handler: a.deleteBlock},
		{Method: "GET", Path: v1 + "/pages/{id}/revisions", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "A page's revisions, newest first", Tag: "revisions", Responses: map[int]string{200: "RevisionList", 404: "Problem"}, handler: a.listRevisions},
		{Method: "POST", Path: v1 + "/pages/{id}/revisions", MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Snapshot the working copy as a draft revision", Tag: "revisions", Request: "NoteInput", Responses: map[int]string{201: "Revision", 404: "Problem", 422: "Problem"}, handler: a.saveDraft},
		{Method: "GET", Path: v1 + "/pages/{id}/revisions/{rid}", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "A revision with its snapshot", Tag: "revisions", Responses: map[int]string{200: "Revision", 404: "Problem"}, handler: a.getRevision},
		{Method: "POST", Path: v1 + "/pages/{id}/revisions/{rid}/restore", RequireIfMatch: true, MinRole: quire.RoleEditor, Scope: quire.ScopeContentWrite, Summary: "Copy a revision into the working copy (If-Match)", Tag: "revisions", Responses: map[int]string{200: "Page", 404: "Problem", 409: "Problem", 412: "Problem"}, handler: a.restoreRevision},
		{Method: "POST", Path: v1 + "/pages/{id}/publish", RequireIfMatch: true, MinRole: quire.RoleEditor, Scope: quire.ScopeContentWrite, Summary: "Publish the working copy; the previous published revision is archived (If-Match)", Tag: "revisions", Request: "NoteInput", Responses: map[int]string{200: "Revision", 404: "Problem", 412: "Problem"}, handler: a.publish},
		{Method: "POST", Path: v1 + "/pages/{id}/unpublish", RequireIfMatch: true, MinRole: quire.RoleEditor, Scope: quire.ScopeContentWrite, Summary: "Archive the published revision (If-Match)", Tag: "revisions", Responses: map[int]string{200: "Page", 409: "Problem", 412: "Problem"}, handler: a.unpublish},
		{Method: "GET", Path: v1 + "/public/pages", Summary: "Published pages, most recently published first (ETag, 304, cached)", Tag: "public", Responses: map[int]string{200: "PublicPageList", 304: ""}, handler: a.listPublicPages},
		{Method: "GET", Path: v1 + "/pages/{id}/schedule", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "A page's pending scheduled publish and unpublish", Tag: "revisions", Responses: map[int]string{200: "PageSchedule", 404: "Problem"}, handler: a.getSchedule},
		{Method: "POST", Path: v1 + "/pages/{id}/schedule", RequireIfMatch: true, MinRole: quire.RoleEditor, Scope: quire.ScopeContentWrite, Summary: "Publish and/or unpublish the page at a future time, once, whichever node is up then (If-Match); replaces an earlier schedule", Tag: "revisions", Request: "ScheduleInput", Responses: map[int]string{200: "PageSchedule", 404: "Problem", 412: "Problem", 422: "Problem"}, handler: a.schedulePage},
		{Method: "DELETE", Path: v1 + "/pages/{id}/schedule", RequireIfMatch: true, MinRole: quire.RoleEditor, Scope: quire.ScopeContentWrite, Summary: "Cancel the page's schedule (If-Match)", Tag: "revisions", Responses: map[int]string{204: "", 404: "Problem", 412: "Problem"}, handler: a.cancelSchedule},
		{Method: "GET", Path: v1 + "/public/pages/{slug...}", Summary: "The published snapshot of a page (ETag, 304, cached)", Tag: "public", Responses: map[int]string{200: "PublicPage", 304: "", 404: "Problem"}, handler: a.publicPage},
		{Method: "GET", Path: v1 + "/pages/{id}/revisions/{rid}/diff", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "What changed from a revision to another (to=<revision id>) or to the working copy (to=working, the default)", Tag: "revisions", Query: []string{"to"}, Responses: map[int]string{200: "RevisionDiff", 404: "Problem", 422: "Problem"}, handler: a.diffRevisions},
		{Method: "POST", Path: v1 + "/pages/{id}/previews", MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Create a preview link for a revision or the working copy (authors: own pages); the token is shown once", Tag: "previews", Request: "NewPreview", Responses: map[int]string{201: "PreviewCreated", 404: "Problem", 409: "Problem", 422: "Problem"}, handler: a.createPreview},
		{Method: "GET", Path: v1 + "/pages/{id}/previews", MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "A page's live preview links, newest first (authors: own pages)", Tag: "previews", Responses: map[int]string{200: "PreviewList", 404: "Problem"}, handler: a.listPreviews},
		{Method: "DELETE", Path: v1 + "/pages/{id}/previews/{pid}", MinRole: quire.RoleAuthor, Scope: quire.ScopeContentWrite, Summary: "Revoke a preview link at once (authors: own pages)", Tag: "previews", Responses: map[int]string{204: "", 404: "Problem"}, handler: a.revokePreview},
		{Method: "GET", Path: v1 + "/preview/{token}", Summary: "What a preview link shows: the public page's shape plus preview and its revision (no-store, noindex)", Tag: "public", Responses: map[int]string{200: "PreviewPage", 404: "Problem"}, handler: a.preview},

		{Method: "GET", Path: v1 + "/settings", MinRole: quire.RoleEditor, Scope: quire.ScopeSettings, Summary: "List every setting", Tag: "settings", Responses: map[int]string{200: "SettingList"}, handler: a.listSettings},
		{Method: "GET", Path: v1 + "/settings/{key}", MinRole: quire.RoleEditor, Scope: quire.ScopeSettings, Summary: "Get a setting", Tag: "settings", Responses: map[int]string{200: "Setting", 404: "Problem"}, handler: a.getSetting},
		{Method: "PUT", Path: v1 + "/settings/{key}", MinRole: quire.RoleAdmin, Scope: quire.ScopeSettings, Summary: "Create or replace a setting (If-Match)", Tag: "settings", Request: "SettingInput", Responses: map[int]string{200: "Setting", 201: "Setting", 412: "Problem", 413: "Problem", 422: "Problem"}, handler: a.putSetting},
		{Method: "DELETE", Path: v1 + "/settings/{key}", MinRole: quire.RoleAdmin, Scope: quire.ScopeSettings, Summary: "Delete a setting (If-Match)", Tag: "settings", Responses: map[int]string{204: "", 404: "Problem", 412: "Problem"}, handler: a.deleteSetting},
		{Method: "GET", Path: v1 + "/public/settings", Summary: "Public settings as one {key: value} object (ETag, 304)", Tag: "public", Responses: map[int]string{200: "PublicSettings", 304: ""}, handler: a.publicSettings},

		{Method: "GET", Path: v1 + "/media", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "List media, newest first (filters type, uploaded_by, q; deleted=true for editors and admins)", Tag: "media", Query: []string{"type", "uploaded_by", "q", "deleted", "cursor"}, Responses: map[int]string{200: "MediaList", 422: "Problem"}, handler: a.listMedia},
		{Method: "POST", Path: v1 + "/media", MinRole: quire.RoleAuthor, Scope: quire.ScopeMedia, MaxBody: a.MaxUpload + uploadBodySlack, RequestType: "multipart/form-data", Summary: "Upload a file (multipart: file, optional alt and title); 200 with the existing media when the same bytes are already in the library", Tag: "media", Request: "MediaUpload", Responses: map[int]string{200: "Media", 201: "Media", 400: "Problem", 413: "Problem", 422: "Problem"}, handler: a.uploadMedia},
		{Method: "GET", Path: v1 + "/media/{id}", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "Get a media record (deleted ones: editors and admins)", Tag: "media", Responses: map[int]string{200: "Media", 404: "Problem"}, handler: a.getMedia},
		{Method: "PATCH", Path: v1 + "/media/{id}", MinRole: quire.RoleAuthor, Scope: quire.ScopeMedia, Summary: "Change alt and title (If-Match; authors: own media)", Tag: "media", Request: "MediaPatch", Responses: map[int]string{200: "Media", 404: "Problem", 409: "Problem", 412: "Problem", 422: "Problem"}, handler: a.updateMedia},
		{Method: "DELETE", Path: v1 + "/media/{id}", MinRole: quire.RoleAuthor, Scope: quire.ScopeMedia, Summary: "Delete media (soft; authors: own media), or with purge=true remove it and its bytes for good (admins; 409 while pages use it) (If-Match)", Tag: "media", Query: []string{"purge"}, Responses: map[int]string{204: "", 404: "Problem", 409: "Problem", 412: "Problem"}, handler: a.deleteMedia},
		{Method: "POST", Path: v1 + "/media/{id}/restore", MinRole: quire.RoleEditor, Scope: quire.ScopeMedia, Summary: "Restore deleted media (If-Match)", Tag: "media", Responses: map[int]string{200: "Media", 404: "Problem", 409: "Problem", 412: "Problem"}, handler: a.restoreMedia},
		{Method: "GET", Path: "/media/{id}/{filename}", Summary: "A media file, or with w, h and fit a resized image variant (Range, ETag, 304; 404 once deleted)", Tag: "public", Query: []string{"w", "h", "fit"}, Responses: map[int]string{200: "", 206: "", 304: "", 404: "Problem", 416: "", 422: "Problem"}, handler: a.serveMedia},

		{Method: "GET", Path: v1 + "/audit-log", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "List audit entries, newest first", Tag: "audit", Query: []string{"resource_type", "resource_id", "user_id", "api_token_id", "action", "since", "until", "cursor"}, Responses: map[int]string{200: "AuditEntryList", 422: "Problem"}, handler: a.listAudit},
		{Method: "GET", Path: v1 + "/audit-log/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Get an audit entry", Tag: "audit", Responses: map[int]string{200: "AuditEntry", 404: "Problem"}, handler: a.getAudit},
		{Method: "GET", Path: v1 + "/audit-log/verify", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Verify the audit hash chain", Tag: "audit", Responses: map[int]string{200: "AuditVerification"}, handler: a.verifyAudit},
		{Method: "GET", Path: v1 + "/webhooks", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "List webhook endpoints", Tag: "webhooks", Responses: map[int]string{200: "WebhookList", 422: "Problem"}, handler: a.listWebhooks},
		{Method: "POST", Path: v1 + "/webhooks", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Add a webhook endpoint; its signing secret is shown once", Tag: "webhooks", Request: "NewWebhook", Responses: map[int]string{201: "WebhookCreated", 422: "Problem"}, handler: a.createWebhook},
		{Method: "GET", Path: v1 + "/webhooks/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Get a webhook endpoint", Tag: "webhooks", Responses: map[int]string{200: "Webhook", 404: "Problem"}, handler: a.getWebhook},
		{Method: "PATCH", Path: v1 + "/webhooks/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Change a webhook endpoint's URL, event types, description or switch (If-Match)", Tag: "webhooks", Request: "WebhookPatch", Responses: map[int]string{200: "Webhook", 404: "Problem", 412: "Problem", 422: "Problem"}, handler: a.updateWebhook},
		{Method: "DELETE", Path: v1 + "/webhooks/{id}", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Delete a webhook endpoint and its delivery log (If-Match)", Tag: "webhooks", Responses: map[int]string{204: "", 404: "Problem", 412: "Problem"}, handler: a.deleteWebhook},
		{Method: "POST", Path: v1 + "/webhooks/{id}/rotate-secret", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Give an endpoint a new signing secret, shown once; the old one also signs for the grace period (If-Match)", Tag: "webhooks", Responses: map[int]string{200: "WebhookCreated", 404: "Problem", 412: "Problem"}, handler: a.rotateWebhookSecret},
		{Method: "GET", Path: v1 + "/webhooks/{id}/deliveries", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "An endpoint's deliveries, newest first", Tag: "webhooks", Responses: map[int]string{200: "WebhookDeliveryList", 404: "Problem", 422: "Problem"}, handler: a.listDeliveries},
		{Method: "POST", Path: v1 + "/webhooks/{id}/deliveries/{delivery_id}/redeliver", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Send a delivery's message again (same webhook-id)", Tag: "webhooks", Responses: map[int]string{202: "WebhookDelivery", 404: "Problem", 409: "Problem"}, handler: a.redeliver},
		{Method: "POST", Path: v1 + "/webhooks/{id}/test", MinRole: quire.RoleAdmin, Scope: quire.ScopeAdmin, Summary: "Send a webhook.test event to the endpoint", Tag: "webhooks", Responses: map[int]string{202: "WebhookDelivery", 404: "Problem", 409: "Problem"}, handler: a.testWebhook},
		{Method: "GET", Path: v1 + "/events", MinRole: quire.RoleViewer, Scope: quire.ScopeContentRead, Summary: "Live events as Server-Sent Events (text/event-stream; each data is an Event); resumes after Last-Event-ID within the retention window, heartbeat every 15 s, at most 5 streams per user", Tag: "events", Query: []string{"last_event_id"}, Responses: map[int]string{200: "", 422: "Problem", 429: "Problem"}, handler: a.streamEvents},
		{Method: "GET", Path: v1 + "/public/events", Summary: "Changes to published pages and public settings as Server-Sent Events (each data is a PublicEvent), to revalidate exactly those", Tag: "public", Query: []string{"last_event_id"}, Responses: map[int]string{200: "", 422: "Problem", 429: "Problem"}, handler: a.streamPublicEvents},
	}
}

func ipString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
