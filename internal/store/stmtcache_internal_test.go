package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A statement run again on the same connection is not prepared again, and
// the same text run while its own rows are open (a query in a loop over
// the same query) still gives the right rows.
func TestSQLiteStatementCache(t *testing.T) {
	db := openGroupTestDB(t)
	ctx := context.Background()
	for i := range 5 {
		if err := db.InTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, fmt.Sprint("k", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	before := statementsPrepared.Load()
	for i := 5; i < 50; i++ {
		if err := db.InTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, fmt.Sprint("k", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := statementsPrepared.Load() - before; n != 0 {
		t.Errorf("45 more inserts on the one write connection prepared %d statements; want 0", n)
	}

	const q = `SELECT k FROM gc WHERE k >= ? ORDER BY k LIMIT 3`
	var got []string
	err := db.InTx(ctx, func(tx *Tx) error {
		outer, err := tx.query(ctx, q, "k1")
		if err != nil {
			return err
		}
		defer outer.Close()
		for outer.Next() {
			var k string
			if err := outer.Scan(&k); err != nil {
				return err
			}
			inner, err := queryAll(ctx, tx, func(r interface{ Scan(...any) error }) (string, error) {
				var s string
				return s, r.Scan(&s)
			}, q, k)
			if err != nil {
				return err
			}
			got = append(got, k+":"+strings.Join(inner, ","))
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "k1:k1,k10,k11 k10:k10,k11,k12 k11:k11,k12,k13"
	if strings.Join(got, " ") != want {
		t.Errorf("nested use of one statement: %q; want %q", strings.Join(got, " "), want)
	}
}
