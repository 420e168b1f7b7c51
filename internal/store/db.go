// Package store is Quire's persistence layer: one set of hand-written SQL in
// the common subset of SQLite and PostgreSQL, a small dialect seam for what
// differs (placeholders, timestamps, locking), embedded migrations, and the
// translation of driver errors into domain errors.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // pure-Go SQLite driver: no cgo, one static binary
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a handle on the database. On SQLite it holds two pools, as
// PocketBase does: many read connections and a single write connection, so
// that writers queue in Go instead of failing with "database is locked".
// On PostgreSQL both are the same pool.
type DB struct {
	dialect Dialect
	read    *sql.DB
	write   *sql.DB
	rebinds sync.Map // query text with ? → query text with $n, for PostgreSQL
}

// Open connects to url: a postgres:// or postgresql:// URL selects
// PostgreSQL; anything else is a SQLite file path (an optional sqlite:// or
// file: prefix is removed).
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(16)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: Postgres, read: pool, write: pool}, nil
}

func openSQLite(dsn string) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return nil, errors.New("open sqlite: a file path is required (an in-memory database cannot be shared by a pool)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Create the file ourselves, readable by the owner only: it holds
	// password hashes. SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	f.Close()
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One writer: SQLite allows one at a time anyway; queuing in the pool
	// means no writer ever sees SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	read.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	return &DB{dialect: SQLite, read: read, write: write}, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

func (db *DB) migrationProvider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several nodes may start at once; a session lock lets one migrate.
		// The lock is per schema (nodes of one installation share it, other
		// installations on the same server do not wait), probed every second.
		var schema string
		if err := db.write.QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("quire migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.write, sub, opts...)
}

// Migrate applies every pending embedded migration, each in its own
// transaction. It is safe to run on every start.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrationProvider()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return db.migrateJobs(ctx)
}

// MigrationStatus is one line of `quire migrate status`.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationStatus lists every embedded migration and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version: s.Source.Version, Name: filepath.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx runs queries: inside a write transaction (from InTx) or on the read
// pool (from Reader). Store methods hang off it so that a service composes
// several of them, plus its audit entry, into one transaction.
type Tx struct {
	db  *DB
	q   querier
	now time.Time
}

// Now is the single timestamp of this transaction, in UTC with the
// microsecond precision both databases keep.
func (tx *Tx) Now() time.Time { return tx.now }

// Reader returns a Tx over the read pool, for reads outside a transaction.
func (db *DB) Reader() *Tx {
	return &Tx{db: db, q: db.read, now: Now()}
}

// Now is the current time as the store keeps it.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// InTx runs fn in one write transaction, committing when fn returns nil and
// rolling back otherwise (or on panic).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{db: db, q: sqlTx, now: Now()}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Queries in this
// package never contain a literal question mark.
func (db *DB) rebind(query string) string {
	if db.dialect != Postgres {
		return query
	}
	if q, ok := db.rebinds.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	db.rebinds.Store(query, b.String())
	return b.String()
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.q.ExecContext(ctx, tx.db.rebind(query), tx.args(args)...)
	return res, mapErr(err)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := tx.q.QueryContext(ctx, tx.db.rebind(query), tx.args(args)...)
	return rows, mapErr(err)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.q.QueryRowContext(ctx, tx.db.rebind(query), tx.args(args)...)
}

// args converts time values into what each database stores: fixed-width
// text on SQLite (so that text order is time order), timestamptz on PostgreSQL.
func (tx *Tx) args(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = tx.db.timeArg(v)
		case *time.Time:
			if v == nil {
				args[i] = nil
			} else {
				args[i] = tx.db.timeArg(*v)
			}
		}
	}
	return args
}

func (db *DB) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if db.dialect == SQLite {
		return t.Format(timeLayout)
	}
	return t
}

// execOne runs an UPDATE or DELETE that must touch exactly one row; zero
// rows is notFound.
func (tx *Tx) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func init() {
	// Make sure the pgx driver is registered under "pgx" even if nothing
	// else imports it by that name.
	_ = stdlib.GetDefaultDriver()
}
