package quire

import (
	"slices"
	"strings"
)

// Scope limits what an API token may do, on top of its role: a token may
// call a route only when its role is high enough and one of its scopes
// grants the scope the route needs. Login sessions have every scope.
// docs/security/auth.md explains the choice of scopes.
type Scope string

const (
	// ScopeContentRead reads pages, blocks, revisions and media records.
	ScopeContentRead Scope = "content:read"
	// ScopeContentWrite also creates, edits, publishes and deletes pages.
	ScopeContentWrite Scope = "content:write"
	// ScopeMedia uploads, edits, deletes, restores and purges media.
	ScopeMedia Scope = "media"
	// ScopeSettings reads and writes site settings.
	ScopeSettings Scope = "settings"
	// ScopeAdmin is every scope, including reading the audit log. Managing
	// users and API tokens needs a login session whatever the scope.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeContentRead, ScopeContentWrite, ScopeMedia, ScopeSettings, ScopeAdmin}

// Valid reports whether s is one of the known scopes.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// Grants reports whether holding s allows what need allows.
func (s Scope) Grants(need Scope) bool {
	switch {
	case s == need, s == ScopeAdmin:
		return true
	case s == ScopeContentWrite && need == ScopeContentRead:
		return true
	}
	return false
}

// ValidateScopes checks a token's scopes: at least one, each known, none twice.
func ValidateScopes(v *Validator, field string, scopes []Scope) {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	if len(scopes) == 0 {
		v.Add(field, "is required: one or more of "+strings.Join(names, ", "))
		return
	}
	for i, s := range scopes {
		if !s.Valid() {
			v.Add(field, "must hold only "+strings.Join(names, ", "))
			return
		}
		if slices.Contains(scopes[:i], s) {
			v.Add(field, "names "+string(s)+" twice")
			return
		}
	}
}

// JoinScopes is the stored form of scopes: space-separated, as in OAuth 2.0.
func JoinScopes(scopes []Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, " ")
}

// SplitScopes reads the stored form back.
func SplitScopes(s string) []Scope {
	out := []Scope{}
	for _, f := range strings.Fields(s) {
		out = append(out, Scope(f))
	}
	return out
}

// Allows reports whether p may use a route that needs scope need. Only API
// tokens are limited by scopes.
func (p *Principal) Allows(need Scope) bool {
	if p == nil {
		return false
	}
	if p.TokenID == "" {
		return true
	}
	for _, s := range p.Scopes {
		if s.Grants(need) {
			return true
		}
	}
	return false
}

// Interactive reports whether p signed in with a password: a login session
// (API access token or the admin's cookie), not an API token.
func (p *Principal) Interactive() bool { return p != nil && p.SessionID != "" && p.TokenID == "" }

// RoleScopes returns the scopes that let a token do everything its role
// allows: what tokens made before scopes existed were given (migration
// 00004), and a sensible default for a client to offer.
func RoleScopes(r Role) []Scope {
	switch r {
	case RoleAdmin:
		return []Scope{ScopeAdmin}
	case RoleEditor:
		return []Scope{ScopeContentWrite, ScopeMedia, ScopeSettings}
	case RoleAuthor:
		return []Scope{ScopeContentWrite, ScopeMedia}
	}
	return []Scope{ScopeContentRead}
}
