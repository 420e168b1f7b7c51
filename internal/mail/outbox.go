package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/store"
)

// maxAttempts with the backoff below keeps trying for about a day.
const maxAttempts = 12

// SendArgs is the job of one mail: the message, sealed.
type SendArgs struct {
	Sealed []byte `json:"sealed"`
}

// Kind names the job in River.
func (SendArgs) Kind() string { return "mail.send" }

// Config is what the outbox needs.
type Config struct {
	// Transport is the SMTP server; nil means mail is off (Enabled false).
	Transport *Transport
	From      string // QUIRE_MAIL_FROM
	// InstanceKey seals queued messages.
	InstanceKey []byte
	// RetryBase is the first retry delay (default 30 s; tests shorten it).
	RetryBase time.Duration
	Log       *slog.Logger
}

// Outbox queues mail in the caller's transaction and sends it from a job.
type Outbox struct {
	cfg Config
	// seal encrypts queued messages: a mail may carry a secret (a reset or
	// invitation link), and River keeps job rows a day after they finish.
	seal  *auth.Sealer
	queue *jobs.Queue
}

// New returns the outbox.
func New(cfg Config) (*Outbox, error) {
	s, err := auth.NewSealer(cfg.InstanceKey, "quire queued mail encryption v1")
	if err != nil {
		return nil, err
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Outbox{cfg: cfg, seal: s}, nil
}

// Register adds the mail worker to the queue's workers.
func (o *Outbox) Register(workers *river.Workers) { river.AddWorker(workers, &sendWorker{o: o}) }

// Use sets the queue the outbox inserts into.
func (o *Outbox) Use(q *jobs.Queue) { o.queue = q }

// Enabled reports whether mail can be sent (QUIRE_SMTP_URL is set).
func (o *Outbox) Enabled() bool { return o != nil && o.cfg.Transport != nil }

// Queue renders template name for to with data and enqueues it in tx: the
// mail goes out if and only if tx commits.
func (o *Outbox) Queue(ctx context.Context, tx *store.Tx, name, to string, data map[string]any) error {
	if !o.Enabled() {
		return errors.New("mail: no SMTP server is configured (QUIRE_SMTP_URL)")
	}
	m, err := Render(name, to, data)
	if err != nil {
		return err
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return o.queue.InsertTx(ctx, tx, SendArgs{Sealed: o.seal.Seal(plain, nil)}, &river.InsertOpts{MaxAttempts: maxAttempts})
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	o *Outbox
}

func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return sendTimeout + 5*time.Second }

func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.o.cfg.RetryBase, 4*time.Hour, rand.Float64))
}

// Work sends one mail. A permanent refusal cancels the job (retrying
// would not help); anything else is retried on the backoff schedule.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	o := w.o
	if !o.Enabled() {
		// Queued while SMTP was configured, run by a node without it:
		// wait for a node that has it (or a restart with it).
		return errors.New("mail: no SMTP server is configured on this node")
	}
	plain, err := o.seal.Open(job.Args.Sealed, nil)
	if err != nil {
		return river.JobCancel(err)
	}
	var m Message
	if err := json.Unmarshal(plain, &m); err != nil {
		return river.JobCancel(fmt.Errorf("mail: damaged queued message: %w", err))
	}
	raw, err := m.encode(o.cfg.From, time.Now())
	if err != nil {
		return river.JobCancel(err)
	}
	if err := o.cfg.Transport.send(ctx, o.cfg.From, m.To, raw); err != nil {
		// The log names the job, never the recipient's link.
		o.cfg.Log.Warn("mail not sent", "job_id", job.ID, "attempt", job.Attempt, "err", err)
		if errors.Is(err, errPermanent) {
			return river.JobCancel(err)
		}
		return err
	}
	o.cfg.Log.Info("mail sent", "job_id", job.ID, "subject", m.Subject)
	return nil
}
