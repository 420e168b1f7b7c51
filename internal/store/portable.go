package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Portable tables are what `quire export` and `quire import` carry: every
// table of the migrated schema, found by asking the database, so that a
// table added by a later migration is in the archive without code here.
// Left out are the migration bookkeeping (goose_db_version, river's own
// tables, which the target's migrations make), SQLite's internal tables,
// the SQLite-only audit_prune_guard helper and the import marker. River's
// pending jobs travel separately (PendingJobs), as their tables differ
// between the two databases.

// ImportMarkerTable exists only while an import is loading: the server,
// and every command that migrates, refuses a database that has it.
const ImportMarkerTable = "quire_import_incomplete"

// Column kinds, the same names on both databases. SQLite declares only
// integer, text, real and blob, so its timestamps, booleans and JSON read as
// text and integer; the importer converts by the target's kinds.
const (
	KindText      = "text"
	KindInteger   = "integer"
	KindReal      = "real"
	KindBoolean   = "boolean"
	KindTimestamp = "timestamp"
	KindJSON      = "json"
	KindBytes     = "bytes"
)

// PortableColumn is one column of a portable table.
type PortableColumn struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Nullable bool   `json:"nullable"`
}

// PortableTable is a table with its columns (in the database's order), its
// primary key, and its references to other tables.
type PortableTable struct {
	Name    string           `json:"name"`
	Columns []PortableColumn `json:"columns"`
	Key     []string         `json:"primary_key"`
	// Deferred are nullable reference columns that close a cycle between
	// tables (pages.published_revision_id): they are loaded as NULL and
	// set once every table is in.
	Deferred []string `json:"-"`
	refs     []tableRef
}

type tableRef struct {
	column, table string
}

// Column returns the named column, or false.
func (t *PortableTable) Column(name string) (PortableColumn, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return PortableColumn{}, false
}

// seededTables hold rows that a migration inserts (webhook_dispatch's one
// position row): an import overwrites them instead of adding to them, and
// they do not make a database count as used. TestPortableTables fails when
// a migration seeds a table missing here.
var seededTables = map[string]bool{"webhook_dispatch": true}

// Seeded reports whether migrations put rows in t.
func (t *PortableTable) Seeded() bool { return seededTables[t.Name] }

func excludedTable(name string) bool {
	return name == "goose_db_version" || name == "audit_prune_guard" || name == ImportMarkerTable ||
		strings.HasPrefix(name, "river_") || strings.HasPrefix(name, "sqlite_")
}

// PortableTables lists the portable tables in an order they can be loaded
// in: every table after the tables it references.
func (db *DB) PortableTables(ctx context.Context) ([]*PortableTable, error) {
	var tables []*PortableTable
	var err error
	if db.dialect == Postgres {
		tables, err = db.postgresTables(ctx)
	} else {
		tables, err = db.sqliteTables(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return loadOrder(tables)
}

func (db *DB) sqliteTables(ctx context.Context) ([]*PortableTable, error) {
	names, err := db.strings(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var out []*PortableTable
	for _, name := range names {
		if excludedTable(name) {
			continue
		}
		t := &PortableTable{Name: name}
		rows, err := db.read.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			return nil, err
		}
		type keyCol struct {
			name string
			pos  int
		}
		var keys []keyCol
		for rows.Next() {
			var c PortableColumn
			var typ string
			var notNull, pk int
			if err := rows.Scan(&c.Name, &typ, &notNull, &pk); err != nil {
				rows.Close()
				return nil, err
			}
			c.Nullable = notNull == 0 && pk == 0
			switch strings.ToUpper(typ) {
			case "INTEGER", "INT", "BIGINT":
				c.Kind = KindInteger
			case "REAL":
				c.Kind = KindReal
			case "BLOB":
				c.Kind = KindBytes
			default:
				c.Kind = KindText
			}
			if pk > 0 {
				keys = append(keys, keyCol{c.Name, pk})
			}
			t.Columns = append(t.Columns, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		slices.SortFunc(keys, func(a, b keyCol) int { return a.pos - b.pos })
		for _, k := range keys {
			t.Key = append(t.Key, k.name)
		}
		rows, err = db.read.QueryContext(ctx, `SELECT "from", "table" FROM pragma_foreign_key_list(?)`, name)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r tableRef
			if err := rows.Scan(&r.column, &r.table); err != nil {
				rows.Close()
				return nil, err
			}
			t.refs = append(t.refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (db *DB) postgresTables(ctx context.Context) ([]*PortableTable, error) {
	byName := map[string]*PortableTable{}
	var out []*PortableTable
	rows, err := db.read.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES'
		FROM information_schema.columns c JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, typ string
		var c PortableColumn
		if err := rows.Scan(&table, &c.Name, &typ, &c.Nullable); err != nil {
			rows.Close()
			return nil, err
		}
		if excludedTable(table) {
			continue
		}
		switch typ {
		case "bigint", "integer", "smallint":
			c.Kind = KindInteger
		case "real", "double precision", "numeric":
			c.Kind = KindReal
		case "boolean":
			c.Kind = KindBoolean
		case "timestamp with time zone", "timestamp without time zone":
			c.Kind = KindTimestamp
		case "json", "jsonb":
			c.Kind = KindJSON
		case "bytea":
			c.Kind = KindBytes
		default:
			c.Kind = KindText
		}
		t := byName[table]
		if t == nil {
			t = &PortableTable{Name: table}
			byName[table] = t
			out = append(out, t)
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Keys and references from the catalogue; every constraint Quire
	// declares is on one column, but a composite key is kept in order.
	rows, err = db.read.QueryContext(ctx, `SELECT c.contype, cl.relname, a.attname, coalesce(fc.relname, ''), k.ord
		FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid
		CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
		LEFT JOIN pg_class fc ON fc.oid = c.confrelid
		WHERE c.contype IN ('p', 'f') AND c.connamespace = current_schema()::regnamespace
		ORDER BY cl.relname, c.contype, c.conname, k.ord`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, table, column, ref string
		var ord int
		if err := rows.Scan(&kind, &table, &column, &ref, &ord); err != nil {
			return nil, err
		}
		t := byName[table]
		if t == nil {
			continue
		}
		if kind == "p" {
			t.Key = append(t.Key, column)
		} else {
			t.refs = append(t.refs, tableRef{column, ref})
		}
	}
	return out, rows.Err()
}

func (db *DB) strings(ctx context.Context, query string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// loadOrder sorts tables so that each comes after the tables it references
// (by name among equals, so the order is the same on both databases). A
// cycle is broken at a nullable reference, which becomes Deferred.
func loadOrder(tables []*PortableTable) ([]*PortableTable, error) {
	slices.SortFunc(tables, func(a, b *PortableTable) int { return strings.Compare(a.Name, b.Name) })
	known := map[string]bool{}
	for _, t := range tables {
		known[t.Name] = true
		if len(t.Key) == 0 {
			return nil, fmt.Errorf("table %s has no primary key", t.Name)
		}
	}
	placed := map[string]bool{}
	var out []*PortableTable
	ready := func(t *PortableTable) bool {
		for _, r := range t.refs {
			if r.table == t.Name || !known[r.table] || placed[r.table] || slices.Contains(t.Deferred, r.column) {
				continue
			}
			return false
		}
		return true
	}
	for len(out) < len(tables) {
		progress := false
		for _, t := range tables {
			if !placed[t.Name] && ready(t) {
				placed[t.Name] = true
				out = append(out, t)
				progress = true
			}
		}
		if progress {
			continue
		}
		// A cycle: defer the first nullable reference to an unplaced table.
		broke := false
		for _, t := range tables {
			if placed[t.Name] {
				continue
			}
			for _, r := range t.refs {
				c, _ := t.Column(r.column)
				if c.Nullable && known[r.table] && !placed[r.table] && r.table != t.Name && !slices.Contains(t.Deferred, r.column) {
					t.Deferred = append(t.Deferred, r.column)
					broke = true
					break
				}
			}
			if broke {
				break
			}
		}
		if !broke {
			return nil, fmt.Errorf("tables reference each other through required columns; cannot order them")
		}
	}
	// A table that references itself defers those columns too.
	for _, t := range out {
		for _, r := range t.refs {
			if c, _ := t.Column(r.column); r.table == t.Name && c.Nullable && !slices.Contains(t.Deferred, r.column) {
				t.Deferred = append(t.Deferred, r.column)
			}
		}
	}
	return out, nil
}
