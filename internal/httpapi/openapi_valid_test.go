package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/quirecms/quire/internal/testdb"
)

// The served OpenAPI document must be valid OpenAPI 3.1, as third-party
// tools (client generators, gateways, linters) read it. Two checks, since
// neither alone is enough:
//
//   - libopenapi-validator checks the whole document against the official
//     OpenAPI 3.1 JSON Schema and libopenapi resolves every $ref;
//   - that schema only requires each schema object to be an object (its
//     $dynamicRef leaves their contents to the dialect), so every component
//     schema is also compiled as a JSON Schema 2020-12 document, the
//     dialect OpenAPI 3.1 uses, which catches e.g. "required": null.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), nil)
	raw := e.do("GET", "/api/v1/openapi.json", "", nil).want(t, 200).Body
	for _, problem := range openAPIProblems(raw) {
		t.Error(problem)
	}
}

// openAPIProblems returns what is wrong with the OpenAPI document raw.
func openAPIProblems(raw []byte) []string {
	var out []string
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return []string{"libopenapi cannot read the document: " + err.Error()}
	}
	if doc.GetSpecInfo().SpecType != "openapi" || doc.GetVersion() != "3.1.0" {
		out = append(out, fmt.Sprintf("not read as OpenAPI 3.1.0 but %s %s", doc.GetSpecInfo().SpecType, doc.GetVersion()))
	}
	if _, err := doc.BuildV3Model(); err != nil {
		out = append(out, "building the model: "+err.Error())
	}
	v, errs := validator.NewValidator(doc)
	for _, err := range errs {
		out = append(out, "validator: "+err.Error())
	}
	if v != nil {
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, ve := range verrs {
				out = append(out, "document: "+ve.Message+": "+ve.Reason)
				for _, se := range ve.SchemaValidationErrors {
					out = append(out, fmt.Sprintf("  at %s: %s", se.FieldPath, se.Reason))
				}
			}
		}
	}

	var parsed struct {
		Servers []map[string]any `json:"servers"`
		Info    struct {
			License map[string]any `json:"license"`
		} `json:"info"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return append(out, err.Error())
	}
	if len(parsed.Servers) == 0 {
		out = append(out, "no servers entry")
	}
	if parsed.Info.License["name"] == nil {
		out = append(out, "no info.license")
	}
	names := make([]string, 0, len(parsed.Components.Schemas))
	for name := range parsed.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("file:///openapi.json", mustUnmarshal(raw)); err != nil {
		return append(out, err.Error())
	}
	for _, name := range names {
		if _, err := c.Compile("file:///openapi.json#/components/schemas/" + name); err != nil {
			out = append(out, "schema "+name+" is not a valid JSON Schema 2020-12: "+err.Error())
		}
	}
	return out
}

func mustUnmarshal(raw []byte) any {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		panic(err)
	}
	return v
}

// The check itself must catch what the review found.
func TestOpenAPICheckCatchesNullRequired(t *testing.T) {
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "x", "version": "1", "license": map[string]any{"name": "MIT", "identifier": "MIT"}},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   map[string]any{},
		"components": map[string]any{"schemas": map[string]any{
			"Bad": map[string]any{"type": "object", "required": nil},
		}},
	}
	raw, _ := json.Marshal(doc)
	if len(openAPIProblems(raw)) == 0 {
		t.Fatal(`"required": null passed the check`)
	}
	delete(doc["components"].(map[string]any)["schemas"].(map[string]any)["Bad"].(map[string]any), "required")
	raw, _ = json.Marshal(doc)
	if p := openAPIProblems(raw); len(p) != 0 {
		t.Fatalf("a valid document fails: %v", p)
	}
}
