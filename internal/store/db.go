// Package store is Quire's persistence layer: one set of hand-written SQL in
// the common subset of SQLite and PostgreSQL, a small dialect seam for what
// differs (placeholders, timestamps, locking), embedded migrations, and the
// translation of driver errors into domain errors.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
	timeout time.Duration
	health  health
	// group queues SQLite's writers so that waiting ones share a commit
	// (groupcommit.go); nil on PostgreSQL.
	group *groupWriter
	// checkpoints runs SQLite's WAL checkpoints beside the writer
	// (checkpoint.go); nil on PostgreSQL.
	checkpoints *checkpointer
}

// Options tune how the store talks to its database.
type Options struct {
	// Timeout bounds each write transaction, from waiting for a connection
	// to commit, and the wait for each read statement's answer. Work past
	// it is cancelled and rolled back, and the caller gets EUNAVAILABLE.
	// Zero means no deadline beyond the caller's context.
	Timeout time.Duration
	// SQLiteSynchronous is SQLite's synchronous pragma: "full" (the
	// default: an acknowledged write survives a power cut) or "normal"
	// (faster; in WAL mode the last writes before a power cut may be lost,
	// never the database).
	SQLiteSynchronous string
	// SQLiteCacheBytes is each SQLite connection's page cache (cache_size);
	// SQLiteMmapBytes how much of the file is read through a memory map
	// shared by every connection (mmap_size). Zero means 4 MiB and 256 MiB;
	// see docs/performance.md, "SQLite reads".
	SQLiteCacheBytes, SQLiteMmapBytes int64
}

// Open connects to url with default options: see OpenWith.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith connects to url: a postgres:// or postgresql:// URL selects
// PostgreSQL; anything else is a SQLite file path (an optional sqlite:// or
// file: prefix is removed).
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn, opts)
	} else {
		db, err = openSQLite(dsn, opts)
	}
	if err != nil {
		return nil, err
	}
	db.timeout = opts.Timeout
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connectTimeout bounds a new PostgreSQL connection when the URL does
// not set connect_timeout itself.
const connectTimeout = 5 * time.Second

// keepAlive makes a connection to a server that vanished (a partition, a
// host that lost power) fail within about 30 s instead of the kernel's
// two hours, so that a statement waiting on it ends.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

func openPostgres(dsn string, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
		if opts.Timeout > 0 {
			cfg.ConnectTimeout = min(connectTimeout, opts.Timeout)
		}
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAliveConfig: keepAlive}
	cfg.DialFunc = dialer.DialContext
	pool := stdlib.OpenDB(*cfg)
	// As many idle connections are kept as may be open: with fewer, every
	// burst past the idle count closed the extra connections as they were
	// returned, and the next burst paid for new ones (a backend started,
	// statements prepared again). Idle ones still close after 5 minutes.
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: Postgres, read: pool, write: pool}, nil
}

func openSQLite(dsn string, opts Options) (*DB, error) {
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
	synchronous := strings.ToUpper(cmp.Or(opts.SQLiteSynchronous, "full"))
	if synchronous != "FULL" && synchronous != "NORMAL" {
		return nil, fmt.Errorf("open sqlite: synchronous must be full or normal, not %q", opts.SQLiteSynchronous)
	}
	// A writer waits this long for a lock held by another process (a CLI
	// command, a backup) before SQLITE_BUSY, which becomes EUNAVAILABLE.
	busy := 10 * time.Second
	if opts.Timeout > 0 {
		busy = min(busy, opts.Timeout)
	}
	// cache_size is negative to mean KiB rather than pages.
	cacheKiB := cmp.Or(opts.SQLiteCacheBytes, 4<<20) / 1024
	mmap := cmp.Or(opts.SQLiteMmapBytes, 256<<20)
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)&_pragma=cache_size(-%d)&_pragma=mmap_size(%d)",
		busy.Milliseconds(), synchronous, max(cacheKiB, 1), mmap)
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// temp_store(MEMORY) on the writer keeps the savepoint journals of
	// group commit in memory: by default SQLite spills them to a temporary
	// file past 64 KiB, a write syscall per page every grouped writer
	// changes (a tenth of a create's CPU, all of it on the serial path).
	write, err := sql.Open(sqliteDriverName, fmt.Sprintf("%s&_txlock=immediate&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)",
		base, backstopCheckpointPages))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One writer: SQLite allows one at a time anyway; queuing in the pool
	// means no writer ever sees SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open(sqliteDriverName, base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	read.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	checkpoint, err := sql.Open(sqliteDriverName, base)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return &DB{dialect: SQLite, read: read, write: write, group: newGroupWriter(), checkpoints: startCheckpointer(checkpoint)}, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, mapErr(err))
	}
	return nil
}

// Close stops the checkpointer and closes the pools.
func (db *DB) Close() error {
	var err error
	if db.checkpoints != nil {
		err = db.checkpoints.close()
	}
	err = errors.Join(err, db.write.Close())
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
	opts := []goose.ProviderOption{goose.WithGoMigrations(snapshotsMigration(db.dialect))}
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
// transaction. It is safe to run on every start. It refuses a database
// an import did not finish loading (ErrImportIncomplete).
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.checkImportMarker(ctx); err != nil {
		return err
	}
	return db.migrate(ctx)
}

func (db *DB) migrate(ctx context.Context) error {
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
		name := filepath.Base(s.Source.Path)
		if s.Source.Path == "" {
			name = goMigrationName(s.Source.Version)
		}
		out = append(out, MigrationStatus{
			Version: s.Source.Version, Name: name,
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
	// ctx is the write transaction's context, carrying its deadline; nil
	// on a reader, whose statements each get a deadline of their own.
	ctx context.Context
	// chainLocked: this transaction holds the audit chain's lock (audit.go).
	chainLocked bool
	// nowArg is now as a statement argument, once made: most of the times
	// a write binds are its own timestamp (a page create binds it 19 times).
	nowArg any
	// head is the audit chain's head as the open transaction left it, when
	// that transaction is shared by several writes (SQLite's group commit);
	// nil otherwise, and then AppendAudit reads it every time.
	head *auditHead
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
// rolling back otherwise (or on panic). The transaction ends by
// Options.Timeout, waiting for the connection included; when ctx is done
// (the client went away, the deadline passed) before commit, it rolls back.
// On SQLite, writes that queue share a commit (groupcommit.go): fn then
// runs in a savepoint, and InTx returns once the shared commit is durable.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if db.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, db.timeout, ErrTimeout)
		defer cancel()
	}
	if db.group != nil {
		return db.inGroup(ctx, fn)
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(ctx, fmt.Errorf("begin: %w", err))
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
	if err = fn(&Tx{db: db, q: sqlTx, now: Now(), ctx: ctx}); err != nil {
		return err
	}
	// database/sql refuses to commit a transaction whose context is done;
	// checking here as well makes that rule this package's own.
	if err = ctx.Err(); err != nil {
		return db.fail(ctx, fmt.Errorf("before commit: %w", err))
	}
	if err = sqlTx.Commit(); err != nil {
		return db.fail(ctx, fmt.Errorf("commit: %w", err))
	}
	db.health.committed()
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
	ctx, dl := tx.statement(ctx)
	defer dl.done()
	res, err := tx.q.ExecContext(ctx, tx.db.rebind(query), tx.args(args)...)
	return res, tx.db.fail(ctx, err)
}

// queryAll runs query and scans every row with scan: the loop every list
// would otherwise repeat.
func queryAll[T any](ctx context.Context, tx *Tx, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// idSet runs a query of one text column and returns its values as a set.
func (tx *Tx) idSet(ctx context.Context, query string, args ...any) (map[string]bool, error) {
	ids, err := queryAll(ctx, tx, func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, mapErr(r.Scan(&id))
	}, query, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*rows, error) {
	ctx, dl := tx.statement(ctx)
	r, err := tx.q.QueryContext(ctx, tx.db.rebind(query), tx.args(args)...)
	if err != nil {
		err = tx.db.fail(ctx, err)
		dl.done()
		return nil, err
	}
	dl.answered()
	return &rows{Rows: r, ctx: ctx, db: tx.db, dl: dl}, nil
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *row {
	ctx, dl := tx.statement(ctx)
	r := tx.q.QueryRowContext(ctx, tx.db.rebind(query), tx.args(args)...)
	dl.answered()
	return &row{row: r, ctx: ctx, db: tx.db, dl: dl}
}

// args converts time values into what each database stores: fixed-width
// text on SQLite (so that text order is time order), timestamptz on PostgreSQL.
func (tx *Tx) args(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			if v.Equal(tx.now) {
				if tx.nowArg == nil {
					tx.nowArg = tx.db.timeArg(tx.now)
				}
				args[i] = tx.nowArg
				continue
			}
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
		return tx.db.fail(ctx, err)
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
