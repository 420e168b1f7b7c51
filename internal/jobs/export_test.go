package jobs

import (
	"context"

	"github.com/quirecms/quire/internal/store"
)

// InsertTxOutside tries to enqueue on the read pool, which must fail.
func (q *Queue) InsertTxOutside(ctx context.Context, db *store.DB) (bool, error) {
	return false, q.InsertTx(ctx, db.Reader(), nil, nil)
}
