package httpapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/quirecms/quire"
)

type obj = map[string]any

func str(extra ...any) obj {
	o := obj{"type": "string"}
	for i := 0; i+1 < len(extra); i += 2 {
		o[extra[i].(string)] = extra[i+1]
	}
	return o
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// object is a closed object schema. JSON Schema wants required to be an
// array when present: with none required the keyword is left out, never
// written as null (which validators and generators reject).
func object(required []string, props obj) obj {
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	// pageBlocks is a whole page's block list as a client sends it.
	pageBlocks = obj{"type": "array", "maxItems": quire.MaxBlocksPerPage, "items": ref("BlockInput"),
		"description": fmt.Sprintf("At most %d bytes of block content together (413 beyond)", quire.MaxPageContentBytes)}
	dateTime = str("format", "date-time")
	roleEnum = str("enum", []string{"admin", "editor", "author", "viewer"})
)

// schemas are the component schemas of the OpenAPI document. Tests validate
// real responses against them, so they must say what the server sends.
var schemas = obj{
	"Problem": obj{"type": "object", "required": []string{"type", "title", "status", "detail", "request_id"}, "properties": obj{
		"type": str(), "title": str(), "status": obj{"type": "integer"}, "detail": str(), "request_id": str(),
		"errors": obj{"type": "array", "items": object([]string{"field", "message"}, obj{"field": str(), "message": str()})},
	}},
	"Health": object([]string{"status"}, obj{"status": str()}),
	"User": object([]string{"id", "email", "display_name", "role", "active", "created_at", "updated_at", "version"}, obj{
		"id": str(), "email": str("format", "email"), "display_name": str(), "role": roleEnum, "active": obj{"type": "boolean"},
		"created_at": dateTime, "updated_at": dateTime, "version": obj{"type": "integer"},
	}),
	"UserList": listOf("User"),
	"NewUser": object([]string{"email", "password", "role"}, obj{
		"email": str("format", "email", "maxLength", 254), "password": str("minLength", 10, "maxLength", 1024),
		"role": roleEnum, "display_name": str("maxLength", 200),
	}),
	"UserPatch": object(nil, obj{
		"email": str("format", "email"), "display_name": str("maxLength", 200), "role": roleEnum,
		"active": obj{"type": "boolean"}, "password": str("minLength", 10, "maxLength", 1024),
	}),
	"SelfUpdate":     object([]string{"display_name"}, obj{"display_name": str("maxLength", 200)}),
	"LoginRequest":   object([]string{"email", "password"}, obj{"email": str(), "password": str()}),
	"RefreshRequest": object([]string{"refresh_token"}, obj{"refresh_token": str()}),
	"PasswordChange": object([]string{"current_password", "new_password"}, obj{
		"current_password": str(), "new_password": str("minLength", 10, "maxLength", 1024),
	}),
	"TokenPair": object([]string{"access_token", "refresh_token", "token_type", "expires_in", "user"}, obj{
		"access_token": str(), "refresh_token": str(), "token_type": str("enum", []string{"Bearer"}),
		"expires_in": obj{"type": "integer"}, "user": ref("User"),
		"two_factor_enrolment_required": obj{"type": "boolean", "description": "The role requires two-factor sign-in and the user has none: only enrolment routes answer until they set it up"},
	}),
	"APIToken":        object(tokenRequired, tokenProps(false)),
	"APITokenCreated": object(append([]string{"token"}, tokenRequired...), tokenProps(true)),
	"APITokenList":    listOf("APIToken"),
	"NewAPIToken": object([]string{"name", "role", "scopes"}, obj{
		"name": str("minLength", 1, "maxLength", 100), "role": roleEnum, "expires_at": str("format", "date-time"),
		"scopes": scopeList,
	}),
	// GET /auth/me answers the user of a login session, or an API token's own identity.
	"Me": obj{"oneOf": []obj{ref("User"), ref("APITokenIdentity")}},
	"APITokenIdentity": object(append([]string{"kind"}, tokenRequired...), func() obj {
		p := tokenProps(false)
		p["kind"] = str("const", "api_token")
		p["role"] = obj{"allOf": []obj{roleEnum}, "description": "What the token may do now: its role, capped by its maker's current role"}
		return p
	}()),
	"BlockInput": quire.BlockInputSchema(),
	"Block": object([]string{"id", "type", "position", "content", "created_by", "created_at", "updated_at"}, obj{
		"id": str(), "type": str("enum", quire.BlockTypes), "position": obj{"type": "integer", "minimum": 0},
		"content": obj{"type": "object"}, "created_by": str(), "created_at": dateTime, "updated_at": dateTime,
	}),
	"Page":        object([]string{"id", "slug", "title", "created_by", "updated_by", "created_at", "updated_at", "version", "published_revision_id", "published_at", "has_unpublished_changes", "blocks"}, pageProps(true)),
	"PageSummary": object([]string{"id", "slug", "title", "created_by", "updated_by", "created_at", "updated_at", "version", "published_revision_id", "published_at", "has_unpublished_changes"}, pageProps(false)),
	"PageList":    listOf("PageSummary"),
	"NewPage": object([]string{"slug", "title"}, obj{
		"slug":   str("maxLength", quire.MaxSlugLen, "pattern", "^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$"),
		"title":  str("maxLength", quire.MaxTitleLen),
		"blocks": pageBlocks,
	}),
	"PagePatch": object(nil, obj{
		"slug": str("maxLength", quire.MaxSlugLen), "title": str("maxLength", quire.MaxTitleLen),
	}),
	"BlockList": object([]string{"blocks"}, obj{
		"blocks": pageBlocks,
	}),
	"BlockItems": object([]string{"data"}, obj{"data": obj{"type": "array", "items": ref("Block")}}),
	"NewBlock": object([]string{"type", "content"}, obj{
		"type": str("enum", quire.BlockTypes), "content": obj{"type": "object", "description": "As BlockInput for the type"},
		"position": obj{"type": "integer", "minimum": 0, "description": "Default: after the last block"},
	}),
	"BlockPatch": object(nil, obj{
		"type": str("enum", quire.BlockTypes), "content": obj{"type": "object"}, "position": obj{"type": "integer", "minimum": 0},
	}),
	"NoteInput": object(nil, obj{"note": str("maxLength", quire.MaxNoteLen)}),
	"Revision": object([]string{"id", "page_id", "number", "status", "title", "slug", "note", "created_by_user_id", "created_at", "published_at"}, obj{
		"id": str(), "page_id": str(), "number": obj{"type": "integer"}, "status": str("enum", []string{"draft", "published", "archived"}),
		"title": str(), "slug": str(), "note": str(), "created_by_user_id": str(), "created_at": dateTime,
		"published_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
		"blocks":       obj{"type": []string{"array", "null"}, "items": object([]string{"id", "type", "content"}, obj{"id": str(), "type": str(), "content": obj{"type": "object"}})},
	}),
	"RevisionList": listOf("Revision"),
	"PublicPage": object([]string{"slug", "title", "blocks", "published_at", "revision"}, obj{
		"slug": str(), "title": str(), "published_at": dateTime, "revision": obj{"type": "integer"},
		"blocks": obj{"type": "array", "items": object([]string{"id", "type", "content"}, obj{
			"id": str(), "type": str(), "content": obj{"type": "object", "description": "Image blocks also carry url, mime_type, width and height of their media"},
		})},
	}),
	"PublicPageSummary": object([]string{"slug", "title", "published_at", "revision"}, obj{
		"slug": str(), "title": str(), "published_at": dateTime, "revision": obj{"type": "integer"},
	}),
	"PublicPageList": listOf("PublicPageSummary"),
	"Setting": object([]string{"key", "value", "public", "updated_by", "updated_at", "version"}, obj{
		"key": str("pattern", "^[a-z][a-z0-9_.-]{0,99}$"), "value": obj{"description": "Any JSON value, at most 64 KiB"},
		"public": obj{"type": "boolean"}, "updated_by": str(), "updated_at": dateTime, "version": obj{"type": "integer"},
	}),
	"SettingList": listOf("Setting"),
	"SettingInput": object([]string{"value"}, obj{
		"value": obj{"description": "Any JSON value, at most 64 KiB"}, "public": obj{"type": "boolean"},
	}),
	"PublicSettings": obj{"type": "object", "description": "Every public setting, key → value"},
	"AuditEntry": object([]string{"seq", "id", "at", "action", "resource_type", "resource_id", "details", "request_id", "ip", "prev_hash", "hash"}, obj{
		"seq": obj{"type": "integer"}, "id": str(), "at": dateTime, "user_id": str(), "action": str(),
		"api_token_id": str("description", "The API token the action was taken with (user_id is its maker)"), "api_token_name": str(),
		"resource_type": str(), "resource_id": str(), "details": obj{"type": "object"}, "request_id": str(),
		"ip": str(), "prev_hash": str(), "hash": str(),
	}),
	"AuditEntryList": listOf("AuditEntry"),
	"Media": object([]string{"id", "filename", "mime_type", "size_bytes", "checksum_sha256", "width", "height", "alt", "title", "uploaded_by_user_id", "created_at", "updated_at", "deleted_at", "version", "url"}, obj{
		"id": str(), "filename": str("maxLength", quire.MaxFilenameLen), "mime_type": str(), "size_bytes": obj{"type": "integer", "minimum": 0},
		"checksum_sha256": str("pattern", "^[0-9a-f]{64}$"), "width": obj{"type": []string{"integer", "null"}}, "height": obj{"type": []string{"integer", "null"}},
		"alt": str(), "title": str(), "uploaded_by_user_id": str(), "created_at": dateTime, "updated_at": dateTime,
		"deleted_at": obj{"type": []string{"string", "null"}, "format": "date-time"}, "version": obj{"type": "integer"},
		"url": str("description", "Where the file is served: /media/{id}/{filename}"),
	}),
	"MediaList":  listOf("Media"),
	"MediaPatch": object(nil, obj{"alt": str("maxLength", quire.MaxAltLen), "title": str("maxLength", quire.MaxMediaTitle)}),
	"MediaUpload": object([]string{"file"}, obj{
		"file": str("contentEncoding", "binary", "description", "The file; its type is detected from the bytes"),
		"alt":  str("maxLength", quire.MaxAltLen), "title": str("maxLength", quire.MaxMediaTitle),
	}),
	"AuditVerification": object([]string{"ok", "entries", "first_bad_id"}, obj{
		"ok": obj{"type": "boolean"}, "entries": obj{"type": "integer"}, "first_bad_id": str(), "reason": str(),
	}),
}

func pageProps(withBlocks bool) obj {
	nullable := obj{"type": []string{"string", "null"}}
	p := obj{"id": str(), "slug": str(), "title": str(), "created_by": str(), "updated_by": str(),
		"created_at": dateTime, "updated_at": dateTime, "version": obj{"type": "integer"},
		"published_revision_id": nullable, "published_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
		"has_unpublished_changes": obj{"type": "boolean"}}
	if withBlocks {
		p["blocks"] = obj{"type": "array", "items": ref("Block")}
		p["schedule"] = ref("PageSchedule")
	} else {
		p["blocks"] = obj{"type": "null"}
	}
	return p
}

var tokenRequired = []string{"id", "name", "prefix", "role", "scopes", "created_by", "created_at", "expires_at", "last_used_at"}

var scopeList = obj{"type": "array", "minItems": 1, "uniqueItems": true, "items": str("enum", quire.Scopes),
	"description": "What the token may do besides its role: content:read, content:write (includes content:read), media, settings, admin (everything)"}

func tokenProps(withSecret bool) obj {
	nullableTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	p := obj{"id": str(), "name": str(), "prefix": str(), "role": roleEnum, "scopes": scopeList, "created_by": str(),
		"created_at": dateTime, "expires_at": nullableTime, "last_used_at": nullableTime}
	if withSecret {
		p["token"] = str("description", "The secret. Shown once; store it now.")
	}
	return p
}

func listOf(item string) obj {
	return object([]string{"data", "next_cursor"}, obj{
		"data":        obj{"type": "array", "items": ref(item)},
		"next_cursor": obj{"type": []string{"string", "null"}, "description": nextCursorDoc},
	})
}

const nextCursorDoc = "Pass as cursor for the next page; null at the end. A filtered list reads a bounded window of rows " +
	"per request, so a page may hold fewer than limit items, even none, and still have a next cursor."

// apiLicense is the licence the document states. The repository has no
// licence file yet, so nothing is granted: change this together with it.
var apiLicense = obj{"name": "Proprietary (all rights reserved)"}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Document builds the OpenAPI 3.1 description from the route table.
func (a *API) Document() obj {
	paths := obj{}
	for _, rt := range a.routes {
		path := OpenAPIPath(rt.Path)
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		op := obj{"summary": rt.Summary, "tags": []string{rt.Tag}, "operationId": operationID(rt)}
		var params []obj
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": str()})
		}
		if strings.HasSuffix(rt.Path, "s") && rt.Method == "GET" && strings.Contains(rt.Responses[200], "List") {
			params = append(params,
				obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
				obj{"name": "cursor", "in": "query", "schema": str()})
		}
		for _, name := range rt.Query {
			if name == "cursor" {
				params = append(params,
					obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
					obj{"name": "cursor", "in": "query", "schema": str()})
				continue
			}
			params = append(params, obj{"name": name, "in": "query", "schema": str()})
		}
		// If-Match is honoured where a stale version answers 412, and
		// required (428 without it) where the route says so.
		required := rt.RequireIfMatch && !a.OptionalIfMatch
		if required {
			params = append(params, obj{"name": "If-Match", "in": "header", "required": true, "schema": str(),
				"description": `ETag of the version being changed, or * for any version; 412 when stale, 428 when missing (QUIRE_REQUIRE_IF_MATCH)`})
		} else if rt.RequireIfMatch || rt.Responses[http.StatusPreconditionFailed] != "" {
			params = append(params, obj{"name": "If-Match", "in": "header", "schema": str(), "description": "ETag of the version being changed; 412 when stale"})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Request != "" {
			ct := "application/json"
			if rt.RequestType != "" {
				ct = rt.RequestType
			}
			op["requestBody"] = obj{"required": true, "content": obj{ct: obj{"schema": ref(rt.Request)}}}
		}
		responses := obj{}
		for status, schema := range rt.Responses {
			resp := obj{"description": httpStatusText(status)}
			if schema != "" {
				ct := "application/json"
				if schema == "Problem" {
					ct = "application/problem+json"
				}
				resp["content"] = obj{ct: obj{"schema": ref(schema)}}
			}
			responses[strconv.Itoa(status)] = resp
		}
		responses["default"] = obj{"description": "Error", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
		if required {
			responses["428"] = obj{"description": "Precondition Required: If-Match is missing", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
		}
		switch {
		case rt.Security != "":
			op["security"] = []obj{{rt.Security: []string{}}}
		case rt.MinRole != Public:
			op["security"] = []obj{{"bearer": []string{}}}
			op["description"] = "Requires role " + string(rt.MinRole) + " or higher."
			switch {
			case rt.SessionOnly:
				op["description"] = op["description"].(string) + " Needs a login session: API tokens are refused (403)."
			case rt.Scope != AnyScope:
				// OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
				op["security"] = []obj{{"bearer": []string{string(rt.Scope)}}}
				op["description"] = op["description"].(string) + " API tokens need the scope " + string(rt.Scope) + " (or one that includes it)."
			}
			responses["401"] = obj{"description": "Unauthorized", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
			responses["403"] = obj{"description": "Forbidden", "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
		default:
			op["security"] = []obj{}
		}
		op["responses"] = responses
		item[strings.ToLower(rt.Method)] = op
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Quire", "version": "1", "description": "Headless CMS API. Errors are RFC 9457 problem documents.",
			"license": apiLicense},
		// Every path is absolute from the server's root (/api/v1/…, /media/…),
		// so the server is the origin the document was fetched from.
		"servers": []obj{{"url": "/", "description": "The server that serves this document"}},
		"paths":   paths,
		"components": obj{
			"schemas": schemas,
			"securitySchemes": obj{
				"bearer":       obj{"type": "http", "scheme": "bearer", "description": "An access token (JWT) or an API token (qpat_…)"},
				"metricsToken": obj{"type": "http", "scheme": "bearer", "description": "The operator's QUIRE_METRICS_TOKEN"},
			},
		},
	}
}

// OpenAPIPath is a mux pattern's path as OpenAPI writes it: a trailing
// wildcard {slug...} is the parameter {slug}.
func OpenAPIPath(pattern string) string { return strings.ReplaceAll(pattern, "...}", "}") }

func operationID(rt Route) string {
	parts := []string{strings.ToLower(rt.Method)}
	for _, p := range strings.Split(OpenAPIPath(rt.Path), "/") {
		if p == "" || p == "api" || p == "v1" {
			continue
		}
		parts = append(parts, strings.NewReplacer("{", "by_", "}", "", "-", "_", ".", "_").Replace(p))
	}
	return strings.Join(parts, "_")
}

func httpStatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Response"
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(a.doc)
}
