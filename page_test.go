package quire

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func fieldsOf(check func(v *Validator)) []FieldError {
	var v Validator
	check(&v)
	return v.fields
}

func TestValidateSlug(t *testing.T) {
	const rule = "must be lowercase a-z and 0-9 words joined by single hyphens, optionally nested with single slashes, e.g. blog/my-post-2"
	long := strings.Repeat("a", 95) + "/" + strings.Repeat("b", 104) // 200
	for slug, want := range map[string]string{
		"home":                    "",
		"blog/my-post-2":          "",
		"a":                       "",
		"2026":                    "",
		"docs/v2/getting-started": "",
		long:                      "",
		long + "c":                "must be at most 200 characters",
		"":                        "is required",
		"Home":                    rule,
		"a--b":                    rule,
		"-a":                      rule,
		"a-":                      rule,
		"a/":                      rule,
		"/a":                      rule,
		"/":                       rule,
		"a//b":                    rule,
		"a/-b":                    rule,
		"a_b":                     rule,
		"a b":                     rule,
		"a.html":                  rule,
		"ü":                       rule,
		"a/../b":                  rule,
		"home\n":                  rule,
	} {
		got := fieldsOf(func(v *Validator) { ValidateSlug(v, "slug", slug) })
		var wantFields []FieldError
		if want != "" {
			wantFields = []FieldError{{"slug", want}}
		}
		if !reflect.DeepEqual(got, wantFields) {
			t.Errorf("%q: got %q, want %q", slug, got, wantFields)
		}
	}
}

func TestValidateTitle(t *testing.T) {
	for title, want := range map[string]string{
		"About us":                         "",
		"Ünïcödé ✓ — 日本語":                  "",
		strings.Repeat("é", MaxTitleLen):   "",
		strings.Repeat("é", MaxTitleLen+1): "must be at most 300 characters",
		"":                                 "is required",
		"  \t":                             "is required",
		"a\nb":                             "must not contain control characters",
		"a\x00b":                           "must not contain control characters",
		"a\u0085b":                         "must not contain control characters",
		"a\xffb":                           "must be valid UTF-8",
	} {
		got := fieldsOf(func(v *Validator) { ValidateTitle(v, "title", title) })
		var wantFields []FieldError
		if want != "" {
			wantFields = []FieldError{{"title", want}}
		}
		if !reflect.DeepEqual(got, wantFields) {
			t.Errorf("%q: got %q, want %q", title, got, wantFields)
		}
	}
}

func TestValidateNote(t *testing.T) {
	for note, want := range map[string]string{
		"":                                   "",
		"Fixed typos.\n\n- intro\n\t- outro": "",
		strings.Repeat("n", MaxNoteLen):      "",
		strings.Repeat("n", MaxNoteLen+1):    "must be at most 1000 characters",
		"a\x00":                              "must not contain control characters other than tabs and line breaks",
		"a\x1b[31m":                          "must not contain control characters other than tabs and line breaks",
		"\xc3":                               "must be valid UTF-8",
	} {
		got := fieldsOf(func(v *Validator) { ValidateNote(v, "note", note) })
		var wantFields []FieldError
		if want != "" {
			wantFields = []FieldError{{"note", want}}
		}
		if !reflect.DeepEqual(got, wantFields) {
			t.Errorf("%q: got %q, want %q", note, got, wantFields)
		}
	}
}

func TestRevisionStatus(t *testing.T) {
	for s, want := range map[RevisionStatus]bool{
		RevisionDraft: true, RevisionPublished: true, RevisionArchived: true,
		"": false, "Published": false, "deleted": false,
	} {
		if s.Valid() != want {
			t.Errorf("%q.Valid() = %v", s, !want)
		}
	}
}

// The JSON shape is part of the API (PRODUCT.md §2, §4): snake_case names,
// nullable publication fields, no page_id inside a page's blocks.
func TestPageAndRevisionJSON(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := Page{ID: "p", Slug: "home", Blocks: []Block{{ID: "b", PageID: "p", Type: "divider", Content: json.RawMessage(`{}`)}}}
	assertKeys(t, p, "id", "slug", "title", "created_by", "updated_by", "created_at", "updated_at", "version",
		"published_revision_id", "published_at", "has_unpublished_changes", "blocks")
	assertKeys(t, p.Blocks[0], "id", "type", "position", "content", "created_by", "created_at", "updated_at")
	r := Revision{ID: "r", Status: RevisionPublished, PublishedAt: &now, Blocks: []SnapshotBlock{{ID: "b", Type: "divider", Content: json.RawMessage(`{}`)}}}
	assertKeys(t, r, "id", "page_id", "number", "status", "title", "slug", "blocks", "note", "created_by_user_id", "created_at", "published_at")
	assertKeys(t, r.Blocks[0], "id", "type", "content")

	raw, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m["published_revision_id"] != nil || m["published_at"] != nil {
		t.Errorf("an unpublished page has null publication fields: %s", raw)
	}
}

func assertKeys(t *testing.T, v any, want ...string) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%T keys:\n got %v\nwant %v", v, got, want)
	}
}
