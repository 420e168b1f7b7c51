package httpapi

import "net/http"

// Mount serves pattern with h behind the API's outer middleware (request
// id, client address and request metadata for the audit log, panic
// recovery, logging, metrics). It is how the browser admin at /admin
// shares the request id and audit metadata of the API; h is its own
// authority for authentication and headers, and is not a route of the
// table (it has no OpenAPI entry and its own permission tests).
func (a *API) Mount(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }
