package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Snapshot reads every portable table as of one moment: a REPEATABLE READ
// read-only transaction on PostgreSQL, a read transaction on SQLite (WAL
// gives it a snapshot from its first read), so that an export of a running
// instance is consistent without stopping writers.
type Snapshot struct {
	db *DB
	tx *sql.Tx
}

// BeginSnapshot starts a snapshot; Close ends it.
func (db *DB) BeginSnapshot(ctx context.Context) (*Snapshot, error) {
	var opts *sql.TxOptions
	if db.dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", mapErr(err))
	}
	return &Snapshot{db: db, tx: tx}, nil
}

// Close ends the snapshot.
func (s *Snapshot) Close() error { return s.tx.Rollback() }

// SchemaVersion is the highest applied migration, as seen by the snapshot.
func (s *Snapshot) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.tx.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v.Int64, mapErr(err)
}

// Rows calls fn with every row of t in primary-key order (byte order on
// both databases), each value in its portable form: NULL as nil, integers
// as int64, booleans as bool, timestamps as the store's fixed-width UTC
// text, JSON and text as string, bytes as []byte.
func (s *Snapshot) Rows(ctx context.Context, t *PortableTable, fn func([]any) error) error {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	order := make([]string, len(t.Key))
	for i, k := range t.Key {
		order[i] = quoteIdent(k)
		if c, _ := t.Column(k); s.db.dialect == Postgres && c.Kind == KindText {
			order[i] += ` COLLATE "C"`
		}
	}
	rows, err := s.tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM %s ORDER BY %s`,
		strings.Join(cols, ", "), quoteIdent(t.Name), strings.Join(order, ", ")))
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, mapErr(err))
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", t.Name, err)
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case time.Time:
				out[i] = x.UTC().Truncate(time.Microsecond).Format(timeLayout)
			case []byte:
				if t.Columns[i].Kind == KindBytes {
					out[i] = append([]byte(nil), x...)
				} else {
					out[i] = string(x)
				}
			default:
				out[i] = x
			}
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// Count returns the number of rows in t.
func (s *Snapshot) Count(ctx context.Context, t *PortableTable) (int64, error) {
	var n int64
	err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t.Name)).Scan(&n)
	return n, mapErr(err)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// InsertRows loads rows (values in the archive's portable form, decoded
// with json.Number) into t in one transaction. cols names the archive's
// columns, all of which t must have; columns of t the archive lacks take
// their defaults. Deferred columns are loaded as NULL (see SetDeferred).
func (db *DB) InsertRows(ctx context.Context, t *PortableTable, cols []string, rows [][]any) error {
	kinds := make([]PortableColumn, len(cols))
	quoted := make([]string, len(cols))
	deferred := make([]bool, len(cols))
	for i, name := range cols {
		c, ok := t.Column(name)
		if !ok {
			return fmt.Errorf("table %s has no column %s", t.Name, name)
		}
		kinds[i], quoted[i] = c, quoteIdent(name)
		for _, d := range t.Deferred {
			deferred[i] = deferred[i] || d == name
		}
	}
	// Several rows per statement, within both databases' parameter limits.
	per := max(1, min(500, 30000/len(cols)))
	return db.InTx(ctx, func(tx *Tx) error {
		tx.forgetAuditHead() // the rows may be audit entries
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(len(rows), start+per)]
			var q strings.Builder
			fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", quoteIdent(t.Name), strings.Join(quoted, ", "))
			args := make([]any, 0, len(chunk)*len(cols))
			for r, row := range chunk {
				if len(row) != len(cols) {
					return fmt.Errorf("table %s: a row has %d values for %d columns", t.Name, len(row), len(cols))
				}
				if r > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")")
				for i, v := range row {
					if deferred[i] {
						v = nil
					}
					a, err := db.portableArg(kinds[i], v)
					if err != nil {
						return fmt.Errorf("table %s, column %s: %w", t.Name, cols[i], err)
					}
					args = append(args, a)
				}
			}
			if t.Seeded() {
				q.WriteString(upsert(t, cols))
			}
			if _, err := tx.exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("load %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

// upsert makes an INSERT into a seeded table replace the migration's row.
func upsert(t *PortableTable, cols []string) string {
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = quoteIdent(k)
	}
	var set []string
	for _, c := range cols {
		if !slices.Contains(t.Key, c) {
			set = append(set, quoteIdent(c)+" = excluded."+quoteIdent(c))
		}
	}
	if len(set) == 0 {
		return " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO NOTHING"
	}
	return " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// SetDeferred sets t's deferred columns from rows (key values, then the
// deferred columns' values, in t.Key and t.Deferred order), in one transaction.
func (db *DB) SetDeferred(ctx context.Context, t *PortableTable, rows [][]any) error {
	set := make([]string, len(t.Deferred))
	for i, d := range t.Deferred {
		set[i] = quoteIdent(d) + " = ?"
	}
	where := make([]string, len(t.Key))
	for i, k := range t.Key {
		where[i] = quoteIdent(k) + " = ?"
	}
	q := fmt.Sprintf(`UPDATE %s SET %s WHERE %s`, quoteIdent(t.Name), strings.Join(set, ", "), strings.Join(where, " AND "))
	names := append(append([]string(nil), t.Deferred...), t.Key...)
	text := true
	for _, n := range names {
		c, _ := t.Column(n)
		text = text && c.Kind == KindText
	}
	if text {
		return db.setDeferredText(ctx, t, rows)
	}
	return db.InTx(ctx, func(tx *Tx) error {
		for _, row := range rows {
			vals := append(append([]any(nil), row[len(t.Key):]...), row[:len(t.Key)]...)
			args := make([]any, len(vals))
			for i, v := range vals {
				c, _ := t.Column(names[i])
				a, err := db.portableArg(c, v)
				if err != nil {
					return fmt.Errorf("table %s, column %s: %w", t.Name, names[i], err)
				}
				args[i] = a
			}
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("load %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

// setDeferredText is SetDeferred for text columns (ids), many rows per
// statement: UPDATE … FROM (VALUES …), whose columns both databases name
// column1, column2, … and whose untyped parameters PostgreSQL takes as text.
// On PostgreSQL it saves a round trip per row.
func (db *DB) setDeferredText(ctx context.Context, t *PortableTable, rows [][]any) error {
	width := len(t.Key) + len(t.Deferred)
	set := make([]string, len(t.Deferred))
	for i, d := range t.Deferred {
		set[i] = fmt.Sprintf("%s = v.column%d", quoteIdent(d), len(t.Key)+i+1)
	}
	where := make([]string, len(t.Key))
	for i, k := range t.Key {
		where[i] = fmt.Sprintf("%s.%s = v.column%d", quoteIdent(t.Name), quoteIdent(k), i+1)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	per := max(1, min(500, 30000/width))
	return db.InTx(ctx, func(tx *Tx) error {
		tx.forgetAuditHead() // the rows may be audit entries
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(len(rows), start+per)]
			tuples := make([]string, len(chunk))
			args := make([]any, 0, len(chunk)*width)
			for i, row := range chunk {
				tuples[i] = tuple
				for _, v := range row {
					if v != nil {
						if _, ok := v.(string); !ok {
							return fmt.Errorf("table %s: a %T value where text is expected", t.Name, v)
						}
					}
					args = append(args, v)
				}
			}
			q := fmt.Sprintf(`UPDATE %s SET %s FROM (VALUES %s) AS v WHERE %s`, quoteIdent(t.Name),
				strings.Join(set, ", "), strings.Join(tuples, ", "), strings.Join(where, " AND "))
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("load %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

// portableArg converts an archive value into what the target column takes.
func (db *DB) portableArg(c PortableColumn, v any) (any, error) {
	if v == nil {
		if !c.Nullable {
			return nil, errors.New("null in a required column")
		}
		return nil, nil
	}
	switch c.Kind {
	case KindBoolean, KindInteger:
		var b bool
		switch x := v.(type) {
		case bool:
			b = x
			if c.Kind == KindInteger || db.dialect == SQLite {
				return map[bool]int64{false: 0, true: 1}[x], nil
			}
			return b, nil
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", x)
			}
			if c.Kind == KindBoolean {
				if n != 0 && n != 1 {
					return nil, fmt.Errorf("%d is not a boolean", n)
				}
				return n == 1, nil
			}
			return n, nil
		}
	case KindReal:
		if x, ok := v.(json.Number); ok {
			return x.Float64()
		}
	case KindTimestamp:
		if x, ok := v.(string); ok {
			t, _, err := parseTimeText(x)
			return t, err
		}
	case KindBytes:
		if x, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(x)
		}
	default: // text, JSON
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number: // SQLite keeps what it is given; an integer in a text column stays one
			return x.String(), nil
		}
	}
	return nil, fmt.Errorf("a %T value cannot go in a %s column", v, c.Kind)
}
