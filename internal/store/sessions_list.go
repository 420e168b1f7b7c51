package store

import (
	"context"
	"time"
)

// SessionInfo is a live session as its owner sees it.
type SessionInfo struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

// LiveSessions lists userID's sessions that are neither revoked nor
// expired at now, by id after afterID (auth_sessions_user_list_idx).
// LastUsedAt is the newest refresh token of the session: the login or its
// latest refresh.
func (tx *Tx) LiveSessions(ctx context.Context, userID string, now time.Time, afterID string, limit int) ([]*SessionInfo, error) {
	rows, err := tx.query(ctx, `SELECT s.id, s.created_at, s.expires_at, s.ip, s.user_agent,
		(SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.session_id = s.id)
		FROM auth_sessions s WHERE s.user_id = ? AND s.id > ? AND s.revoked_at IS NULL AND s.expires_at > ? ORDER BY s.id LIMIT ?`,
		userID, afterID, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SessionInfo
	for rows.Next() {
		var s SessionInfo
		var last *time.Time
		if err := rows.Scan(&s.ID, scanTime{&s.CreatedAt}, scanTime{&s.ExpiresAt}, &s.IP, &s.UserAgent, scanNullTime{&last}); err != nil {
			return nil, mapErr(err)
		}
		s.LastUsedAt = s.CreatedAt
		if last != nil {
			s.LastUsedAt = *last
		}
		out = append(out, &s)
	}
	return out, mapErr(rows.Err())
}
