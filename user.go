package quire

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a user or API token may do; see PRODUCT.md §3.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
	RoleAuthor Role = "author"
	RoleViewer Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleEditor, RoleAuthor, RoleViewer}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleEditor, RoleAuthor, RoleViewer:
		return true
	}
	return false
}

// Limits on user fields. Passwords follow OWASP: long passphrases allowed,
// bounded so that hashing cannot be used to burn CPU.
const (
	MinPasswordLen    = 10
	MaxPasswordLen    = 1024
	MaxEmailLen       = 254
	MaxDisplayNameLen = 200
)

// User is an account. The password hash is held by the store only and is
// never part of this type, so it cannot leak into a response or audit entry.
type User struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	DisplayName    string    `json:"display_name"`
	Role           Role      `json:"role"`
	Active         bool      `json:"active"`
	LastTokenIssue time.Time `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

// NormalizeEmail lowercases and trims an address so that uniqueness is case-insensitive.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks a normalized address: a bare addr-spec, no display name.
func ValidateEmail(v *Validator, field, email string) {
	if email == "" {
		v.Add(field, "is required")
		return
	}
	if len(email) > MaxEmailLen {
		v.Add(field, "is too long")
		return
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		v.Add(field, "is not a valid email address")
	}
}

// ValidatePassword checks the length rules; characters, not bytes, are counted.
func ValidatePassword(v *Validator, field, pw string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		v.Add(field, "must be valid UTF-8")
	case n < MinPasswordLen:
		v.Add(field, "must be at least 10 characters")
	case n > MaxPasswordLen:
		v.Add(field, "must be at most 1024 characters")
	}
}

// ValidateDisplayName bounds the free-text name.
func ValidateDisplayName(v *Validator, field, name string) {
	v.Check(utf8.ValidString(name) && utf8.RuneCountInString(name) <= MaxDisplayNameLen, field, "must be at most 200 characters of valid UTF-8")
	v.Check(!strings.ContainsAny(name, "\x00\r\n"), field, "must not contain control characters")
}

// ValidateRole checks that r is a known role.
func ValidateRole(v *Validator, field string, r Role) {
	v.Check(r.Valid(), field, "must be one of admin, editor, author, viewer")
}

// APIToken is a long-lived credential with its own role. The secret is shown
// once at creation and only its hash is stored.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       Role       `json:"role"`
	Scopes     []Scope    `json:"scopes"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// MaxTokenNameLen bounds an API token's label.
const MaxTokenNameLen = 100

// Principal is who is making a request: a user through an access token (or
// the admin's cookie), or an API token acting with its own role and scopes
// on behalf of the admin who made it.
type Principal struct {
	UserID    string
	Role      Role
	SessionID string // login session (auth_sessions); empty for API tokens
	TokenID   string // API token id; empty for login sessions
	TokenName string // the API token's name, recorded in audit entries
	Scopes    []Scope
	// MustEnrol: the role requires two-factor sign-in and the user has
	// none yet; only the routes that enrol (and who-am-I, logout) answer.
	MustEnrol bool
}

// Can reports whether the principal's role is at least min in the hierarchy
// admin > editor > author > viewer.
func (p *Principal) Can(min Role) bool {
	if p == nil {
		return false
	}
	return rank(p.Role) >= rank(min)
}

func rank(r Role) int {
	switch r {
	case RoleAdmin:
		return 4
	case RoleEditor:
		return 3
	case RoleAuthor:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}
