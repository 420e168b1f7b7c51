package store

import (
	"context"
	"fmt"
	"time"
)

// EndedIDsForTest runs the batch query of PruneAccountRows for table.
func EndedIDsForTest(ctx context.Context, tx *Tx, table string, before time.Time, limit int) ([]string, error) {
	for i, e := range endedRows {
		if e.Table == table {
			return tx.endedIDs(ctx, i, before, limit)
		}
	}
	return nil, fmt.Errorf("no ended rows in %s", table)
}

// EndedTablesForTest lists the tables PruneAccountRows prunes.
func EndedTablesForTest() []string {
	var out []string
	for _, e := range endedRows {
		out = append(out, e.Table)
	}
	return out
}
