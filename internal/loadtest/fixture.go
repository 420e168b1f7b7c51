package loadtest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
)

// Fixture is a Quire instance, built in-process, with seeded pages and an
// admin who can drive the editor's routes.
type Fixture struct {
	Server   *server.Server
	Email    string
	Password string
	UserID   string
	Slugs    []string // of the seeded pages, all published
}

// NewFixture builds Quire from cfg and seeds it with pages published
// pages of blocks blocks each, under a slug prefix of its own, so that it
// also works on a PostgreSQL database that already holds data. The caller
// closes f.Server.
func NewFixture(ctx context.Context, cfg config.Config, log *slog.Logger, pages, blocks int) (*Fixture, error) {
	srv, err := server.New(ctx, cfg, log, server.Options{Argon2: auth.FastArgon2})
	if err != nil {
		return nil, err
	}
	run := strings.ToLower(rand.Text()[:10]) // slugs are lowercase; rand.Text is upper-case base32
	f := &Fixture{Server: srv, Email: "load-" + run + "@example.com", Password: rand.Text()}
	u, err := srv.Users.CreateSystem(ctx, service.NewUser{Email: f.Email, Password: f.Password, Role: quire.RoleAdmin, DisplayName: "Load test"})
	if err != nil {
		srv.Close()
		return nil, err
	}
	f.UserID = u.ID
	if f.Slugs, err = Seed(ctx, cfg.DSN(), u.ID, "load-"+run, pages, blocks); err != nil {
		srv.Close()
		return nil, err
	}
	return f, nil
}
