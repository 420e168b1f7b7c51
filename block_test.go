package quire

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const testMediaID = "0190a5e4-7c3b-7d2e-8f10-123456789abc"

func block(typ, content string) BlockInput {
	return BlockInput{Type: typ, Content: json.RawMessage(content)}
}

func TestValidateBlockNormalises(t *testing.T) {
	for _, tc := range []struct {
		in   BlockInput
		want string
	}{
		{block("heading", `{"level": 2, "text": "Hello"}`), `{"text":"Hello","level":2}`},
		{block("heading", `{"text":"H","level":3.0}`), `{"text":"H","level":3}`},
		{block("heading", `{"text":"H","level":1e0}`), `{"text":"H","level":1}`},
		{block("paragraph", `{"text":"a <b> & c\nline two"}`), `{"text":"a <b> & c\nline two"}`},
		{block("rich_text", `{"html":"<p onclick=\"x()\">hi</p><script>x</script>"}`), `{"html":"<p>hi</p>"}`},
		{block("image", `{"media_id":"0190A5E4-7C3B-7D2E-8F10-123456789ABC"}`), `{"media_id":"` + testMediaID + `","alt":"","caption":""}`},
		{block("image", `{"caption":"c","alt":"a","media_id":"`+testMediaID+`"}`), `{"media_id":"` + testMediaID + `","alt":"a","caption":"c"}`},
		{block("quote", `{"text":"To be"}`), `{"text":"To be","cite":""}`},
		{block("quote", `{"text":"To be","cite":"Hamlet"}`), `{"text":"To be","cite":"Hamlet"}`},
		{block("list", `{"style":"ordered","items":["one","two"]}`), `{"style":"ordered","items":["one","two"]}`},
		{block("code", `{"code":"x := 1\n\tif x {}"}`), `{"language":"","code":"x := 1\n\tif x {}"}`},
		{block("code", `{"language":"c++","code":"int x;"}`), `{"language":"c++","code":"int x;"}`},
		{block("embed", `{"url":"https://www.youtube.com/embed/abc?start=10"}`), `{"url":"https://www.youtube.com/embed/abc?start=10"}`},
		{block("divider", `{}`), `{}`},
		{block("divider", " \n{ }\n"), `{}`},
	} {
		var v Validator
		got := ValidateBlock(&v, "blocks[0]", tc.in)
		if err := v.Err(); err != nil {
			t.Errorf("%s %s: unexpected error %v", tc.in.Type, tc.in.Content, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.in.Type, tc.in.Content, got, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: output is not JSON: %s", tc.in.Type, got)
		}
	}
}

// TestValidateBlocksFieldErrors puts each bad block at index 3, after three
// good ones, and checks the exact fields the caller is told about.
func TestValidateBlocksFieldErrors(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name string
		in   BlockInput
		want []FieldError
	}{
		{"no type", block("", `{}`), []FieldError{{"blocks[3].type", "is required"}}},
		{"unknown type", block("video", `{"url":"https://x.io"}`), []FieldError{{"blocks[3].type", "must be one of heading, paragraph, rich_text, image, quote, list, code, embed, divider"}}},
		{"type is case-sensitive", block("Heading", `{"text":"a","level":1}`), []FieldError{{"blocks[3].type", "must be one of heading, paragraph, rich_text, image, quote, list, code, embed, divider"}}},
		{"no content", BlockInput{Type: "divider"}, []FieldError{{"blocks[3].content", "is required"}}},
		{"content null", block("divider", `null`), []FieldError{{"blocks[3].content", "must be a JSON object"}}},
		{"content array", block("paragraph", `[{"text":"a"}]`), []FieldError{{"blocks[3].content", "must be a JSON object"}}},
		{"content string", block("paragraph", `"a"`), []FieldError{{"blocks[3].content", "must be a JSON object"}}},
		{"content not UTF-8", block("paragraph", "{\"text\":\"\xff\"}"), []FieldError{{"blocks[3].content", "must be valid UTF-8"}}},
		{"unknown type and bad content", block("nope", `[]`), []FieldError{
			{"blocks[3].type", "must be one of heading, paragraph, rich_text, image, quote, list, code, embed, divider"},
			{"blocks[3].content", "must be a JSON object"}}},
		{"unknown field", block("paragraph", `{"text":"a","bold":true}`), []FieldError{{"blocks[3].content.bold", "is not a field of paragraph blocks"}}},
		{"field names are case-sensitive", block("paragraph", `{"Text":"a"}`), []FieldError{
			{"blocks[3].content.text", "is required"}, {"blocks[3].content.Text", "is not a field of paragraph blocks"}}},
		{"divider takes nothing", block("divider", `{"x":1}`), []FieldError{{"blocks[3].content.x", "is not a field of divider blocks"}}},

		{"heading without level", block("heading", `{"text":"a"}`), []FieldError{{"blocks[3].content.level", "is required"}}},
		{"heading level 0", block("heading", `{"text":"a","level":0}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading level 7", block("heading", `{"text":"a","level":7}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading level 2.5", block("heading", `{"text":"a","level":2.5}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading level string", block("heading", `{"text":"a","level":"2"}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading level null", block("heading", `{"text":"a","level":null}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading level huge exponent", block("heading", `{"text":"a","level":1e999999999}`), []FieldError{{"blocks[3].content.level", "must be an integer from 1 to 6"}}},
		{"heading empty text", block("heading", `{"text":"","level":1}`), []FieldError{{"blocks[3].content.text", "must not be empty"}}},
		{"heading text too long", block("heading", `{"text":"`+long(501)+`","level":1}`), []FieldError{{"blocks[3].content.text", "must be at most 500 characters"}}},
		{"heading text newline", block("heading", `{"text":"a\nb","level":1}`), []FieldError{{"blocks[3].content.text", "must not contain control characters"}}},
		{"heading all wrong", block("heading", `{"text":1,"level":9,"size":2}`), []FieldError{
			{"blocks[3].content.text", "must be a string"}, {"blocks[3].content.level", "must be an integer from 1 to 6"},
			{"blocks[3].content.size", "is not a field of heading blocks"}}},

		{"paragraph without text", block("paragraph", `{}`), []FieldError{{"blocks[3].content.text", "is required"}}},
		{"paragraph text null", block("paragraph", `{"text":null}`), []FieldError{{"blocks[3].content.text", "must be a string"}}},
		{"paragraph NUL", block("paragraph", `{"text":"a\u0000b"}`), []FieldError{{"blocks[3].content.text", "must not contain control characters other than tabs and line breaks"}}},

		{"rich_text without html", block("rich_text", `{"text":"a"}`), []FieldError{
			{"blocks[3].content.html", "is required"}, {"blocks[3].content.text", "is not a field of rich_text blocks"}}},
		{"rich_text html not a string", block("rich_text", `{"html":["<p>"]}`), []FieldError{{"blocks[3].content.html", "must be a string"}}},

		{"image without media", block("image", `{"alt":"a"}`), []FieldError{{"blocks[3].content.media_id", "is required"}}},
		{"image media not a UUID", block("image", `{"media_id":"../etc/passwd"}`), []FieldError{{"blocks[3].content.media_id", "must be a UUID"}}},
		{"image alt too long", block("image", `{"media_id":"`+testMediaID+`","alt":"`+long(1001)+`"}`), []FieldError{{"blocks[3].content.alt", "must be at most 1000 characters"}}},
		{"image alt not a string", block("image", `{"media_id":"`+testMediaID+`","alt":false}`), []FieldError{{"blocks[3].content.alt", "must be a string"}}},

		{"quote without text", block("quote", `{"cite":"x"}`), []FieldError{{"blocks[3].content.text", "is required"}}},
		{"quote cite with tab", block("quote", `{"text":"a","cite":"x\ty"}`), []FieldError{{"blocks[3].content.cite", "must not contain control characters"}}},

		{"list without style", block("list", `{"items":["a"]}`), []FieldError{{"blocks[3].content.style", "is required"}}},
		{"list bad style", block("list", `{"style":"bulleted","items":["a"]}`), []FieldError{{"blocks[3].content.style", "must be one of ordered, unordered"}}},
		{"list no items", block("list", `{"style":"ordered","items":[]}`), []FieldError{{"blocks[3].content.items", "must have from 1 to 1000 items"}}},
		{"list too many items", block("list", `{"style":"ordered","items":[`+strings.Repeat(`"a",`, 1000)+`"a"]}`), []FieldError{{"blocks[3].content.items", "must have from 1 to 1000 items"}}},
		{"list items not an array", block("list", `{"style":"ordered","items":"a"}`), []FieldError{{"blocks[3].content.items", "must be an array of strings"}}},
		{"list item not a string", block("list", `{"style":"ordered","items":["a",2,"c",""]}`), []FieldError{
			{"blocks[3].content.items[1]", "must be a string"}, {"blocks[3].content.items[3]", "must not be empty"}}},
		{"list item too long", block("list", `{"style":"unordered","items":["`+long(10001)+`"]}`), []FieldError{{"blocks[3].content.items[0]", "must be at most 10000 characters"}}},

		{"code without code", block("code", `{"language":"go"}`), []FieldError{{"blocks[3].content.code", "is required"}}},
		{"code language uppercase", block("code", `{"language":"Go","code":"x"}`), []FieldError{{"blocks[3].content.language", "must be at most 40 characters of a-z, 0-9, +, #, . and -"}}},
		{"code language too long", block("code", `{"language":"`+long(41)+`","code":"x"}`), []FieldError{{"blocks[3].content.language", "must be at most 40 characters of a-z, 0-9, +, #, . and -"}}},
		{"code language with space", block("code", `{"language":"objective c","code":"x"}`), []FieldError{{"blocks[3].content.language", "must be at most 40 characters of a-z, 0-9, +, #, . and -"}}},

		{"embed without url", block("embed", `{}`), []FieldError{{"blocks[3].content.url", "is required"}}},
		{"embed http", block("embed", `{"url":"http://x.io/v"}`), []FieldError{{"blocks[3].content.url", "must be an absolute https URL without user info"}}},
		{"embed too long", block("embed", `{"url":"https://x.io/`+long(2048)+`"}`), []FieldError{{"blocks[3].content.url", "must be at most 2048 characters"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []BlockInput{
				block("heading", `{"text":"T","level":1}`),
				block("paragraph", `{"text":"p"}`),
				block("divider", `{}`),
				tc.in,
			}
			out, err := ValidateBlocks(in)
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("got %v, %v; want an EINVALID error", out, err)
			}
			if !reflect.DeepEqual(e.Fields, tc.want) {
				t.Fatalf("fields:\n got %q\nwant %q", e.Fields, tc.want)
			}
		})
	}
}

// MaxBlockTextLen is what the schema states; through ValidateBlocks the byte
// limit of the whole content comes first, so check it on ValidateBlock.
func TestBlockTextLimit(t *testing.T) {
	for _, n := range []int{MaxBlockTextLen, MaxBlockTextLen + 1} {
		var v Validator
		ValidateBlock(&v, "blocks[3]", block("paragraph", `{"text":"`+strings.Repeat("é", n)+`"}`))
		want := []FieldError(nil)
		if n > MaxBlockTextLen {
			want = []FieldError{{"blocks[3].content.text", "must be at most 65536 characters"}}
		}
		if !reflect.DeepEqual(v.fields, want) {
			t.Errorf("%d characters: got %q, want %q", n, v.fields, want)
		}
	}
}

func TestValidateBlocksReportsEveryBlock(t *testing.T) {
	_, err := ValidateBlocks([]BlockInput{block("heading", `{"text":"a","level":9}`), block("divider", `{}`), block("code", `{}`)})
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID {
		t.Fatalf("got %v", err)
	}
	want := []FieldError{{"blocks[0].content.level", "must be an integer from 1 to 6"}, {"blocks[2].content.code", "is required"}}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Fatalf("got %q, want %q", e.Fields, want)
	}
}

func TestValidateBlocksOK(t *testing.T) {
	out, err := ValidateBlocks(nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("no blocks: %v %v", out, err)
	}
	out, err = ValidateBlocks([]BlockInput{block("divider", `{}`), block("quote", `{"text":"q"}`)})
	if err != nil || len(out) != 2 || string(out[0]) != `{}` || string(out[1]) != `{"text":"q","cite":""}` {
		t.Fatalf("got %s %v", out, err)
	}
}

func TestRichTextSanitised(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<script>alert(1)</script>`, ``},
		{`<img src=x onerror=alert(1)>`, ``},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<a href="JaVaScRiPt:alert(1)">x</a>`, `x`},
		{`<a href=" javascript:alert(1)">x</a>`, `x`},
		{`<a href="jav&#x09;ascript:alert(1)">x</a>`, `x`},
		{`<a href="data:text/html,<script>alert(1)</script>">x</a>`, `x`},
		{`<a href="vbscript:msgbox(1)">x</a>`, `x`},
		{`<a href="/relative">x</a>`, `x`},
		{`<p style="background:url(javascript:alert(1))">x</p>`, `<p>x</p>`},
		{`<iframe src="https://evil.example"></iframe>after`, `after`},
		{`<svg onload=alert(1)><circle/></svg>t`, `t`},
		{`<style>p{color:red}</style><p>t</p>`, `<p>t</p>`},
		{`<p onclick="alert(1)" class="c" id="i">t</p>`, `<p>t</p>`},
		{`<object data="x.swf"></object><embed src="x.swf">t`, `t`},
		{`<form action="https://x.io"><input name=a><button>b</button></form>`, `b`},
		{`<h1>Title</h1>`, `Title`},
		{`<a href="https://x.io" rel="opener" target="_blank">l</a>`, `<a href="https://x.io" rel="noopener noreferrer nofollow">l</a>`},
		{`<p><strong>ok</strong> <a href="https://x.io">l</a></p>`, `<p><strong>ok</strong> <a href="https://x.io" rel="noopener noreferrer nofollow">l</a></p>`},
		{`<a href="mailto:a@x.io">m</a>`, `<a href="mailto:a@x.io" rel="noopener noreferrer nofollow">m</a>`},
		{`<p>a rel="nofollow noreferrer"> b</p>`, `<p>a rel=&#34;nofollow noreferrer&#34;&gt; b</p>`},
		{`<ul><li><em>e</em></li></ul><ol><li><b>b</b><i>i</i><u>u</u><s>s</s></li></ol>`, `<ul><li><em>e</em></li></ul><ol><li><b>b</b><i>i</i><u>u</u><s>s</s></li></ol>`},
		{`<blockquote>q</blockquote><pre><code>c</code></pre><h2>2</h2><h6>6</h6><hr><p>x<sub>1</sub><sup>2</sup><br></p>`, `<blockquote>q</blockquote><pre><code>c</code></pre><h2>2</h2><h6>6</h6><hr><p>x<sub>1</sub><sup>2</sup><br></p>`},
	} {
		var v Validator
		content, _ := json.Marshal(map[string]string{"html": tc.in})
		out := ValidateBlock(&v, "", BlockInput{Type: "rich_text", Content: content})
		if err := v.Err(); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		var got struct{ HTML string }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got.HTML != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got.HTML, tc.want)
		}
		if again := SanitizeHTML(got.HTML); again != got.HTML {
			t.Errorf("%s: not idempotent: %s → %s", tc.in, got.HTML, again)
		}
	}
}

func TestEmbedURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://www.youtube.com/embed/dQw4w9WgXcQ":     true,
		"https://player.vimeo.com/video/1?h=a&b=c#t=1s": true,
		"https://x.io":                             true,
		"https://x.io:8443/a/@user/%20b":           true,
		"https://192.0.2.1/v":                      true,
		"http://x.io/v":                            false,
		"HTTPS://x.io/v":                           false,
		"javascript:alert(1)":                      false,
		"data:text/html,<script>alert(1)</script>": false,
		"//x.io/v":                                 false,
		"/v":                                       false,
		"x.io/v":                                   false,
		"https://user:pw@x.io/v":                   false,
		"https://user@x.io/v":                      false,
		"https://x.io:443@evil.io/v":               false,
		"https://x.io\\@evil.io/v":                 false,
		"https://":                                 false,
		"https:///v":                               false,
		"https://x.io/a b":                         false,
		"https://x.io/%zz":                         false,
		"https://x.io/\"><script>":                 false,
		"https://-x.io/":                           false,
		"https://x.io:port/":                       false,
		"https://ex\u00e4mple.com/":                false,
		" https://x.io/":                           false,
	} {
		content, _ := json.Marshal(map[string]string{"url": url})
		var v Validator
		ValidateBlock(&v, "", BlockInput{Type: "embed", Content: content})
		if got := v.Err() == nil; got != ok {
			t.Errorf("%q: valid=%v, want %v (%v)", url, got, ok, v.Err())
		}
	}
}

func TestBlockLimits(t *testing.T) {
	many := make([]BlockInput, MaxBlocksPerPage+1)
	for i := range many {
		many[i] = block("divider", `{}`)
	}
	if _, err := ValidateBlocks(many[:MaxBlocksPerPage]); err != nil {
		t.Fatalf("%d blocks: %v", MaxBlocksPerPage, err)
	}
	_, err := ValidateBlocks(many)
	assertTooLarge(t, err, []FieldError{{"blocks", "must have at most 500 blocks, not 501"}})

	big := block("paragraph", `{"text":"`+strings.Repeat("a", 65<<10)+`"}`)
	justFits := block("paragraph", `{"text":"`+strings.Repeat("a", MaxBlockContentBytes-len(`{"text":""}`))+`"}`)
	if _, err := ValidateBlocks([]BlockInput{justFits}); err != nil {
		t.Fatalf("content of exactly %d bytes: %v", MaxBlockContentBytes, err)
	}
	_, err = ValidateBlocks([]BlockInput{big, block("divider", `{}`), big, block("nope", `{}`)})
	assertTooLarge(t, err, []FieldError{{"blocks[0].content", "must be at most 65536 bytes of JSON"}, {"blocks[2].content", "must be at most 65536 bytes of JSON"}})

	_, err = ValidateSingleBlock(big)
	assertTooLarge(t, err, []FieldError{{"content", "must be at most 65536 bytes of JSON"}})
}

func assertTooLarge(t *testing.T, err error, want []FieldError) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != ETOOLARGE {
		t.Fatalf("got %v, want ETOOLARGE", err)
	}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Fatalf("fields:\n got %q\nwant %q", e.Fields, want)
	}
}

func TestValidateSingleBlock(t *testing.T) {
	out, err := ValidateSingleBlock(block("heading", `{"text":"a","level":2}`))
	if err != nil || string(out) != `{"text":"a","level":2}` {
		t.Fatalf("got %s %v", out, err)
	}
	_, err = ValidateSingleBlock(block("heading", `{"text":"a","level":8}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Message != "content.level must be an integer from 1 to 6" {
		t.Fatalf("got %v", err)
	}
}

func TestMediaIDs(t *testing.T) {
	other := "0190a5e4-7c3b-7d2e-8f10-000000000001"
	got := MediaIDs([]BlockInput{
		block("image", `{"media_id":"`+strings.ToUpper(testMediaID)+`"}`),
		block("paragraph", `{"text":"`+other+`"}`),
		block("image", `{"media_id":"`+other+`","alt":"x"}`),
		block("image", `{"media_id":"`+testMediaID+`"}`),
		block("image", `not json`),
	})
	if want := []string{testMediaID, other}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := MediaIDs([]BlockInput{block("divider", `{}`)}); len(got) != 0 {
		t.Fatalf("no images: %v", got)
	}
}

// Every declared type has a schema and a description, and the list of types
// and the declarations agree.
func TestBlockTypesDeclared(t *testing.T) {
	if len(BlockTypes) != len(blockSpecs) {
		t.Fatalf("%d types listed, %d declared", len(BlockTypes), len(blockSpecs))
	}
	for _, typ := range BlockTypes {
		if spec, ok := blockSpecs[typ]; !ok || spec.doc == "" {
			t.Errorf("%s: not declared or undocumented", typ)
		}
		for _, f := range blockSpecs[typ].fields {
			if f.pattern != nil && f.message == "" {
				t.Errorf("%s.%s: a pattern without a message", typ, f.name)
			}
		}
	}
}

// A page's blocks together hold at most MaxPageContentBytes, so that a
// page at its limits fits in one request of the page body limit.
func TestPageContentLimit(t *testing.T) {
	text := strings.Repeat("a", MaxBlockContentBytes-len(`{"text":""}`))
	full := block("paragraph", `{"text":"`+text+`"}`)
	n := MaxPageContentBytes / MaxBlockContentBytes // 48 blocks of 64 KiB: exactly the limit
	blocks := make([]BlockInput, n+1)
	for i := range blocks {
		blocks[i] = full
	}
	if _, err := ValidateBlocks(blocks[:n]); err != nil {
		t.Fatalf("%d full blocks (%d bytes): %v", n, n*MaxBlockContentBytes, err)
	}
	_, err := ValidateBlocks(blocks)
	assertTooLarge(t, err, []FieldError{{"blocks", fmt.Sprintf("the blocks of a page may hold at most %d bytes of content together, not %d", MaxPageContentBytes, (n+1)*MaxBlockContentBytes)}})

	stored := make([]Block, n+1)
	for i := range stored {
		// Stored content may come back spaced out (PostgreSQL's jsonb): it
		// is measured compact.
		stored[i] = Block{Content: json.RawMessage(`{"text": "` + text + `"}`)}
	}
	if err := CheckPageContentSize(stored[:n]); err != nil {
		t.Fatalf("%d stored full blocks: %v", n, err)
	}
	if err := CheckPageContentSize(stored); err == nil {
		t.Fatal("one block over the page limit passed")
	}
}
