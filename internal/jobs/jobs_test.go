package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/jobs"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// noteArgs is a job that writes a setting named after it, in a
// transaction of its own, as real jobs (deliveries, scheduled publishes) do.
type noteArgs struct {
	Key string `json:"key"`
}

func (noteArgs) Kind() string { return "test.note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	db    *store.DB
	fails atomic.Int32 // the first fails attempts return an error
	runs  atomic.Int32
}

func (w *noteWorker) Work(ctx context.Context, job *river.Job[noteArgs]) error {
	w.runs.Add(1)
	if w.fails.Add(-1) >= 0 {
		return errors.New("failing on purpose")
	}
	return w.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSetting(ctx, &quire.Setting{Key: job.Args.Key, Value: []byte(`true`)})
	})
}

// Retry quickly in tests.
func (w *noteWorker) NextRetry(*river.Job[noteArgs]) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func start(t *testing.T, db *store.DB, w *noteWorker) *jobs.Queue {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := jobs.New(db, workers, jobs.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return q
}

func waitSetting(t *testing.T, db *store.DB, key string, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := db.Reader().Setting(context.Background(), key); err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// A job exists exactly when the transaction that inserted it commits.
func TestInsertTxFollowsTheTransaction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		w := &noteWorker{db: db}
		q := start(t, db, w)
		ctx := context.Background()
		boom := errors.New("roll back")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := q.InsertTx(ctx, tx, noteArgs{Key: "rolled-back"}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return q.InsertTx(ctx, tx, noteArgs{Key: "committed"}, nil) }); err != nil {
			t.Fatal(err)
		}
		if !waitSetting(t, db, "committed", 10*time.Second) {
			t.Fatal("the committed job did not run")
		}
		// The rolled-back job never existed: nothing ran it, there was
		// time to (it was inserted first).
		if waitSetting(t, db, "rolled-back", 300*time.Millisecond) {
			t.Fatal("a job from a rolled-back transaction ran")
		}
		if n := w.runs.Load(); n != 1 {
			t.Fatalf("runs = %d, want 1", n)
		}
		if _, err := q.InsertTxOutside(ctx, db); err == nil {
			t.Fatal("inserting on the read pool must be refused")
		}
	})
}

// A failing job is retried until it succeeds.
func TestFailedJobIsRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		w := &noteWorker{db: db}
		w.fails.Store(2)
		q := start(t, db, w)
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error { return q.InsertTx(ctx, tx, noteArgs{Key: "retried"}, nil) }); err != nil {
			t.Fatal(err)
		}
		if !waitSetting(t, db, "retried", 15*time.Second) {
			t.Fatalf("the job did not succeed after its failures (runs %d)", w.runs.Load())
		}
		if n := w.runs.Load(); n != 3 {
			t.Fatalf("runs = %d, want 3 (two failures, one success)", n)
		}
	})
}

// Many writers inserting jobs while the queue fetches, completes and
// writes from its jobs: on SQLite all of it shares one write connection,
// and nothing may deadlock or be lost.
func TestConcurrentWritesAndJobs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		w := &noteWorker{db: db}
		q := start(t, db, w)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const writers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					key := fmt.Sprintf("w%d-%d", i, j)
					errs <- db.InTx(ctx, func(tx *store.Tx) error {
						if err := tx.CreateSetting(ctx, &quire.Setting{Key: "src-" + key, Value: []byte(`1`)}); err != nil {
							return err
						}
						return q.InsertTx(ctx, tx, noteArgs{Key: "job-" + key}, nil)
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range writers {
			for j := range each {
				if !waitSetting(t, db, fmt.Sprintf("job-w%d-%d", i, j), 30*time.Second) {
					t.Fatalf("job w%d-%d never ran (runs %d)", i, j, w.runs.Load())
				}
			}
		}
	})
}
