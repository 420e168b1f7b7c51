package service

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
)

// MediaConfig is what the media library needs besides the database.
type MediaConfig struct {
	Storage        storage.Storage
	MaxUploadBytes int64
	AllowedTypes   []string // detected types accepted on upload; default quire.DefaultMediaTypes
	MaxPixels      int64    // largest image accepted, width × height
	VariantSizes   []int    // the only widths and heights ?w= and ?h= accept
	// KeepMetadata stores images as uploaded, EXIF, XMP, IPTC and text
	// chunks included (QUIRE_MEDIA_KEEP_METADATA); by default they are
	// removed on upload.
	KeepMetadata bool
	// Invalidate is told, after commit, the slugs of published pages whose
	// public answer changed because media they show was deleted or restored.
	Invalidate func(slugs ...string)
	Log        *slog.Logger
}

// Media manages the media library: uploads, metadata, soft delete,
// restore, purge, file serving with image variants, and garbage collection
// of bytes no record owns.
type Media struct {
	db  *store.DB
	cfg MediaConfig

	variants  singleflight.Group
	decode    chan struct{} // bounds concurrent full decodes (memory)
	generated atomic.Int64  // variants made on this node, for tests and metrics
}

// NewMedia returns the media service.
func NewMedia(db *store.DB, cfg MediaConfig) *Media {
	if len(cfg.AllowedTypes) == 0 {
		cfg.AllowedTypes = quire.DefaultMediaTypes
	}
	if cfg.Invalidate == nil {
		cfg.Invalidate = func(...string) {}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	slices.Sort(cfg.VariantSizes)
	return &Media{db: db, cfg: cfg, decode: make(chan struct{}, 2)}
}

// Storage is where the bytes are.
func (s *Media) Storage() storage.Storage { return s.cfg.Storage }

// VariantsGenerated counts the image variants this node has made.
func (s *Media) VariantsGenerated() int64 { return s.generated.Load() }

// MediaPatch is the body of PATCH /media/{id}.
type MediaPatch struct {
	Alt   *string `json:"alt"`
	Title *string `json:"title"`
}

// visible: deleted media exists only for editors and admins.
func visible(p *quire.Principal, m *quire.Media) bool {
	return m.DeletedAt == nil || p.Can(quire.RoleEditor)
}

var errNoMedia = quire.Errorf(quire.ENOTFOUND, "media not found")

// canChangeMedia: editors and admins change every media's metadata,
// authors what they uploaded.
func canChangeMedia(p *quire.Principal, m *quire.Media) error {
	if err := require(p, quire.RoleAuthor); err != nil {
		return err
	}
	if !p.Can(quire.RoleEditor) && m.UploadedBy != p.UserID {
		return quire.Errorf(quire.EFORBIDDEN, "authors can change only media they uploaded")
	}
	return nil
}

func mediaFields(m *quire.Media) map[string]any {
	return map[string]any{"filename": m.Filename, "mime_type": m.MimeType, "size_bytes": m.SizeBytes,
		"checksum_sha256": m.Checksum, "width": m.Width, "height": m.Height, "alt": m.Alt, "title": m.Title}
}

func staleMedia() error {
	return quire.Errorf(quire.EPRECONDITION, "the media was changed by someone else; fetch it again")
}

// Get returns one media record.
func (s *Media) Get(ctx context.Context, p *quire.Principal, id string) (*quire.Media, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	m, err := s.db.Reader().Media(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(p, m) {
		return nil, errNoMedia
	}
	return m, nil
}

// List returns media newest first; deleted media only to editors and
// admins. resume is store.MediaList's: where a filtered window stopped.
func (s *Media) List(ctx context.Context, p *quire.Principal, f store.MediaFilter) (media []*quire.Media, resume *store.PageCursor, err error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, nil, err
	}
	if f.Deleted && !p.Can(quire.RoleEditor) {
		return nil, nil, quire.Errorf(quire.EFORBIDDEN, "only editors and admins see deleted media")
	}
	return s.db.Reader().MediaList(ctx, f)
}

// Update changes alt and title.
func (s *Media) Update(ctx context.Context, p *quire.Principal, id string, ifMatch int64, in MediaPatch) (*quire.Media, error) {
	if err := require(p, quire.RoleAuthor); err != nil {
		return nil, err
	}
	var v quire.Validator
	if in.Alt != nil {
		quire.ValidateAlt(&v, "alt", *in.Alt)
	}
	if in.Title != nil {
		quire.ValidateMediaTitle(&v, "title", *in.Title)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *quire.Media
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := s.lockForChange(ctx, tx, p, id, ifMatch)
		if err != nil {
			return err
		}
		if m.DeletedAt != nil {
			return quire.Errorf(quire.ECONFLICT, "the media is deleted; restore it first")
		}
		before := mediaFields(m)
		if in.Alt != nil {
			m.Alt = *in.Alt
		}
		if in.Title != nil {
			m.Title = *in.Title
		}
		if err := tx.UpdateMedia(ctx, m); err != nil {
			return err
		}
		out = m
		if err := audit(ctx, tx, p.UserID, quire.ActionMediaUpdate, "media", id, quire.Changes(before, mediaFields(m))); err != nil {
			return err
		}
		return emit(ctx, tx, mediaEvent(quire.EventMediaUpdated, id, false))
	})
	return out, err
}

// lockForChange reads media for a change by p, checking visibility,
// ownership and If-Match.
func (s *Media) lockForChange(ctx context.Context, tx *store.Tx, p *quire.Principal, id string, ifMatch int64) (*quire.Media, error) {
	m, err := tx.MediaForUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(p, m) {
		return nil, errNoMedia
	}
	if err := canChangeMedia(p, m); err != nil {
		return nil, err
	}
	if ifMatch != 0 && ifMatch != m.Version {
		return nil, staleMedia()
	}
	return m, nil
}

// publishedSlugs are the slugs of pages whose published revision shows m.
func publishedSlugs(uses []store.MediaUse) []string {
	var out []string
	for _, u := range uses {
		if u.Published && !slices.Contains(out, u.Slug) {
			out = append(out, u.Slug)
		}
	}
	return out
}

// Delete soft-deletes media: its file stops being served and it leaves
// the default lists. Published pages that show it drop the image block
// from public delivery (rather than point at a dead URL) until the media
// is restored; their cached answers are invalidated after commit.
func (s *Media) Delete(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	var slugs []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := s.lockForChange(ctx, tx, p, id, ifMatch)
		if err != nil {
			return err
		}
		if m.DeletedAt != nil {
			return quire.Errorf(quire.ECONFLICT, "the media is already deleted")
		}
		uses, err := tx.MediaUses(ctx, id)
		if err != nil {
			return err
		}
		slugs = publishedSlugs(uses)
		now := tx.Now()
		m.DeletedAt = &now
		if err := tx.UpdateMedia(ctx, m); err != nil {
			return err
		}
		d := quire.Changes(map[string]any{"deleted_at": nil}, map[string]any{"deleted_at": now})
		d["filename"] = m.Filename
		if len(slugs) > 0 {
			d["published_pages"] = slugs
		}
		if err := audit(ctx, tx, p.UserID, quire.ActionMediaDelete, "media", id, d); err != nil {
			return err
		}
		return emit(ctx, tx, mediaEvent(quire.EventMediaDeleted, id, len(slugs) > 0))
	})
	if err != nil {
		return err
	}
	s.cfg.Invalidate(slugs...)
	return nil
}

// Restore brings deleted media back (editors and admins).
func (s *Media) Restore(ctx context.Context, p *quire.Principal, id string, ifMatch int64) (*quire.Media, error) {
	if err := require(p, quire.RoleEditor); err != nil {
		if quire.ErrorCode(err) == quire.EFORBIDDEN {
			return nil, quire.Errorf(quire.EFORBIDDEN, "only editors and admins restore media")
		}
		return nil, err
	}
	var out *quire.Media
	var slugs []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := s.lockForChange(ctx, tx, p, id, ifMatch)
		if err != nil {
			return err
		}
		if m.DeletedAt == nil {
			return quire.Errorf(quire.ECONFLICT, "the media is not deleted")
		}
		// The same bytes may have been uploaded again since: they are stored
		// once among live media.
		if other, err := tx.LiveMediaByChecksum(ctx, m.Checksum); err == nil {
			return quire.Errorf(quire.ECONFLICT, "the same file is in the library again as media %s; use that one", other.ID)
		} else if quire.ErrorCode(err) != quire.ENOTFOUND {
			return err
		}
		uses, err := tx.MediaUses(ctx, id)
		if err != nil {
			return err
		}
		slugs = publishedSlugs(uses)
		deletedAt := *m.DeletedAt
		m.DeletedAt = nil
		if err := tx.UpdateMedia(ctx, m); err != nil {
			return err
		}
		out = m
		d := quire.Changes(map[string]any{"deleted_at": deletedAt}, map[string]any{"deleted_at": nil})
		d["filename"] = m.Filename
		if err := audit(ctx, tx, p.UserID, quire.ActionMediaRestore, "media", id, d); err != nil {
			return err
		}
		return emit(ctx, tx, mediaEvent(quire.EventMediaRestored, id, len(slugs) > 0))
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Invalidate(slugs...)
	return out, nil
}

// Purge removes media for good (admins): the record in a transaction with
// its audit entry, then, once that committed, the bytes and every variant.
// It is refused while a page's working copy or published revision uses
// the media. Draft and archived revisions do not hold it back: restoring
// one of them later is refused because its media is gone.
func (s *Media) Purge(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	if err := require(p, quire.RoleAdmin); err != nil {
		if quire.ErrorCode(err) == quire.EFORBIDDEN {
			return quire.Errorf(quire.EFORBIDDEN, "only admins purge media")
		}
		return err
	}
	var key string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The row lock comes first: a page write that references the media
		// holds its row FOR SHARE (store.ShareLiveMedia) until it commits,
		// so this waits for writes in flight and the check below sees
		// their blocks; writes that start later wait for this purge and
		// then find the media gone.
		m, err := s.lockForChange(ctx, tx, p, id, ifMatch)
		if err != nil {
			return err
		}
		uses, err := tx.MediaUses(ctx, id)
		if err != nil {
			return err
		}
		if len(uses) > 0 {
			return inUse(uses)
		}
		if err := tx.DeleteMedia(ctx, id); err != nil {
			return err
		}
		key = m.StorageKey
		d := quire.Changes(mediaFields(m), nil)
		d["was_deleted"] = m.DeletedAt != nil
		if err := audit(ctx, tx, p.UserID, quire.ActionMediaPurge, "media", id, d); err != nil || m.DeletedAt != nil {
			return err // purging deleted media: its media.deleted event was sent when it was deleted
		}
		return emit(ctx, tx, mediaEvent(quire.EventMediaDeleted, id, false))
	})
	if err != nil {
		return err
	}
	// After commit: a crash here leaves bytes no record owns, which
	// `quire media gc` removes; never a record without its bytes.
	if err := storage.DeletePrefix(context.WithoutCancel(ctx), s.cfg.Storage, blobPrefix(key)); err != nil {
		s.cfg.Log.Warn("purged media left bytes behind; quire media gc will remove them", "media_id", id, "err", err)
	}
	return nil
}

func inUse(uses []store.MediaUse) error {
	var names []string
	fields := make([]quire.FieldError, 0, len(uses))
	for _, u := range uses {
		names = append(names, fmt.Sprintf("%s (%s)", u.Slug, u.Where))
		fields = append(fields, quire.FieldError{Field: "pages." + u.PageID, Message: fmt.Sprintf("page %s uses this media in its %s", u.Slug, u.Where)})
	}
	return &quire.Error{Code: quire.ECONFLICT, Fields: fields,
		Message: "the media is still used by " + strings.Join(names, ", ") + "; remove it from those pages first"}
}

// blobKey is where an upload's bytes go; everything made from them
// (variants) lives under the same prefix, so a purge removes it all.
func blobKey(id string) string { return "media/" + id + "/original" }

func blobPrefix(key string) string { return path.Dir(key) + "/" }
