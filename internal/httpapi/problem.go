package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/quirecms/quire"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail"`
	RequestID string             `json:"request_id"`
	Errors    []quire.FieldError `json:"errors,omitempty"`
}

// statusOf is the one place where domain error codes become HTTP statuses.
var statusOf = map[string]int{
	quire.EBADREQUEST:   http.StatusBadRequest,
	quire.EINVALID:      http.StatusUnprocessableEntity,
	quire.EUNAUTHORIZED: http.StatusUnauthorized,
	quire.EFORBIDDEN:    http.StatusForbidden,
	quire.ENOTFOUND:     http.StatusNotFound,
	quire.ECONFLICT:     http.StatusConflict,
	quire.EPRECONDITION: http.StatusPreconditionFailed,
	quire.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	quire.ETOOMANY:      http.StatusTooManyRequests,
	quire.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with the problem for err. Only 5xx are logged as
// errors, with their internal cause; the caller sees a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := quire.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{
		Type:      "https://quire.dev/problems/" + code,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    quire.ErrorMessage(err),
		RequestID: requestID(r.Context()),
	}
	if e, ok := err.(*quire.Error); ok || asError(err, &e) {
		p.Errors = e.Fields
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
	}
	if status >= 500 {
		logger(r.Context()).Error("request failed", "err", err, "request_id", p.RequestID)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("ETag")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemStatus writes a bare problem for a status (404 and 405 from the mux).
func problemStatus(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblem(w, Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, RequestID: requestID(r.Context()),
	})
}

func logger(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
