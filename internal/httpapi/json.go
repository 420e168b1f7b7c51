package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quirecms/quire"
)

func asError(err error, target **quire.Error) bool { return errors.As(err, target) }

// decode reads a JSON object body into dst strictly: the body size is
// capped by the middleware, unknown fields are refused (so that, say, a
// role cannot ride along on a self-update), duplicate keys are refused (two
// parsers could disagree on which one wins), and so is trailing data.
func decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Media types are case-insensitive; "application/jsonp" is not JSON.
		// A sloppy parameter is no reason to refuse the body.
		mt, _, err := mime.ParseMediaType(ct)
		if mt != "application/json" || (err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter)) {
			return quire.Errorf(quire.EBADREQUEST, "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return quire.Errorf(quire.ETOOLARGE, "the request body is larger than %d bytes", tooBig.Limit)
		}
		return quire.Errorf(quire.EBADREQUEST, "could not read the request body")
	}
	trimmed := bytes.Trim(body, jsonSpace)
	if len(trimmed) == 0 {
		return quire.Errorf(quire.EBADREQUEST, "a JSON request body is required")
	}
	// null would decode into a struct as "nothing set" and pass for an
	// empty object; a bare string or number is never a request.
	if trimmed[0] != '{' && trimmed[0] != '[' {
		return quire.Errorf(quire.EBADREQUEST, "the body must be a JSON object")
	}
	if err := checkText(body); err != nil {
		return err
	}
	if err := checkDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// Decoder.More misses a stray '}' or ']' after the value, so look at
	// what is left instead.
	if len(bytes.Trim(body[dec.InputOffset():], jsonSpace)) > 0 {
		return quire.Errorf(quire.EBADREQUEST, "the body must hold exactly one JSON value")
	}
	return nil
}

// checkText refuses a body that is not valid Unicode text. encoding/json
// would replace invalid UTF-8 bytes, and escaped lone surrogates such as
// "\ud800" (which name no character), with U+FFFD, so that what is stored
// silently differs from what was sent; and RFC 8259 §8.1 asks JSON to be
// UTF-8. Both answer 400 naming the byte offset.
func checkText(body []byte) error {
	if !utf8.Valid(body) {
		i := 0
		for i < len(body) {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return quire.Errorf(quire.EBADREQUEST, "the body is not valid UTF-8 (byte %d)", i)
	}
	if at := loneSurrogate(body); at >= 0 {
		return quire.Errorf(quire.EBADREQUEST, "the body escapes a lone UTF-16 surrogate at byte %d; \\ud800–\\udfff are only valid as a high-low pair", at)
	}
	return nil
}

// loneSurrogate returns the offset of the first \uXXXX escape inside a
// JSON string that is a surrogate not part of a high-low pair, or -1.
// Malformed JSON is left for the decoder to report.
func loneSurrogate(b []byte) int {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if i+1 < len(b) && b[i+1] != 'u' {
				i++ // \" \\ \n …: skip the escaped byte
				continue
			}
			u, ok := hex4(b, i+2)
			if !ok {
				continue
			}
			switch {
			case u >= 0xDC00 && u <= 0xDFFF:
				return i
			case u >= 0xD800 && u <= 0xDBFF:
				if lo, ok := hex4(b, i+8); !ok || b[i+6] != '\\' || b[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
					return i
				}
				i += 11 // the pair
			default:
				i += 5
			}
		}
	}
	return -1
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return quire.Errorf(quire.EBADREQUEST, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return quire.Errorf(quire.EBADREQUEST, "the body must be a JSON object")
		}
		return &quire.Error{Code: quire.EINVALID, Message: field + " must be a " + jsonType(typ.Type.String()),
			Fields: []quire.FieldError{{Field: field, Message: "must be a " + jsonType(typ.Type.String())}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &quire.Error{Code: quire.EINVALID, Message: "unknown field " + name,
			Fields: []quire.FieldError{{Field: name, Message: "is not a field of this request"}}}
	case errors.As(err, &timeErr):
		// encoding/json does not say which field holds it.
		return quire.Errorf(quire.EBADREQUEST, "a time must be in RFC 3339 form, such as 2030-01-31T12:00:00Z")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return quire.Errorf(quire.EBADREQUEST, "malformed JSON: unexpected end of input")
	}
	return quire.Wrap(quire.EBADREQUEST, err, "malformed JSON")
}

func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "string"), strings.HasSuffix(goType, "Role"), strings.Contains(goType, "Time"):
		return "string"
	case strings.Contains(goType, "bool"):
		return "boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	}
	return "value of the right type"
}

// foldKey maps every rune of s to the smallest rune of its case-folding
// orbit, as encoding/json does when it matches a key to a struct field.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		for {
			f := unicode.SimpleFold(r)
			if f <= r {
				r = f
				break
			}
			r = f
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeJSON encodes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
