package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

// revisionsPrune removes the revisions that the retention policy
// (QUIRE_REVISIONS_KEEP, QUIRE_REVISIONS_KEEP_FOR) no longer keeps, page by
// page, printing a line per page and a summary.
func revisionsPrune(ctx context.Context, args []string, env Env) error {
	var dryRun bool
	cfg, err := load("revisions prune", args, env, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "report what would be removed, and remove nothing")
	})
	if err != nil {
		return err
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// The storage it prunes is the one this binary's migrations define.
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	policy := quire.RetentionPolicy{KeepLast: cfg.RevisionsKeep, KeepFor: cfg.RevisionsMinAge}
	r, err := service.NewRetention(db, policy)
	if err != nil {
		return err
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	fmt.Fprintf(env.Stdout, "keeping per page: the published revision, revisions of live preview links, the newest %d, and those younger than %s\n",
		policy.KeepLast, policy.KeepFor)
	sum, err := r.Prune(ctx, dryRun, func(pp service.PagePrune) {
		line := fmt.Sprintf("%s (%s): %s %d revisions", pp.Slug, pp.PageID, verb, pp.Revisions)
		if pp.Revisions > 0 {
			line += fmt.Sprintf(" (numbers %d–%d), %d block contents", pp.OldestNumber, pp.NewestNumber, pp.Contents)
		}
		fmt.Fprintf(env.Stdout, "%s, %d expired preview links\n", line, pp.ExpiredPreviews)
	})
	if err != nil {
		return err
	}
	prefix := ""
	if dryRun {
		prefix = "dry run: "
	}
	fmt.Fprintf(env.Stdout, "%s%d pages visited, %d pruned: %s %d revisions, %d block contents, %d expired preview links\n",
		prefix, sum.PagesVisited, sum.PagesPruned, verb, sum.Revisions, sum.Contents, sum.ExpiredPreviews)
	return nil
}
