package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/disintegration/imaging"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/storage"
)

// File is a media file, or an image variant of one, ready to be served.
type File struct {
	Content     io.ReadSeeker
	Size        int64
	ContentType string
	// ETag is strong and derived from the media id (and the variant), never
	// from the checksum: a media's bytes never change, so the id is as good
	// a validator, and it tells nobody anything about the content.
	ETag    string
	ModTime time.Time
	Name    string // the download name
	Inline  bool   // a type a browser shows without running anything
	close   func() error
}

// Close releases the file.
func (f *File) Close() error {
	if f.close == nil {
		return nil
	}
	return f.close()
}

// VariantRequest is the raw ?w=, ?h= and ?fit= of a file request.
type VariantRequest struct{ W, H, Fit string }

func (v VariantRequest) empty() bool { return v.W == "" && v.H == "" && v.Fit == "" }

var errNoFile = quire.Errorf(quire.ENOTFOUND, "no such file")

// File opens the file of media id for anyone: deleted media is not found,
// and so is a file name that is not the media's own. The download name
// carries the extension of the stored type even for media uploaded before
// names were made to agree (its URL keeps the name it was given).
func (s *Media) File(ctx context.Context, id, filename string, vr VariantRequest) (*File, error) {
	m, err := s.db.Reader().Media(ctx, id)
	if quire.ErrorCode(err) == quire.ENOTFOUND || err == nil && (m.DeletedAt != nil || m.Filename != filename) {
		return nil, errNoFile
	}
	if err != nil {
		return nil, err
	}
	if !vr.empty() {
		spec, err := s.parseVariant(m, vr)
		if err != nil {
			return nil, err
		}
		return s.variant(ctx, m, spec)
	}
	obj, err := s.cfg.Storage.Open(ctx, m.StorageKey)
	if errors.Is(err, storage.ErrNotExist) {
		s.cfg.Log.Error("media record without its bytes", "media_id", m.ID, "key", m.StorageKey)
		return nil, errNoFile
	}
	if err != nil {
		return nil, err
	}
	return &File{Content: obj, Size: obj.Size(), ContentType: m.MimeType, ETag: `"` + m.ID + `"`, ModTime: m.CreatedAt,
		Name: nameForType(m.Filename, m.MimeType), Inline: quire.ServeInline(m.MimeType), close: obj.Close}, nil
}

// variantSpec is a validated variant request.
type variantSpec struct {
	w, h int
	fit  string // contain or cover
}

func (v variantSpec) name() string { return fmt.Sprintf("w%d-h%d-%s", v.w, v.h, v.fit) }

// resizable are the types a variant can be made of.
var resizable = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

func (s *Media) parseVariant(m *quire.Media, vr VariantRequest) (variantSpec, error) {
	spec := variantSpec{fit: vr.Fit}
	var v quire.Validator
	sizes := make([]string, len(s.cfg.VariantSizes))
	for i, n := range s.cfg.VariantSizes {
		sizes[i] = strconv.Itoa(n)
	}
	size := func(field, raw string) int {
		if raw == "" {
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil || !slices.Contains(s.cfg.VariantSizes, n) {
			v.Add(field, "must be one of "+strings.Join(sizes, ", "))
		}
		return n
	}
	spec.w, spec.h = size("w", vr.W), size("h", vr.H)
	switch {
	case spec.fit == "":
		spec.fit = "contain"
	case spec.fit != "contain" && spec.fit != "cover":
		v.Add("fit", "must be contain or cover")
	}
	if vr.W == "" && vr.H == "" {
		v.Add("w", "or h is required for a resized variant")
	}
	if spec.fit == "cover" && (vr.W == "" || vr.H == "") {
		v.Add("fit", "cover needs both w and h")
	}
	if !resizable[quire.BaseMediaType(m.MimeType)] {
		v.Add("w", "resized variants exist only for JPEG, PNG, GIF and WebP images")
	} else if m.Width == nil || int64(*m.Width)*int64(*m.Height) > s.cfg.MaxPixels {
		v.Add("w", "this image is too large to resize")
	}
	return spec, v.Err()
}

// variant serves a stored variant, or makes it: once per node however many
// requests ask at the same moment (single flight), with at most two full
// decodes at a time. Variants are stored beside the original, so a purge
// removes them with it, and the configured sizes bound how many exist.
func (s *Media) variant(ctx context.Context, m *quire.Media, spec variantSpec) (*File, error) {
	key := blobPrefix(m.StorageKey) + spec.name()
	file := func(content io.ReadSeeker, size int64, ct string, close func() error) *File {
		ext := ".jpg"
		if ct == "image/png" {
			ext = ".png"
		}
		name := strings.TrimSuffix(m.Filename, path.Ext(m.Filename)) + "-" + spec.name() + ext
		return &File{Content: content, Size: size, ContentType: ct, ETag: `"` + m.ID + "-" + spec.name() + `"`, ModTime: m.CreatedAt,
			Name: name, Inline: true, close: close}
	}
	if obj, err := s.cfg.Storage.Open(ctx, key); err == nil {
		ct, err := sniffVariant(obj)
		if err != nil {
			obj.Close()
			return nil, err
		}
		return file(obj, obj.Size(), ct, obj.Close), nil
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, err
	}
	res, err, _ := s.variants.Do(key, func() (any, error) {
		ctx := context.WithoutCancel(ctx) // the variant is worth finishing for the next caller
		// A flight that ended just before this one began may have made it.
		if v, err := s.readVariant(ctx, key); !errors.Is(err, storage.ErrNotExist) {
			return v, err
		}
		return s.makeVariant(ctx, m, spec, key)
	})
	if err != nil {
		return nil, err
	}
	v := res.(*madeVariant)
	return file(bytes.NewReader(v.data), int64(len(v.data)), v.contentType, nil), nil
}

type madeVariant struct {
	data        []byte
	contentType string
}

func (s *Media) readVariant(ctx context.Context, key string) (*madeVariant, error) {
	obj, err := s.cfg.Storage.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	ct, err := sniffVariant(obj)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, fmt.Errorf("read variant: %w", err)
	}
	return &madeVariant{data: data, contentType: ct}, nil
}

func (s *Media) makeVariant(ctx context.Context, m *quire.Media, spec variantSpec, key string) (*madeVariant, error) {
	select {
	case s.decode <- struct{}{}:
		defer func() { <-s.decode }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	obj, err := s.cfg.Storage.Open(ctx, m.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("variant of %s: %w", m.ID, err)
	}
	img, err := imaging.Decode(obj, imaging.AutoOrientation(true))
	obj.Close()
	if err != nil {
		return nil, quire.Wrap(quire.EINVALID, err, "the image could not be decoded to make a variant")
	}
	out := resize(img, spec)
	format, ct := imaging.JPEG, "image/jpeg"
	switch quire.BaseMediaType(m.MimeType) {
	case "image/png", "image/gif":
		format, ct = imaging.PNG, "image/png"
	case "image/webp":
		if !out.Opaque() {
			format, ct = imaging.PNG, "image/png"
		}
	}
	var buf bytes.Buffer
	if err := imaging.Encode(&buf, out, format, imaging.JPEGQuality(82)); err != nil {
		return nil, fmt.Errorf("encode variant: %w", err)
	}
	if _, err := s.cfg.Storage.Put(ctx, key, bytes.NewReader(buf.Bytes())); err != nil {
		return nil, fmt.Errorf("store variant: %w", err)
	}
	s.generated.Add(1)
	return &madeVariant{data: buf.Bytes(), contentType: ct}, nil
}

// resize never enlarges: a box larger than the image shrinks to fit it.
func resize(img image.Image, spec variantSpec) *image.NRGBA {
	b := img.Bounds()
	ow, oh := b.Dx(), b.Dy()
	w, h := spec.w, spec.h
	switch {
	case h == 0:
		return imaging.Resize(img, min(w, ow), 0, imaging.Lanczos)
	case w == 0:
		return imaging.Resize(img, 0, min(h, oh), imaging.Lanczos)
	case spec.fit == "contain":
		return imaging.Fit(img, w, h, imaging.Lanczos)
	}
	if w > ow || h > oh {
		f := math.Min(float64(ow)/float64(w), float64(oh)/float64(h))
		w, h = max(1, int(math.Round(float64(w)*f))), max(1, int(math.Round(float64(h)*f)))
	}
	return imaging.Fill(img, w, h, imaging.Center, imaging.Lanczos)
}

// sniffVariant tells a stored variant's type from its first bytes.
func sniffVariant(obj storage.Object) (string, error) {
	var magic [4]byte
	if _, err := io.ReadFull(obj, magic[:]); err != nil {
		return "", fmt.Errorf("read variant: %w", err)
	}
	if _, err := obj.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read variant: %w", err)
	}
	if bytes.Equal(magic[:], []byte("\x89PNG")) {
		return "image/png", nil
	}
	return "image/jpeg", nil
}
