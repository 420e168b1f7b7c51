package httpapi

import (
	"context"
	"net/http"
)

// Mount serves pattern with h behind the API's outer middleware (request
// id, client address and request metadata for the audit log, panic
// recovery, logging, metrics). It is how the browser admin at /admin
// shares the request id and audit metadata of the API; h is its own
// authority for authentication and headers, and is not a route of the
// table (it has no OpenAPI entry and its own permission tests). h names
// the route that served a request with SetRoute; without it the request
// is counted as "unmatched".
func (a *API) Mount(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// routeKey finds the request's requestContext, where SetRoute writes.
type routeKey struct{}

// SetRoute tells the metrics and the request log which route of a
// mounted handler served the request made under ctx. pattern must be one
// of the handler's ServeMux patterns (r.Pattern after its mux routed),
// never a raw path: each distinct value becomes a metric series, so the
// set must stay bounded whatever URLs clients send. Outside a request of
// this API it does nothing.
func SetRoute(ctx context.Context, pattern string) {
	if c, ok := ctx.Value(routeKey{}).(*requestContext); ok {
		c.route = pattern
	}
}
