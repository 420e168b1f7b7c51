package service

import (
	"context"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Sessions shows people their sign-in sessions and ends them.
type Sessions struct {
	db       *store.DB
	accounts *AccountCache
}

// NewSessions returns the session service.
func NewSessions(db *store.DB, accounts *AccountCache) *Sessions {
	return &Sessions{db: db, accounts: accounts}
}

var errNoSession = quire.Errorf(quire.ENOTFOUND, "no such session")

// List returns the caller's live sessions after the cursor id, the one
// the request came with marked current, and the next cursor.
func (s *Sessions) List(ctx context.Context, p *quire.Principal, after string, limit int) ([]*store.SessionInfo, string, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, "", err
	}
	r := s.db.Reader()
	list, err := r.LiveSessions(ctx, p.UserID, r.Now(), after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > limit {
		list, next = list[:limit], list[limit-1].ID
	}
	for _, si := range list {
		si.Current = si.ID == p.SessionID
	}
	return list, next, nil
}

// Revoke ends one of the caller's sessions (the current one too: that
// is a logout). Another user's session is not found.
func (s *Sessions) Revoke(ctx context.Context, p *quire.Principal, id string) error {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		se, err := tx.Session(ctx, id)
		if err != nil || se.UserID != p.UserID || se.RevokedAt != nil {
			if err == nil || quire.ErrorCode(err) == quire.EUNAUTHORIZED {
				err = errNoSession
			}
			return err
		}
		if err := tx.RevokeSession(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionSessionRevoke, "session", id, map[string]any{"current": id == p.SessionID})
	})
	if err == nil {
		s.accounts.Forget()
	}
	return err
}

// RevokeUser ends every session of user id and every access token issued
// to them (an admin, with a login session). Their API tokens are not
// touched: those are revoked one by one.
func (s *Sessions) RevokeUser(ctx context.Context, p *quire.Principal, id string) error {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.User(ctx, id); err != nil {
			return err
		}
		if err := tx.RevokeUserTokens(ctx, id); err != nil {
			return err
		}
		if err := tx.RevokeUserSessions(ctx, id, ""); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionUserSessionsRevoke, "user", id, map[string]any{})
	})
	if err == nil {
		s.accounts.Forget()
	}
	return err
}
