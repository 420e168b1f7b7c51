package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/archive"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/store"
)

// backupCmd backs up a running instance without stopping it. On SQLite the
// database is first copied with VACUUM INTO (one read transaction; the
// server's writers go on) and the archive is written from that copy; on
// PostgreSQL the archive is written from one REPEATABLE READ snapshot.
// Either way the backup is a portable archive, restored by `quire restore`
// (or `quire import`) into either database.
func backupCmd(ctx context.Context, args []string, env Env) error {
	var out string
	cfg, err := load("backup", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write the backup to (required); it holds password hashes and keys: keep it private")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return &config.UsageError{Err: errors.New("--out is required")}
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	files, err := server.OpenMediaStorage(ctx, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	src := db
	var key string
	if db.Dialect() == store.SQLite {
		dir, err := os.MkdirTemp(filepath.Dir(out), ".quire-backup-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		copyPath := filepath.Join(dir, "quire.db")
		if err := db.CopyTo(ctx, copyPath); err != nil {
			return fmt.Errorf("backup: copy the database: %w", err)
		}
		if src, err = store.Open(ctx, copyPath); err != nil {
			return err
		}
		defer src.Close()
		b, err := os.ReadFile(server.SigningKeyFile(cfg))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		key = strings.TrimSpace(string(b))
	}
	m, err := writeArchive(ctx, src, files, out, key, env)
	if err != nil {
		return err
	}
	st, _ := os.Stat(out)
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(env.Stdout, "backed up %d rows in %d tables, %d media files and %d pending jobs (schema version %d) to %s: %d bytes in %s\n",
		rows, len(m.Tables), len(m.Media), m.Jobs.Rows, m.SchemaVersion, out, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// restoreCmd loads a backup into an empty database and data directory,
// as `quire import` does; --force first removes what is there.
func restoreCmd(ctx context.Context, args []string, env Env) error {
	var force bool
	var mediaTo string
	file, args := trailingFile(args, "force")
	cfg, err := load("restore", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&mediaTo, "media-to", "", "where to put the media: local or s3; default: as configured")
		fs.BoolVar(&force, "force", false, "remove the database's content (every table; on PostgreSQL the whole schema) and the signing key first")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return &config.UsageError{Err: errors.New("the backup file is required: quire restore [--force] FILE")}
	}
	if force {
		db, err := store.Open(ctx, cfg.DSN())
		if err != nil {
			return err
		}
		// Never wipe for a backup that would then be refused.
		latest, err := db.LatestSchemaVersion()
		if err == nil {
			_, err = archive.Verify(file, latest)
		}
		if err == nil {
			err = db.Wipe(ctx)
		}
		db.Close()
		if err != nil {
			return fmt.Errorf("restore --force: %w", err)
		}
		if err := os.Remove(server.SigningKeyFile(cfg)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return importInto(ctx, cfg, file, mediaTo, env)
}
