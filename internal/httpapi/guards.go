package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// requireIfMatch answers 428 Precondition Required (RFC 6585) to a write
// that names no version: without If-Match the last writer silently wins
// over an edit it never saw. "If-Match: *" is a precondition too (the
// client says, explicitly, that any version will do) and passes.
func requireIfMatch(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
			problemStatus(w, r, http.StatusPreconditionRequired,
				`this write needs If-Match: send the ETag of the version you changed (or "*" to overwrite whatever is there)`)
			return
		}
		next(w, r)
	}
}

// MetricsHandler serves the Prometheus metrics of the API with no
// credential: it is what QUIRE_METRICS_ADDR, a listener of its own for a
// private network, serves.
func (a *API) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	return mux
}

// metrics is GET /metrics on the public address. Metrics tell an outsider
// the routes, the traffic and error rates, the Go version and the process's
// memory, so they are served there only with QUIRE_METRICS_TOKEN as a
// bearer token, and not at all (404) when none is configured.
func (a *API) metricsRoute() http.HandlerFunc {
	serve := promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}).ServeHTTP
	if a.MetricsToken == "" {
		return func(w http.ResponseWriter, r *http.Request) {
			problemStatus(w, r, http.StatusNotFound, "metrics are not served on this address (see QUIRE_METRICS_TOKEN and QUIRE_METRICS_ADDR)")
		}
	}
	// Hashing both sides makes the comparison constant-time in the
	// length of the token as well as in its bytes.
	want := sha256.Sum256([]byte(a.MetricsToken))
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="quire-metrics"`)
			problemStatus(w, r, http.StatusUnauthorized, "metrics need Authorization: Bearer <QUIRE_METRICS_TOKEN>")
			return
		}
		serve(w, r)
	}
}
