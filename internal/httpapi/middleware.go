package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/clientip"
	"github.com/quirecms/quire/internal/service"
)

type (
	loggerKey    struct{}
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

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers the status and size of a response for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
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
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "quire_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// outer is the middleware every request passes: request id, client
// address, panic recovery, security headers, CORS, body limit, logging and
// metrics. The route label is the mux pattern, so metrics stay bounded.
func (a *API) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		ip := clientip.From(r, a.trusted)
		log := a.log.With("request_id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = context.WithValue(ctx, loggerKey{}, log)
		ctx = service.WithMeta(ctx, service.Meta{RequestID: id, IP: ipString(ip), UserAgent: r.UserAgent()})
		r = r.WithContext(ctx)

		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		sw := &statusWriter{ResponseWriter: w}
		_, pattern := a.mux.Handler(r)
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "panic", p, "route", pattern)
				if sw.status == 0 {
					problemStatus(sw, r, http.StatusInternalServerError, "an internal error occurred")
				}
			}
			route := routeLabel(pattern)
			a.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.status)).Inc()
			a.metrics.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("ip", ipString(ip)))
		}()
		if a.cors(sw, r) {
			return
		}
		if !cleanText(r.URL.Path) || !cleanQuery(r.URL.RawQuery) {
			problemStatus(sw, r, http.StatusBadRequest, "the URL must be UTF-8 text without NUL characters")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// cleanText reports whether s can be stored or looked up as text.
// PostgreSQL refuses NUL and invalid UTF-8 in any text parameter, so an id
// such as /users/a%00b would otherwise end as a 500.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// cleanQuery checks every name and value handlers will see in r.URL.Query().
func cleanQuery(raw string) bool {
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

func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
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
// enforces the route's minimum role.
func (a *API) authenticate(min quire.Role, sessionOnly bool, next http.HandlerFunc) http.HandlerFunc {
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
		if !p.Can(min) {
			writeError(w, r, quire.Errorf(quire.EFORBIDDEN, "your role does not allow this"))
			return
		}
		if sessionOnly && p.SessionID == "" {
			writeError(w, r, quire.Errorf(quire.EFORBIDDEN, "this route needs a login session; API tokens cannot use it"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// problemWriter turns the mux's plain-text 404 and 405 into problem documents.
type problemWriter struct {
	http.ResponseWriter
	r       *http.Request
	written bool
}

func (w *problemWriter) WriteHeader(code int) {
	w.written = true
	w.ResponseWriter.Header().Del("X-Content-Type-Options")
	w.ResponseWriter.Header().Set("X-Content-Type-Options", "nosniff")
	detail := "no such route"
	if code == http.StatusMethodNotAllowed {
		detail = "this route does not accept " + w.r.Method
	}
	problemStatus(w.ResponseWriter, w.r, code, detail)
}

func (w *problemWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusNotFound)
	}
	return len(b), nil
}
