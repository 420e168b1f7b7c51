package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"sync/atomic"

	"modernc.org/sqlite"
)

// sqliteDriverName is modernc's SQLite driver with a statement cache on
// each connection. The driver parses a statement's SQL again on every
// call (sqlite3_prepare_v2) unless it was prepared; parsing was a fifth of
// the CPU of a list request and a seventh of a page create
// (docs/performance.md). Quire's statements are a fixed set of strings,
// so each connection keeps the ones it has run prepared, by their text,
// and runs them again with new arguments.
//
// database/sql's own prepared statements (DB.Prepare) would do it too, but
// every caller would have to hold one per query, and a Tx re-prepares a
// pool statement on the transaction's connection unless it already has
// it; keeping the cache under the driver makes every Exec and Query of
// this package, River's included, reuse statements without saying so.
const sqliteDriverName = "quire-sqlite"

func init() {
	sql.Register(sqliteDriverName, cachingDriver{&sqlite.Driver{}})
}

// Statements longer than this are not kept (the importer's multi-row
// inserts, lists of ids): they vary with their data and would crowd out
// the fixed ones.
const (
	maxCachedStatementLen = 4096
	maxCachedStatements   = 128
)

// statementsPrepared counts the statements the cache has prepared, for
// tests.
var statementsPrepared atomic.Int64

type cachingDriver struct{ base driver.Driver }

func (d cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{sqliteConn: c.(sqliteConn), stmts: make(map[string]*cachedStmt)}, nil
}

// sqliteConn is what modernc's connection offers that database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is used by one goroutine at a time (database/sql's rule
// for a driver connection), so its map needs no lock.
type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	// busy: rows of this statement are open. The statement is one SQLite
	// handle, so a second use of the same text before they are closed (a
	// query inside a loop over the same query) runs unprepared instead.
	busy bool
}

// stmt returns the prepared statement for query, or nil when query is not
// to be cached or its statement is in use.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(query) > maxCachedStatementLen {
		return nil, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	statementsPrepared.Add(1)
	st, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		ds.Close()
		return nil, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		c.evictIdle()
	}
	s := &cachedStmt{stmt: st}
	c.stmts[query] = s
	return s, nil
}

// evictIdle drops every statement not in use: simpler than an LRU, and
// with a fixed set of statements the cache refills with the ones in use.
func (c *cachingConn) evictIdle() {
	for q, s := range c.stmts {
		if !s.busy {
			s.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	r, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: r, s: s}, nil
}

func (c *cachingConn) Close() error {
	for q, s := range c.stmts {
		s.stmt.Close()
		delete(c.stmts, q)
	}
	return c.sqliteConn.Close()
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	return err
}

// The column type methods are passed through, for Rows.ColumnTypes.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.Rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}
