package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// BenchmarkEventRecording measures what recording an event costs a write,
// with one active webhook endpoint (so each event also writes a delivery
// row and a River job), against the write itself:
//
//		go test -bench EventRecording -run '^$' ./internal/httpapi/
//
//	  - write: a title change through the page service (lock, update, rehash,
//	    audit entry, event, delivery, job, reload) — the whole write;
//	  - event: one transaction that records only an event (row, hook, delivery, job);
//	  - empty: one transaction that does nothing — subtracted from event, since
//	    in a real write the event shares the write's transaction.
//
// (event − empty) / write is the share of a write spent recording its event.
func BenchmarkEventRecording(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchEvents(b, testdb.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchEvents(b, testdb.Postgres(b)) })
}

func benchEvents(b *testing.B, dsn string) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir, cfg.DatabaseURL = b.TempDir(), dsn
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	admin, _, err := srv.DB.Reader().UserByEmail(ctx, adminEmail)
	if err != nil {
		b.Fatal(err)
	}
	p := &quire.Principal{UserID: admin.ID, Role: quire.RoleAdmin}
	// One active endpoint; jobs are not run, so the deliveries only queue.
	if _, err := srv.API.Webhooks.Create(ctx, p, service.NewWebhook{URL: "https://hooks.example.com/build"}); err != nil {
		b.Fatal(err)
	}
	page, err := srv.API.Pages.Create(ctx, p, service.NewPage{Slug: "bench-events", Title: "Bench",
		Blocks: []quire.BlockInput{{Type: "paragraph", Content: []byte(`{"text":"x"}`)}}})
	if err != nil {
		b.Fatal(err)
	}
	blocks := make([]quire.BlockInput, 10)
	for i := range blocks {
		blocks[i] = quire.BlockInput{Type: "paragraph", Content: []byte(`{"text":"A paragraph of about a hundred characters, as pages have them: some words, a comma."}`)}
	}
	b.Run("write-blocks", func(b *testing.B) {
		for b.Loop() {
			if _, err := srv.API.Pages.ReplaceBlocks(ctx, p, page.ID, 0, blocks); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			title := fmt.Sprintf("Title %d", i)
			if _, err := srv.API.Pages.Update(ctx, p, page.ID, 0, service.PagePatch{Title: &title}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The two transactions below differ only by the event: both change the
	// page row (so both pay for a commit that writes), one also records.
	b.Run("change", func(b *testing.B) {
		for b.Loop() {
			err := srv.DB.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.LockPage(ctx, page.ID, 0, p.UserID)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("change+event", func(b *testing.B) {
		for b.Loop() {
			err := srv.DB.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.LockPage(ctx, page.ID, 0, p.UserID); err != nil {
					return err
				}
				return tx.AppendEvent(ctx, &quire.Event{Type: quire.EventPageUpdated, ResourceType: "page", ResourceID: page.ID, Slug: page.Slug})
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
