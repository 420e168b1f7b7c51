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
		"RevisionDiff": revisionDiffSchema(),
	}
	for name, s := range workflow {
		schemas[name] = s
	}
}

// revisionDiffSchema describes the answer of the revision diff; see
// docs/revisions.md for what each part means.
func revisionDiffSchema() obj {
	nullableInt := obj{"type": []string{"integer", "null"}, "minimum": 0}
	side := object([]string{"revision_id", "number", "working_copy"}, obj{
		"revision_id": obj{"type": []string{"string", "null"}}, "number": obj{"type": []string{"integer", "null"}},
		"working_copy": obj{"type": "boolean"},
	})
	field := obj{"oneOf": []obj{{"type": "null"}, object([]string{"from", "to"}, obj{"from": str(), "to": str()})}}
	patchOp := object([]string{"op", "path"}, obj{
		"op":    str("enum", []string{"add", "remove", "replace", "test"}),
		"path":  str("description", "JSON Pointer (RFC 6901) inside the block's content"),
		"value": obj{"description": "For add and replace the new value; for test the old one"},
	})
	textChange := object([]string{"op", "text"}, obj{"op": str("enum", []string{"equal", "delete", "insert"}), "text": str()})
	block := object([]string{"id", "change", "type", "old_position", "new_position", "moved"}, obj{
		"id": str(), "change": str("enum", []string{quire.BlockAdded, quire.BlockRemoved, quire.BlockChanged, quire.BlockMoved}),
		"type": str(), "old_type": str("description", "The block's type before, when it changed"),
		"old_position": nullableInt, "new_position": nullableInt,
		"moved":     obj{"type": "boolean", "description": "The block changed place relative to the blocks both sides share"},
		"content":   obj{"type": "object", "description": "The whole content of an added or removed block"},
		"patch":     obj{"type": "array", "items": patchOp, "description": "RFC 6902 JSON Patch from the old content to the new; a test of the old value precedes each replace and remove"},
		"text_diff": obj{"type": "array", "items": textChange, "description": "Word-level diff of the visible text (rich_text without markup; paragraph, heading, quote text)"},
	})
	count := obj{"type": "integer", "minimum": 0}
	return object([]string{"from", "to", "identical", "title", "slug", "blocks", "summary"}, obj{
		"from": side, "to": side, "identical": obj{"type": "boolean"}, "title": field, "slug": field,
		"blocks": obj{"type": "array", "items": block},
		"summary": object([]string{"added", "removed", "changed", "moved", "unchanged"}, obj{
			"added": count, "removed": count, "changed": count, "moved": count, "unchanged": count,
		}),
	})
}
