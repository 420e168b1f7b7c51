package quire

import (
	"encoding/json"
	"testing"
)

// hashContents are block contents ContentHash must hash exactly as
// contentHashOld does: what validation stores, what PostgreSQL's jsonb
// returns, and every corner of JSON decoding the fast path handles or must
// hand to encoding/json.
var hashContents = []string{
	`{"text":"Page 42","level":1}`, `{"level":1,"text":"Page 42"}`, `{"level": 1, "text": "Page 42"}`,
	`{"style":"unordered","items":["one","two"]}`, `{"items": ["one", "two"], "style": "unordered"}`,
	`{"text":"Premature optimisation.","cite":"Donald Knuth"}`,
	`{}`, `[]`, `{ }`, `[ ]`, ` {"a":1} `, "\t{\n\"a\"\r:1}\n",
	`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `{"a":{"x":1},"a":[1]}`, `{"a":1,"b":2,"a":3}`, `{"a":1,"a":1E400}`, `{"a":1E400,"a":1}`,
	`{"b":{"d":1,"c":[{"f":1,"e":2}]},"a":[[],{},[{"z":null,"y":true}]]}`,
	`{"a":0}`, `{"a":-0}`, `{"a":1.0}`, `{"a":1e2}`, `{"a":1E400}`, `{"a":-1E400}`, `{"a":1e-400}`,
	`{"a":12345678901234567890}`, `{"a":123456789012345}`, `{"a":-123456789012345}`, `{"a":1234567890123456}`,
	`{"a":9007199254740993}`, `{"a":0.1}`, `{"a":-1.5e-7}`, `{"a":1e21}`, `{"a":1e20}`, `{"a":1e-6}`, `{"a":1e-7}`,
	`{"a":1.5E+3}`, `{"a":-0.0}`, `{"a":0e5}`, `{"a":100000000000000000000}`, `{"a":5e-324}`, `{"a":1.7976931348623157e308}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":1x}`,
	`{"a":"<b>&amp;</b>"}`, `{"<":">","&":1}`, "{\"a\":\"\u2028\u2029\"}", "{\"\u2028\":1}",
	"{\"a\":\"\xff\"}", "{\"a\":\"caf\xc3\"}", "{\"\xff\":1}", "{\"a\":\"\x7f\"}", "{\"a\":\"\x01\"}",
	`{"a":"caf\u00e9"}`, `{"a":"\/"}`, `{"a":"\"\\\b\f\n\r\t"}`, `{"a":"\u0000\u001f\u007f\u003c\u003E\u0026"}`,
	`{"a":"\u2028\u2029\u00E9\uFFFD\uffff"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":"\udc00x"}`, `{"a":"\u12"}`,
	`{"a":"\x"}`, `{"a\n":1}`, `{"a\u0062":1,"ab":2}`, `{"ab":2,"a\u0062":1}`, `{"é":1,"z":2}`, `{"z":1,"é":2,"Z":3}`,
	`{"a":true,"b":false,"c":null}`, `{"a":tru}`, `{"a":nul}`, `{"a":falsey}`,
	``, ` `, `null`, `true`, `1`, `"s"`, `[1,"a",{"b":1}]`, `{"a":1}{}`, `{"a":1,}`, `[1,]`, `{"a"}`, `{"a":}`, `{1:2}`,
	`{"a":1`, `{"a":[1}`, `"abc`, `{"a":"b"`, `[`, `{`, `}`,
	`{"a":"` + "\xe2\x80" + `"}`,
}

func hashCases() [][]SnapshotBlock {
	var out [][]SnapshotBlock
	for _, c := range hashContents {
		out = append(out, []SnapshotBlock{{Type: BlockParagraph, Content: json.RawMessage(c)}})
	}
	var nested string
	for range 70 {
		nested = `{"b":1,"a":[` + nested + `]}`
	}
	out = append(out, []SnapshotBlock{{Type: "x", Content: json.RawMessage(nested)}})
	out = append(out, nil, []SnapshotBlock{}, []SnapshotBlock{{Type: "x"}})
	var many string
	for i := range 40 {
		many += `,"k` + string(rune('z'-i%26)) + string(rune('a'+i/3)) + `":` + string(rune('0'+i%10))
	}
	out = append(out, []SnapshotBlock{{Type: "x", Content: json.RawMessage(`{` + many[1:] + `}`)}})
	for _, bl := range loadtestBlocks() {
		out = append(out, []SnapshotBlock{bl})
	}
	return out
}

// loadtestBlocks are the load tool's blocks as sent and as validation
// stores them.
func loadtestBlocks() []SnapshotBlock {
	var out []SnapshotBlock
	for _, b := range loadBlocks() {
		out = append(out, SnapshotBlock{Type: b.Type, Content: b.Content})
	}
	return append(out, loadSnapshotBlocks()...)
}

func loadSnapshotBlocks() []SnapshotBlock {
	contents, err := ValidateBlocks(loadBlocks())
	if err != nil {
		panic(err)
	}
	in := loadBlocks()
	out := make([]SnapshotBlock, len(in))
	for i := range in {
		out[i] = SnapshotBlock{ID: "b", Type: in[i].Type, Content: contents[i]}
	}
	return out
}

func TestContentHashMatchesOld(t *testing.T) {
	titles := [][2]string{{"Page 42", "page-42"}, {"<a> & \u2028 \xff \"q\"\n", ""}}
	for _, tt := range titles {
		for _, blocks := range append(hashCases(), loadSnapshotBlocks()) {
			if got, want := ContentHash(tt[0], tt[1], blocks), contentHashOld(tt[0], tt[1], blocks); got != want {
				t.Errorf("ContentHash(%q, %q, %q) = %s, old code %s", tt[0], tt[1], blocks, got, want)
			}
		}
	}
}

// TestCanonicalJSONFastPath makes sure the cases above exercise the fast
// path, not only the fallback that would trivially agree with the old code.
func TestCanonicalJSONFastPath(t *testing.T) {
	for _, c := range []string{
		`{"text":"Page 42","level":1}`, `{"b":1,"a":2,"b":3}`, `{"a": [1, 2.5e-7, -0, 1e21]}`,
		`{"a":"caf\u00e9 \/ <&> \u2028\n"}`, `[true,false,null,{}]`,
	} {
		if _, ok := appendCanonicalJSON(nil, []byte(c)); !ok {
			t.Errorf("appendCanonicalJSON(%s) fell back to encoding/json", c)
		}
	}
	for _, bl := range loadtestBlocks() {
		if _, ok := appendCanonicalJSON(nil, bl.Content); !ok {
			t.Errorf("appendCanonicalJSON(%s) fell back to encoding/json", bl.Content)
		}
	}
}

func FuzzContentHash(f *testing.F) {
	for _, c := range hashContents {
		f.Add("Page 42", c)
	}
	for _, bl := range loadtestBlocks() {
		f.Add("t", string(bl.Content))
	}
	f.Fuzz(func(t *testing.T, title, content string) {
		blocks := []SnapshotBlock{{Type: title, Content: json.RawMessage(content)}, {Type: "p", Content: json.RawMessage(content)}}
		if got, want := ContentHash(title, title, blocks), contentHashOld(title, title, blocks); got != want {
			t.Errorf("ContentHash of %q = %s, old code %s", content, got, want)
		}
	})
}
