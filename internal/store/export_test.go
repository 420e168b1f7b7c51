package store

import (
	"context"
	"database/sql"
	"strings"
)

// ExecForTest runs raw SQL inside a transaction, for tests that tamper with
// stored rows or insert rows whose store methods do not exist yet.
func ExecForTest(ctx context.Context, tx *Tx, query string, args ...any) error {
	_, err := tx.exec(ctx, query, args...)
	return err
}

// ExplainAudit returns the plan the database picks for the query that
// AuditEntries runs with f.
func ExplainAudit(ctx context.Context, db *DB, f AuditFilter) (string, error) {
	q, args := auditQuery(f)
	prefix := "EXPLAIN QUERY PLAN "
	if db.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	tx := db.Reader()
	rows, err := tx.query(ctx, prefix+q, tx.args(args)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmtRow(vals))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

func fmtRow(vals []any) string {
	var parts []string
	for _, v := range vals {
		switch x := v.(type) {
		case []byte:
			parts = append(parts, string(x))
		case string:
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, " ")
}

// MigrateTo applies migrations up to version only, to test upgrades.
func MigrateTo(ctx context.Context, db *DB, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// Plan is the plan of one query a Tx ran.
type Plan struct {
	Query string
	Plan  string
}

// explainer runs EXPLAIN before every query, then the query itself, so
// that a test sees the plan of exactly the SQL a store method runs.
type explainer struct {
	db    *DB
	q     querier
	plans *[]Plan
}

func (e explainer) explain(ctx context.Context, query string, args []any) {
	prefix := "EXPLAIN QUERY PLAN "
	if e.db.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := e.q.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		*e.plans = append(*e.plans, Plan{query, "EXPLAIN failed: " + err.Error()})
		return
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			lines = append(lines, "scan: "+err.Error())
			break
		}
		lines = append(lines, fmtRow(vals))
	}
	*e.plans = append(*e.plans, Plan{query, strings.Join(lines, "\n")})
}

func (e explainer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return e.q.ExecContext(ctx, query, args...)
}

func (e explainer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	e.explain(ctx, query, args)
	return e.q.QueryContext(ctx, query, args...)
}

func (e explainer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	e.explain(ctx, query, args)
	return e.q.QueryRowContext(ctx, query, args...)
}

// Explaining returns a reader Tx that records the plan of every query it
// runs into plans.
func Explaining(db *DB, plans *[]Plan) *Tx {
	return &Tx{db: db, q: explainer{db: db, q: db.read, plans: plans}, now: Now()}
}

// QueryForTest calls fn with the first column of every row of query.
func QueryForTest(ctx context.Context, db *DB, query string, fn func(string)) error {
	rows, err := db.Reader().query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		fn(s)
	}
	return rows.Err()
}

// CountForTest runs query with args (times converted as the store does)
// and counts its rows: benchmarks time the queries lists used to run.
func CountForTest(ctx context.Context, db *DB, query string, args ...any) (int, error) {
	rows, err := db.Reader().query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
