package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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

// statusClientClosed is the status recorded for a request whose client
// went away before the answer.
const statusClientClosed = 499

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
	quire.EUNAVAILABLE:  http.StatusServiceUnavailable,
	quire.ESTORAGEFULL:  http.StatusInsufficientStorage,
	quire.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with the problem for err. Only 5xx are logged as
// errors, with their internal cause; the caller sees a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away first (during an outage, clients give up
		// by the hundred): nobody reads this answer and it is no fault of
		// ours, so no ERROR line. 499 is how nginx records it.
		w.WriteHeader(statusClientClosed)
		return
	}
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
	retryAfter := 0
	if e, ok := err.(*quire.Error); ok || asError(err, &e) {
		p.Errors = e.Fields
		retryAfter = e.RetryAfter
	}
	if fault := code == quire.EUNAVAILABLE || code == quire.ESTORAGEFULL; fault {
		retryAfter = cmp.Or(retryAfter, retryAfterUnavailable)
		// An outage fails every request alike: log it once per interval.
		outage(r.Context()).report(r.Context(), logger(r.Context()), slog.LevelError, "database unavailable: answering "+strconv.Itoa(status), err)
	} else if status >= 500 {
		logger(r.Context()).Error("request failed", "err", err, "request_id", p.RequestID)
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
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

// outage returns the API's outage log, or a fresh one outside a request
// (which then logs every time, as before).
func outage(ctx interface{ Value(any) any }) *outageLog {
	if o, ok := ctx.Value(outageKey{}).(*outageLog); ok {
		return o
	}
	return &outageLog{}
}

func logger(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
