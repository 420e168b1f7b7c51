package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/quirecms/quire/internal/storage"
)

// GCReport is what `quire media gc` found and did.
type GCReport struct {
	Objects      int      // objects looked at
	Removed      int      // objects removed (or, in a dry run, that would be)
	RemovedBytes int64    // their size
	Young        int      // unowned objects kept because they may belong to an upload in flight
	Missing      []string // ids of media whose original is not in storage (reported, never changed)
}

// GC removes bytes that no media record owns: what an upload or purge
// interrupted by a crash left behind, and interrupted writes (temp files).
// Records are read first and storage listed after, and only objects older
// than minAge are removed, so an upload whose record commits meanwhile is
// never touched. removed is called for each object removed.
func (s *Media) GC(ctx context.Context, minAge time.Duration, dryRun bool, removed func(storage.Info)) (GCReport, error) {
	var rep GCReport
	owned := map[string]string{} // blob prefix → storage key of its original
	ids := map[string]string{}   // storage key → media id
	err := s.db.Reader().MediaStorageKeys(ctx, func(id, key string) error {
		owned[blobPrefix(key)] = key
		ids[key] = id
		return nil
	})
	if err != nil {
		return rep, err
	}
	found := map[string]bool{}
	cutoff := time.Now().Add(-minAge)
	var doomed []storage.Info
	err = s.cfg.Storage.List(ctx, "media/", func(o storage.Info) error {
		rep.Objects++
		prefix := o.Key
		if parts := strings.SplitN(o.Key, "/", 3); len(parts) == 3 {
			prefix = parts[0] + "/" + parts[1] + "/"
		}
		original, isOwned := owned[prefix]
		switch {
		case isOwned && o.Key == original:
			found[o.Key] = true
		case isOwned && !storage.IsPartial(o.Key):
			// a variant of live or deleted media
		case o.ModTime.After(cutoff):
			rep.Young++
		default:
			doomed = append(doomed, o)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, o := range doomed {
		if !dryRun {
			if err := s.cfg.Storage.Delete(ctx, o.Key); err != nil {
				return rep, err
			}
		}
		rep.Removed++
		rep.RemovedBytes += o.Size
		if removed != nil {
			removed(o)
		}
	}
	for key, id := range ids {
		if !found[key] {
			rep.Missing = append(rep.Missing, id)
		}
	}
	slices.Sort(rep.Missing)
	return rep, nil
}
