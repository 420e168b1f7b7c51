package quire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileBlockSchemas compiles every content schema and the BlockInput
// schema, after a round trip through JSON as the OpenAPI document makes.
func compileBlockSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	defs := map[string]any{"BlockInput": BlockInputSchema()}
	for typ, s := range BlockSchemas() {
		defs[typ] = s
	}
	raw, err := json.Marshal(map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///blocks.json", doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for name := range defs {
		s, err := c.Compile("file:///blocks.json#/$defs/" + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		out[name] = s
	}
	return out
}

// agreementCases are contents that the validator and the schema must judge
// alike. Every case states the expected verdict, so a rule loosened or
// tightened on both sides at once is caught too. rich_text html safety is
// not here: sanitisation is not something JSON Schema can say.
var agreementCases = map[string][]struct {
	content string
	valid   bool
}{
	"heading": {
		{`{"text":"Hi","level":1}`, true}, {`{"text":"Hi","level":6}`, true}, {`{"text":"Hi","level":2.0}`, true},
		{`{"text":"Hi","level":2e0}`, true}, {`{"text":"` + strings.Repeat("日", 500) + `","level":1}`, true},
		{`{"text":"Hi","level":0}`, false}, {`{"text":"Hi","level":7}`, false}, {`{"text":"Hi","level":1.5}`, false},
		{`{"text":"Hi","level":"1"}`, false}, {`{"text":"Hi","level":null}`, false}, {`{"text":"Hi","level":-1}`, false},
		{`{"text":"Hi","level":1e400}`, false}, {`{"text":"Hi","level":6.0000000000000001}`, false},
		{`{"text":"Hi"}`, false}, {`{"level":1}`, false}, {`{"text":"","level":1}`, false},
		{`{"text":"` + strings.Repeat("日", 501) + `","level":1}`, false}, {`{"text":"a\nb","level":1}`, false},
		{`{"text":"a\u0085b","level":1}`, false}, {`{"text":"a\u007fb","level":1}`, false},
		{`{"text":"Hi","level":1,"id":"x"}`, false}, {`{"Text":"Hi","level":1}`, false}, {`{"text":["Hi"],"level":1}`, false},
	},
	"paragraph": {
		{`{"text":"a"}`, true}, {`{"text":"line\nline\r\n\ttab"}`, true}, {`{"text":" "}`, true},
		{`{"text":""}`, false}, {`{}`, false}, {`{"text":null}`, false}, {`{"text":"a\u0000"}`, false},
		{`{"text":"a\u000bb"}`, false}, {`{"text":"a","html":"<p>"}`, false},
	},
	"rich_text": {
		{`{"html":"<p>x</p>"}`, true}, {`{"html":"<script>x</script>"}`, true}, {`{"html":"a\nb"}`, true},
		{`{"html":""}`, false}, {`{}`, false}, {`{"html":1}`, false}, {`{"html":"\u0000"}`, false},
	},
	"image": {
		{`{"media_id":"` + testMediaID + `"}`, true}, {`{"media_id":"` + strings.ToUpper(testMediaID) + `","alt":"","caption":"a\nb"}`, true},
		{`{"media_id":"` + testMediaID + `","alt":"` + strings.Repeat("a", 1000) + `"}`, true},
		{`{"media_id":"` + testMediaID + `","alt":"` + strings.Repeat("a", 1001) + `"}`, false},
		{`{"media_id":"` + testMediaID + `","caption":"` + strings.Repeat("a", 2001) + `"}`, false},
		{`{"media_id":"` + testMediaID + `","alt":"a\nb"}`, false}, {`{"media_id":"` + testMediaID + `","url":"https://x.io"}`, false},
		{`{"media_id":"` + testMediaID + `x"}`, false}, {`{"media_id":"` + testMediaID[1:] + `"}`, false},
		{`{"media_id":"0190a5e47c3b7d2e8f10123456789abc"}`, false}, {`{"media_id":""}`, false}, {`{"alt":"a"}`, false},
		{`{"media_id":null}`, false},
	},
	"quote": {
		{`{"text":"q"}`, true}, {`{"text":"q","cite":"c"}`, true}, {`{"text":"q","cite":""}`, true},
		{`{"text":"q","cite":"` + strings.Repeat("c", 501) + `"}`, false}, {`{"cite":"c"}`, false}, {`{"text":"q","cite":1}`, false},
	},
	"list": {
		{`{"style":"ordered","items":["a"]}`, true}, {`{"style":"unordered","items":["a","b\nc"]}`, true},
		{`{"style":"unordered","items":[` + strings.Repeat(`"a",`, 999) + `"a"]}`, true},
		{`{"style":"unordered","items":[` + strings.Repeat(`"a",`, 1000) + `"a"]}`, false},
		{`{"style":"ordered","items":[]}`, false}, {`{"style":"ordered","items":[""]}`, false},
		{`{"style":"ordered","items":["a",1]}`, false}, {`{"style":"ordered","items":"a"}`, false},
		{`{"style":"ordered","items":null}`, false}, {`{"style":"Ordered","items":["a"]}`, false},
		{`{"items":["a"]}`, false}, {`{"style":"ordered"}`, false},
		{`{"style":"ordered","items":["` + strings.Repeat("a", 10001) + `"]}`, false},
	},
	"code": {
		{`{"code":"x"}`, true}, {`{"language":"","code":"x"}`, true}, {`{"language":"c++","code":"x"}`, true},
		{`{"language":"c#","code":"x"}`, true}, {`{"language":"objective-c.2","code":"\tx\n"}`, true},
		{`{"language":"` + strings.Repeat("a", 40) + `","code":"x"}`, true},
		{`{"language":"` + strings.Repeat("a", 41) + `","code":"x"}`, false}, {`{"language":"Go","code":"x"}`, false},
		{`{"language":"go lang","code":"x"}`, false}, {`{"language":"go\n","code":"x"}`, false},
		{`{"language":"go"}`, false}, {`{"code":""}`, false}, {`{"code":"\u0007"}`, false},
	},
	"embed": {
		{`{"url":"https://x.io"}`, true}, {`{"url":"https://x.io/v?a=1&b=%20#t"}`, true},
		{`{"url":"https://x.io/` + strings.Repeat("a", 2048-len("https://x.io/")) + `"}`, true},
		{`{"url":"https://x.io/` + strings.Repeat("a", 2049-len("https://x.io/")) + `"}`, false},
		{`{"url":"http://x.io"}`, false}, {`{"url":"javascript:alert(1)"}`, false}, {`{"url":"/v"}`, false},
		{`{"url":"https://u:p@x.io/"}`, false}, {`{"url":"https://x.io/%zz"}`, false}, {`{"url":""}`, false},
		{`{}`, false}, {`{"url":"https://x.io","width":1}`, false},
	},
	"divider": {
		{`{}`, true}, {`{"style":"dots"}`, false},
	},
}

func TestBlockSchemaAgreesWithValidator(t *testing.T) {
	schemas := compileBlockSchemas(t)
	for _, typ := range BlockTypes {
		if len(agreementCases[typ]) == 0 {
			t.Errorf("%s: no agreement cases", typ)
		}
	}
	for typ, cases := range agreementCases {
		for _, tc := range cases {
			var v Validator
			ValidateBlock(&v, "", block(typ, tc.content))
			goValid := v.Err() == nil

			content, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.content))
			if err != nil {
				t.Fatal(err)
			}
			schemaErr := schemas[typ].Validate(content)
			inputErr := schemas["BlockInput"].Validate(map[string]any{"type": typ, "content": content})

			short := tc.content
			if len(short) > 80 {
				short = short[:80] + "…"
			}
			if goValid != tc.valid {
				t.Errorf("%s %s: validator says valid=%v, want %v (%v)", typ, short, goValid, tc.valid, v.Err())
			}
			if (schemaErr == nil) != tc.valid {
				t.Errorf("%s %s: content schema says valid=%v, want %v (%v)", typ, short, schemaErr == nil, tc.valid, schemaErr)
			}
			if (inputErr == nil) != tc.valid {
				t.Errorf("%s %s: BlockInput schema says valid=%v, want %v (%v)", typ, short, inputErr == nil, tc.valid, inputErr)
			}
		}
	}
}

func TestBlockInputSchemaRefusesUnknownShapes(t *testing.T) {
	s := compileBlockSchemas(t)["BlockInput"]
	for _, in := range []string{
		`{"type":"video","content":{}}`, `{"type":"divider"}`, `{"content":{}}`, `{"type":"divider","content":null}`,
		`{"type":"divider","content":[]}`, `{"type":"divider","content":{},"extra":"x"}`, `{"type":"heading","content":{}}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(v) == nil {
			t.Errorf("%s: accepted", in)
		}
		var b BlockInput
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			var val Validator
			if ValidateBlock(&val, "", b); val.Err() == nil && !strings.Contains(in, `"extra"`) {
				t.Errorf("%s: the validator accepts it", in)
			}
		}
	}
}
