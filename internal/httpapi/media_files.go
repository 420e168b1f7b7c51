package httpapi

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// maxRanges bounds the ranges one request may ask for.
const maxRanges = 8

// serveMedia serves a media file, or an image variant of it, to anyone:
// http.ServeContent answers Range, If-Range, If-None-Match and
// If-Modified-Since. Every file carries its detected type, nosniff and a
// sandbox CSP; only types a browser shows without running anything are
// inline, everything else (SVG, PDF, …) is an attachment.
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request) {
	f, err := a.Media.File(r.Context(), r.PathValue("id"), r.PathValue("filename"), mediaFileQuery(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("ETag", f.ETag)
	h.Set("Cache-Control", a.mediaCacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	disposition := "attachment"
	if f.Inline {
		disposition = "inline"
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}); v != "" {
		h.Set("Content-Disposition", v)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	if rng := r.Header.Get("Range"); rng != "" && !acceptableRanges(rng, f.Size) {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(f.Size, 10))
		h.Del("ETag")
		problemStatus(w, r, http.StatusRequestedRangeNotSatisfiable, "at most 8 ranges that do not overlap may be requested at once")
		return
	}
	http.ServeContent(w, r, "", f.ModTime, f.Content)
}

// acceptableRanges refuses a Range header with more than maxRanges ranges
// or with ranges that overlap: such requests make the server send the
// same bytes many times over (a cheap amplification). Anything it cannot
// parse is left to http.ServeContent, which answers it by the RFC.
func acceptableRanges(header string, size int64) bool {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return true
	}
	parts := strings.Split(spec, ",")
	if len(parts) > maxRanges {
		return false
	}
	type span struct{ start, end int64 }
	var spans []span
	for _, p := range parts {
		first, last, ok := strings.Cut(strings.TrimSpace(p), "-")
		if !ok {
			return true
		}
		var s span
		switch {
		case first == "": // the last n bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				return true
			}
			s = span{max(0, size-n), size - 1}
		default:
			start, err := strconv.ParseInt(first, 10, 64)
			if err != nil {
				return true
			}
			s = span{start, size - 1}
			if last != "" {
				end, err := strconv.ParseInt(last, 10, 64)
				if err != nil {
					return true
				}
				s.end = min(end, size-1)
			}
		}
		if s.start <= s.end {
			spans = append(spans, s)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start <= spans[i-1].end {
			return false
		}
	}
	return true
}
