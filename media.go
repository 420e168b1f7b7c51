package quire

import (
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on media metadata, in characters; alt text shares MaxAltLen with
// image blocks.
const (
	MaxFilenameLen = 200
	MaxMediaTitle  = MaxTitleLen
)

// Media audit actions. A deduplicated upload stores nothing new but is
// recorded against the existing media, so the log says who sent what.
const (
	ActionMediaUpload  = "media.upload"
	ActionMediaDedup   = "media.dedup"
	ActionMediaUpdate  = "media.update"
	ActionMediaDelete  = "media.delete"
	ActionMediaRestore = "media.restore"
	ActionMediaPurge   = "media.purge"
)

// Media is one file of the media library. Its bytes never change: a
// different file is a different media, so the id alone identifies the
// content (the file's strong ETag is derived from it). Checksum is shown
// only to callers who can read the library; StorageKey never leaves the
// server.
type Media struct {
	ID         string     `json:"id"`
	Filename   string     `json:"filename"`
	MimeType   string     `json:"mime_type"`
	SizeBytes  int64      `json:"size_bytes"`
	Checksum   string     `json:"checksum_sha256"`
	Width      *int       `json:"width"`
	Height     *int       `json:"height"`
	Alt        string     `json:"alt"`
	Title      string     `json:"title"`
	StorageKey string     `json:"-"`
	UploadedBy string     `json:"uploaded_by_user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DeletedAt  *time.Time `json:"deleted_at"`
	Version    int64      `json:"version"`
	URL        string     `json:"url"`
}

// MediaURL is where a media file is served, outside the API: the same
// form public delivery gives front-ends for image blocks.
func MediaURL(id, filename string) string {
	return "/media/" + id + "/" + url.PathEscape(filename)
}

// DefaultMediaTypes is the default upload allow-list, as detected from the
// bytes: JPEG, PNG, GIF, WebP, AVIF, SVG, PDF, MP4, WebM, MP3, plain text.
var DefaultMediaTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/svg+xml",
	"application/pdf", "video/mp4", "video/webm", "audio/mpeg", "text/plain",
}

// inlineTypes are served inline: a browser renders them without running
// anything. Every other type (SVG, PDF, HTML, anything new) is served as
// an attachment.
var inlineTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"video/mp4": true, "video/webm": true, "audio/mpeg": true, "text/plain": true,
}

// ServeInline reports whether a file of mimeType may be shown inline.
func ServeInline(mimeType string) bool { return inlineTypes[BaseMediaType(mimeType)] }

// BaseMediaType is mimeType without parameters, lowercased: "text/plain; charset=utf-8" → "text/plain".
func BaseMediaType(mimeType string) string {
	base, _, _ := strings.Cut(mimeType, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// SanitizeFilename makes a client's file name safe to show and to offer
// as a download name: only the last path element is kept, control and
// bidirectional-override characters are removed, leading dots and
// surrounding spaces are trimmed, and the result is at most MaxFilenameLen
// characters, keeping the extension. It is never used as a storage path.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if isControl(r, false) || isBidiControl(r) || r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ". ")
	name = strings.TrimRight(name, ". ")
	if name == "" {
		return "file"
	}
	if utf8.RuneCountInString(name) > MaxFilenameLen {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 20 {
			ext = ""
		}
		runes := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimRight(string(runes[:MaxFilenameLen-utf8.RuneCountInString(ext)]), ". ") + ext
	}
	return name
}

// isBidiControl: characters that make a name display differently from what
// it is ("evil‮gnp.exe").
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// ValidateAlt checks an image's alternative text: optional, one line, bounded.
func ValidateAlt(v *Validator, field, alt string) {
	switch {
	case !utf8.ValidString(alt):
		v.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(alt) > MaxAltLen:
		v.Add(field, "must be at most 1000 characters")
	case hasControl(alt, false):
		v.Add(field, "must not contain control characters")
	}
}

// ValidateMediaTitle checks a media title: optional, one line, bounded.
func ValidateMediaTitle(v *Validator, field, title string) {
	switch {
	case !utf8.ValidString(title):
		v.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(title) > MaxMediaTitle:
		v.Add(field, "must be at most 300 characters")
	case hasControl(title, false):
		v.Add(field, "must not contain control characters")
	}
}
