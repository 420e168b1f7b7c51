package quire

import (
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// richTextPolicy is the safe subset of HTML that rich_text blocks keep:
// common formatting and links, nothing that runs script or loads anything.
// Elements outside it are removed with their attributes, keeping their text
// (script and style lose their text too); attributes are dropped except an
// a element's href, and that only with an http, https or mailto URL.
var richTextPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "b", "i", "u", "s", "ul", "ol", "li",
		"blockquote", "code", "pre", "h2", "h3", "h4", "h5", "h6", "hr", "sub", "sup")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(false)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
})

// The policy writes rel="nofollow noreferrer" as the last attribute of every
// link it keeps; bluemonday adds noopener only along with target="_blank".
// That exact text cannot come from the input: rel is not an allowed
// attribute, and quotes in text and attribute values come out escaped.
const (
	policyRel = ` rel="nofollow noreferrer">`
	linkRel   = ` rel="noopener noreferrer nofollow">`
)

// SanitizeHTML reduces html to the subset that rich_text blocks store. It is
// idempotent: sanitising its output changes nothing.
func SanitizeHTML(html string) string {
	return strings.ReplaceAll(richTextPolicy().Sanitize(html), policyRel, linkRel)
}
