package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// Invalid UTF-8, and escaped UTF-16 surrogates that are not a pair, are
// refused with 400 instead of being stored as U+FFFD; valid text,
// surrogate pairs included, is stored as sent.
func TestJSONTextMustBeUnicode(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.admin().AccessToken
		page := func(title string) string { return `{"slug": "s` + "-x" + `", "title": "` + title + `"}` }
		bad := []struct{ name, title, detail string }{
			{"invalid byte", "caf\xe9", "UTF-8"},
			{"truncated sequence", "\xe2\x82", "UTF-8"},
			{"overlong encoding", "\xc0\xaf", "UTF-8"},
			{"encoded surrogate", "\xed\xa0\x80", "UTF-8"},
			{"lone high surrogate", `a\ud800b`, "surrogate"},
			{"lone high surrogate at the end", `a\uD83D`, "surrogate"},
			{"lone low surrogate", `\udc00`, "surrogate"},
			{"high surrogate then a letter", `\ud83d\u0041`, "surrogate"},
			{"two high surrogates", `\ud83d\ud83d`, "surrogate"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := e.with(t).do("POST", "/api/v1/pages", admin, page(tc.title)).want(t, http.StatusBadRequest)
				if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
					t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
				}
			})
		}
		// Inside a block's content too, and on other routes.
		e.do("PUT", "/api/v1/settings/site.title", admin, `{"value": "\ud800"}`).want(t, http.StatusBadRequest)
		e.do("POST", "/api/v1/pages", admin, `{"slug": "b", "title": "B", "blocks": [{"type": "paragraph", "content": {"text": "\xff"}}]}`).want(t, http.StatusBadRequest)
		var list struct{ Data []any }
		e.do("GET", "/api/v1/pages", admin, nil).want(t, 200).json(t, &list)
		if len(list.Data) != 0 {
			t.Fatalf("a refused body stored %d pages", len(list.Data))
		}

		good := []struct{ slug, body, title string }{
			{"pair", `\ud83d\ude00 \uD83D\uDE00`, "😀 😀"},
			{"literal", "😀 é \ufffd", "😀 é \ufffd"},
			// An escaped backslash followed by "ud800" is text, not an escape.
			{"escaped-backslash", `\\ud800`, `\ud800`},
			{"bmp-escape", `\u00e9\u20ac`, "é€"},
		}
		for _, tc := range good {
			var p struct{ Title string }
			e.do("POST", "/api/v1/pages", admin, `{"slug": "`+tc.slug+`", "title": "`+tc.body+`"}`).want(t, http.StatusCreated).json(t, &p)
			if p.Title != tc.title {
				t.Errorf("%s: stored %q, want %q", tc.slug, p.Title, tc.title)
			}
		}
	})
}
