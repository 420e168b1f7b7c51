package quire

import "time"

// Event types: what changed, as webhooks, the live stream and other nodes
// learn it. Each is recorded in the same transaction as the change.
const (
	EventPageCreated     = "page.created"
	EventPageUpdated     = "page.updated" // title, slug, blocks or a restored revision (working copy)
	EventPagePublished   = "page.published"
	EventPageUnpublished = "page.unpublished"
	EventPageDeleted     = "page.deleted"
	EventMediaCreated    = "media.created"
	EventMediaUpdated    = "media.updated"
	EventMediaDeleted    = "media.deleted"
	EventMediaRestored   = "media.restored"
	EventSettingChanged  = "setting.changed"
	EventSettingDeleted  = "setting.deleted"
	// EventWebhookTest is sent only by "send a test event" to one endpoint.
	EventWebhookTest = "webhook.test"
)

// EventTypes lists every type an endpoint may subscribe to.
var EventTypes = []string{
	EventPageCreated, EventPageUpdated, EventPagePublished, EventPageUnpublished, EventPageDeleted,
	EventMediaCreated, EventMediaUpdated, EventMediaDeleted, EventMediaRestored,
	EventSettingChanged, EventSettingDeleted,
}

// IsEventType reports whether t is a type an endpoint may subscribe to.
func IsEventType(t string) bool {
	for _, x := range EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Event is one recorded change. It carries identifiers only — never
// content, secrets or audit details — so that anything subscribed to it
// (webhooks, streams, other nodes) learns what changed and fetches the rest
// through the API with its own permissions.
type Event struct {
	// Seq orders events in commit order (the live stream's Last-Event-ID).
	Seq          int64     `json:"seq"`
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	At           time.Time `json:"at"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	// Slug is the page's slug (after the change) or the setting's key.
	Slug string `json:"slug,omitempty"`
	// PreviousSlug is set when a change moved a page to a new slug.
	PreviousSlug string `json:"previous_slug,omitempty"`
	// Revision is the page revision number the change concerns, if any.
	Revision int `json:"revision,omitempty"`
	// Public marks a change the public API shows: a published page's
	// content or slug, its publication or removal, a public setting. Only
	// these reach the public stream and other nodes' caches.
	Public bool `json:"public"`
}

// PageSchedule is a page's pending scheduled publish and/or unpublish.
type PageSchedule struct {
	PageID      string     `json:"page_id"`
	PublishAt   *time.Time `json:"publish_at"`
	UnpublishAt *time.Time `json:"unpublish_at"`
	Note        string     `json:"note"`
	// RevisionID names the revision to publish; empty: the working copy
	// of that moment.
	RevisionID string    `json:"revision_id,omitempty"`
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Token      string    `json:"-"`
}
