package quire

import (
	"html"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// TextChange is one run of a word-level diff: text kept ("equal"), taken
// out ("delete") or put in ("insert"). Words of a run are joined by single
// spaces; whitespace changes alone are not changes.
type TextChange struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// WordDiff compares the words of a and b.
func WordDiff(a, b string) []TextChange {
	wa, wb := strings.Fields(a), strings.Fields(b)
	var out []TextChange
	var run []string // words of the run being built, joined once it ends
	op := ""
	end := func() {
		if len(run) > 0 {
			out = append(out, TextChange{op, strings.Join(run, " ")})
		}
	}
	for _, e := range diffSeq(wa, wb) {
		next, word := "equal", ""
		switch e.Kind {
		case editEqual:
			word = wa[e.A]
		case editDelete:
			next, word = "delete", wa[e.A]
		case editInsert:
			next, word = "insert", wb[e.B]
		}
		if next != op {
			end()
			op, run = next, run[:0]
		}
		run = append(run, word)
	}
	end()
	return out
}

// textOnly drops every element and keeps the text, with a space where an
// element was, so that "<p>one</p><p>two</p>" reads as two words.
var textOnly = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AddSpaceWhenStrippingTag(true)
	return p
})

// VisibleText is the text a reader sees of rich_text html: no markup, no
// entities, whitespace collapsed.
func VisibleText(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(textOnly().Sanitize(h))), " ")
}
