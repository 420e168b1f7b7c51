// Package service holds Quire's use cases. Each method checks who may do
// what, validates input, and runs the change together with its audit entry
// in one store transaction. Services never see an http.Request and never
// return HTTP errors: they speak quire.Error, which the HTTP layer maps.
package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Meta is what the transport knows about a request and the audit log records.
type Meta struct {
	RequestID string
	IP        string
	UserAgent string
	// APITokenID and APITokenName name the API token the request was
	// authenticated with (WithCaller), empty for login sessions.
	APITokenID   string
	APITokenName string
}

type metaKey struct{}

// WithMeta attaches request metadata to ctx.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the request metadata in ctx, or the zero Meta (a CLI call).
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// WithCaller records in ctx the principal a request was authenticated as,
// so that every audit entry the request writes names the API token it was
// made with: a token acts for the admin who made it, and without this its
// actions would look like that admin's own.
func WithCaller(ctx context.Context, p *quire.Principal) context.Context {
	if p == nil || p.TokenID == "" {
		return ctx
	}
	m := MetaFrom(ctx)
	m.APITokenID, m.APITokenName = p.TokenID, p.TokenName
	return WithMeta(ctx, m)
}

// audit appends one entry for a change made by actor (empty for anonymous or system).
func audit(ctx context.Context, tx *store.Tx, actor, action, resourceType, resourceID string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	m := MetaFrom(ctx)
	return tx.AppendAudit(ctx, &quire.AuditEntry{
		UserID: actor, APITokenID: m.APITokenID, APITokenName: m.APITokenName,
		Action: action, ResourceType: resourceType, ResourceID: resourceID,
		Details: b, RequestID: m.RequestID, IP: m.IP,
	})
}

// require answers 401 without a principal and 403 below role min.
func require(p *quire.Principal, min quire.Role) error {
	if p == nil {
		return quire.Errorf(quire.EUNAUTHORIZED, "authentication required")
	}
	if !p.Can(min) {
		return quire.Errorf(quire.EFORBIDDEN, "your role does not allow this")
	}
	return nil
}

// requireSession is require for the actions that manage accounts and
// credentials (users, API tokens): they need an interactive login (an
// access token of a login session, or the admin's cookie), never an API
// token, so that a leaked token cannot mint more tokens or users and
// outlive its own revocation.
func requireSession(p *quire.Principal, min quire.Role) error {
	if err := require(p, min); err != nil {
		return err
	}
	if !p.Interactive() {
		return quire.Errorf(quire.EFORBIDDEN, "managing users and API tokens needs a login session; API tokens cannot do it")
	}
	return nil
}

// actorID is the user id recorded for p.
func actorID(p *quire.Principal) string {
	if p == nil {
		return ""
	}
	return p.UserID
}
