package quire

import (
	"net/url"
	"regexp"
	"strings"
)

// Built-in block types; see PRODUCT.md §4.
const (
	BlockHeading   = "heading"
	BlockParagraph = "paragraph"
	BlockRichText  = "rich_text"
	BlockImage     = "image"
	BlockQuote     = "quote"
	BlockList      = "list"
	BlockCode      = "code"
	BlockEmbed     = "embed"
	BlockDivider   = "divider"
)

// BlockTypes lists the built-in block types in the order documents show them.
var BlockTypes = []string{
	BlockHeading, BlockParagraph, BlockRichText, BlockImage, BlockQuote,
	BlockList, BlockCode, BlockEmbed, BlockDivider,
}

// Limits on block content fields, in characters (runes). MaxBlockTextLen is
// the field limit JSON Schema can state; in practice MaxBlockContentBytes,
// which bounds the whole content in bytes, is reached first.
const (
	MaxHeadingLen   = 500
	MaxBlockTextLen = 64 << 10 // paragraph and quote text, rich_text html, code
	MaxAltLen       = 1000
	MaxCaptionLen   = 2000
	MaxCiteLen      = 500
	MaxListItems    = 1000
	MaxListItemLen  = 10000
	MaxEmbedURLLen  = 2048
)

type fieldKind int

const (
	kindString  fieldKind = iota
	kindInt               // an integer in [min, max]
	kindStrings           // an array of min to max strings, each checked like a kindString
)

// contentField declares one field of a block type's content. The validator
// below and the JSON Schema in blockschema.go are both derived from it, so
// that they cannot drift apart; blockschema_test.go checks that they agree.
type contentField struct {
	name      string
	kind      fieldKind
	required  bool
	minLen    int // characters, of the string or of each item
	maxLen    int
	multiline bool           // tabs and line breaks allowed; other control characters never are
	pattern   *regexp.Regexp // when set, replaces the control-character rule (its class excludes them)
	message   string         // what a value failing pattern is told
	enum      []string
	min, max  int                 // kindInt: the range; kindStrings: the number of items
	check     func(string) bool   // a rule beyond pattern, for defence in depth
	normalize func(string) string // applied to a valid value before it is stored
	doc       string
}

type blockSpec struct {
	doc    string
	fields []contentField
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	languageRE = regexp.MustCompile(`^[a-z0-9+#.-]{0,40}$`)
	// httpsURLRE: https, a DNS name or IPv4 host, an optional port, then
	// only RFC 3986 characters and well-formed percent escapes. There is no
	// room for user info: the host must follow "https://" directly.
	httpsURLRE = regexp.MustCompile(`^https://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?(?:[/?#](?:[-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$`)
)

// blockSpecs declares the content of each built-in type.
var blockSpecs = map[string]blockSpec{
	BlockHeading: {"A section heading, plain text.", []contentField{
		{name: "text", required: true, minLen: 1, maxLen: MaxHeadingLen, doc: "Plain text; front-ends escape it."},
		{name: "level", kind: kindInt, required: true, min: 1, max: 6, doc: "1 to 6, as h1 to h6."},
	}},
	BlockParagraph: {"A paragraph of plain text.", []contentField{
		{name: "text", required: true, minLen: 1, maxLen: MaxBlockTextLen, multiline: true, doc: "Plain text; front-ends escape it."},
	}},
	BlockRichText: {"Formatted text as HTML, sanitised to a safe subset when it is written.", []contentField{
		{name: "html", required: true, minLen: 1, maxLen: MaxBlockTextLen, multiline: true, normalize: SanitizeHTML,
			doc: "HTML. Kept: p, br, strong, em, b, i, u, s, a (http, https and mailto links, given rel=\"noopener noreferrer nofollow\"), ul, ol, li, blockquote, code, pre, h2-h6, hr, sub, sup. Everything else is removed."},
	}},
	BlockImage: {"An image from the media library.", []contentField{
		{name: "media_id", required: true, pattern: uuidRE, message: "must be a UUID", normalize: strings.ToLower, doc: "The id of a media item that exists and is not deleted."},
		{name: "alt", maxLen: MaxAltLen, doc: "Text alternative for readers who cannot see the image."},
		{name: "caption", maxLen: MaxCaptionLen, multiline: true},
	}},
	BlockQuote: {"A quotation.", []contentField{
		{name: "text", required: true, minLen: 1, maxLen: MaxBlockTextLen, multiline: true},
		{name: "cite", maxLen: MaxCiteLen, doc: "Who or what is quoted."},
	}},
	BlockList: {"A bulleted or numbered list of plain-text items.", []contentField{
		{name: "style", required: true, enum: []string{"ordered", "unordered"}},
		{name: "items", kind: kindStrings, required: true, min: 1, max: MaxListItems, minLen: 1, maxLen: MaxListItemLen, multiline: true},
	}},
	BlockCode: {"Preformatted source code.", []contentField{
		{name: "language", pattern: languageRE, message: "must be at most 40 characters of a-z, 0-9, +, #, . and -", doc: "A highlighter's language name, e.g. go or c++."},
		{name: "code", required: true, minLen: 1, maxLen: MaxBlockTextLen, multiline: true},
	}},
	BlockEmbed: {"Content from another site, e.g. a video.", []contentField{
		{name: "url", required: true, maxLen: MaxEmbedURLLen, pattern: httpsURLRE, check: isHTTPSURL,
			message: "must be an absolute https URL without user info", doc: "An absolute https URL."},
	}},
	BlockDivider: {"A thematic break. Its content is the empty object.", nil},
}

func isHTTPSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == ""
}
