package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"

	"github.com/quirecms/quire"
)

// pageBufs recycles the buffers pages are encoded into. One that grew past
// maxPooledPageBuf (a page near its content limit) is left to the garbage
// collector rather than pinned in the pool.
var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const maxPooledPageBuf = 256 << 10

// writePage answers with p, encoded by quire.AppendPageJSON: the same
// bytes writeJSON would send, at a fraction of the cost.
func writePage(w http.ResponseWriter, status int, p *quire.Page) {
	if p.Blocks == nil {
		p.Blocks = []quire.Block{}
	}
	w.Header().Set("ETag", etag(p.Version))
	if !writeAppended(w, status, func(b []byte) ([]byte, error) { return quire.AppendPageJSON(b, p) }) {
		writeJSON(w, status, p)
	}
}

// writePageList answers with list(pages, next), as writeJSON would.
func writePageList(w http.ResponseWriter, pages []*quire.Page, next string) {
	if !writeAppended(w, http.StatusOK, func(b []byte) ([]byte, error) { return appendPageList(b, pages, next) }) {
		writeJSON(w, http.StatusOK, list(pages, next))
	}
}

// appendPageList appends the List envelope of pages: the data array (empty,
// never null) and next_cursor, base64url as list makes it, or null.
func appendPageList(b []byte, pages []*quire.Page, next string) ([]byte, error) {
	n0 := len(b)
	b = append(b, `{"data":[`...)
	for i, p := range pages {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = quire.AppendPageJSON(b, p); err != nil {
			return b[:n0], err
		}
	}
	b = append(b, `],"next_cursor":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		// The base64url alphabet needs no JSON escaping.
		b = append(b, '"')
		b = base64.RawURLEncoding.AppendEncode(b, []byte(next))
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// writeAppended writes what appendTo appends, with the newline
// json.Encoder.Encode ends with. It writes nothing and returns false if
// appendTo fails (a time RFC 3339 cannot hold): the caller then hands the
// value to writeJSON, so that even that answer stays what it always was.
func writeAppended(w http.ResponseWriter, status int, appendTo func([]byte) ([]byte, error)) bool {
	bp := pageBufs.Get().(*[]byte)
	b, err := appendTo((*bp)[:0])
	if err != nil {
		pageBufs.Put(bp)
		return false
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	// With its length known the answer goes out in one piece: without it,
	// net/http chunks anything past its 2 KiB buffer, a system call or
	// more per chunk (a list of 20 pages is about 10 KB).
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= maxPooledPageBuf {
		*bp = b
		pageBufs.Put(bp)
	}
	return true
}
