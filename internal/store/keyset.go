package store

import (
	"context"
	"strings"
)

// ScanWindow bounds the rows one list request may examine when a filter is
// no part of its index range (a substring search, a MIME type, a status
// within one author's pages): such a list reads at most ScanWindow rows of
// the index range and filters them. When the window ends before the page
// is full, the list says where it stopped (Resume) and the client goes on
// from there, so a search that matches nothing costs every request the
// same bounded read instead of one read of the whole table.
const ScanWindow = 1000

// keyset is one list query: a range of an index, in the index's order,
// and maybe a residual filter that the range does not answer.
type keyset struct {
	cols  string   // the columns selected, qualified by alias
	from  string   // table and alias, "pages p"
	alias string   // "p"
	keys  string   // the sort key, "p.updated_at, p.id"
	desc  bool     // newest first
	where []string // conditions the index answers, cursor included
	args  []any
	// residual conditions are applied to a window of ScanWindow rows.
	residual []string
	rargs    []any
	limit    int
}

func (k *keyset) and(cond string, args ...any) {
	k.where = append(k.where, cond)
	k.args = append(k.args, args...)
}

func (k *keyset) filter(cond string, args ...any) {
	k.residual = append(k.residual, cond)
	k.rargs = append(k.rargs, args...)
}

// after adds the cursor: a row-value comparison, which both SQLite and
// PostgreSQL turn into a range of an index on the sort key (the form
// `a < ? OR (a = ? AND id < ?)` is a filter to both).
func (k *keyset) after(vals ...any) {
	op := " > "
	if k.desc {
		op = " < "
	}
	k.and("("+k.keys+")"+op+"("+strings.Repeat("?, ", len(vals)-1)+"?)", vals...)
}

func (k *keyset) orderBy() string {
	if !k.desc {
		return k.keys
	}
	return strings.ReplaceAll(k.keys, ",", " DESC,") + " DESC"
}

func (k *keyset) whereSQL(extra []string) string {
	conds := append(append([]string{}, k.where...), extra...)
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// sql returns the list query and its arguments.
func (k *keyset) sql() (string, []any) {
	if len(k.residual) == 0 {
		q := `SELECT ` + k.cols + ` FROM ` + k.from + k.whereSQL(nil) + ` ORDER BY ` + k.orderBy() + ` LIMIT ?`
		return q, append(append([]any{}, k.args...), k.limit)
	}
	// The inner query is the index range, cut at the window; the derived
	// table takes the same alias so that columns, filters and order read
	// the same inside and out.
	inner := `SELECT ` + k.alias + `.* FROM ` + k.from + k.whereSQL(nil) + ` ORDER BY ` + k.orderBy() + ` LIMIT ?`
	q := `SELECT ` + k.cols + ` FROM (` + inner + `) ` + k.alias + ` WHERE ` + strings.Join(k.residual, " AND ") +
		` ORDER BY ` + k.orderBy() + ` LIMIT ?`
	args := append(append([]any{}, k.args...), ScanWindow)
	return q, append(append(args, k.rargs...), k.limit)
}

// resumeSQL returns the query for the sort key of the window's last row.
func (k *keyset) resumeSQL() (string, []any) {
	q := `SELECT ` + k.keys + ` FROM ` + k.from + k.whereSQL(nil) + ` ORDER BY ` + k.orderBy() + ` LIMIT 1 OFFSET ?`
	return q, append(append([]any{}, k.args...), ScanWindow-1)
}

// resume reports where a windowed list stopped when it returned fewer than
// its limit: nil when it has no residual filter, or when the window reached
// the end of the range (nothing follows).
func (tx *Tx) resume(ctx context.Context, k *keyset, got int, dest ...any) (bool, error) {
	if len(k.residual) == 0 || got >= k.limit {
		return false, nil
	}
	q, args := k.resumeSQL()
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, mapErr(rows.Err())
	}
	return true, mapErr(rows.Scan(dest...))
}
