package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// seedOldAudit appends n entries with the columns of the first schema, as
// a release before migration 00004 wrote them (canonical encoding v1).
func seedOldAudit(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	prev := quire.GenesisHash
	at := store.Now()
	for i := range n {
		e := &quire.AuditEntry{Seq: int64(i + 1), ID: store.NewID(), At: at.Add(time.Duration(i) * time.Millisecond), UserID: fmt.Sprintf("u%d", i%2),
			Action: fmt.Sprintf("user.test%d", i), ResourceType: "user", ResourceID: fmt.Sprintf("r%d", i%3),
			Details: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO audit_log (seq, id, at, user_id, action, resource_type, resource_id, details, request_id, ip, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, ?)`, e.Seq, e.ID, e.At, e.UserID, e.Action, e.ResourceType, e.ResourceID, string(e.Details), e.PrevHash, e.Hash)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Migration 00004: tokens made before scopes existed keep what their role
// let them do, and the chain written before it still verifies, with new
// entries that name a token appended after it.
func TestUpgradeGivesTokensScopes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := store.MigrateTo(ctx, db, 3); err != nil {
			t.Fatal(err)
		}
		owner := mustUser(t, db, "owner@example.com", quire.RoleAdmin)
		ids := map[quire.Role]string{}
		for _, role := range quire.Roles {
			ids[role] = store.NewID()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return store.ExecForTest(ctx, tx, `INSERT INTO api_tokens (id, name, prefix, token_hash, role, created_by, created_at) VALUES (?, ?, 'qpat_x', ?, ?, ?, ?)`,
					ids[role], "old "+string(role), "hash-"+string(role), role, owner.ID, store.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		seedOldAudit(t, db, 4)
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, role := range quire.Roles {
			tok, err := db.Reader().APIToken(ctx, ids[role])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tok.Scopes, quire.RoleScopes(role)) {
				t.Errorf("%s token migrated to scopes %v, want %v", role, tok.Scopes, quire.RoleScopes(role))
			}
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.AppendAudit(ctx, &quire.AuditEntry{UserID: owner.ID, APITokenID: ids[quire.RoleEditor], APITokenName: "old editor",
				Action: "page.create", ResourceType: "page", ResourceID: "p"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := db.Reader().VerifyAudit(ctx, testKey); err != nil || !res.OK || res.Entries != 5 {
			t.Fatalf("chain after upgrade: %+v %v", res, err)
		}
		got, err := db.Reader().AuditEntries(ctx, store.AuditFilter{APITokenID: ids[quire.RoleEditor]})
		if err != nil || len(got) != 1 || got[0].APITokenName != "old editor" || got[0].Seq != 5 {
			t.Fatalf("entries by token: %+v %v", got, err)
		}
	})
}

// Scopes are stored and read back in the order given.
func TestTokenScopesRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		owner := mustUser(t, db, "o@example.com", quire.RoleAdmin)
		tok := &quire.APIToken{Name: "n", Prefix: "qpat_y", Role: quire.RoleEditor, CreatedBy: owner.ID,
			Scopes: []quire.Scope{quire.ScopeMedia, quire.ScopeContentRead}}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAPIToken(ctx, tok, "h") }); err != nil {
			t.Fatal(err)
		}
		got, err := db.Reader().APITokenByHash(ctx, "h")
		if err != nil || !reflect.DeepEqual(got.Scopes, tok.Scopes) {
			t.Fatalf("read back %+v, %v", got, err)
		}
	})
}
