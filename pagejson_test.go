package quire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// encodePage is what the API sent before AppendPageJSON, minus the
// newline Encode adds: the reference the hand-written encoder must match.
func encodePage(p *Page) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkPageJSON fails t unless AppendPageJSON writes what encoding/json
// writes, or fails where it fails. It appends after a prefix, to check
// that the prefix is kept, and kept alone on failure.
func checkPageJSON(t *testing.T, p *Page) {
	t.Helper()
	want, wantErr := encodePage(p)
	got, err := AppendPageJSON([]byte("prefix"), p)
	if wantErr != nil {
		if err == nil || string(got) != "prefix" {
			t.Fatalf("encoding/json fails with %v; AppendPageJSON: %v, %q", wantErr, err, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("AppendPageJSON: %v; encoding/json wrote %s", err, want)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("AppendPageJSON differs from encoding/json\n got: %q\nwant: %q", got[len("prefix"):], want)
	}
}

// jsonbSpaced renders content as PostgreSQL returns jsonb: a space after
// every colon and comma.
func jsonbSpaced(content string) string {
	var out strings.Builder
	inString := false
	for i := 0; i < len(content); i++ {
		c := content[i]
		out.WriteByte(c)
		switch {
		case inString && c == '\\':
			i++
			out.WriteByte(content[i])
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			out.WriteByte(' ')
		}
	}
	return out.String()
}

var (
	tricky = []string{
		"", "plain", `<script>alert("x")</script> & co`, "line\u2028sep\u2029para",
		"bad \xff utf-8 \xc3", "ctl \x00\x01\x1f\x7f \u0085 \b\f\n\r\t", `back\slash "quote"`,
		"é 日本 🎉", "\xe2\x80", "\xe2\x80\xa8\xe2\x80\xa9",
	}
	contents = []string{
		`{}`, `{"text":"a"}`, `{"text": "a"}`, " {\n\t\"text\" : \"a\" ,\r\n \"n\" : [ 1 , 2 ] } ",
		`{"html":"<p>a &amp; b</p>","s":"\u2028 \u2029"}`, `{"a":{"b":[[],[{}],{"c":null}],"d":true,"e":false}}`,
		`{"big":123456789012345678901234567890,"f":-1.5e-300,"g":1E+400,"z":0}`,
		`{"u":"\u00e9\u003c\ud83c\udf89","q":"\"\\\/\b\f\n\r\t"}`, `{"s":"jsonb , : keeps ,: in strings"}`,
		"{\"raw\":\"é \u2028 \xff\"}", `{"x":"\\"}`, `{"x":"\\\""}`, `{"q":"say \"hi, there\" , ok: \\"}`, `[1,"a",{"b":[]}]`, `"str"`, `null`, `12`,
	}
)

func pageCases() []*Page {
	utc := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	nano := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	milli := time.Date(1999, 12, 31, 23, 59, 59, 120000000, time.UTC)
	east := time.Date(2026, 3, 4, 5, 6, 7, 1000, time.FixedZone("IST", 5*3600+1800))
	west := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", -(9*3600+59)))
	local := time.Unix(1700000000, 42).Local()
	times := []time.Time{{}, utc, nano, milli, east, west, local, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	rev := "rev-<1>&"
	empty := ""
	block := func(i int, content string) Block {
		return Block{ID: fmt.Sprint("b", i), PageID: "skipped", Type: "rich_text", Position: i - 3,
			Content: json.RawMessage(content), CreatedBy: "u1", CreatedAt: times[i%len(times)], UpdatedAt: times[(i+3)%len(times)]}
	}
	var pages []*Page
	pages = append(pages, nil, &Page{}, &Page{Blocks: []Block{}}, &Page{Blocks: []Block{{}}},
		&Page{Blocks: []Block{{Content: json.RawMessage{}}}}, &Page{Blocks: []Block{{Content: json.RawMessage(" \n")}}})
	for i, s := range tricky {
		pages = append(pages, &Page{ID: s, Slug: "slug-" + s, Title: s, CreatedBy: s, UpdatedBy: s,
			CreatedAt: times[i%len(times)], UpdatedAt: times[(i+1)%len(times)], Version: int64(i) * -7,
			ContentHash: "not sent"})
	}
	for i, tm := range times {
		tm := tm
		pages = append(pages, &Page{ID: "p", CreatedAt: tm, UpdatedAt: tm, PublishedAt: &tm, PublishedRevisionID: &empty,
			HasUnpublishedChanges: i%2 == 0, Version: 1<<63 - 1, Blocks: []Block{block(i, `{}`)}})
	}
	var all []Block
	for i, c := range contents {
		all = append(all, block(i, c), block(i+1, jsonbSpaced(c)))
	}
	pages = append(pages, &Page{ID: "all", Title: "Ünïcode <b>", PublishedRevisionID: &rev, PublishedAt: &nano, Blocks: all})
	publishAt := utc.Add(time.Hour)
	pages = append(pages,
		&Page{ID: "s1", Blocks: []Block{}, Schedule: &PageSchedule{PageID: "s1", PublishAt: &publishAt, Note: "<soon>", CreatedAt: east, Token: "x"}},
		&Page{ID: "s2", Schedule: &PageSchedule{RevisionID: "r", CreatedBy: "u"}},
		// Years RFC 3339 cannot write: encoding/json fails, so must AppendPageJSON.
		&Page{ID: "y", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		&Page{ID: "y", UpdatedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		&Page{ID: "y", PublishedAt: &time.Time{}, Blocks: []Block{{UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		&Page{ID: "y", Schedule: &PageSchedule{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	)
	return pages
}

func TestAppendPageJSON(t *testing.T) {
	for i, p := range pageCases() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkPageJSON(t, p) })
	}
}

func FuzzPageJSON(f *testing.F) {
	for i, s := range tricky {
		c := contents[i%len(contents)]
		f.Add(s, s+"-title", []byte(c), int64(i)*1e9+123, i*1800, i%2 == 0)
	}
	for _, c := range contents {
		f.Add("p", "title", []byte(jsonbSpaced(c)), int64(1700000000123456789), -3600, true)
	}
	f.Fuzz(func(t *testing.T, id, title string, content []byte, nanos int64, offset int, published bool) {
		// Stored content is always valid JSON; encoding/json fails on
		// anything else and AppendPageJSON does not check.
		if !json.Valid(content) {
			t.Skip()
		}
		tm := time.Unix(0, nanos).In(time.FixedZone("", offset%(24*3600)))
		p := &Page{ID: id, Slug: id, Title: title, CreatedBy: title, UpdatedBy: id, CreatedAt: tm, UpdatedAt: tm.UTC(), Version: nanos,
			Blocks: []Block{{ID: id, Type: title, Position: offset, Content: content, CreatedBy: id, CreatedAt: tm, UpdatedAt: tm}}}
		var indented bytes.Buffer
		if json.Indent(&indented, content, " ", "\t") == nil {
			p.Blocks = append(p.Blocks, Block{Content: indented.Bytes()})
		}
		if published {
			p.PublishedRevisionID, p.PublishedAt = &title, &tm
		}
		checkPageJSON(t, p)
	})
}
