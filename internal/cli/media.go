package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/storage"
)

// mediaGC removes bytes no media record owns: what a crash between
// writing an upload and committing its record (or between a purge's
// commit and the removal of its bytes) left behind. Records are never
// changed; a record whose bytes are missing is reported and the command
// exits 1.
func mediaGC(ctx context.Context, args []string, env Env) error {
	var minAge time.Duration
	var dryRun bool
	cfg, err := load("media gc", args, env, func(fs *flag.FlagSet) {
		fs.DurationVar(&minAge, "min-age", time.Hour, "remove only objects older than this, so that uploads in flight are left alone")
		fs.BoolVar(&dryRun, "dry-run", false, "list what would be removed and remove nothing")
	})
	if err != nil {
		return err
	}
	if minAge < 0 {
		return &config.UsageError{Err: errors.New("--min-age must not be negative")}
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
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	media := service.NewMedia(db, service.MediaConfig{Storage: files})
	rep, err := media.GC(ctx, minAge, dryRun, func(o storage.Info) {
		fmt.Fprintf(env.Stdout, "%s %s (%d bytes, %s)\n", verb, o.Key, o.Size, o.ModTime.UTC().Format(time.RFC3339))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d objects looked at, %s %d (%d bytes); %d unowned kept as younger than %s\n",
		files, rep.Objects, verb, rep.Removed, rep.RemovedBytes, rep.Young, minAge)
	for _, id := range rep.Missing {
		fmt.Fprintf(env.Stderr, "quire: media %s has no bytes in storage\n", id)
	}
	if len(rep.Missing) > 0 {
		return exitError(1)
	}
	return nil
}
