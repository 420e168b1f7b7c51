package quire

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// applyPatch is a small RFC 6902 interpreter for the operations diffs emit.
func applyPatch(t *testing.T, doc any, ops []PatchOp) any {
	t.Helper()
	for _, op := range ops {
		var val any
		if op.Value != nil {
			v, err := decodeNumbers(op.Value)
			if err != nil {
				t.Fatal(err)
			}
			val = v
		}
		if op.Path == "" {
			switch op.Op {
			case "test":
				if !reflect.DeepEqual(doc, val) {
					t.Fatalf("test failed at root")
				}
			case "replace":
				doc = val
			}
			continue
		}
		parts := strings.Split(op.Path[1:], "/")
		parent := doc
		for _, p := range parts[:len(parts)-1] {
			parent = child(t, parent, p)
		}
		last := strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[len(parts)-1])
		switch op.Op {
		case "test":
			if got := child(t, parent, parts[len(parts)-1]); !reflect.DeepEqual(got, val) {
				t.Fatalf("test %s: have %v, patch expects %v", op.Path, got, val)
			}
		case "remove":
			delete(parent.(map[string]any), last)
		case "add", "replace":
			switch p := parent.(type) {
			case map[string]any:
				p[last] = val
			case []any:
				i, _ := strconv.Atoi(last)
				p[i] = val
			}
		}
	}
	return doc
}

func child(t *testing.T, v any, token string) any {
	token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
	switch c := v.(type) {
	case map[string]any:
		return c[token]
	case []any:
		i, _ := strconv.Atoi(token)
		return c[i]
	}
	t.Fatalf("no child %q in %v", token, v)
	return nil
}

func TestJSONPatchTurnsOneDocumentIntoTheOther(t *testing.T) {
	cases := [][2]string{
		{`{"text":"a","level":2}`, `{"text":"b","level":2}`},
		{`{"a":1}`, `{"b":1}`},
		{`{"style":"ordered","items":["one","two"]}`, `{"style":"ordered","items":["one","three"]}`},
		{`{"items":["one","two"]}`, `{"items":["one"]}`},
		{`{"a/b":{"c~d":[1,{"x":null}]}}`, `{"a/b":{"c~d":[1,{"x":true}]}}`},
		{`{"n":2}`, `{"n":2.0}`},
		{`{"n":12345678901234567890}`, `{"n":12345678901234567891}`},
		{`{"a":{"b":1}}`, `{"a":[1]}`},
		{`{}`, `{}`},
	}
	for _, c := range cases {
		ops, err := JSONPatch(json.RawMessage(c[0]), json.RawMessage(c[1]))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := decodeNumbers(json.RawMessage(c[0]))
		b, _ := decodeNumbers(json.RawMessage(c[1]))
		if got := applyPatch(t, a, ops); !reflect.DeepEqual(got, b) {
			enc, _ := json.Marshal(ops)
			t.Fatalf("%s + %s = %v, want %s", c[0], enc, got, c[1])
		}
		if (c[0] == c[1]) != (len(ops) == 0) {
			t.Fatalf("%s → %s: %d ops", c[0], c[1], len(ops))
		}
	}
	ops, _ := JSONPatch(json.RawMessage(`{"text":"old","level":2}`), json.RawMessage(`{"text":"new","level":2}`))
	enc, _ := json.Marshal(ops)
	if want := `[{"op":"test","path":"/text","value":"old"},{"op":"replace","path":"/text","value":"new"}]`; string(enc) != want {
		t.Fatalf("patch %s, want %s", enc, want)
	}
}

func TestWordDiffAndVisibleText(t *testing.T) {
	got := WordDiff("The quick brown fox jumps.", "The  quick red fox jumps high.")
	want := []TextChange{{"equal", "The quick"}, {"delete", "brown"}, {"insert", "red"}, {"equal", "fox"}, {"delete", "jumps."}, {"insert", "jumps high."}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WordDiff = %v, want %v", got, want)
	}
	if got := VisibleText(`<p>One <strong>bold</strong>&amp;<em>x</em></p><p>Two&nbsp;words</p><ul><li>a</li><li>b</li></ul>`); got != "One bold & x Two words a b" {
		t.Fatalf("VisibleText = %q", got)
	}
}

func sb(id, typ, content string) SnapshotBlock {
	return SnapshotBlock{ID: id, Type: typ, Content: json.RawMessage(content)}
}

func TestDiffMatchesBlocksByID(t *testing.T) {
	from := DiffSide{Title: "Old", Slug: "same", Blocks: []SnapshotBlock{
		sb("a", "heading", `{"text":"Hello","level":2}`),
		sb("b", "paragraph", `{"text":"keep me"}`),
		sb("c", "rich_text", `{"html":"<p>The quick <b>brown</b> fox.</p>"}`),
		sb("d", "divider", `{}`),
		sb("e", "paragraph", `{"text":"going away"}`),
	}}
	to := DiffSide{Title: "New", Slug: "same", Blocks: []SnapshotBlock{
		sb("n", "quote", `{"text":"new","cite":""}`),
		sb("d", "divider", `{}`), // moved up: the one block that explains the new order
		sb("a", "heading", `{"text":"Hello","level":2}`),
		sb("b", "paragraph", `{"text":"keep me"}`),
		sb("c", "rich_text", `{"html":"<p>The quick <b>red</b> fox.</p>"}`),
	}}
	d, err := Diff(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical || d.Title == nil || d.Title.From != "Old" || d.Title.To != "New" || d.Slug != nil {
		t.Fatalf("fields: %+v %+v %+v", d.Identical, d.Title, d.Slug)
	}
	if want := (DiffSummary{Added: 1, Removed: 1, Changed: 1, Moved: 1, Unchanged: 2}); d.Summary != want {
		t.Fatalf("summary %+v, want %+v", d.Summary, want)
	}
	var kinds []string
	for _, c := range d.Blocks {
		kinds = append(kinds, c.ID+":"+c.Change)
	}
	if got := strings.Join(kinds, " "); got != "n:added d:moved c:changed e:removed" {
		t.Fatalf("blocks %s", got)
	}
	moved, changed, removed := d.Blocks[1], d.Blocks[2], d.Blocks[3]
	if *moved.OldPosition != 3 || *moved.NewPosition != 1 || !moved.Moved || moved.Patch != nil {
		t.Fatalf("moved %+v", moved)
	}
	if *changed.OldPosition != 2 || *changed.NewPosition != 4 || changed.Moved || len(changed.Patch) != 2 || changed.Patch[1].Path != "/html" {
		t.Fatalf("changed %+v", changed)
	}
	if want := []TextChange{{"equal", "The quick"}, {"delete", "brown"}, {"insert", "red"}, {"equal", "fox."}}; !reflect.DeepEqual(changed.TextDiff, want) {
		t.Fatalf("text diff %v", changed.TextDiff)
	}
	if removed.NewPosition != nil || *removed.OldPosition != 4 || string(removed.Content) != `{"text":"going away"}` {
		t.Fatalf("removed %+v", removed)
	}
	if d2, _ := Diff(to, to); !d2.Identical || len(d2.Blocks) != 0 || d2.Summary.Unchanged != 5 {
		t.Fatalf("self diff %+v", d2)
	}
	// A type change under the same id is a change, with the old type.
	d3, _ := Diff(DiffSide{Blocks: []SnapshotBlock{sb("x", "paragraph", `{"text":"t"}`)}},
		DiffSide{Blocks: []SnapshotBlock{sb("x", "quote", `{"text":"t","cite":""}`)}})
	if c := d3.Blocks[0]; c.Change != BlockChanged || c.OldType != "paragraph" || c.Type != "quote" || c.TextDiff != nil {
		t.Fatalf("type change %+v", c)
	}
}
