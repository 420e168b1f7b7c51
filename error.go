// Package quire holds the domain vocabulary of the Quire CMS: the resources,
// their validation rules and the kinds of error every layer speaks. It does no
// I/O; the store, the services and the HTTP layer all depend on it.
package quire

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in the httpapi package.
const (
	EINVALID      = "invalid"             // bad input: 422 (or 400 for unparsable bodies)
	EBADREQUEST   = "bad_request"         // unparsable request: 400
	EUNAUTHORIZED = "unauthorized"        // no or bad credentials: 401
	EFORBIDDEN    = "forbidden"           // authenticated but not allowed: 403
	ENOTFOUND     = "not_found"           // 404
	ECONFLICT     = "conflict"            // unique violation, last-admin rule, ...: 409
	EPRECONDITION = "precondition_failed" // stale If-Match: 412
	ETOOLARGE     = "too_large"           // body or field over its limit: 413
	ETOOMANY      = "too_many_requests"   // throttled: 429
	EUNAVAILABLE  = "unavailable"         // the database does not answer (in time): 503 with Retry-After
	ESTORAGEFULL  = "storage_full"        // the database's disk is full: 507
	EINTERNAL     = "internal"            // everything else: 500, details never shown
)

// FieldError names one invalid field of a request, e.g. {"email", "is not a valid address"}.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a code, a message safe to show to the caller, and
// optionally the fields that were invalid. Internal causes are wrapped, never shown.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter is set for ETOOMANY, and may be for EUNAVAILABLE: seconds
	// until the caller may try again.
	RetryAfter int
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// Errorf builds a domain error with a public message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds a domain error that keeps cause for logs but shows only message.
func Wrap(code string, cause error, message string) *Error {
	return &Error{Code: code, Message: message, cause: cause}
}

// Invalid builds an EINVALID error from field errors.
func Invalid(fields ...FieldError) *Error {
	msg := "the request is invalid"
	if len(fields) == 1 {
		msg = fields[0].Field + " " + fields[0].Message
	}
	return &Error{Code: EINVALID, Message: msg, Fields: fields}
}

// ErrorCode returns the code of the first domain error in err's chain, or
// EINTERNAL when there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the public message of err, or a generic one for
// internal errors so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "an internal error occurred"
}

// Validator collects field errors so that a caller sees all of them at once.
type Validator struct{ fields []FieldError }

// Add records a field error.
func (v *Validator) Add(field, message string) {
	v.fields = append(v.fields, FieldError{field, message})
}

// Check records message for field when ok is false.
func (v *Validator) Check(ok bool, field, message string) {
	if !ok {
		v.Add(field, message)
	}
}

// Err returns the collected errors as one EINVALID error, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return Invalid(v.fields...)
}
