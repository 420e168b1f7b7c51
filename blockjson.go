package quire

import (
	"bytes"
	"encoding/json"
)

// Block validation splits content with jsonScanner and writes the normalised
// object with appendJSONString instead of unmarshalling into a map and
// re-encoding with encoding/json: on the page create path that reflection
// was most of the validation's CPU. Both must accept, and write, exactly what
// encoding/json does; block_diff_test.go checks them against the old code.

// jsonMember is one name/value pair of a JSON object: key is the name
// unquoted, raw the value as sent, without the whitespace around it.
type jsonMember struct {
	key []byte
	raw []byte
}

// maxJSONDepth is encoding/json's limit on nested arrays and objects.
const maxJSONDepth = 10000

// jsonScanner checks JSON text by RFC 8259, as encoding/json's scanner does,
// without decoding it, and collects the members of the outermost object or
// the items of the outermost array.
type jsonScanner struct {
	data    []byte
	i       int
	depth   int
	members []jsonMember // of the object at depth 1
	items   [][]byte     // of the array at depth 1
}

// splitObject reports whether data is exactly one JSON object, with nothing
// around it, and returns its members in order, duplicates included.
func splitObject(data []byte, members []jsonMember) ([]jsonMember, bool) {
	s := jsonScanner{data: data, members: members}
	if s.peek() != '{' || !s.object() {
		return nil, false
	}
	s.space()
	if s.i != len(data) {
		return nil, false
	}
	for i, m := range s.members {
		m.key = m.key[1 : len(m.key)-1]
		if bytes.IndexByte(m.key, '\\') >= 0 {
			var k string
			_ = json.Unmarshal(s.members[i].key, &k) // a valid string: cannot fail
			m.key = []byte(k)
		}
		s.members[i] = m
	}
	return s.members, true
}

// splitArray is splitObject for an array: its items in order.
func splitArray(data []byte) ([][]byte, bool) {
	s := jsonScanner{data: data}
	if s.peek() != '[' || !s.array() {
		return nil, false
	}
	s.space()
	return s.items, s.i == len(data)
}

func (s *jsonScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value skips the value at s.i, reporting whether it is well formed.
func (s *jsonScanner) value() bool {
	switch c := s.peek(); {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *jsonScanner) object() bool {
	if s.depth++; s.depth > maxJSONDepth {
		return false
	}
	s.i++
	s.space()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		start := s.i
		if s.peek() != '"' || !s.str() {
			return false
		}
		key := s.data[start:s.i]
		s.space()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.space()
		start = s.i
		if !s.value() {
			return false
		}
		if s.depth == 1 {
			s.members = append(s.members, jsonMember{key, s.data[start:s.i]})
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *jsonScanner) array() bool {
	if s.depth++; s.depth > maxJSONDepth {
		return false
	}
	s.i++
	s.space()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		start := s.i
		if !s.value() {
			return false
		}
		if s.depth == 1 {
			s.items = append(s.items, s.data[start:s.i])
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// str skips a string. Like encoding/json it refuses control characters and
// unknown escapes but lets any other byte through.
func (s *jsonScanner) str() bool {
	d := s.data
	for s.i++; s.i < len(d); s.i++ {
		switch c := d[s.i]; {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(d) {
				return false
			}
			switch d[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 >= len(d) {
					return false
				}
				for _, h := range d[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

func (s *jsonScanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.data[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; whatever
// follows is the caller's to check.
func (s *jsonScanner) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *jsonScanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// unquote returns the string that raw, a well-formed JSON string, holds.
// Without escapes that is the bytes between the quotes; the rest (rare in
// practice) is left to encoding/json.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // well formed: cannot fail
	return s
}
