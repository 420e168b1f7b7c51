package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/quirecms/quire"
)

// auditLockKey is the PostgreSQL advisory lock that serialises appends to
// the chain: each entry needs the hash of the one before it.
const auditLockKey = 0x717569726561 // "quirea"

// AppendAudit adds e to the hash chain inside this transaction. It should
// be the last write of the transaction: on PostgreSQL it takes a lock that
// is held until commit, so every audited write queues behind it briefly,
// which is what keeps the chain linear under concurrent requests. On SQLite
// the single write connection already serialises transactions.
func (tx *Tx) AppendAudit(ctx context.Context, e *quire.AuditEntry) error {
	if tx.db.dialect == Postgres {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(auditLockKey)); err != nil {
			return fmt.Errorf("audit lock: %w", err)
		}
	}
	var lastSeq sql.NullInt64
	var lastHash sql.NullString
	err := tx.queryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", mapErr(err))
	}
	e.Seq, e.PrevHash = lastSeq.Int64+1, quire.GenesisHash
	if lastHash.Valid {
		e.PrevHash = lastHash.String
	}
	e.ID, e.At = NewID(), tx.now
	if len(e.Details) == 0 {
		e.Details = json.RawMessage(`{}`)
	}
	e.Hash = e.ComputeHash()
	_, err = tx.exec(ctx, `INSERT INTO audit_log (seq, id, at, user_id, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.At, nullString(e.UserID), e.Action, e.ResourceType, e.ResourceID, string(e.Details), e.RequestID, e.IP, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

const auditColumns = `seq, id, at, user_id, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (*quire.AuditEntry, error) {
	var e quire.AuditEntry
	var userID sql.NullString
	var details string
	err := row.Scan(&e.Seq, &e.ID, scanTime{&e.At}, &userID, &e.Action, &e.ResourceType, &e.ResourceID, &details, &e.RequestID, &e.IP, &e.PrevHash, &e.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, quire.Errorf(quire.ENOTFOUND, "audit entry not found")
	}
	if err != nil {
		return nil, mapErr(err)
	}
	e.UserID, e.Details = userID.String, json.RawMessage(details)
	return &e, nil
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	ResourceType string
	ResourceID   string
	Action       string
	UserID       string
	BeforeSeq    int64 // keyset: only entries older than this one
	Limit        int
}

// AuditEntries lists entries newest first.
func (tx *Tx) AuditEntries(ctx context.Context, f AuditFilter) ([]*quire.AuditEntry, error) {
	q := `SELECT ` + auditColumns + ` FROM audit_log WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) { q += ` AND ` + cond; args = append(args, v) }
	if f.ResourceType != "" {
		add(`resource_type = ?`, f.ResourceType)
	}
	if f.ResourceID != "" {
		add(`resource_id = ?`, f.ResourceID)
	}
	if f.Action != "" {
		add(`action = ?`, f.Action)
	}
	if f.UserID != "" {
		add(`user_id = ?`, f.UserID)
	}
	if f.BeforeSeq > 0 {
		add(`seq < ?`, f.BeforeSeq)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// VerifyAudit walks the whole chain in order, streaming, and reports the
// first entry that does not verify.
func (tx *Tx) VerifyAudit(ctx context.Context) (quire.AuditVerification, error) {
	v := quire.NewChainVerifier()
	rows, err := tx.query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return v.Result, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return v.Result, err
		}
		if !v.Next(e) {
			break
		}
	}
	return v.Result, mapErr(rows.Err())
}
