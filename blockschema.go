package quire

import "fmt"

// The schemas below are JSON Schema draft 2020-12, the dialect of OpenAPI
// 3.1, built from the same declarations as ValidateBlock so that the two say
// the same thing. What JSON Schema cannot say is left to the validator and
// noted in descriptions: rich_text sanitisation, MaxBlockContentBytes and
// that an image's media exists. The maps are fresh on every call; callers may
// change them.

// Character classes of text without control characters, as JSON Schema
// patterns (RE2 and ECMA-262 read them alike). They mirror hasControl.
const (
	singleLinePattern = `^[^\x00-\x1F\x7F-\x9F]*$`
	multiLinePattern  = `^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$`
)

// BlockSchemas returns the JSON Schema of the content of each built-in block
// type, keyed by type name.
func BlockSchemas() map[string]any {
	out := make(map[string]any, len(BlockTypes))
	for _, t := range BlockTypes {
		out[t] = contentSchema(t)
	}
	return out
}

// BlockInputSchema returns the JSON Schema of a BlockInput: a oneOf with one
// branch per built-in type, each pinning "type" with const and giving that
// type's content schema. The const is what selects a branch for a JSON Schema
// validator; the OpenAPI discriminator on "type" tells the same to readers
// and code generators.
func BlockInputSchema() map[string]any {
	branches := make([]any, 0, len(BlockTypes))
	for _, t := range BlockTypes {
		branches = append(branches, map[string]any{
			"title":                t,
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"type", "content"},
			"properties": map[string]any{
				"id":      map[string]any{"type": "string", "description": "An existing block of the page, to keep its id (whole-list save only)"},
				"type":    map[string]any{"const": t},
				"content": contentSchema(t),
			},
		})
	}
	return map[string]any{
		"description":   "A content block: its type and the content that type takes. Unknown types and fields are refused.",
		"oneOf":         branches,
		"discriminator": map[string]any{"propertyName": "type"},
	}
}

func contentSchema(blockType string) map[string]any {
	spec := blockSpecs[blockType]
	props := map[string]any{}
	required := []string{}
	for _, f := range spec.fields {
		props[f.name] = f.schema()
		if f.required {
			required = append(required, f.name)
		}
	}
	return map[string]any{
		"description":          spec.doc + fmt.Sprintf(" At most %d bytes of JSON.", MaxBlockContentBytes),
		"type":                 "object",
		"additionalProperties": false,
		"required":             required,
		"properties":           props,
	}
}

func (f *contentField) schema() map[string]any {
	var s map[string]any
	switch f.kind {
	case kindInt:
		s = map[string]any{"type": "integer", "minimum": f.min, "maximum": f.max}
	case kindStrings:
		s = map[string]any{"type": "array", "minItems": f.min, "maxItems": f.max, "items": f.stringSchema()}
	default:
		s = f.stringSchema()
	}
	if f.doc != "" {
		s["description"] = f.doc
	}
	return s
}

func (f *contentField) stringSchema() map[string]any {
	s := map[string]any{"type": "string"}
	switch {
	case f.enum != nil:
		s["enum"] = f.enum
		return s
	case f.pattern != nil:
		s["pattern"] = f.pattern.String()
	case f.multiline:
		s["pattern"] = multiLinePattern
	default:
		s["pattern"] = singleLinePattern
	}
	if f.minLen > 0 {
		s["minLength"] = f.minLen
	}
	if f.maxLen > 0 {
		s["maxLength"] = f.maxLen
	}
	return s
}
