package admin

import (
	"net/http"
	"strconv"
)

// formVersion reads the version a form was rendered with; it is sent to
// the service as If-Match would be, so a stale form never overwrites.
func formVersion(r *http.Request) (int64, bool) {
	v, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	return v, err == nil && v > 0
}

func atoiPositive(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func itoa(n int) string { return strconv.Itoa(n) }
