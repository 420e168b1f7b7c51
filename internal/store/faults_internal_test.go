package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirecms/quire"
)

// Driver errors are classified by type and code: the faults of the
// database itself apart from the refusals of one statement.
func TestFaultCodes(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "whatever the server says"})
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"connection failure", pg("08006"), quire.EUNAVAILABLE},
		{"admin shutdown", pg("57P01"), quire.EUNAVAILABLE},
		{"starting up", pg("57P03"), quire.EUNAVAILABLE},
		{"too many connections", pg("53300"), quire.EUNAVAILABLE},
		{"disk full", pg("53100"), quire.ESTORAGEFULL},
		{"unique violation", pg("23505"), quire.ECONFLICT},
		{"check violation", pg("23514"), quire.EINVALID},
		{"syntax error", pg("42601"), quire.EINTERNAL},
		{"connection refused", fmt.Errorf("connect: %w", refused), quire.EUNAVAILABLE},
		{"bad connection", driver.ErrBadConn, quire.EUNAVAILABLE},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), quire.EUNAVAILABLE},
		{"our timeout", errors.Join(ErrTimeout, context.Canceled), quire.EUNAVAILABLE},
		{"no rows", sql.ErrNoRows, quire.ENOTFOUND},
	} {
		if got := quire.ErrorCode(mapErr(c.err)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// The caller giving up is not a fault of the database.
	if err := mapErr(context.Canceled); err != context.Canceled {
		t.Errorf("context.Canceled became %v", err)
	}
}
