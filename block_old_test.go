package quire

// The implementation of ValidateBlock before it stopped using encoding/json
// to split and re-encode block content, kept verbatim (renamed) so that
// block_diff_test.go can check that the new one behaves exactly the same.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func validateBlockOld(v *Validator, prefix string, in BlockInput) json.RawMessage {
	name := func(field string) string {
		if prefix == "" {
			return field
		}
		return prefix + "." + field
	}
	before := len(v.fields)
	spec, known := blockSpecs[in.Type]
	if in.Type == "" {
		v.Add(name("type"), "is required")
	} else if !known {
		v.Add(name("type"), "must be one of "+strings.Join(BlockTypes, ", "))
	}
	content := bytes.TrimSpace(in.Content)
	var obj map[string]json.RawMessage
	switch {
	case len(content) == 0:
		v.Add(name("content"), "is required")
		return nil
	case !utf8.Valid(content):
		v.Add(name("content"), "must be valid UTF-8")
		return nil
	case content[0] != '{' || json.Unmarshal(content, &obj) != nil:
		v.Add(name("content"), "must be a JSON object")
		return nil
	}
	if !known {
		return nil
	}
	out := make([]any, 0, 2*len(spec.fields))
	for _, f := range spec.fields {
		val := f.decodeOld(v, name("content."+f.name), obj[f.name])
		out = append(out, f.name, val)
	}
	var unknown []string
	for k := range obj {
		if !slices.ContainsFunc(spec.fields, func(f contentField) bool { return f.name == k }) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		v.Add(name("content."+k), "is not a field of "+in.Type+" blocks")
	}
	if len(v.fields) > before {
		return nil
	}
	return encodeObjectOld(out)
}

// decode checks raw, the field's JSON value (nil when absent), and returns
// the value to store.
func (f *contentField) decodeOld(v *Validator, field string, raw json.RawMessage) any {
	if raw == nil {
		if f.required {
			v.Add(field, "is required")
		}
		switch f.kind {
		case kindInt:
			return 0
		case kindStrings:
			return []string{}
		}
		return ""
	}
	switch f.kind {
	case kindInt:
		n, ok := jsonIntOld(raw)
		if !ok || n < int64(f.min) || n > int64(f.max) {
			v.Add(field, fmt.Sprintf("must be an integer from %d to %d", f.min, f.max))
		}
		return n
	case kindStrings:
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			v.Add(field, "must be an array of strings")
			return nil
		}
		if len(items) < f.min || len(items) > f.max {
			v.Add(field, fmt.Sprintf("must have from %d to %d items", f.min, f.max))
			return nil
		}
		out := make([]string, len(items))
		for i, item := range items {
			out[i] = f.decodeStringOld(v, field+"["+strconv.Itoa(i)+"]", item)
		}
		return out
	}
	return f.decodeStringOld(v, field, raw)
}

func (f *contentField) decodeStringOld(v *Validator, field string, raw json.RawMessage) string {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		v.Add(field, "must be a string")
		return ""
	}
	n := utf8.RuneCountInString(s)
	var msg string
	switch {
	case f.enum != nil:
		if !slices.Contains(f.enum, s) {
			msg = "must be one of " + strings.Join(f.enum, ", ")
		}
	case n < f.minLen && f.minLen == 1:
		msg = "must not be empty"
	case n < f.minLen:
		msg = fmt.Sprintf("must be at least %d characters", f.minLen)
	case f.maxLen > 0 && n > f.maxLen:
		msg = fmt.Sprintf("must be at most %d characters", f.maxLen)
	case f.pattern != nil:
		if !f.pattern.MatchString(s) || (f.check != nil && !f.check(s)) {
			msg = f.message
		}
	case hasControl(s, f.multiline) && f.multiline:
		msg = "must not contain control characters other than tabs and line breaks"
	case hasControl(s, f.multiline):
		msg = "must not contain control characters"
	}
	if msg != "" {
		v.Add(field, msg)
		return ""
	}
	if f.normalize != nil {
		s = f.normalize(s)
	}
	return s
}

// jsonInt reads a JSON number the way JSON Schema's "integer" does: 2, 2.0
// and 2e0 are all the integer 2. ok is false for anything else, and for
// exponents so large that the value is far out of any range we accept.
func jsonIntOld(raw json.RawMessage) (n int64, ok bool) {
	s := string(raw)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || e > 1000 || e < -1000 {
			return 0, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// encodeObject writes name/value pairs as a JSON object in their order,
// without escaping <, > and & (rich_text html stays readable).
func encodeObjectOld(pairs []any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			buf.WriteByte(',')
		}
		_ = enc.Encode(pairs[i]) // strings, integers and string slices cannot fail
		buf.Truncate(buf.Len() - 1)
		buf.WriteByte(':')
		_ = enc.Encode(pairs[i+1])
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return json.RawMessage(buf.Bytes())
}
