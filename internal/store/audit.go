package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

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
	if err := tx.lockAudit(ctx); err != nil {
		return err
	}
	last, err := tx.auditHead(ctx)
	if err != nil {
		return err
	}
	e.Seq, e.PrevHash = last.seq+1, quire.GenesisHash
	if last.hash != "" {
		e.PrevHash = last.hash
	}
	// at never goes back along the chain, so that a time range is a seq
	// range (auditQuery). A transaction that started before the one
	// appended ahead of it takes that one's time.
	e.ID, e.At = NewID(), tx.now
	if e.At.Before(last.at) {
		e.At = last.at
	}
	if len(e.Details) == 0 {
		e.Details = json.RawMessage(`{}`)
	}
	e.Hash = e.ComputeHash()
	_, err = tx.exec(ctx, `INSERT INTO audit_log (seq, id, at, user_id, api_token_id, api_token_name, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.At, nullString(e.UserID), e.APITokenID, e.APITokenName, e.Action, e.ResourceType, e.ResourceID, string(e.Details), e.RequestID, e.IP, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	if tx.head != nil {
		*tx.head = auditHead{known: true, seq: e.Seq, hash: e.Hash, at: e.At}
	}
	return nil
}

// auditHead is the chain's last entry: seq, hash and time (zero values
// for an empty log).
type auditHead struct {
	known bool
	seq   int64
	hash  string
	at    time.Time
}

// auditHead reads the chain's last entry, or takes it from the shared
// transaction, where the write before this one appended it: on SQLite the
// one writer holds the database until the group commits, so nothing else
// can append in between.
func (tx *Tx) auditHead(ctx context.Context) (auditHead, error) {
	if tx.head != nil && tx.head.known {
		return *tx.head, nil
	}
	var lastSeq sql.NullInt64
	var lastHash sql.NullString
	var h auditHead
	err := tx.queryRow(ctx, `SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &lastHash, scanTime{&h.at})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return auditHead{}, fmt.Errorf("audit head: %w", mapErr(err))
	}
	h.known, h.seq, h.hash = true, lastSeq.Int64, lastHash.String
	return h, nil
}

// forgetAuditHead makes the next append read the head again: for writes
// to audit_log other than AppendAudit's (a prune, an import).
func (tx *Tx) forgetAuditHead() {
	if tx.head != nil {
		tx.head.known = false
	}
}

// lockAudit takes the chain lock until the transaction ends.
func (tx *Tx) lockAudit(ctx context.Context) error {
	// Taken once: the audit entry and the event of a write both need it,
	// and asking again would cost PostgreSQL a round trip under the lock.
	if tx.db.dialect != Postgres || tx.chainLocked {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(auditLockKey)); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	tx.chainLocked = true
	return nil
}

const auditColumns = `seq, id, at, user_id, api_token_id, api_token_name, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (*quire.AuditEntry, error) {
	var e quire.AuditEntry
	var userID sql.NullString
	var details string
	err := row.Scan(&e.Seq, &e.ID, scanTime{&e.At}, &userID, &e.APITokenID, &e.APITokenName, &e.Action, &e.ResourceType, &e.ResourceID, &details, &e.RequestID, &e.IP, &e.PrevHash, &e.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, quire.Errorf(quire.ENOTFOUND, "audit entry not found")
	}
	if err != nil {
		return nil, mapErr(err)
	}
	e.UserID, e.Details = userID.String, json.RawMessage(details)
	if userID.Valid && userID.String == "" {
		// Quire writes NULL for "no user" and a CHECK forbids ''; an empty
		// string can only come from tampering, so make it fail the hash
		// instead of reading back the same as NULL.
		e.UserID = "\x00"
	}
	return &e, nil
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	ResourceType string
	ResourceID   string
	// Action matches exactly, or as a prefix when it ends with a dot ("page.").
	Action string
	UserID string
	// APITokenID selects the entries of actions taken with one API token.
	APITokenID string
	Since      *time.Time
	Until      *time.Time
	BeforeSeq  int64 // keyset: only entries older than this one
	Limit      int
}

// AuditEntries lists entries newest first.
func (tx *Tx) AuditEntries(ctx context.Context, f AuditFilter) ([]*quire.AuditEntry, error) {
	q, args := auditQuery(f)
	var out []*quire.AuditEntry
	err := tx.eachAudit(ctx, q, args, func(e *quire.AuditEntry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

func auditQuery(f AuditFilter) (string, []any) {
	q := `SELECT ` + auditColumns + ` FROM audit_log WHERE 1 = 1`
	var args []any
	add := func(cond string, v ...any) { q += ` AND ` + cond; args = append(args, v...) }
	if f.ResourceType != "" {
		add(`resource_type = ?`, f.ResourceType)
	}
	if f.ResourceID != "" {
		add(`resource_id = ?`, f.ResourceID)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		// A prefix as a range ("page." ≤ action < "page/"), which both
		// databases answer from the (action, seq) index; LIKE would not
		// use it under every collation.
		add(`action >= ? AND action < ?`, f.Action, f.Action[:len(f.Action)-1]+"/")
	case f.Action != "":
		add(`action = ?`, f.Action)
	}
	if f.UserID != "" {
		add(`user_id = ?`, f.UserID)
	}
	if f.APITokenID != "" {
		add(`api_token_id = ?`, f.APITokenID)
	}
	// Since at never goes back along the chain (AppendAudit), a time
	// range is the seq range from the first entry at or after since to the
	// first at or after until: two seeks on the at index, after which the
	// list is a range of the seq order like any other. The at conditions
	// stay, for entries written before at was kept in order.
	if f.Since != nil {
		add(`seq >= (SELECT min(seq) FROM audit_log WHERE at = (SELECT min(at) FROM audit_log WHERE at >= ?)) AND at >= ?`, *f.Since, *f.Since)
	}
	if f.Until != nil {
		add(`seq < coalesce((SELECT min(seq) FROM audit_log WHERE at = (SELECT min(at) FROM audit_log WHERE at >= ?)), ?) AND at < ?`,
			*f.Until, int64(math.MaxInt64), *f.Until)
	}
	if f.BeforeSeq > 0 {
		add(`seq < ?`, f.BeforeSeq)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	return q, append(args, f.Limit)
}

// AuditEntry returns one entry by id.
func (tx *Tx) AuditEntry(ctx context.Context, id string) (*quire.AuditEntry, error) {
	return scanAudit(tx.queryRow(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE id = ?`, id))
}

// EachAudit streams entries at or after since (all when nil) in chain
// order, for export.
func (tx *Tx) EachAudit(ctx context.Context, since *time.Time, fn func(*quire.AuditEntry) error) error {
	q, args := `SELECT `+auditColumns+` FROM audit_log`, []any{}
	if since != nil {
		q += ` WHERE seq >= (SELECT coalesce(min(seq), 0) FROM audit_log WHERE at >= ?)`
		args = append(args, *since)
	}
	return tx.eachAudit(ctx, q+` ORDER BY seq`, args, fn)
}

func (tx *Tx) eachAudit(ctx context.Context, q string, args []any, fn func(*quire.AuditEntry) error) error {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// LatestCheckpoint returns the newest prune checkpoint, or nil when the
// chain was never pruned.
func (tx *Tx) LatestCheckpoint(ctx context.Context) (*quire.AuditCheckpoint, error) {
	var c quire.AuditCheckpoint
	err := tx.queryRow(ctx, `SELECT id, through_seq, last_hash, pruned, created_at, signature FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1`).
		Scan(&c.ID, &c.ThroughSeq, &c.LastHash, &c.Pruned, scanTime{&c.CreatedAt}, &c.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

// VerifyAudit walks the whole chain in order, streaming, and reports the
// first entry that does not verify. After a prune the walk starts at the
// newest checkpoint, whose signature is checked with key.
func (tx *Tx) VerifyAudit(ctx context.Context, key []byte) (quire.AuditVerification, error) {
	v := quire.NewChainVerifier()
	cp, err := tx.LatestCheckpoint(ctx)
	if err != nil {
		return v.Result, err
	}
	if cp != nil {
		if !cp.Verify(key) {
			v.Result = quire.AuditVerification{OK: false, FirstBadID: cp.ID, Reason: "the prune checkpoint's signature does not verify (tampered, or not this instance's signing key)"}
			return v.Result, nil
		}
		v.StartAt(cp.ThroughSeq, cp.LastHash)
	}
	err = tx.eachAudit(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`, nil, func(e *quire.AuditEntry) error {
		if !v.Next(e) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return v.Result, err
}

var errStop = errors.New("stop")

// PruneAudit removes the oldest entries, those before the first entry
// recorded at or after before, and records a signed checkpoint of the last
// removed hash so that the rest of the chain still verifies. It returns nil
// when there is nothing to prune. The caller appends its own audit entry.
func (tx *Tx) PruneAudit(ctx context.Context, before time.Time, key []byte) (*quire.AuditCheckpoint, error) {
	if err := tx.lockAudit(ctx); err != nil {
		return nil, err
	}
	tx.forgetAuditHead()
	var firstKept sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT min(seq) FROM audit_log WHERE at >= ?`, before).Scan(&firstKept); err != nil {
		return nil, mapErr(err)
	}
	var through int64
	if firstKept.Valid {
		through = firstKept.Int64 - 1
	} else if err := tx.queryRow(ctx, `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&through); err != nil {
		return nil, mapErr(err)
	}
	cp := &quire.AuditCheckpoint{ID: NewID(), ThroughSeq: through, CreatedAt: tx.now}
	err := tx.queryRow(ctx, `SELECT hash, (SELECT count(*) FROM audit_log WHERE seq <= ?) FROM audit_log WHERE seq = ?`, through, through).
		Scan(&cp.LastHash, &cp.Pruned)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // nothing older than before, or already pruned
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if err := tx.auditPruneGuard(ctx, true); err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, `DELETE FROM audit_log WHERE seq <= ?`, through); err != nil {
		return nil, err
	}
	if err := tx.auditPruneGuard(ctx, false); err != nil {
		return nil, err
	}
	cp.Sign(key)
	_, err = tx.exec(ctx, `INSERT INTO audit_checkpoints (id, through_seq, last_hash, pruned, created_at, signature) VALUES (?, ?, ?, ?, ?, ?)`,
		cp.ID, cp.ThroughSeq, cp.LastHash, cp.Pruned, cp.CreatedAt, cp.Signature)
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// auditPruneGuard opens or closes the append-only triggers' one exception,
// for this transaction only.
func (tx *Tx) auditPruneGuard(ctx context.Context, open bool) error {
	var err error
	switch {
	case tx.db.dialect == Postgres:
		v := "off"
		if open {
			v = "on"
		}
		_, err = tx.exec(ctx, `SELECT set_config('quire.audit_prune', ?, true)`, v)
	case open:
		_, err = tx.exec(ctx, `INSERT INTO audit_prune_guard (open) VALUES (1)`)
	default:
		_, err = tx.exec(ctx, `DELETE FROM audit_prune_guard`)
	}
	return err
}
