package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrImportIncomplete is returned by Migrate (and so by every start of the
// server) on a database an import began loading and did not finish.
var ErrImportIncomplete = errors.New("an import into this database did not finish")

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.dialect == Postgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := db.write.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, mapErr(err)
	}
	return n > 0, nil
}

// checkImportMarker fails with ErrImportIncomplete, saying when and from
// what the import began, if the marker table exists.
func (db *DB) checkImportMarker(ctx context.Context) error {
	ok, err := db.tableExists(ctx, ImportMarkerTable)
	if err != nil || !ok {
		return err
	}
	var started, source string
	err = db.write.QueryRowContext(ctx, `SELECT started_at, source FROM `+ImportMarkerTable).Scan(&started, &source)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return mapErr(err)
	}
	return fmt.Errorf("%w (started %s from %s): its content is partial; empty the database (a new file, or drop and recreate the schema) and run `quire import` again", ErrImportIncomplete, started, source)
}

// CheckImportComplete fails with ErrImportIncomplete on a database an
// import did not finish, for commands that read without migrating.
func (db *DB) CheckImportComplete(ctx context.Context) error { return db.checkImportMarker(ctx) }

// BeginImport marks the database as being imported into, before anything
// is loaded; EndImport removes the mark once everything is in.
func (db *DB) BeginImport(ctx context.Context, source string) error {
	if err := db.checkImportMarker(ctx); err != nil {
		return err
	}
	_, err := db.write.ExecContext(ctx, `CREATE TABLE `+ImportMarkerTable+` (started_at TEXT NOT NULL, source TEXT NOT NULL)`)
	if err == nil {
		_, err = db.write.ExecContext(ctx, db.rebind(`INSERT INTO `+ImportMarkerTable+` (started_at, source) VALUES (?, ?)`), Now().Format(timeLayout), source)
	}
	return mapErr(err)
}

// EndImport removes the mark BeginImport made.
func (db *DB) EndImport(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `DROP TABLE `+ImportMarkerTable)
	return mapErr(err)
}

// SchemaVersion is the highest applied migration, 0 for a new database.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	ok, err := db.tableExists(ctx, "goose_db_version")
	if err != nil || !ok {
		return 0, err
	}
	var v sql.NullInt64
	err = db.write.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v.Int64, mapErr(err)
}

// LatestSchemaVersion is the highest migration this build knows.
func (db *DB) LatestSchemaVersion() (int64, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return 0, err
	}
	var v int64
	for _, s := range p.ListSources() {
		v = max(v, s.Version)
	}
	return v, nil
}

// MigrateTo applies the embedded migrations up to and including version
// (and River's), so that an archive from an older schema is loaded into
// the schema it was written from and migrated up afterwards.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return db.migrateJobs(ctx)
}

// MigrateImported applies the remaining migrations to a database being
// imported into, which Migrate refuses while it is marked.
func (db *DB) MigrateImported(ctx context.Context) error {
	return db.migrate(ctx)
}

// PortableCounts returns the number of rows in each portable table but
// the seeded ones (whose rows the migrations made).
func (db *DB) PortableCounts(ctx context.Context) (map[string]int64, error) {
	tables, err := db.PortableTables(ctx)
	if err != nil {
		return nil, err
	}
	s, err := db.BeginSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out := map[string]int64{}
	for _, t := range tables {
		if t.Seeded() {
			continue
		}
		n, err := s.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}

// CopyTo writes a consistent copy of a SQLite database to path with
// VACUUM INTO: one read transaction, so writers (in this process or the
// server's) go on meanwhile.
func (db *DB) CopyTo(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errors.New("copy: only a SQLite database is copied as a file")
	}
	_, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path)
	return mapErr(err)
}

// Wipe removes every table, type and function of the database (on
// PostgreSQL by dropping and recreating the current schema), for
// `quire restore --force`.
func (db *DB) Wipe(ctx context.Context) error {
	if db.dialect == Postgres {
		var schema string
		if err := db.write.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return mapErr(err)
		}
		_, err := db.write.ExecContext(ctx, `DROP SCHEMA `+quoteIdent(schema)+` CASCADE; CREATE SCHEMA `+quoteIdent(schema))
		return mapErr(err)
	}
	names, err := db.strings(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return mapErr(err)
	}
	for _, n := range names {
		if _, err := db.write.ExecContext(ctx, `DROP TABLE IF EXISTS `+quoteIdent(n)); err != nil {
			return mapErr(err)
		}
	}
	_, err = db.write.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
	return mapErr(err)
}
