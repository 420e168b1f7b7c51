package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/quirecms/quire"
)

// maxScanDepth stops the duplicate-key scan where encoding/json stops
// decoding (it refuses nesting deeper than 10,000), so that the scan's
// recursion is bounded too.
const maxScanDepth = 10_000

// checkDuplicateKeys refuses an object that names a key twice. Invalid JSON
// is left for the decoder to report. The keys of the top-level object,
// which are decoded into struct fields, are compared the way encoding/json
// matches them, case-insensitively: {"role": "viewer", "Role": "admin"} is
// a duplicate, and the last one would win.
//
// It scans the bytes once, keeping keys as slices of the body, instead of
// walking json.Decoder tokens, which decoded the whole body a second time
// (an allocation per token: about 15 % of a page create's CPU).
func checkDuplicateKeys(body []byte) error {
	s := dupScan{b: body}
	s.space()
	dup, _ := s.value(0)
	if dup != nil && !json.Valid(body) {
		// The scan does not check scalars; a malformed body is the
		// decoder's to report, wherever the duplicate is.
		return nil
	}
	return dup
}

type dupScan struct {
	b    []byte
	i    int
	keys [][][]byte // per depth, reused: the keys of the object open there
}

func (s *dupScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

// value scans one value. It returns the duplicate found, if any, and false
// when the JSON is malformed (the scan then stops without an error).
func (s *dupScan) value(depth int) (error, bool) {
	if s.i >= len(s.b) || depth > maxScanDepth {
		return nil, false
	}
	switch s.b[s.i] {
	case '{':
		return s.object(depth)
	case '[':
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil, true
		}
		for {
			s.space()
			if dup, ok := s.value(depth + 1); dup != nil || !ok {
				return dup, ok
			}
			s.space()
			if s.i >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i] {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil, true
			default:
				return nil, false
			}
		}
	case '"':
		_, _, ok := s.str()
		return nil, ok
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return nil, true
		}
		s.i++
	}
	return nil, true
}

func (s *dupScan) object(depth int) (error, bool) {
	s.i++ // {
	for len(s.keys) <= depth {
		s.keys = append(s.keys, nil)
	}
	seen := s.keys[depth][:0]
	defer func() { s.keys[depth] = seen[:0] }()
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil, true
	}
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return nil, false
		}
		raw, escaped, ok := s.str()
		if !ok {
			return nil, false
		}
		key := raw[1 : len(raw)-1]
		if escaped {
			var k string
			if json.Unmarshal(raw, &k) != nil {
				return nil, false
			}
			key = []byte(k)
		}
		if depth == 0 {
			key = []byte(foldKey(string(key)))
		}
		for _, k := range seen {
			if bytes.Equal(k, key) {
				name := string(raw[1 : len(raw)-1])
				if escaped {
					_ = json.Unmarshal(raw, &name)
				}
				return &quire.Error{Code: quire.EBADREQUEST, Message: fmt.Sprintf("duplicate key %q", name),
					Fields: []quire.FieldError{{Field: name, Message: "appears more than once"}}}, true
			}
		}
		seen = append(seen, key)
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return nil, false
		}
		s.i++
		s.space()
		s.keys[depth] = seen // deeper objects reuse the other levels only
		if dup, ok := s.value(depth + 1); dup != nil || !ok {
			return dup, ok
		}
		s.space()
		if s.i >= len(s.b) {
			return nil, false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil, true
		default:
			return nil, false
		}
	}
}

// str scans a string at s.i and returns it with its quotes, and whether it
// holds an escape.
func (s *dupScan) str() (raw []byte, escaped, ok bool) {
	start := s.i
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			return s.b[start:s.i], escaped, true
		}
	}
	return nil, false, false
}
