package service

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/webhook"
)

// Webhooks manages webhook endpoints (admin only). Endpoint changes are
// audited; deliveries are not (they have their own log).
type Webhooks struct {
	db     *store.DB
	sender *webhook.Sender
	grace  time.Duration
}

// NewWebhooks returns the endpoint service; grace is how long the secret
// replaced by a rotation keeps signing beside the new one.
func NewWebhooks(db *store.DB, sender *webhook.Sender, grace time.Duration) *Webhooks {
	return &Webhooks{db: db, sender: sender, grace: grace}
}

// NewWebhook is the body of POST /webhooks.
type NewWebhook struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Active      *bool    `json:"active"`
}

// WebhookPatch is the body of PATCH /webhooks/{id}. Switching an endpoint
// back on clears what Quire noted when it switched it off.
type WebhookPatch struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Active      *bool     `json:"active"`
}

// WebhookWithSecret is an endpoint with its signing secret, shown once:
// when it is created and when its secret is rotated.
type WebhookWithSecret struct {
	*quire.Webhook
	Secret string `json:"secret"`
}

// maxWebhookDescription bounds the free text of an endpoint.
const maxWebhookDescription = 500

func (s *Webhooks) validate(v *quire.Validator, w *quire.Webhook) {
	quire.ValidateWebhookURL(v, "url", w.URL, s.sender.AllowPrivate(), webhook.CheckAddr)
	v.Check(utf8.ValidString(w.Description) && utf8.RuneCountInString(w.Description) <= maxWebhookDescription && !strings.ContainsRune(w.Description, 0),
		"description", "must be at most 500 characters")
	quire.ValidateEventTypes(v, "event_types", w.EventTypes)
}

func webhookFields(w *quire.Webhook) map[string]any {
	return map[string]any{"url": w.URL, "description": w.Description, "event_types": w.EventTypes, "active": w.Active}
}

// Create adds an endpoint and returns it with its new signing secret.
func (s *Webhooks) Create(ctx context.Context, p *quire.Principal, in NewWebhook) (*WebhookWithSecret, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	w := &quire.Webhook{ID: store.NewID(), URL: strings.TrimSpace(in.URL), Description: in.Description,
		EventTypes: in.EventTypes, Active: in.Active == nil || *in.Active, CreatedBy: p.UserID}
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	var v quire.Validator
	s.validate(&v, w)
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret := webhook.NewSecret()
	w.SecretSealed = s.sender.Box().Seal(w.ID, secret)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionWebhookCreate, "webhook", w.ID, quire.Changes(nil, webhookFields(w)))
	})
	if err != nil {
		return nil, err
	}
	return &WebhookWithSecret{Webhook: w, Secret: secret}, nil
}

// List returns endpoints ordered by id, after afterID.
func (s *Webhooks) List(ctx context.Context, p *quire.Principal, afterID string, limit int) ([]*quire.Webhook, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.db.Reader().Webhooks(ctx, afterID, limit)
}

// Get returns one endpoint.
func (s *Webhooks) Get(ctx context.Context, p *quire.Principal, id string) (*quire.Webhook, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.db.Reader().Webhook(ctx, id)
}

// change runs fn on an endpoint at version ifMatch (0: any) and audits it.
func (s *Webhooks) change(ctx context.Context, p *quire.Principal, id string, ifMatch int64,
	fn func(w *quire.Webhook) (action string, details map[string]any, err error)) (*quire.Webhook, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	var out *quire.Webhook
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		w, err := tx.LockWebhook(ctx, id)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != w.Version {
			return quire.Errorf(quire.EPRECONDITION, "the webhook was changed by someone else; fetch it again")
		}
		action, details, err := fn(w)
		if err != nil {
			return err
		}
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		out = w
		return audit(ctx, tx, p.UserID, action, "webhook", id, details)
	})
	return out, err
}

// Update changes an endpoint's URL, description, event types or switch.
func (s *Webhooks) Update(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in WebhookPatch) (*quire.Webhook, error) {
	return s.change(ctx, p, id, ifMatch, func(w *quire.Webhook) (string, map[string]any, error) {
		before := webhookFields(w)
		if in.URL != nil {
			w.URL = strings.TrimSpace(*in.URL)
		}
		if in.Description != nil {
			w.Description = *in.Description
		}
		if in.EventTypes != nil {
			w.EventTypes = *in.EventTypes
			if w.EventTypes == nil {
				w.EventTypes = []string{}
			}
		}
		if in.Active != nil {
			if *in.Active && !w.Active {
				w.DisabledReason, w.FailingSince = "", nil
			}
			w.Active = *in.Active
		}
		var v quire.Validator
		s.validate(&v, w)
		if err := v.Err(); err != nil {
			return "", nil, err
		}
		return quire.ActionWebhookUpdate, quire.Changes(before, webhookFields(w)), nil
	})
}

// RotateSecret gives an endpoint a new secret; the old one keeps signing
// beside it for the grace period, so that receivers can switch over.
func (s *Webhooks) RotateSecret(ctx context.Context, p *quire.Principal, id string, ifMatch int64) (*WebhookWithSecret, error) {
	secret := webhook.NewSecret()
	w, err := s.change(ctx, p, id, ifMatch, func(w *quire.Webhook) (string, map[string]any, error) {
		until := time.Now().UTC().Add(s.grace).Truncate(time.Microsecond)
		w.PreviousSecretSealed, w.PreviousSecretUntil = w.SecretSealed, &until
		w.SecretSealed = s.sender.Box().Seal(w.ID, secret)
		return quire.ActionWebhookRotate, map[string]any{"previous_secret_until": until.Format(time.RFC3339Nano)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &WebhookWithSecret{Webhook: w, Secret: secret}, nil
}

// Delete removes an endpoint with its delivery log; pending deliveries end.
func (s *Webhooks) Delete(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	if err := require(p, quire.RoleAdmin); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		w, err := tx.LockWebhook(ctx, id)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != w.Version {
			return quire.Errorf(quire.EPRECONDITION, "the webhook was changed by someone else; fetch it again")
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionWebhookDelete, "webhook", id, quire.Changes(webhookFields(w), nil))
	})
}

// Deliveries lists an endpoint's deliveries newest first, before beforeID.
func (s *Webhooks) Deliveries(ctx context.Context, p *quire.Principal, id, beforeID string, limit int) ([]*quire.WebhookDelivery, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	if _, err := r.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return r.Deliveries(ctx, id, beforeID, limit)
}

// Redeliver sends a delivery's message again, as a new delivery with the
// same message id and body (receivers that saw it can tell).
func (s *Webhooks) Redeliver(ctx context.Context, p *quire.Principal, id, deliveryID string) (*quire.WebhookDelivery, error) {
	return s.enqueue(ctx, p, id, func(tx *store.Tx) (*quire.WebhookDelivery, error) {
		old, err := tx.Delivery(ctx, id, deliveryID)
		if err != nil {
			return nil, err
		}
		return &quire.WebhookDelivery{WebhookID: id, EventID: old.EventID, EventType: old.EventType, Payload: old.Payload}, nil
	})
}

// SendTest delivers a webhook.test event to one endpoint.
func (s *Webhooks) SendTest(ctx context.Context, p *quire.Principal, id string) (*quire.WebhookDelivery, error) {
	return s.enqueue(ctx, p, id, func(tx *store.Tx) (*quire.WebhookDelivery, error) {
		ev := &quire.Event{ID: store.NewID(), Type: quire.EventWebhookTest, At: tx.Now(), ResourceType: "webhook", ResourceID: id}
		return &quire.WebhookDelivery{WebhookID: id, EventID: ev.ID, EventType: ev.Type, Payload: webhook.Payload(ev)}, nil
	})
}

func (s *Webhooks) enqueue(ctx context.Context, p *quire.Principal, id string, build func(tx *store.Tx) (*quire.WebhookDelivery, error)) (*quire.WebhookDelivery, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	var d *quire.WebhookDelivery
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		w, err := tx.Webhook(ctx, id)
		if err != nil {
			return err
		}
		if !w.Active {
			return quire.Errorf(quire.ECONFLICT, "the webhook is switched off; switch it on first")
		}
		if d, err = build(tx); err != nil {
			return err
		}
		return s.sender.Enqueue(ctx, tx, d)
	})
	return d, err
}
