package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/quirecms/quire"
)

// Errors the store returns, recognisable with errors.Is by callers that want
// to say something more precise than the generic message.
var (
	ErrUniqueViolation = errors.New("unique constraint violated")
	ErrForeignKey      = errors.New("foreign key constraint violated")
	ErrCheck           = errors.New("check constraint violated")
	// ErrRetryable is a transaction PostgreSQL aborted to resolve a
	// deadlock (40P01) or a serialization failure (40001): nothing was
	// wrong with it, and the same request made again will likely pass.
	ErrRetryable = errors.New("transaction aborted by a concurrent one")
)

// retryAfterConflict is the Retry-After, in seconds, of ErrRetryable: the
// other transaction has usually finished by then.
const retryAfterConflict = 1

// mapErr turns driver errors into domain errors by error code (SQLSTATE on
// PostgreSQL, extended result code on SQLite), never by message text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var qe *quire.Error
	switch {
	case errors.As(err, &qe):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return quire.Wrap(quire.ENOTFOUND, err, "not found")
	case errors.Is(err, context.Canceled) && !errors.Is(err, ErrTimeout):
		return err // the caller gave up: not a fault of the database
	}
	if f := faultErr(err); f != nil {
		return f
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return quire.Wrap(quire.ECONFLICT, errors.Join(ErrUniqueViolation, err), "already exists")
		// Not the caller's fault nor a server bug: a 503 with Retry-After,
		// as for an unavailable database. The transaction is not retried
		// here: its function may have done work outside the database
		// (docs/security/faults.md, "Deadlocks").
		case "40P01", "40001":
			e := quire.Wrap(quire.EUNAVAILABLE, errors.Join(ErrRetryable, err), "the change collided with a concurrent one; try again")
			e.RetryAfter = retryAfterConflict
			return e
		case "23503":
			return quire.Wrap(quire.ECONFLICT, errors.Join(ErrForeignKey, err), "a referenced resource does not exist or is still in use")
		// 22021/22P05: NUL or a character the encoding cannot hold; the
		// caller's input, not a server fault.
		case "23514", "23502", "22P02", "22001", "22021", "22P05":
			return quire.Wrap(quire.EINVALID, errors.Join(ErrCheck, err), "a value is out of its allowed range")
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return quire.Wrap(quire.ECONFLICT, errors.Join(ErrUniqueViolation, err), "already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return quire.Wrap(quire.ECONFLICT, errors.Join(ErrForeignKey, err), "a referenced resource does not exist or is still in use")
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return quire.Wrap(quire.EINVALID, errors.Join(ErrCheck, err), "a value is out of its allowed range")
		}
	}
	return err
}
