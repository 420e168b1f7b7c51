package webhook

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/store"
)

// Config tunes deliveries; zero values take the defaults.
type Config struct {
	// AllowPrivate lifts the address guard (QUIRE_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// DisableAfter switches off an endpoint that has failed every attempt
	// for this long (default 72 h).
	DisableAfter time.Duration
	// RetryBase and RetryMax shape the backoff: RetryBase·2^(n-1), at most
	// RetryMax (defaults 30 s and 6 h). MaxAttempts (default 20) with those
	// defaults spans about 62 hours.
	RetryBase   time.Duration
	RetryMax    time.Duration
	MaxAttempts int
	Log         *slog.Logger
}

// Sender turns events into deliveries and performs them.
type Sender struct {
	db     *store.DB
	box    *Box
	cfg    Config
	client *http.Client
	queue  *jobs.Queue
}

// New returns a sender; give it a queue with Use before events are recorded.
func New(db *store.DB, box *Box, cfg Config) *Sender {
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = 72 * time.Hour
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 6 * time.Hour
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Sender{db: db, box: box, cfg: cfg, client: NewClient(cfg.AllowPrivate)}
}

// Register adds the delivery worker to workers.
func (s *Sender) Register(workers *river.Workers) { river.AddWorker(workers, &deliverWorker{s: s}) }

// Use sets the queue deliveries are enqueued on.
func (s *Sender) Use(q *jobs.Queue) { s.queue = q }

// Box is the secret sealer of the endpoints.
func (s *Sender) Box() *Box { return s.box }

// AllowPrivate reports whether endpoints may be private addresses.
func (s *Sender) AllowPrivate() bool { return s.cfg.AllowPrivate }

// dispatchBatch bounds the events one dispatch transaction fans out.
const dispatchBatch = 200

// Run makes deliveries from the event log until ctx ends: whenever wake
// says events were recorded, and every second in case it missed some (a
// restart after a crash resumes from the stored position).
func (s *Sender) Run(ctx context.Context, wake func() <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		w := wake()
		for {
			more, err := s.Dispatch(ctx)
			if err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("webhook dispatch", "err", err)
			}
			if !more || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w:
		case <-tick.C:
		}
	}
}

// Dispatch fans out the events after the stored position, up to a batch:
// one delivery (row and job) per active endpoint that wants each event,
// and the new position, in one transaction — so every event fans out
// exactly once, whichever node does it. It reports whether more remain.
func (s *Sender) Dispatch(ctx context.Context) (more bool, err error) {
	behind, err := s.db.Reader().DispatchBehind(ctx)
	if err != nil || !behind {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		through, err := tx.LockDispatch(ctx)
		if err != nil {
			return err
		}
		evs, err := tx.EventsAfter(ctx, through, dispatchBatch)
		if err != nil || len(evs) == 0 {
			return err
		}
		hooks, err := tx.ActiveWebhooks(ctx)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			body := Payload(ev)
			for _, w := range hooks {
				if !w.Wants(ev.Type) || ev.At.Before(w.CreatedAt) {
					continue // not subscribed, or recorded before the endpoint existed
				}
				if err := s.Enqueue(ctx, tx, &quire.WebhookDelivery{WebhookID: w.ID, EventID: ev.ID, EventType: ev.Type, Payload: body}); err != nil {
					return err
				}
			}
		}
		more = len(evs) == dispatchBatch
		return tx.SetDispatch(ctx, evs[len(evs)-1].Seq)
	})
	return more, err
}

// Enqueue records a pending delivery and its job in tx.
func (s *Sender) Enqueue(ctx context.Context, tx *store.Tx, d *quire.WebhookDelivery) error {
	if err := tx.CreateDelivery(ctx, d); err != nil {
		return err
	}
	return s.queue.InsertTx(ctx, tx, DeliverArgs{WebhookID: d.WebhookID, DeliveryID: d.ID}, &river.InsertOpts{MaxAttempts: s.cfg.MaxAttempts})
}

// payloadData is the data member of a delivery: identifiers only.
type payloadData struct {
	EventID      string `json:"event_id"`
	ResourceType string `json:"resource_type,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	Slug         string `json:"slug,omitempty"`
	PreviousSlug string `json:"previous_slug,omitempty"`
	Revision     int    `json:"revision,omitempty"`
}

// Payload is the body of a delivery of ev, in the shape the Standard
// Webhooks specification recommends: type, timestamp and data.
func Payload(ev *quire.Event) []byte {
	b, _ := json.Marshal(struct {
		Type      string      `json:"type"`
		Timestamp string      `json:"timestamp"`
		Data      payloadData `json:"data"`
	}{ev.Type, ev.At.UTC().Format(time.RFC3339Nano), payloadData{
		EventID: ev.ID, ResourceType: ev.ResourceType, ResourceID: ev.ResourceID,
		Slug: ev.Slug, PreviousSlug: ev.PreviousSlug, Revision: ev.Revision,
	}})
	return b
}

// delay is the wait after failed attempt n of a delivery. Its jitter comes
// from the delivery id, so that the worker's record of the next attempt
// and the queue's schedule agree.
func (s *Sender) delay(deliveryID string, attempt int) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(deliveryID))
	h.Write([]byte{byte(attempt)})
	frac := float64(h.Sum64()%1000) / 1000
	return jobs.Backoff(attempt, s.cfg.RetryBase, s.cfg.RetryMax, func() float64 { return frac })
}
