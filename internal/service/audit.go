package service

import (
	"context"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Audit reads, verifies, prunes and exports the audit log (admin only).
type Audit struct {
	db  *store.DB
	key []byte // signs prune checkpoints
}

// NewAudit returns the audit service; key signs and checks prune checkpoints.
func NewAudit(db *store.DB, key []byte) *Audit { return &Audit{db: db, key: key} }

// Verify walks the whole chain.
func (s *Audit) Verify(ctx context.Context, p *quire.Principal) (quire.AuditVerification, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return quire.AuditVerification{}, err
	}
	return s.VerifySystem(ctx)
}

// VerifySystem walks the whole chain for the operator (`quire audit verify`).
func (s *Audit) VerifySystem(ctx context.Context) (quire.AuditVerification, error) {
	return s.db.Reader().VerifyAudit(ctx, s.key)
}

// List returns audit entries newest first.
func (s *Audit) List(ctx context.Context, p *quire.Principal, f store.AuditFilter) ([]*quire.AuditEntry, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.db.Reader().AuditEntries(ctx, f)
}

// Get returns one entry.
func (s *Audit) Get(ctx context.Context, p *quire.Principal, id string) (*quire.AuditEntry, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.db.Reader().AuditEntry(ctx, id)
}

// Prune removes entries recorded before before, keeping the rest of the
// chain verifiable through a signed checkpoint, and records that it did so
// in the chain itself. It returns nil when there was nothing to prune.
func (s *Audit) Prune(ctx context.Context, before time.Time) (*quire.AuditCheckpoint, error) {
	var cp *quire.AuditCheckpoint
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if cp, err = tx.PruneAudit(ctx, before, s.key); err != nil || cp == nil {
			return err
		}
		return audit(ctx, tx, "", quire.ActionAuditPrune, "audit_log", cp.ID, map[string]any{
			"before": before.UTC().Format(time.RFC3339Nano), "through_seq": cp.ThroughSeq,
			"last_hash": cp.LastHash, "pruned": cp.Pruned,
		})
	})
	return cp, err
}

// Export streams entries from since (all when nil) in chain order.
func (s *Audit) Export(ctx context.Context, since *time.Time, fn func(*quire.AuditEntry) error) error {
	return s.db.Reader().EachAudit(ctx, since, fn)
}
