package quire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// diffCases are block contents at the edges of what encoding/json accepts
// and of what the field rules allow, for the differential test and as fuzz
// seeds.
var diffCases = []BlockInput{
	block(BlockHeading, `{"text":"Hi","level":2}`),
	block(BlockHeading, ` {"level":1.0,"text":"x"} `),
	block(BlockHeading, `{"text":"x","level":1e0}`),
	block(BlockHeading, `{"text":"x","level":1E+0}`),
	block(BlockHeading, `{"text":"x","level":0.1e1}`),
	block(BlockHeading, `{"text":"x","level":1.5}`),
	block(BlockHeading, `{"text":"x","level":-0}`),
	block(BlockHeading, `{"text":"x","level":7}`),
	block(BlockHeading, `{"text":"x","level":999999999999999999999}`),
	block(BlockHeading, `{"text":"x","level":1e99999}`),
	block(BlockHeading, `{"text":"x","level":01}`),
	block(BlockHeading, `{"text":"x","level":1.}`),
	block(BlockHeading, `{"text":"x","level":.5}`),
	block(BlockHeading, `{"text":"x","level":+1}`),
	block(BlockHeading, `{"text":"x","level":-}`),
	block(BlockHeading, `{"text":"x","level":1e}`),
	block(BlockHeading, `{"text":"x","level":"1"}`),
	block(BlockHeading, `{"text":"x","level":null}`),
	block(BlockHeading, `{"text":"x","level":true}`),
	block(BlockHeading, `{"text":"a","text":"b","level":1}`),
	block(BlockHeading, `{"t\u0065xt":"a","level":1}`),
	block(BlockHeading, `{"text":"a","level":1,"zz":1,"aa":2,"zz":3}`),
	block(BlockHeading, `{"text":"a","level":1,"\ud800":1}`),
	block(BlockHeading, `{"text":"\ud800\u00e9\n","level":1}`),
	block(BlockHeading, `{"text":"a\u0001","level":1}`),
	block(BlockHeading, `{"text":"a\u2028b\u2029","level":1}`),
	block(BlockHeading, "{\"text\":\"a\u2028b\",\"level\":1}"),
	block(BlockHeading, "{\"text\":\"a\x01\",\"level\":1}"),
	block(BlockHeading, "{\"text\":\"a\x7f\u0085\",\"level\":1}"),
	block(BlockHeading, "{\"text\":\"\xff\",\"level\":1}"),
	block(BlockHeading, `{"text":"<a&b>\"\\\/\b\f\n\r\t","level":1}`),
	block(BlockHeading, `{"text":"\x","level":1}`),
	block(BlockHeading, `{"text":"\u12","level":1}`),
	block(BlockHeading, `{"text":"\u12G4","level":1}`),
	block(BlockHeading, `{"text":"a","level":1,}`),
	block(BlockHeading, `{"text":"a" "level":1}`),
	block(BlockHeading, `{"text":"a","level":1}}`),
	block(BlockHeading, `{"text":"a","level":1} {}`),
	block(BlockHeading, `{"text":"a","level":1`),
	block(BlockHeading, `{"text":"a`),
	block(BlockHeading, `{text:"a"}`),
	block(BlockHeading, "{\"text\":\"a\",\v\"level\":1}"),
	block(BlockHeading, "{\"text\":\"a\",\u00a0\"level\":1}"),
	block(BlockHeading, "\u00a0{\"text\":\"a\",\"level\":1}\v"),
	block(BlockHeading, "{\n\t\"text\" : \"a\" ,\r\n \"level\" : 1\n}"),
	block(BlockHeading, `{"text":"a","level":1,"x":{"y":[1,true,false,null,"s",{}]}}`),
	block(BlockHeading, `{"text":"a","level":1,"x":[tru]}`),
	block(BlockHeading, `{"text":"a","level":1,"x":nul}`),
	block(BlockHeading, `{"text":"a","level":1,"x":[1,]}`),
	block(BlockHeading, `{"text":"a","level":1,"x":[,1]}`),
	block(BlockHeading, `[{"text":"a","level":1}]`),
	block(BlockHeading, `"text"`),
	block(BlockHeading, `null`),
	block(BlockHeading, `{}`),
	block(BlockHeading, ``),
	block(BlockHeading, `   `),
	block(BlockHeading, "{\"text\":\"\xc3\",\"level\":1}"),
	block(BlockHeading, `{"text":"`+strings.Repeat("é", MaxHeadingLen+1)+`","level":1}`),
	block(BlockHeading, `{"text":"a","level":1,"deep":`+strings.Repeat("[", maxJSONDepth-1)+strings.Repeat("]", maxJSONDepth-1)+`}`),
	block(BlockHeading, `{"text":"a","level":1,"deep":`+strings.Repeat("[", maxJSONDepth)+strings.Repeat("]", maxJSONDepth)+`}`),
	block(BlockParagraph, `{"text":"line\nnext\tx\r"}`),
	block(BlockParagraph, `{"text":"bad\u0000"}`),
	block(BlockParagraph, `{"text":"c1\u0085"}`),
	block(BlockParagraph, `{"text":""}`),
	block(BlockParagraph, `{"text":["a"]}`),
	block(BlockRichText, `{"html":"<p onclick=\"x\">Hi <a href=\"https://e.com\">l</a><script>x</script></p>"}`),
	block(BlockRichText, `{"html":"<b>\u003c</b>"}`),
	block(BlockImage, `{"media_id":"`+strings.ToUpper(testMediaID)+`","alt":"A","caption":"c\nd"}`),
	block(BlockImage, `{"media_id":"not-a-uuid","alt":"\n"}`),
	block(BlockImage, `{}`),
	block(BlockQuote, `{"text":"q","cite":"c"}`),
	block(BlockQuote, `{"text":"q","cite":"c\n"}`),
	block(BlockList, `{"style":"ordered","items":["a","b\u0041"]}`),
	block(BlockList, `{"style":"unordered","items":[]}`),
	block(BlockList, `{"style":"bullets","items":["", 1, "\u0001", null]}`),
	block(BlockList, `{"style":"ordered","items":"a"}`),
	block(BlockList, `{"style":"ordered","items":[ "a" , "b" ]}`),
	block(BlockList, `{"style":"ordered","items":{"0":"a"}}`),
	block(BlockList, `{}`),
	block(BlockCode, `{"language":"c++","code":"int main() {}\n"}`),
	block(BlockCode, `{"language":"Go","code":"x"}`),
	block(BlockCode, `{"code":"x"}`),
	block(BlockEmbed, `{"url":"https://www.youtube.com/watch?v=x"}`),
	block(BlockEmbed, `{"url":"https://user@host/"}`),
	block(BlockEmbed, `{"url":"http:\/\/x.com"}`),
	block(BlockDivider, `{}`),
	block(BlockDivider, `{"x":1}`),
	block("", `{}`),
	block("video", `{"x":1}`),
	block("video", `nope`),
	block("", ``),
}

// checkSame fails t unless ValidateBlock and the old implementation give in
// the same output and the same errors, with and without a prefix.
func checkSame(t *testing.T, in BlockInput) {
	t.Helper()
	for _, prefix := range []string{"", "blocks[3]"} {
		var vNew, vOld Validator
		vNew.Add("before", "an earlier error")
		vOld.Add("before", "an earlier error")
		gotNew := ValidateBlock(&vNew, prefix, in)
		gotOld := validateBlockOld(&vOld, prefix, in)
		if !bytes.Equal(gotNew, gotOld) || (gotNew == nil) != (gotOld == nil) {
			t.Fatalf("%q %q, prefix %q: output\n new %q\n old %q", in.Type, in.Content, prefix, gotNew, gotOld)
		}
		if !reflect.DeepEqual(vNew.fields, vOld.fields) {
			t.Fatalf("%q %q, prefix %q: errors\n new %q\n old %q", in.Type, in.Content, prefix, vNew.fields, vOld.fields)
		}
	}
}

func TestValidateBlockSameAsOld(t *testing.T) {
	for _, in := range append(diffCases, loadBlocks()...) {
		checkSame(t, in)
	}
}

func FuzzValidateBlock(f *testing.F) {
	for _, in := range append(diffCases, loadBlocks()...) {
		f.Add(in.Type, []byte(in.Content))
	}
	f.Fuzz(func(t *testing.T, typ string, content []byte) {
		checkSame(t, BlockInput{Type: typ, Content: content})
	})
}

// BenchmarkValidateBlockOld and BenchmarkValidateBlockNew compare the two
// implementations on the load tool's eight blocks in one run.
func BenchmarkValidateBlockOld(b *testing.B) {
	benchValidate(b, validateBlockOld)
}

func BenchmarkValidateBlockNew(b *testing.B) {
	benchValidate(b, ValidateBlock)
}

func benchValidate(b *testing.B, validate func(*Validator, string, BlockInput) json.RawMessage) {
	blocks := loadBlocks()
	b.ReportAllocs()
	for b.Loop() {
		var v Validator
		for _, in := range blocks {
			if validate(&v, "blocks[0]", in) == nil {
				b.Fatal(v.Err())
			}
		}
	}
}
