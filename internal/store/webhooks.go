package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/quirecms/quire"
)

var errWebhookNotFound = quire.Errorf(quire.ENOTFOUND, "webhook not found")

const webhookColumns = `id, url, description, event_types, active, secret_enc, previous_secret_enc, previous_secret_until,
	failing_since, disabled_reason, created_by, created_at, updated_at, version`

func scanWebhook(row interface{ Scan(...any) error }) (*quire.Webhook, error) {
	var w quire.Webhook
	var types string
	var prev, by sql.NullString
	err := row.Scan(&w.ID, &w.URL, &w.Description, &types, &w.Active, &w.SecretSealed, &prev, scanNullTime{&w.PreviousSecretUntil},
		scanNullTime{&w.FailingSince}, &w.DisabledReason, &by, scanTime{&w.CreatedAt}, scanTime{&w.UpdatedAt}, &w.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errWebhookNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
		return nil, err
	}
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	w.PreviousSecretSealed, w.CreatedBy = prev.String, by.String
	return &w, nil
}

func typesJSON(types []string) string {
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types)
	return string(b)
}

// Webhook returns one endpoint.
func (tx *Tx) Webhook(ctx context.Context, id string) (*quire.Webhook, error) {
	return scanWebhook(tx.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
}

// Webhooks lists endpoints by id after afterID (keyset on the primary key).
func (tx *Tx) Webhooks(ctx context.Context, afterID string, limit int) ([]*quire.Webhook, error) {
	return tx.webhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

// ActiveWebhooks lists the endpoints that receive deliveries.
func (tx *Tx) ActiveWebhooks(ctx context.Context) ([]*quire.Webhook, error) {
	return tx.webhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE active = ? ORDER BY id`, true)
}

func (tx *Tx) webhooks(ctx context.Context, q string, args ...any) ([]*quire.Webhook, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*quire.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

// CreateWebhook inserts w; its id must be set (the sealed secret is bound to it).
func (tx *Tx) CreateWebhook(ctx context.Context, w *quire.Webhook) error {
	w.CreatedAt, w.UpdatedAt, w.Version = tx.now, tx.now, 1
	_, err := tx.exec(ctx, `INSERT INTO webhooks (id, url, description, event_types, active, secret_enc, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.URL, w.Description, typesJSON(w.EventTypes), w.Active, w.SecretSealed, nullString(w.CreatedBy), w.CreatedAt, w.UpdatedAt, w.Version)
	return err
}

// UpdateWebhook writes every mutable field when the stored version is
// still w.Version, then bumps it; a stale version is EPRECONDITION.
func (tx *Tx) UpdateWebhook(ctx context.Context, w *quire.Webhook) error {
	stale := quire.Errorf(quire.EPRECONDITION, "the webhook was changed by someone else; fetch it again")
	err := tx.execOne(ctx, stale, `UPDATE webhooks SET url = ?, description = ?, event_types = ?, active = ?, secret_enc = ?,
		previous_secret_enc = ?, previous_secret_until = ?, failing_since = ?, disabled_reason = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		w.URL, w.Description, typesJSON(w.EventTypes), w.Active, w.SecretSealed, nullString(w.PreviousSecretSealed),
		w.PreviousSecretUntil, w.FailingSince, w.DisabledReason, tx.now, w.ID, w.Version)
	if err != nil {
		return err
	}
	w.UpdatedAt, w.Version = tx.now, w.Version+1
	return nil
}

// LockWebhook reads an endpoint for a change: FOR UPDATE on PostgreSQL, so
// that deliveries recording failures and admins editing it take turns.
func (tx *Tx) LockWebhook(ctx context.Context, id string) (*quire.Webhook, error) {
	q := `SELECT ` + webhookColumns + ` FROM webhooks WHERE id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanWebhook(tx.queryRow(ctx, q, id))
}

// DeleteWebhook removes an endpoint and its delivery log.
func (tx *Tx) DeleteWebhook(ctx context.Context, id string) error {
	return tx.execOne(ctx, errWebhookNotFound, `DELETE FROM webhooks WHERE id = ?`, id)
}

// HasActiveWebhooks reports whether any endpoint receives deliveries: the
// cheap test every recorded event makes before looking further.
func (tx *Tx) HasActiveWebhooks(ctx context.Context) (bool, error) {
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM webhooks WHERE active = ? LIMIT 1`, true).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

var errDeliveryNotFound = quire.Errorf(quire.ENOTFOUND, "delivery not found")

const deliveryColumns = `id, webhook_id, event_id, event_type, payload, status, attempts, response_code, response_body, error,
	duration_ms, next_attempt_at, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*quire.WebhookDelivery, error) {
	var d quire.WebhookDelivery
	var payload string
	var code, dur sql.NullInt64
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &payload, &d.Status, &d.Attempts, &code, &d.ResponseBody, &d.Error,
		&dur, scanNullTime{&d.NextAttemptAt}, scanTime{&d.CreatedAt}, scanTime{&d.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errDeliveryNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	d.Payload = []byte(payload)
	if code.Valid {
		c := int(code.Int64)
		d.ResponseCode = &c
	}
	if dur.Valid {
		d.DurationMS = &dur.Int64
	}
	return &d, nil
}

// CreateDelivery inserts a pending delivery.
func (tx *Tx) CreateDelivery(ctx context.Context, d *quire.WebhookDelivery) error {
	d.ID, d.Status, d.CreatedAt, d.UpdatedAt = NewID(), quire.DeliveryPending, tx.now, tx.now
	now := tx.now
	d.NextAttemptAt = &now
	_, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.WebhookID, d.EventID, d.EventType, string(d.Payload), d.Status, d.NextAttemptAt, d.CreatedAt, d.UpdatedAt)
	return err
}

// Delivery returns one delivery of an endpoint.
func (tx *Tx) Delivery(ctx context.Context, webhookID, id string) (*quire.WebhookDelivery, error) {
	return scanDelivery(tx.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, id, webhookID))
}

// Deliveries lists an endpoint's deliveries newest first, before beforeID
// ("" for the newest): a keyset range of (webhook_id, id).
func (tx *Tx) Deliveries(ctx context.Context, webhookID, beforeID string, limit int) ([]*quire.WebhookDelivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE webhook_id = ?`
	args := []any{webhookID}
	if beforeID != "" {
		q += ` AND id < ?`
		args = append(args, beforeID)
	}
	rows, err := tx.query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*quire.WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err())
}

// RecordAttempt stores the outcome of one attempt.
func (tx *Tx) RecordAttempt(ctx context.Context, d *quire.WebhookDelivery) error {
	d.UpdatedAt = tx.now
	var code any
	if d.ResponseCode != nil {
		code = *d.ResponseCode
	}
	var dur any
	if d.DurationMS != nil {
		dur = *d.DurationMS
	}
	return tx.execOne(ctx, errDeliveryNotFound, `UPDATE webhook_deliveries SET status = ?, attempts = ?, response_code = ?, response_body = ?,
		error = ?, duration_ms = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`,
		d.Status, d.Attempts, code, d.ResponseBody, d.Error, dur, d.NextAttemptAt, d.UpdatedAt, d.ID)
}

// LockDispatch returns how far deliveries were made from the event log,
// locking the position until commit (FOR UPDATE on PostgreSQL; SQLite has
// one writer). It starts at 0: the log and the position were created
// together.
func (tx *Tx) LockDispatch(ctx context.Context) (int64, error) {
	q := `SELECT through FROM webhook_dispatch WHERE id = 1`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var through int64
	err := tx.queryRow(ctx, q).Scan(&through)
	return through, mapErr(err)
}

// DispatchBehind reports whether events were recorded after the dispatch
// position: a read, so that idle nodes do not take the write lock.
func (tx *Tx) DispatchBehind(ctx context.Context) (bool, error) {
	var behind bool
	err := tx.queryRow(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM events), 0) > (SELECT through FROM webhook_dispatch WHERE id = 1)`).Scan(&behind)
	return behind, mapErr(err)
}

// SetDispatch moves the dispatch position.
func (tx *Tx) SetDispatch(ctx context.Context, through int64) error {
	_, err := tx.exec(ctx, `UPDATE webhook_dispatch SET through = ? WHERE id = 1`, through)
	return err
}
