package service

import (
	"context"
	"time"
)

// Account rows (reset and invitation links, sign-in challenges, refresh
// tokens, sessions, recorded sign-in and reset failures) are deleted a day
// after they end: every read already refuses them, the day only leaves
// them for a look while something is investigated.
const (
	accountRowsGrace = 24 * time.Hour
	accountRowsBatch = 500
)

// pruneAccounts deletes the account rows that ended over a day ago, one
// batch per transaction, until stop (the rest waits for the next day). It
// writes no audit entry: the rows are dead, and their creation and use
// were audited.
func (s *Retention) pruneAccounts(ctx context.Context, stop time.Time) (map[string]int, error) {
	return s.db.PruneAccountRows(ctx, time.Now().Add(-accountRowsGrace), accountRowsBatch, stop)
}
