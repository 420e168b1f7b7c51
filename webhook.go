package quire

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook audit actions.
const (
	ActionWebhookCreate  = "webhook.create"
	ActionWebhookUpdate  = "webhook.update"
	ActionWebhookDelete  = "webhook.delete"
	ActionWebhookRotate  = "webhook.rotate_secret"
	ActionWebhookDisable = "webhook.disable" // switched off by Quire after failing for too long
)

// Webhook is an endpoint that receives signed event deliveries. Its
// signing secret never leaves the server after the response that created
// or rotated it; the sealed copies are for the store only.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"` // empty: every type
	Active      bool     `json:"active"`
	// DisabledReason says why Quire switched the endpoint off, if it did.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	// PreviousSecretUntil is when the secret replaced by the last rotation
	// stops signing.
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	CreatedBy           string     `json:"created_by,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	Version             int64      `json:"version"`

	SecretSealed         string `json:"-"`
	PreviousSecretSealed string `json:"-"`
}

// Wants reports whether the endpoint subscribes to events of type t.
func (w *Webhook) Wants(t string) bool {
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, x := range w.EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // gave up: attempts exhausted or endpoint off
)

// WebhookDelivery is one message to one endpoint and what became of it.
type WebhookDelivery struct {
	ID            string     `json:"id"`
	WebhookID     string     `json:"webhook_id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	ResponseCode  *int       `json:"response_code,omitempty"`
	ResponseBody  string     `json:"response_body,omitempty"`
	Error         string     `json:"error,omitempty"`
	DurationMS    *int64     `json:"duration_ms,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	Payload []byte `json:"-"`
}

// ValidateWebhookURL checks an endpoint URL: absolute http or https, a
// host, no credentials, at most 2000 characters; with allowPrivate false
// an IP literal must be a public address (names are checked again on every
// connection, after resolution).
func ValidateWebhookURL(v *Validator, field, raw string, allowPrivate bool, publicAddr func(netip.Addr) error) {
	if raw == "" || len(raw) > 2000 || !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		v.Add(field, "must be an http or https URL of at most 2000 characters")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		v.Add(field, "must be an absolute http or https URL")
	case u.User != nil:
		v.Add(field, "must not carry credentials; the signature authenticates Quire")
	case u.Fragment != "":
		v.Add(field, "must not have a fragment")
	case !allowPrivate && isLocalhost(u.Hostname()):
		v.Add(field, "must not point at this machine (set QUIRE_WEBHOOK_ALLOW_PRIVATE=true for private networks)")
	default:
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && publicAddr(a) != nil {
			v.Add(field, "must not point at a loopback, private or link-local address (set QUIRE_WEBHOOK_ALLOW_PRIVATE=true for private networks)")
		}
	}
}

// ValidateEventTypes checks an endpoint's subscription list.
func ValidateEventTypes(v *Validator, field string, types []string) {
	if len(types) > len(EventTypes) {
		v.Add(field, "has more entries than there are event types")
		return
	}
	seen := map[string]bool{}
	for _, t := range types {
		if !IsEventType(t) {
			v.Add(field, "unknown event type "+strings.ToValidUTF8(t, "?")+"; known: "+strings.Join(EventTypes, ", "))
			return
		}
		if seen[t] {
			v.Add(field, "names "+t+" twice")
			return
		}
		seen[t] = true
	}
}

// isLocalhost: names that always mean this machine (RFC 6761).
func isLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}
