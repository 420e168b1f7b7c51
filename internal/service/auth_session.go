package service

import (
	"context"
	"strings"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
)

// AuthenticateSession turns the secret of a browser session (the admin's
// cookie, which holds the session's current refresh token) into a
// principal and its user, without using the token up. It applies the
// checks a refresh would, on every request: the token is unused and
// unexpired, its session live, the user active, and the token issued
// after the user's last_token_issue, so logout-everywhere, a password
// change and deactivation end the browser session at once; the role is
// read afresh, so a role change applies on the next request too.
func (a *Auth) AuthenticateSession(ctx context.Context, secret string) (*quire.Principal, *quire.User, error) {
	if !strings.HasPrefix(secret, RefreshPrefix) || len(secret) > 128 {
		return nil, nil, errBadToken
	}
	r := a.db.Reader()
	t, err := r.RefreshTokenByHash(ctx, auth.HashSecret(secret))
	if err != nil {
		return nil, nil, notFoundIsUnauthorized(err)
	}
	s, err := r.Session(ctx, t.SessionID)
	if err != nil {
		return nil, nil, notFoundIsUnauthorized(err)
	}
	now := r.Now()
	if t.UsedAt != nil || s.RevokedAt != nil || !now.Before(s.ExpiresAt) || !now.Before(t.ExpiresAt) {
		return nil, nil, errBadToken
	}
	u, err := r.User(ctx, s.UserID)
	if err != nil {
		return nil, nil, notFoundIsUnauthorized(err)
	}
	if !u.Active || t.CreatedAt.Before(u.LastTokenIssue) {
		return nil, nil, errBadToken
	}
	// A user whose role requires a second factor they have not set up
	// gets a principal marked MustEnrol: the admin shows them only its
	// enrolment screens, as the API answers only its enrolment routes.
	enrol, err := a.mustEnrol(ctx, r, u)
	if err != nil {
		return nil, nil, err
	}
	return &quire.Principal{UserID: u.ID, Role: u.Role, SessionID: s.ID, MustEnrol: enrol}, u, nil
}
