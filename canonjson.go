package quire

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// appendCanonicalJSON appends src as json.Marshal writes what json.Unmarshal
// decodes from it into an any: whitespace dropped, object keys sorted by
// their bytes with the last of duplicates kept, numbers as float64 prints
// them, strings re-escaped with HTML escapes. It does this in one pass with
// no reflection, maps or boxed values, which made encoding/json the bulk of
// ContentHash's cost. It reports false, with b's contents past len(b)
// undefined, for what it leaves to encoding/json: invalid JSON, and the
// rare valid JSON whose decoding is fiddly (keys with escapes, invalid
// UTF-8, escaped surrogates, numbers beyond float64, deep nesting).
func appendCanonicalJSON(b, src []byte) ([]byte, bool) {
	c := canonicalizer{src: src}
	c.space()
	b, ok := c.value(b)
	if !ok {
		return b, false
	}
	c.space()
	return b, c.i == len(src)
}

// maxCanonicalDepth bounds the recursion; deeper content goes to
// encoding/json, which has its own limit.
const maxCanonicalDepth = 64

type canonicalizer struct {
	src   []byte
	i     int
	depth int
}

func (c *canonicalizer) peek() byte {
	if c.i < len(c.src) {
		return c.src[c.i]
	}
	return 0
}

func (c *canonicalizer) space() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *canonicalizer) value(b []byte) ([]byte, bool) {
	switch ch := c.peek(); {
	case ch == '{':
		return c.object(b)
	case ch == '[':
		return c.array(b)
	case ch == '"':
		return c.str(b)
	case ch == 't':
		return c.literal(b, "true")
	case ch == 'f':
		return c.literal(b, "false")
	case ch == 'n':
		return c.literal(b, "null")
	case ch == '-' || '0' <= ch && ch <= '9':
		return c.number(b)
	}
	return b, false
}

func (c *canonicalizer) literal(b []byte, lit string) ([]byte, bool) {
	if len(c.src)-c.i < len(lit) || string(c.src[c.i:c.i+len(lit)]) != lit {
		return b, false
	}
	c.i += len(lit)
	return append(b, lit...), true
}

// canonicalMember is one member of an object as written to b: its key
// (the bytes between the quotes in src, which has no escapes) and where
// `"key":value` sits in b.
type canonicalMember struct {
	key      []byte
	from, to int
}

// object writes the members in the order sent, then, unless the keys were
// already strictly increasing, appends them again sorted (a stable sort, so
// the last of equal keys is the one a map would keep) and moves that copy
// into place. Validated content has its fields in the block spec's order,
// so the reordering is the common case.
func (c *canonicalizer) object(b []byte) ([]byte, bool) {
	if c.depth++; c.depth > maxCanonicalDepth {
		return b, false
	}
	c.i++
	b = append(b, '{')
	start := len(b)
	c.space()
	if c.peek() == '}' {
		c.i++
		c.depth--
		return append(b, '}'), true
	}
	var space [16]canonicalMember
	ms := space[:0]
	sorted := true
	for {
		if c.peek() != '"' {
			return b, false
		}
		if len(ms) > 0 {
			b = append(b, ',')
		}
		from, k0 := len(b), c.i+1
		var ok bool
		if b, ok = c.str(b); !ok {
			return b, false
		}
		key := c.src[k0 : c.i-1]
		for _, ch := range key {
			if ch == '\\' { // sorting needs the decoded key
				return b, false
			}
		}
		c.space()
		if c.peek() != ':' {
			return b, false
		}
		c.i++
		c.space()
		b = append(b, ':')
		if b, ok = c.value(b); !ok {
			return b, false
		}
		if len(ms) > 0 && string(ms[len(ms)-1].key) >= string(key) {
			sorted = false
		}
		ms = append(ms, canonicalMember{key, from, len(b)})
		c.space()
		switch c.peek() {
		case ',':
			c.i++
			c.space()
			continue
		case '}':
			c.i++
		default:
			return b, false
		}
		break
	}
	c.depth--
	if !sorted {
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && string(ms[j-1].key) > string(ms[j].key); j-- {
				ms[j-1], ms[j] = ms[j], ms[j-1]
			}
		}
		end := len(b)
		for i, m := range ms {
			if i+1 < len(ms) && string(ms[i+1].key) == string(m.key) {
				continue // a later duplicate wins
			}
			if len(b) > end {
				b = append(b, ',')
			}
			b = append(b, b[m.from:m.to]...)
		}
		b = b[:start+copy(b[start:], b[end:])]
	}
	return append(b, '}'), true
}

func (c *canonicalizer) array(b []byte) ([]byte, bool) {
	if c.depth++; c.depth > maxCanonicalDepth {
		return b, false
	}
	c.i++
	b = append(b, '[')
	c.space()
	if c.peek() == ']' {
		c.i++
		c.depth--
		return append(b, ']'), true
	}
	for {
		var ok bool
		if b, ok = c.value(b); !ok {
			return b, false
		}
		c.space()
		switch c.peek() {
		case ',':
			c.i++
			c.space()
			b = append(b, ',')
		case ']':
			c.i++
			c.depth--
			return append(b, ']'), true
		default:
			return b, false
		}
	}
}

// str rewrites the string at c.i as encoding/json quotes its decoding:
// escapes that decode to something printed plainly are undone (\/, \u00e9),
// and <, >, &, U+2028 and U+2029 are escaped. It declines raw control
// characters and bad escapes (invalid JSON), and invalid UTF-8 and escaped
// surrogates, which decode to U+FFFD in ways not worth copying here.
func (c *canonicalizer) str(b []byte) ([]byte, bool) {
	s := c.src
	b = append(b, '"')
	i := c.i + 1
	start := i
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == '"':
			c.i = i + 1
			return append(append(b, s[start:i]...), '"'), true
		case ch < 0x20:
			return b, false
		case ch == '<' || ch == '>' || ch == '&':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[ch>>4], hexDigits[ch&0xF])
			i++
			start = i
		case ch == '\\':
			b = append(b, s[start:i]...)
			if i+1 >= len(s) {
				return b, false
			}
			switch e := s[i+1]; e {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				b = append(b, '\\', e)
				i += 2
			case '/':
				b = append(b, '/')
				i += 2
			case 'u':
				r, ok := hex4(s[i+2:])
				if !ok || utf16.IsSurrogate(r) {
					return b, false
				}
				b = appendQuotedRune(b, r)
				i += 6
			default:
				return b, false
			}
			start = i
		case ch < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				return b, false
			}
			if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
				start = i + size
			}
			i += size
		}
	}
	return b, false
}

// hex4 decodes the four hex digits of a \u escape.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, ch := range s[:4] {
		switch {
		case '0' <= ch && ch <= '9':
			ch -= '0'
		case 'a' <= ch && ch <= 'f':
			ch -= 'a' - 10
		case 'A' <= ch && ch <= 'F':
			ch -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(ch)
	}
	return r, true
}

// appendQuotedRune writes r, decoded from a \u escape, as appendJSONString
// writes it inside a string.
func appendQuotedRune(b []byte, r rune) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\b':
		return append(b, '\\', 'b')
	case r == '\f':
		return append(b, '\\', 'f')
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r == '\t':
		return append(b, '\\', 't')
	case r < 0x20 || r == '<' || r == '>' || r == '&':
		return append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
	case r == '\u2028' || r == '\u2029':
		return append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
	}
	return utf8.AppendRune(b, r)
}

// number writes the number at c.i as encoding/json prints the float64 it
// decodes to. Integers of up to 15 digits are exact in a float64 and
// printed as sent (-0 included), so only other numbers are parsed.
func (c *canonicalizer) number(b []byte) ([]byte, bool) {
	s := c.src
	i := c.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return b, false
	}
	intEnd := i
	if i < len(s) && s[i] == '.' {
		if i = skipDigits(s, i+1); s[i-1] == '.' {
			return b, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		if i = skipDigits(s, i); i == d {
			return b, false
		}
	}
	num := s[c.i:i]
	c.i = i
	if i == intEnd && len(num) <= 15 {
		return append(b, num...), true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return b, false // out of range: encoding/json decodes it to nil
	}
	// As encoding/json's floatEncoder does for a float64.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

func skipDigits(s []byte, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
