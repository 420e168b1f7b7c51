package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/archive"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
)

// exportCmd writes the instance to one archive file. The file is written
// beside its final name and renamed into place only when complete, so an
// interrupted export leaves no archive that looks whole.
func exportCmd(ctx context.Context, args []string, env Env) error {
	var out string
	cfg, err := load("export", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write the archive to (required); it holds password hashes and keys: keep it private")
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
	var key string
	if db.Dialect() == store.SQLite {
		b, err := os.ReadFile(server.SigningKeyFile(cfg))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		key = strings.TrimSpace(string(b))
	}
	m, err := writeArchive(ctx, db, files, out, key, env)
	if err != nil {
		return err
	}
	st, _ := os.Stat(out)
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(env.Stdout, "exported %d rows in %d tables, %d media files and %d pending jobs (schema version %d) to %s: %d bytes in %s\n",
		rows, len(m.Tables), len(m.Media), m.Jobs.Rows, m.SchemaVersion, out, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// writeArchive exports db and files to path through a temp file.
func writeArchive(ctx context.Context, db *store.DB, files storage.Storage, path, signingKey string, env Env) (*archive.Manifest, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".quire-archive-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	p := newProgress(env.Stderr)
	m, err := archive.Export(ctx, db, files, f, archive.ExportOptions{TmpDir: filepath.Dir(path), Progress: p.report, SigningKey: signingKey})
	p.done()
	if err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return m, os.Rename(f.Name(), path)
}

func importCmd(ctx context.Context, args []string, env Env) error {
	var mediaTo string
	file, args := trailingFile(args)
	cfg, err := load("import", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&mediaTo, "media-to", "", "where to put the media: local (QUIRE_DATA_DIR) or s3 (the QUIRE_S3_* settings); default: as configured")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return &config.UsageError{Err: errors.New("the archive file is required: quire import [flags] FILE")}
	}
	return importInto(ctx, cfg, file, mediaTo, env)
}

// importInto loads the archive at file into the configured database and
// media storage (mediaTo: see mediaTarget).
func importInto(ctx context.Context, cfg config.Config, file, mediaTo string, env Env) error {
	files, err := mediaTarget(ctx, &cfg, mediaTo)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	keyFile := server.SigningKeyFile(cfg)
	if _, err := os.Stat(keyFile); db.Dialect() == store.SQLite && err == nil {
		return fmt.Errorf("QUIRE_DATA_DIR is not empty: %s exists, so it belongs to an instance already; import into a new data directory", keyFile)
	}
	start := time.Now()
	p := newProgress(env.Stderr)
	m, secrets, err := archive.Import(ctx, db, files, file, p.report)
	p.done()
	if err != nil {
		return err
	}
	if key := secrets["jwt_signing_key"]; key != "" && db.Dialect() == store.SQLite {
		if err := writeKeyFile(keyFile, key); err != nil {
			return err
		}
	}
	verified, err := verifyImported(ctx, cfg, db)
	if err != nil {
		return err
	}
	if err := db.EndImport(ctx); err != nil {
		return err
	}
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(env.Stdout, "imported %d rows in %d tables, %d media files into %s and %d pending jobs from %s (schema version %d, from %s) in %s\n",
		rows, len(m.Tables), len(m.Media), files, m.Jobs.Rows, file, m.SchemaVersion, m.SourceDatabase, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "audit verify: ok: %d entries verified\n", verified)
	return nil
}

// verifyImported runs what `quire audit verify` runs on the imported
// database; a chain that does not verify leaves the import marked incomplete.
func verifyImported(ctx context.Context, cfg config.Config, db *store.DB) (int64, error) {
	key, err := server.AuditKey(ctx, cfg, db, false)
	if err != nil {
		return 0, err
	}
	res, err := service.NewAudit(db, key).VerifySystem(ctx)
	if err != nil {
		return 0, err
	}
	if !res.OK {
		return 0, fmt.Errorf("audit verify after import FAILED: entry %s (seq %d) does not verify: %s; the database stays marked incomplete", res.FirstBadID, res.FirstBad, res.Reason)
	}
	return int64(res.Entries), nil
}

// trailingFile takes the FILE argument off the end of args: the last
// argument, unless it starts with "-" or is the value of a flag before it
// (one not named in boolFlags, which take no value).
func trailingFile(args []string, boolFlags ...string) (string, []string) {
	n := len(args)
	if n == 0 || strings.HasPrefix(args[n-1], "-") {
		return "", args
	}
	if prev := args[max(0, n-2)]; n > 1 && strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") &&
		!slices.Contains(boolFlags, strings.TrimLeft(prev, "-")) {
		return "", args
	}
	return args[n-1], args[:n-1]
}

// mediaTarget is where imported media go: --media-to overrides whether
// QUIRE_S3_ENDPOINT is used.
func mediaTarget(ctx context.Context, cfg *config.Config, to string) (storage.Storage, error) {
	switch to {
	case "":
	case "local":
		cfg.S3Endpoint = ""
	case "s3":
		if cfg.S3Endpoint == "" {
			return nil, &config.UsageError{Err: errors.New("--media-to s3 needs QUIRE_S3_ENDPOINT and QUIRE_S3_BUCKET")}
		}
	default:
		return nil, &config.UsageError{Err: fmt.Errorf("--media-to must be local or s3, got %q", to)}
	}
	return server.OpenMediaStorage(ctx, *cfg)
}

// writeKeyFile keeps an imported signing key where a SQLite server reads it.
func writeKeyFile(path, key string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keep the imported signing key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
