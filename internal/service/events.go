package service

import (
	"context"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// emit records that something changed, in the transaction of the change,
// right after its audit entry. The event row is the outbox: webhook
// deliveries, live streams and other nodes' caches are derived from it
// after commit, so it commits with the change or not at all.
func emit(ctx context.Context, tx *store.Tx, ev quire.Event) error {
	return tx.AppendEvent(ctx, &ev)
}

// pageEvent describes a change to page, public when what the public API
// shows for it changed.
func pageEvent(typ string, page *quire.Page, revision int, public bool) quire.Event {
	return quire.Event{Type: typ, ResourceType: "page", ResourceID: page.ID, Slug: page.Slug, Revision: revision, Public: public}
}

// mediaEvent describes a change to media; public when published pages show it.
func mediaEvent(typ, id string, public bool) quire.Event {
	return quire.Event{Type: typ, ResourceType: "media", ResourceID: id, Public: public}
}

// settingEvent describes a change to a setting; public when the public
// settings document changes.
func settingEvent(typ, key string, public bool) quire.Event {
	return quire.Event{Type: typ, ResourceType: "setting", ResourceID: key, Slug: key, Public: public}
}
