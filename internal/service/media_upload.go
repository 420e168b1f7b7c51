package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// sniffLen is how much of the start of a file type detection looks at.
const sniffLen = 4096

// Upload is a file whose bytes are in storage but whose record is not yet
// committed. The caller ends it with Commit or, on any failure, Discard,
// which removes the bytes: an upload that fails leaves nothing behind.
type Upload struct {
	s     *Media
	media quire.Media
	done  bool
}

// Stage streams a file into storage for p: the type is detected from the
// first bytes and checked against the allow-list before anything is
// stored; the rest is hashed and inspected (image size, SVG content,
// polyglots) while it is written, never held whole in memory. Bytes past
// the size limit stop the upload with ETOOLARGE. filename is only kept,
// sanitised and with the extension of the detected type, as the display
// and download name.
func (s *Media) Stage(ctx context.Context, p *quire.Principal, filename string, body io.Reader) (*Upload, error) {
	if err := require(p, quire.RoleAuthor); err != nil {
		return nil, err
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(body, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, readError(err)
	}
	head = head[:n]
	if n == 0 {
		return nil, refusal("is empty")
	}
	mt := mimetype.Detect(head)
	if !s.allowed(mt) {
		return nil, refusal("is of type %s, which is not allowed here (allowed: %s)", quire.BaseMediaType(mt.String()), strings.Join(s.cfg.AllowedTypes, ", "))
	}
	u := &Upload{s: s, media: quire.Media{ID: store.NewID(), Filename: nameForType(quire.SanitizeFilename(filename), mt.String()),
		MimeType: mt.String(), UploadedBy: p.UserID}}
	u.media.StorageKey = blobKey(u.media.ID)

	var dims dimensions
	var inspectors []inspector
	switch base := quire.BaseMediaType(mt.String()); {
	case base == "image/svg+xml":
		inspectors = append(inspectors, svgInspector())
	case base == "image/avif":
		inspectors = append(inspectors, &avifInspector{maxPixels: s.cfg.MaxPixels, out: &dims}, &polyglotScanner{})
	case strings.HasPrefix(base, "image/"):
		inspectors = append(inspectors, rasterInspector(s.cfg.MaxPixels, &dims), &polyglotScanner{})
	case strings.HasPrefix(base, "video/"), strings.HasPrefix(base, "audio/"):
		inspectors = append(inspectors, &polyglotScanner{})
	}
	var webp *webpPlan
	if quire.BaseMediaType(mt.String()) == "image/webp" && !s.cfg.KeepMetadata {
		webp = &webpPlan{}
		inspectors = append(inspectors, webpInspector(webp))
	}
	src := &uploadReader{r: io.MultiReader(bytes.NewReader(head), body), limit: s.cfg.MaxUploadBytes, inspectors: inspectors}
	// Images lose their metadata on the way to storage unless the operator
	// keeps it; the checksum (dedup) and size are of the stored bytes.
	var stored io.Reader = src
	var clean *cleaner
	if strip := stripperFor(mt.String()); strip != nil && !s.cfg.KeepMetadata {
		clean = startCleaner(src, strip)
		stored = clean
	}
	out := &hashingReader{r: stored, sum: newSum()}
	size, putErr := s.cfg.Storage.Put(ctx, u.media.StorageKey, out)
	var cleanErr error
	if clean != nil {
		cleanErr = clean.finish()
	}
	var refused *quire.Error
	verdict := src.finish(putErr != nil || cleanErr != nil)
	switch {
	case src.readErr != nil: // the client's body failed or was too large
		return nil, errors.Join(readError(src.readErr), u.discard(ctx))
	case src.refused != nil: // an inspector stopped the upload
		return nil, errors.Join(src.refused, u.discard(ctx))
	case errors.As(cleanErr, &refused): // the stripper could not follow the image
		return nil, errors.Join(cleanErr, u.discard(ctx))
	case putErr != nil:
		return nil, errors.Join(fmt.Errorf("store upload: %w", putErr), u.discard(ctx))
	case cleanErr != nil:
		return nil, errors.Join(fmt.Errorf("strip metadata: %w", cleanErr), u.discard(ctx))
	case verdict != nil:
		return nil, errors.Join(verdict, u.discard(ctx))
	}
	u.media.SizeBytes = size
	u.media.Checksum = sumHex(out.sum)
	if err := s.finishImage(ctx, &u.media, clean, webp, &dims); err != nil {
		return nil, errors.Join(err, u.discard(ctx))
	}
	if dims.w > 0 {
		u.media.Width, u.media.Height = &dims.w, &dims.h
	}
	return u, nil
}

func (s *Media) allowed(mt *mimetype.MIME) bool {
	for _, t := range s.cfg.AllowedTypes {
		if mt.Is(t) {
			return true
		}
	}
	return false
}

// errTooLarge marks the read that went past the limit.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string { return fmt.Sprintf("the file is larger than %d bytes", e.limit) }

// readError turns a failure to read the client's body into a domain error.
func readError(err error) error {
	var tl errTooLarge
	var coded *quire.Error
	switch {
	case errors.As(err, &tl):
		return &quire.Error{Code: quire.ETOOLARGE, Message: tl.Error(), Fields: []quire.FieldError{{Field: "file", Message: tl.Error()}}}
	case errors.As(err, &coded):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return quire.Wrap(quire.EBADREQUEST, err, "the upload could not be read to the end")
}

// uploadReader is what storage (or the metadata stripper) reads: the
// client's bytes, counted against the limit and copied to the inspectors
// on the way. It records
// why it failed, so that the caller can tell the client's fault (a body
// too large, a refused file) from the storage's.
type uploadReader struct {
	r          io.Reader
	limit      int64
	n          int64
	inspectors []inspector
	readErr    error // the client's body failed, or went past the limit
	refused    error // an inspector refused the file
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.readErr != nil || u.refused != nil {
		return 0, errors.Join(u.readErr, u.refused)
	}
	n, err := u.r.Read(p)
	if int64(n) > u.limit-u.n {
		u.readErr = errTooLarge{u.limit}
		return 0, u.readErr
	}
	u.n += int64(n)
	for _, in := range u.inspectors {
		if _, werr := in.Write(p[:n]); werr != nil {
			u.refused = werr
			var q *quire.Error
			if !errors.As(werr, &q) {
				u.refused = refusal("could not be inspected: %v", werr)
			}
			return 0, u.refused
		}
	}
	if err != nil && err != io.EOF {
		u.readErr = err
	}
	return n, err
}

// finish collects the inspectors' verdicts (or stops them after a failure).
func (u *uploadReader) finish(failed bool) error {
	var verdict error
	for _, in := range u.inspectors {
		if failed {
			if p, ok := in.(*pipeInspector); ok {
				p.abort()
			}
			continue
		}
		if err := in.Finish(); err != nil && verdict == nil {
			verdict = err
		}
	}
	return verdict
}

// Discard removes the staged bytes unless the upload was committed.
func (u *Upload) Discard(ctx context.Context) {
	if !u.done {
		if err := u.discard(ctx); err != nil {
			u.s.cfg.Log.Warn("could not remove the bytes of a failed upload; quire media gc will", "key", u.media.StorageKey, "err", err)
		}
	}
}

func (u *Upload) discard(ctx context.Context) error {
	u.done = true
	return u.s.cfg.Storage.Delete(context.WithoutCancel(ctx), u.media.StorageKey)
}

// Filename is the sanitised name the upload will be listed under.
func (u *Upload) Filename() string { return u.media.Filename }

// Commit records the upload with alt and title, in one transaction with
// its audit entry. When the same bytes are already in the library (and
// not deleted), nothing new is stored: the existing media is returned
// with created false, the entry says the upload was deduplicated, and the
// staged copy is removed. alt and title then do not change the existing
// media, which may be someone else's.
func (u *Upload) Commit(ctx context.Context, p *quire.Principal, alt, title string) (*quire.Media, bool, error) {
	var v quire.Validator
	quire.ValidateAlt(&v, "alt", alt)
	quire.ValidateMediaTitle(&v, "title", title)
	if err := v.Err(); err != nil {
		u.Discard(ctx)
		return nil, false, err
	}
	if u.done {
		return nil, false, errors.New("media upload already committed or discarded")
	}
	m := u.media
	m.Alt, m.Title = alt, title
	var out *quire.Media
	created := false
	// Two uploads of the same bytes can race past the lookup; the unique
	// index stops the second, which then finds the first on its retry.
	for attempt := 0; ; attempt++ {
		err := u.s.db.InTx(ctx, func(tx *store.Tx) error {
			existing, err := tx.LiveMediaByChecksum(ctx, m.Checksum)
			if err == nil {
				out, created = existing, false
				return audit(ctx, tx, p.UserID, quire.ActionMediaDedup, "media", existing.ID, map[string]any{
					"deduplicated": true, "filename": m.Filename, "size_bytes": m.SizeBytes,
				})
			}
			if quire.ErrorCode(err) != quire.ENOTFOUND {
				return err
			}
			if err := tx.CreateMedia(ctx, &m); err != nil {
				return err
			}
			out, created = &m, true
			if err := audit(ctx, tx, p.UserID, quire.ActionMediaUpload, "media", m.ID, quire.Changes(nil, mediaFields(&m))); err != nil {
				return err
			}
			return emit(ctx, tx, mediaEvent(quire.EventMediaCreated, m.ID, false))
		})
		if err != nil && errors.Is(err, store.ErrUniqueViolation) && attempt == 0 {
			continue
		}
		if err != nil {
			u.Discard(ctx)
			return nil, false, err
		}
		break
	}
	if created {
		u.done = true
	} else {
		u.Discard(ctx)
	}
	return out, created, nil
}
