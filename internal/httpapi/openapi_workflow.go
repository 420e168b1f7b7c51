package httpapi

import "github.com/quirecms/quire"

// Component schemas of the editorial workflow (preview links, revision
// diffs), kept beside the rest in schemas.
func init() {
	nullableString := obj{"type": []string{"string", "null"}}
	nullableTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	previewProps := func(created bool) obj {
		p := obj{"id": str(), "page_id": str(), "revision_id": nullableString,
			"revision_number": obj{"type": []string{"integer", "null"}},
			"prefix":          str("description", "The first characters of the token, to tell links apart"),
			"created_by":      str(), "created_at": dateTime, "expires_at": dateTime}
		if created {
			p["token"] = str("description", "The secret of the link. Shown once; only its hash is stored.")
			p["url"] = obj{"type": []string{"string", "null"}, "description": "QUIRE_PREVIEW_URL with {token} and {slug} filled in; null when it is not set"}
		}
		return p
	}
	previewRequired := []string{"id", "page_id", "revision_id", "revision_number", "prefix", "created_by", "created_at", "expires_at"}
	workflow := obj{
		"NewPreview": object(nil, obj{
			"revision_id": str("description", "The revision to show; absent shows the working copy as it is at each request"),
			"expires_in": obj{"type": "integer", "minimum": int64(quire.MinPreviewTTL.Seconds()), "maximum": int64(quire.MaxPreviewTTL.Seconds()),
				"default": int64(quire.DefaultPreviewTTL.Seconds()), "description": "Lifetime of the link in seconds"},
		}),
		"Preview":        object(previewRequired, previewProps(false)),
		"PreviewCreated": object(append([]string{"token", "url"}, previewRequired...), previewProps(true)),
		"PreviewList":    listOf("Preview"),
		"PreviewPage": object([]string{"slug", "title", "blocks", "published_at", "revision", "revision_id", "preview", "expires_at"}, obj{
			"slug": str(), "title": str(), "published_at": nullableTime,
			"revision":    obj{"type": []string{"integer", "null"}, "description": "Number of the revision shown; null for the working copy"},
			"revision_id": nullableString, "preview": obj{"const": true}, "expires_at": dateTime,
			"blocks": obj{"type": "array", "items": object([]string{"id", "type", "content"}, obj{
				"id": str(), "type": str(), "content": obj{"type": "object", "description": "As in PublicPage"},
			})},
		}),
	}
	for name, s := range workflow {
		schemas[name] = s
	}
}
