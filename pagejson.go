package quire

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendPageJSON appends p as JSON to dst, byte for byte as
// json.Marshal(p) writes it (HTML escaping on, no trailing newline).
// Creating and listing pages are hot paths, and there encoding/json spent
// most of its time on reflection and on re-validating every block's
// content, which ValidateBlock already checked before it was stored.
// Block content is trusted to be valid JSON: it is only compacted and
// HTML-escaped here, as encoding/json does to a json.RawMessage. A nil p
// appends null. It fails where json.Marshal fails, on a time that RFC 3339
// cannot represent (a year outside 0–9999), or on empty block content, with dst returned
// unchanged.
func AppendPageJSON(dst []byte, p *Page) ([]byte, error) {
	if p == nil {
		return append(dst, "null"...), nil
	}
	n0 := len(dst)
	var err error
	b := append(dst, `{"id":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"slug":`...)
	b = appendJSONString(b, p.Slug)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, p.Title)
	b = append(b, `,"created_by":`...)
	b = appendJSONString(b, p.CreatedBy)
	b = append(b, `,"updated_by":`...)
	b = appendJSONString(b, p.UpdatedBy)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, p.CreatedAt); err != nil {
		return dst[:n0], err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, p.UpdatedAt); err != nil {
		return dst[:n0], err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, p.Version, 10)
	b = append(b, `,"published_revision_id":`...)
	if p.PublishedRevisionID == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *p.PublishedRevisionID)
	}
	b = append(b, `,"published_at":`...)
	if p.PublishedAt == nil {
		b = append(b, "null"...)
	} else if b, err = appendJSONTime(b, *p.PublishedAt); err != nil {
		return dst[:n0], err
	}
	b = append(b, `,"has_unpublished_changes":`...)
	b = strconv.AppendBool(b, p.HasUnpublishedChanges)
	b = append(b, `,"blocks":`...)
	if p.Blocks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Blocks {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendBlockJSON(b, &p.Blocks[i]); err != nil {
				return dst[:n0], err
			}
		}
		b = append(b, ']')
	}
	if p.Schedule != nil {
		// Only GET /pages/{id} carries a schedule: not worth a hand-written
		// encoder that would have to follow PageSchedule's tags.
		s, err := json.Marshal(p.Schedule)
		if err != nil {
			return dst[:n0], err
		}
		b = append(b, `,"schedule":`...)
		b = append(b, s...)
	}
	return append(b, '}'), nil
}

func appendBlockJSON(b []byte, bl *Block) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendJSONString(b, bl.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, bl.Type)
	b = append(b, `,"position":`...)
	b = strconv.AppendInt(b, int64(bl.Position), 10)
	b = append(b, `,"content":`...)
	if bl.Content == nil {
		b = append(b, "null"...) // what json.RawMessage.MarshalJSON says
	} else {
		n := len(b)
		if b = appendCompactJSON(b, bl.Content); len(b) == n {
			// Nothing but whitespace: the one invalid content that is
			// cheap to catch, and it would make the whole page invalid.
			return b, errEmptyContent
		}
	}
	b = append(b, `,"created_by":`...)
	b = appendJSONString(b, bl.CreatedBy)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, bl.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, bl.UpdatedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendJSONTime writes t as time.Time.MarshalJSON does; AppendText fails
// exactly where MarshalJSON does (a year outside 0–9999, a zone offset of
// 24 hours or more).
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return b, err
	}
	return append(b, '"'), nil
}

var errEmptyContent = errors.New("quire: a block's content is empty")

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping on:
// <, > and & as \u003c \u003e \u0026, U+2028 and U+2029 escaped, control
// characters as \n \r \t \b \f or \u00XX, invalid UTF-8 bytes as \ufffd.
// DEL and the C1 controls pass through, as there.
func appendJSONString(b []byte, s string) []byte { return appendQuoted(b, s, true) }

// appendRawJSONString is appendJSONString without the HTML escapes, as
// encoding/json writes with SetEscapeHTML(false) (stored block content).
func appendRawJSONString(b []byte, s string) []byte { return appendQuoted(b, s, false) }

func appendQuoted(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendCompactJSON appends the valid JSON src as encoding/json writes a
// json.RawMessage with HTML escaping on: whitespace between tokens dropped,
// <, >, & and U+2028/U+2029 escaped, everything else (escapes, numbers,
// invalid UTF-8) copied as it is. Unlike encoding/json it does not
// validate src. Content read back from PostgreSQL's jsonb has a space after
// every colon and comma, so this is not only a formality.
func appendCompactJSON(b, src []byte) []byte {
	start := 0
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			b = append(b, src[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			b = append(b, src[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
			i += 2
			start = i + 1
		case inString:
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			b = append(b, src[start:i]...)
			start = i + 1
		}
	}
	return append(b, src[start:]...)
}
