package service

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Tokens manages API tokens (admins, with a login session: requireSession).
type Tokens struct{ db *store.DB }

// NewTokens returns the API token service.
func NewTokens(db *store.DB) *Tokens { return &Tokens{db: db} }

// NewToken is the input of Create.
type NewToken struct {
	Name      string        `json:"name"`
	Role      quire.Role    `json:"role"`
	Scopes    []quire.Scope `json:"scopes"`
	ExpiresAt *time.Time    `json:"expires_at"`
}

// Create makes a token and returns it with its secret, which is never
// stored or shown again.
func (s *Tokens) Create(ctx context.Context, p *quire.Principal, in NewToken) (*quire.APIToken, string, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, "", err
	}
	in.Name = strings.TrimSpace(in.Name)
	var v quire.Validator
	v.Check(in.Name != "" && utf8.RuneCountInString(in.Name) <= quire.MaxTokenNameLen && !strings.ContainsAny(in.Name, "\x00\r\n"),
		"name", "is required, at most 100 characters, on one line")
	quire.ValidateRole(&v, "role", in.Role)
	quire.ValidateScopes(&v, "scopes", in.Scopes)
	if in.ExpiresAt != nil {
		v.Check(in.ExpiresAt.After(time.Now()), "expires_at", "must be in the future")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret, hash, err := auth.NewSecret(APITokenPrefix)
	if err != nil {
		return nil, "", err
	}
	t := &quire.APIToken{Name: in.Name, Role: in.Role, Scopes: in.Scopes, CreatedBy: p.UserID, ExpiresAt: in.ExpiresAt,
		Prefix: secret[:len(APITokenPrefix)+6]}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAPIToken(ctx, t, hash); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionTokenCreate, "api_token", t.ID, quire.Changes(nil, tokenFields(t)))
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func tokenFields(t *quire.APIToken) map[string]any {
	var exp any
	if t.ExpiresAt != nil {
		exp = t.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{"name": t.Name, "role": string(t.Role), "scopes": quire.JoinScopes(t.Scopes), "prefix": t.Prefix, "expires_at": exp, "created_by": t.CreatedBy}
}

// List returns up to limit tokens after the cursor id, and the next cursor.
func (s *Tokens) List(ctx context.Context, p *quire.Principal, after string, limit int) ([]*quire.APIToken, string, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, "", err
	}
	tokens, err := s.db.Reader().APITokens(ctx, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(tokens) > limit {
		tokens, next = tokens[:limit], tokens[limit-1].ID
	}
	return tokens, next, nil
}

// Revoke deletes a token; it stops working on its next use.
func (s *Tokens) Revoke(ctx context.Context, p *quire.Principal, id string) error {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.APIToken(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteAPIToken(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionTokenRevoke, "api_token", id, quire.Changes(tokenFields(t), nil))
	})
}

// Self returns the API token p is authenticated with, for GET /auth/me:
// a token answers with its own identity, not its maker's. Role is what
// the token may do now (its own role, capped by its maker's current one).
func (s *Tokens) Self(ctx context.Context, p *quire.Principal) (*quire.APIToken, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if p.TokenID == "" {
		return nil, quire.Errorf(quire.EINVALID, "the caller is not an API token")
	}
	t, err := s.db.Reader().APIToken(ctx, p.TokenID)
	if err != nil {
		return nil, err
	}
	t.Role = p.Role
	return t, nil
}
