package quire

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

// BlockInput is one block as a client sends it. ID is optional and only
// meaningful in a whole-list save: naming an existing block of the page
// keeps that block's id (and creation time), so front-ends that key on
// block ids see an edited block, not a new one.
type BlockInput struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

// ValidateBlock validates one block's type and content and returns the
// content to store: a JSON object holding every field of the type, and only
// those, in a fixed order, with defaults for absent optional fields, ids in
// lowercase and rich_text html sanitised. Field errors are named after
// prefix: with "blocks[3]", "blocks[3].type" and "blocks[3].content.level";
// with "", "type" and "content.level". It returns nil when it added errors.
// It does not check MaxBlockContentBytes; ValidateBlocks and
// ValidateSingleBlock do.
func ValidateBlock(v *Validator, prefix string, in BlockInput) json.RawMessage {
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
		val := f.decode(v, name("content."+f.name), obj[f.name])
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
	return encodeObject(out)
}

// decode checks raw, the field's JSON value (nil when absent), and returns
// the value to store.
func (f *contentField) decode(v *Validator, field string, raw json.RawMessage) any {
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
		n, ok := jsonInt(raw)
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
			out[i] = f.decodeString(v, field+"["+strconv.Itoa(i)+"]", item)
		}
		return out
	}
	return f.decodeString(v, field, raw)
}

func (f *contentField) decodeString(v *Validator, field string, raw json.RawMessage) string {
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
func jsonInt(raw json.RawMessage) (n int64, ok bool) {
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
func encodeObject(pairs []any) json.RawMessage {
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

// ValidateBlocks validates the whole ordered list of a page's blocks, as an
// editor's save sends it, and returns each block's content to store.
//
// The two size limits are checked first and answer ETOOLARGE (413): more than
// MaxBlocksPerPage blocks (field "blocks"), or a block whose content is over
// MaxBlockContentBytes as sent (field "blocks[i].content", every such block
// named). They bound what the server will store, like the body limit, and the
// request is not validated further. Every other rule, field lengths included,
// answers EINVALID (422) with all the errors of all the blocks at once.
func ValidateBlocks(in []BlockInput) ([]json.RawMessage, error) {
	if len(in) > MaxBlocksPerPage {
		return nil, tooLarge(FieldError{"blocks", fmt.Sprintf("must have at most %d blocks, not %d", MaxBlocksPerPage, len(in))})
	}
	var big []FieldError
	for i, b := range in {
		if len(b.Content) > MaxBlockContentBytes {
			big = append(big, FieldError{"blocks[" + strconv.Itoa(i) + "].content", contentTooLarge})
		}
	}
	if len(big) > 0 {
		return nil, tooLarge(big...)
	}
	total := 0
	for _, b := range in {
		total += len(b.Content)
	}
	if total > MaxPageContentBytes {
		return nil, pageTooLarge(total)
	}
	var v Validator
	out := make([]json.RawMessage, len(in))
	for i, b := range in {
		out[i] = ValidateBlock(&v, "blocks["+strconv.Itoa(i)+"]", b)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateSingleBlock validates one block sent on its own (adding or patching
// a block): ETOOLARGE for content over MaxBlockContentBytes, else the errors
// of ValidateBlock with fields "type" and "content.…".
func ValidateSingleBlock(in BlockInput) (json.RawMessage, error) {
	if len(in.Content) > MaxBlockContentBytes {
		return nil, tooLarge(FieldError{"content", contentTooLarge})
	}
	var v Validator
	out := ValidateBlock(&v, "", in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckPageContentSize refuses blocks whose content, as compact JSON, is
// together over MaxPageContentBytes: what a page holds after a change of
// one block, which ValidateSingleBlock cannot see.
func CheckPageContentSize(blocks []Block) error {
	total := 0
	var buf bytes.Buffer
	for _, b := range blocks {
		buf.Reset()
		if json.Compact(&buf, b.Content) == nil {
			total += buf.Len()
		} else {
			total += len(b.Content)
		}
	}
	if total > MaxPageContentBytes {
		return pageTooLarge(total)
	}
	return nil
}

func pageTooLarge(total int) *Error {
	return tooLarge(FieldError{"blocks", fmt.Sprintf("the blocks of a page may hold at most %d bytes of content together, not %d", MaxPageContentBytes, total)})
}

var contentTooLarge = fmt.Sprintf("must be at most %d bytes of JSON", MaxBlockContentBytes)

func tooLarge(fields ...FieldError) *Error {
	e := Invalid(fields...)
	e.Code = ETOOLARGE
	if len(fields) > 1 {
		e.Message = "the request is too large"
	}
	return e
}

// MediaIDs returns the media ids that image blocks refer to, each once, in
// the order they first appear, for the caller to check that they exist. Pass
// it validated blocks: content that does not parse is skipped.
func MediaIDs(blocks []BlockInput) []string {
	var ids []string
	for _, b := range blocks {
		if b.Type != BlockImage {
			continue
		}
		var c map[string]json.RawMessage
		var id string
		if json.Unmarshal(b.Content, &c) != nil || json.Unmarshal(c["media_id"], &id) != nil || id == "" {
			continue
		}
		if id = strings.ToLower(id); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}
