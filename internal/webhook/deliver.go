package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// DeliverArgs is the job of one delivery; every attempt sends the stored
// payload under the same message id.
type DeliverArgs struct {
	WebhookID  string `json:"webhook_id"`
	DeliveryID string `json:"delivery_id"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "webhook.deliver" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Sender
}

// Timeout covers one attempt and recording it.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return deliveryTimeout + 20*time.Second
}

// NextRetry is the backoff schedule, the same one the delivery log shows.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	from := time.Now()
	if job.AttemptedAt != nil {
		from = *job.AttemptedAt
	}
	return from.Add(w.s.delay(job.Args.DeliveryID, job.Attempt))
}

// responseKept is how much of a receiver's answer the delivery log keeps.
const responseKept = 1024

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.s
	r := s.db.Reader()
	d, err := r.Delivery(ctx, job.Args.WebhookID, job.Args.DeliveryID)
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return nil // the endpoint was deleted, and its log with it
	}
	if err != nil {
		return err
	}
	if d.Status != quire.DeliveryPending {
		return nil // already settled (a job rescued after its node died mid-record)
	}
	hook, err := r.Webhook(ctx, d.WebhookID)
	if err != nil {
		return err
	}
	if !hook.Active {
		d.Status, d.Error, d.NextAttemptAt = quire.DeliveryFailed, "the endpoint is switched off", nil
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.RecordAttempt(ctx, d) }); err != nil {
			return err
		}
		return river.JobCancel(errors.New("endpoint switched off"))
	}
	a := s.send(ctx, hook, d)
	code, body, sendErr, took := a.code, a.body, a.err, a.took
	ok := sendErr == nil && code >= 200 && code < 300
	final := !ok && job.Attempt >= job.MaxAttempts
	disabled := false
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		d.Attempts++
		ms := took.Milliseconds()
		d.DurationMS, d.ResponseBody, d.Error, d.ResponseCode = &ms, body, "", nil
		if sendErr != nil {
			d.Error = sendErr.Error()
		} else {
			d.ResponseCode = &code
			if !ok {
				d.Error = "the endpoint answered " + strconv.Itoa(code) + "; only 2xx counts as received"
			}
		}
		var err error
		if disabled, err = s.noteHealth(ctx, tx, d.WebhookID, ok); err != nil {
			return err
		}
		switch {
		case ok:
			d.Status, d.NextAttemptAt = quire.DeliverySucceeded, nil
		case final || disabled:
			d.Status, d.NextAttemptAt = quire.DeliveryFailed, nil
		default:
			next := now.Add(s.delay(d.ID, job.Attempt))
			d.NextAttemptAt = &next
		}
		return tx.RecordAttempt(ctx, d)
	})
	if err != nil {
		return err
	}
	switch {
	case ok:
		return nil
	case disabled:
		return river.JobCancel(errors.New("endpoint switched off after failing too long"))
	case sendErr != nil:
		return fmt.Errorf("delivery %s: %w", d.ID, sendErr)
	default:
		return fmt.Errorf("delivery %s: status %d", d.ID, code)
	}
}

// noteHealth tracks since when an endpoint fails and switches it off once
// that has lasted DisableAfter, with an audit entry saying why.
func (s *Sender) noteHealth(ctx context.Context, tx *store.Tx, id string, ok bool) (disabled bool, err error) {
	hook, err := tx.LockWebhook(ctx, id)
	if err != nil {
		return false, err
	}
	now := tx.Now()
	switch {
	case ok && hook.FailingSince == nil, !ok && hook.FailingSince != nil && now.Sub(*hook.FailingSince) < s.cfg.DisableAfter:
		return false, nil // nothing changes
	case ok:
		hook.FailingSince = nil
	case hook.FailingSince == nil:
		hook.FailingSince = &now
	default:
		hook.Active = false
		hook.DisabledReason = "every delivery failed since " + hook.FailingSince.Format(time.RFC3339) + "; switched off at " + now.Format(time.RFC3339)
		disabled = true
	}
	if err := tx.UpdateWebhook(ctx, hook); err != nil {
		return false, err
	}
	if disabled {
		details, _ := json.Marshal(map[string]any{"reason": hook.DisabledReason, "active": map[string]any{"before": true, "after": false}})
		if err := tx.AppendAudit(ctx, &quire.AuditEntry{Action: quire.ActionWebhookDisable, ResourceType: "webhook", ResourceID: id, Details: details}); err != nil {
			return false, err
		}
		s.cfg.Log.Warn("webhook endpoint switched off after failing too long", "webhook_id", id, "url", hook.URL)
	}
	return disabled, nil
}

// attempt is what one try at a delivery came to.
type attempt struct {
	code int
	body string
	err  error // the request failed: no answer
	took time.Duration
}

// send makes one attempt: the signed POST, and what came back.
func (s *Sender) send(ctx context.Context, hook *quire.Webhook, d *quire.WebhookDelivery) attempt {
	secrets, err := s.secrets(hook)
	if err != nil {
		return attempt{err: err}
	}
	at := time.Now()
	sig, err := Signature(d.EventID, at, d.Payload, secrets...)
	if err != nil {
		return attempt{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return attempt{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Quire-Webhooks/1")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return attempt{err: cleanErr(err), took: time.Since(at)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	took := time.Since(at)
	if len(raw) > responseKept {
		raw = raw[:responseKept]
	}
	return attempt{code: resp.StatusCode, body: strings.ToValidUTF8(strings.ReplaceAll(string(raw), "\x00", ""), ""), took: took}
}

// secrets are the signing secrets of hook now: the current one, and the
// previous one during a rotation's grace period.
func (s *Sender) secrets(hook *quire.Webhook) ([]string, error) {
	cur, err := s.box.Open(hook.ID, hook.SecretSealed)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if hook.PreviousSecretSealed != "" && hook.PreviousSecretUntil != nil && time.Now().Before(*hook.PreviousSecretUntil) {
		prev, err := s.box.Open(hook.ID, hook.PreviousSecretSealed)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// cleanErr keeps what an admin can act on from a transport error, without
// Go's wrapping in the method and URL (the URL is on the endpoint).
func cleanErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer within 10 seconds")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
