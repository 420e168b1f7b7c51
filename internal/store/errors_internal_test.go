package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirecms/quire"
)

// Deadlocks and serialization failures are the client's to retry: a 503
// with Retry-After, never a 500. (A real deadlock: TestDeadlockIsRetryable.)
func TestRetryableSQLStates(t *testing.T) {
	for _, code := range []string{"40P01", "40001"} {
		err := mapErr(fmt.Errorf("commit: %w", &pgconn.PgError{Code: code}))
		var e *quire.Error
		if !errors.As(err, &e) || e.Code != quire.EUNAVAILABLE || e.RetryAfter <= 0 || !errors.Is(err, ErrRetryable) {
			t.Errorf("%s: %v (%+v)", code, err, e)
		}
	}
}
