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
	var members []jsonMember
	ok := false
	switch {
	case len(content) == 0:
		v.Add(name("content"), "is required")
		return nil
	case !utf8.Valid(content):
		v.Add(name("content"), "must be valid UTF-8")
		return nil
	default:
		var space [8]jsonMember
		members, ok = splitObject(content, space[:0])
	}
	if !ok {
		v.Add(name("content"), "must be a JSON object")
		return nil
	}
	if !known {
		return nil
	}
	out := make([]byte, 0, len(content)+16*len(spec.fields))
	out = append(out, '{')
	for i := range spec.fields {
		f := &spec.fields[i]
		if i > 0 {
			out = append(out, ',')
		}
		out = appendRawJSONString(out, f.name)
		out = append(out, ':')
		out = f.appendValue(out, v, fieldPath{prefix, f.name, -1}, lookup(members, f.name))
	}
	var unknown []string
	for _, m := range members {
		if !slices.ContainsFunc(spec.fields, func(f contentField) bool { return f.name == string(m.key) }) {
			unknown = append(unknown, string(m.key))
		}
	}
	slices.Sort(unknown)
	for _, k := range slices.Compact(unknown) { // a name sent twice is named once
		v.Add(name("content."+k), "is not a field of "+in.Type+" blocks")
	}
	if len(v.fields) > before {
		return nil
	}
	return append(out, '}')
}

// lookup returns the value of the member named key, the last one if the
// name is repeated (as encoding/json decodes into a map), or nil.
func lookup(members []jsonMember, key string) []byte {
	for i := len(members) - 1; i >= 0; i-- {
		if string(members[i].key) == key {
			return members[i].raw
		}
	}
	return nil
}

// fieldPath names a content field in errors; it is only built into a string
// when there is an error to report, which a valid block never has.
type fieldPath struct {
	prefix, name string
	item         int // the index in a kindStrings array, or -1
}

func (p fieldPath) String() string {
	s := "content." + p.name
	if p.prefix != "" {
		s = p.prefix + "." + s
	}
	if p.item >= 0 {
		s += "[" + strconv.Itoa(p.item) + "]"
	}
	return s
}

// appendValue checks raw, the field's JSON value (nil when absent), and
// appends the value to store to out.
func (f *contentField) appendValue(out []byte, v *Validator, field fieldPath, raw []byte) []byte {
	if raw == nil {
		if f.required {
			v.Add(field.String(), "is required")
		}
		switch f.kind {
		case kindInt:
			return append(out, '0')
		case kindStrings:
			return append(out, "[]"...)
		}
		return append(out, `""`...)
	}
	switch f.kind {
	case kindInt:
		n, ok := jsonInt(raw)
		if !ok || n < int64(f.min) || n > int64(f.max) {
			v.Add(field.String(), fmt.Sprintf("must be an integer from %d to %d", f.min, f.max))
		}
		return strconv.AppendInt(out, n, 10)
	case kindStrings:
		items, ok := splitArray(raw)
		if !ok {
			v.Add(field.String(), "must be an array of strings")
			return out
		}
		if len(items) < f.min || len(items) > f.max {
			v.Add(field.String(), fmt.Sprintf("must have from %d to %d items", f.min, f.max))
			return out
		}
		out = append(out, '[')
		for i, item := range items {
			if i > 0 {
				out = append(out, ',')
			}
			field.item = i
			out = appendRawJSONString(out, f.decodeString(v, field, item))
		}
		return append(out, ']')
	}
	return appendRawJSONString(out, f.decodeString(v, field, raw))
}

func (f *contentField) decodeString(v *Validator, field fieldPath, raw []byte) string {
	if raw[0] != '"' {
		v.Add(field.String(), "must be a string")
		return ""
	}
	s := unquote(raw)
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
		v.Add(field.String(), msg)
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
func jsonInt(raw []byte) (n int64, ok bool) {
	if n, ok := smallInt(raw); ok {
		return n, true
	}
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

// smallInt is jsonInt's common case, an optional minus and at most 18
// digits (which cannot overflow), read without allocating.
func smallInt(raw []byte) (n int64, ok bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if raw[0] == '-' {
		n = -n
	}
	return n, true
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
