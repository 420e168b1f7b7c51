package quire

import (
	"strings"
	"time"
)

// Limits of preview links; see docs/revisions.md.
const (
	// DefaultPreviewTTL is how long a preview link works when the editor
	// does not say.
	DefaultPreviewTTL = time.Hour
	// MinPreviewTTL and MaxPreviewTTL bound the lifetime an editor may ask for.
	MinPreviewTTL = time.Minute
	MaxPreviewTTL = 30 * 24 * time.Hour
	// PreviewTokenPrefix marks preview secrets, so that humans and secret
	// scanners tell them from API tokens.
	PreviewTokenPrefix = "qpv_"
	// MaxPreviewsPerPage bounds the live previews of one page, so that a
	// script cannot fill the table through one page.
	MaxPreviewsPerPage = 100
)

// Audit actions of preview links. Using a link is not audited: it is a
// read, like the public page it stands in for.
const (
	ActionPreviewCreate = "page.preview_create"
	ActionPreviewRevoke = "page.preview_revoke"
)

// Preview is a link that shows a page's draft to whoever holds its token,
// without any other credential: a named revision, or the working copy as
// it is at each request when RevisionID is nil. The token itself is never
// stored; only its hash is.
type Preview struct {
	ID             string    `json:"id"`
	PageID         string    `json:"page_id"`
	RevisionID     *string   `json:"revision_id"`
	RevisionNumber *int      `json:"revision_number"`
	Prefix         string    `json:"prefix"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// LooksLikePreviewToken reports whether s has the shape of a preview
// token, so that junk is refused without a database read.
func LooksLikePreviewToken(s string) bool {
	if !strings.HasPrefix(s, PreviewTokenPrefix) || len(s) != len(PreviewTokenPrefix)+43 {
		return false
	}
	for _, r := range s[len(PreviewTokenPrefix):] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// PreviewURL fills a front-end preview URL template: {token} and {slug}
// are replaced as they are. Both are URL-safe by construction (the token
// is base64url, a slug is a-z, 0-9, hyphens and slashes), so no escaping
// can be wrong for the part of the URL they land in.
func PreviewURL(template, token, slug string) string {
	return strings.NewReplacer("{token}", token, "{slug}", slug).Replace(template)
}
