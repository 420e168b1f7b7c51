package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// JobDriver returns the River driver over this database's write pool, for
// the background job queue. On SQLite that pool is the single write
// connection: River's fetches, completions and polls queue in Go behind
// (and between) application writes, as every other writer does, instead of
// failing with SQLITE_BUSY. On PostgreSQL it is the shared pool.
func (db *DB) JobDriver() riverdriver.Driver[*sql.Tx] {
	if db.dialect == Postgres {
		return riverdatabasesql.New(db.write)
	}
	return riversqlite.New(db.write)
}

// JobTx is the database transaction under tx, so that the job queue can
// insert jobs in the same transaction as the change that causes them. It
// is meant for the job queue only; everything else goes through Tx methods.
func (tx *Tx) JobTx() (*sql.Tx, error) {
	sqlTx, ok := tx.q.(*sql.Tx)
	if !ok {
		return nil, errors.New("store: jobs can be enqueued only inside a write transaction")
	}
	return sqlTx, nil
}

// migrateJobs brings River's own tables up to the version this build of
// River expects. River's migrator takes no lock, so on PostgreSQL it runs
// while one connection holds a session advisory lock per schema (several
// nodes may start at once); SQLite's single write connection serialises it.
func (db *DB) migrateJobs(ctx context.Context) (err error) {
	m, err := rivermigrate.New(db.JobDriver(), nil)
	if err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	if db.dialect == Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate jobs: %w", err)
		}
		defer conn.Close()
		var schema string
		if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("migrate jobs: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("quire job migrations " + schema))
		key := int64(h.Sum64() >> 1)
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("migrate jobs: lock: %w", err)
		}
		defer func() {
			_, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
			err = errors.Join(err, uerr)
		}()
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	return nil
}
