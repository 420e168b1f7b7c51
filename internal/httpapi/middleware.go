package httpapi

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/clientip"
	"github.com/quirecms/quire/internal/service"
)

type (
	loggerKey    struct{}
	outageKey    struct{}
	requestIDKey struct{}
	principalKey struct{}
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func principal(ctx context.Context) *quire.Principal {
	p, _ := ctx.Value(principalKey{}).(*quire.Principal)
	return p
}

// validRequestID reports whether a client's X-Request-Id may be used as
// ours: 1 to 128 of A-Z a-z 0-9 . _ : - (nothing a log line or a header
// could be broken with).
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 32 random hex digits. Request ids correlate log
// lines and audit entries; they are not secrets (clients may choose
// their own), so the runtime's per-thread ChaCha8 generator behind
// math/rand/v2 serves, without a system call or a lock.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [32]byte
	for half, v := range [2]uint64{rand.Uint64(), rand.Uint64()} {
		for i := range 16 {
			b[half*16+i] = digits[v>>(60-4*i)&0xf]
		}
	}
	return string(b[:])
}

// exchange is what outer keeps for one request, in one allocation: the
// response writer the rest of the chain sees (it remembers the status and
// size for logs and metrics), the request's context, and the values of
// the headers every response carries.
type exchange struct {
	http.ResponseWriter
	r      *http.Request // the request the mux routes: its Pattern says whether a route matched
	ctx    requestContext
	status int
	bytes  int
	// routed is set once the request is handed to the mux; a 404 or 405
	// the mux writes itself (no pattern matched) is rewritten as a problem
	// document, and rewriting is set while that happens.
	routed, rewriting, discard bool
	headers                    [6]string
}

func (w *exchange) WriteHeader(code int) {
	if w.status == 0 && w.routed && !w.rewriting && w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		// The mux's own plain-text answer (http.Error): answer with a
		// problem instead and drop the text that follows.
		w.rewriting = true
		detail := "no such route"
		if code == http.StatusMethodNotAllowed {
			detail = "this route does not accept " + w.r.Method
		}
		problemStatus(w, w.r, code, detail)
		w.discard = true
		return
	}
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *exchange) Write(b []byte) (int, error) {
	if w.discard {
		return len(b), nil
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *exchange) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestContext is the context of a request below outer. It answers the
// request id and the request's logger itself instead of through a chain
// of context.WithValue, and builds the logger (the API's, with the
// request id) only when something asks for it: on the common path
// nothing logs but outer, which adds the id to its one record.
type requestContext struct {
	context.Context
	id     string
	log    *slog.Logger
	outage *outageLog
	route  string // the pattern a mounted handler served the request with (SetRoute)
}

func (c *requestContext) Value(key any) any {
	switch key.(type) {
	case requestIDKey:
		return c.id
	case loggerKey:
		return c.log.With("request_id", c.id)
	case outageKey:
		return c.outage
	case routeKey:
		return c
	}
	return c.Context.Value(key)
}

// Canonical names of the headers outer sets, written straight into the map.
const (
	hdrRequestID = "X-Request-Id"
	hdrNoSniff   = "X-Content-Type-Options"
	hdrReferrer  = "Referrer-Policy"
	hdrFrame     = "X-Frame-Options"
	hdrCSP       = "Content-Security-Policy"
	hdrCache     = "Cache-Control"
)

// outer is the middleware every request passes: request id, client
// address, panic recovery, security headers, CORS, logging and metrics;
// next is the router. The route label is the mux pattern that served the
// request (r.Pattern, set by the mux itself, so the request is routed
// once), or the pattern a mounted handler named with SetRoute, and
// "unmatched" for anything else, so metrics stay bounded.
func (a *API) outer(next http.Handler) http.Handler {
	routes := make(map[string]*routeMetrics, len(a.routes))
	for _, rt := range a.routes {
		routes[rt.Method+" "+rt.Path] = a.metrics.forRoute(rt.Method, rt.Path)
	}
	// The request record's source is always here; finding it once spares
	// every request the stack walk Logger.LogAttrs makes.
	var pc [1]uintptr
	runtime.Callers(1, pc[:])
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		ip := ipString(clientip.From(r, a.trusted))
		ex := &exchange{ResponseWriter: w}
		ex.ctx = requestContext{Context: service.WithMeta(r.Context(), service.Meta{RequestID: id, IP: ip, UserAgent: r.UserAgent()}), id: id, log: a.log, outage: &a.outage}
		ctx := &ex.ctx
		r = r.WithContext(ctx)
		ex.r = r

		// One backing array for the values; each slice has its own
		// capacity of one, so that an Add elsewhere copies instead of
		// writing into its neighbour.
		v := &ex.headers
		v[0], v[1], v[2], v[3], v[4], v[5] = id, "nosniff", "no-referrer", "DENY", "default-src 'none'; frame-ancestors 'none'", "no-store"
		h := w.Header()
		h[hdrRequestID] = v[0:1:1]
		h[hdrNoSniff] = v[1:2:2]
		h[hdrReferrer] = v[2:3:3]
		h[hdrFrame] = v[3:4:4]
		h[hdrCSP] = v[4:5:5]
		h[hdrCache] = v[5:6:6]
		defer func() {
			if p := recover(); p != nil {
				logger(ctx).Error("panic serving request", "panic", p, "route", r.Pattern)
				if ex.status == 0 {
					problemStatus(ex, r, http.StatusInternalServerError, "an internal error occurred")
				}
			}
			end := time.Now()
			d := end.Sub(start)
			rm := routes[r.Pattern]
			if rm == nil && ex.ctx.route != "" {
				// A mounted handler's route (the admin's): off the API's
				// own routes, so the public path never gets here.
				rm = a.metrics.mounted(ex.ctx.route)
			}
			a.metrics.observe(rm, r.Method, ex.status, d)
			level := slog.LevelInfo
			switch {
			case ex.status == http.StatusServiceUnavailable || ex.status == http.StatusInsufficientStorage:
				level = slog.LevelWarn // an outage: writeError logs it as an error once per interval
			case ex.status >= 500:
				level = slog.LevelError
			}
			if !a.log.Enabled(ctx, level) {
				return
			}
			route := "unmatched"
			if rm != nil {
				route = rm.route
			}
			rec := slog.NewRecord(end, level, "request", pc[0])
			rec.AddAttrs(slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", ex.status), slog.Int("bytes", ex.bytes), slog.Duration("duration", d), slog.String("ip", ip))
			_ = a.log.Handler().Handle(ctx, rec)
		}()
		if a.cors(ex, r) {
			return
		}
		if !cleanText(r.URL.Path) || !cleanQuery(r.URL.RawQuery) {
			problemStatus(ex, r, http.StatusBadRequest, "the URL must be UTF-8 text without NUL characters")
			return
		}
		ex.routed = true
		next.ServeHTTP(ex, r)
	})
}

// cleanText reports whether s can be stored or looked up as text.
// PostgreSQL refuses NUL and invalid UTF-8 in any text parameter, so an id
// such as /users/a%00b would otherwise end as a 500.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// cleanQuery checks every name and value handlers will see in r.URL.Query().
func cleanQuery(raw string) bool {
	if raw == "" {
		return true
	}
	q, _ := url.ParseQuery(raw) // a malformed pair is dropped, as Query() does
	for k, vs := range q {
		if !cleanText(k) {
			return false
		}
		for _, v := range vs {
			if !cleanText(v) {
				return false
			}
		}
	}
	return true
}

// cors answers preflights and sets CORS headers for configured origins
// only; with none configured, browsers on other origins get nothing.
// It reports whether the request was fully answered.
func (a *API) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || len(a.origins) == 0 {
		return false
	}
	w.Header().Add("Vary", "Origin")
	if !slices.Contains(a.origins, origin) && !slices.Contains(a.origins, "*") {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "ETag, X-Request-Id, Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// authenticate resolves the bearer credential for routes that need one and
// enforces the route's minimum role, session requirement and scope. A
// refusal (403) on an administrative route is audited (rate-limited by
// the service), whether this check or the service refused it.
func (a *API) authenticate(rt Route, next http.HandlerFunc) http.HandlerFunc {
	route := rt.Method + " " + rt.Path
	audited := rt.MinRole == quire.RoleAdmin
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="quire"`)
			writeError(w, r, quire.Errorf(quire.EUNAUTHORIZED, "authentication required: send Authorization: Bearer <token>"))
			return
		}
		p, err := a.auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if quire.ErrorCode(err) == quire.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="quire", error="invalid_token"`)
			}
			writeError(w, r, err)
			return
		}
		ctx := context.WithValue(service.WithCaller(r.Context(), p), principalKey{}, p)
		r = r.WithContext(ctx)
		refuse := func(reason, detail string) {
			if audited {
				a.auth.RecordForbidden(ctx, p, route, reason)
			}
			writeError(w, r, quire.Errorf(quire.EFORBIDDEN, "%s", detail))
		}
		switch {
		case !p.Can(rt.MinRole):
			refuse("role", "your role does not allow this")
			return
		case rt.SessionOnly && !p.Interactive():
			refuse("session_required", "this route needs a login session; API tokens cannot use it")
			return
		case p.MustEnrol && !rt.Enrolment:
			refuse("two_factor_enrolment", "your role requires two-factor sign-in: set it up first (POST /api/v1/auth/2fa/totp, then …/confirm)")
			return
		case rt.Scope != AnyScope && !p.Allows(rt.Scope):
			refuse("scope", "this API token's scopes do not include "+string(rt.Scope))
			return
		}
		if !audited {
			next(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next(sw, r)
		if sw.status == http.StatusForbidden {
			a.auth.RecordForbidden(ctx, p, route, "service")
		}
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
