package service

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/disintegration/imaging"

	"github.com/quirecms/quire"
)

// reorient turns the stored pixels of m the way EXIF orientation o said
// they should be shown, since the stripped file no longer says it: the
// picture looks as it did, without the EXIF block. This is the one case
// where an upload is decoded and encoded again (JPEG at quality 92, PNG
// losslessly); the decode is bounded like a variant's (the pixel limit
// was checked from the header, and at most two decodes run at once).
func (s *Media) reorient(ctx context.Context, m *quire.Media, o int, dims *dimensions) error {
	format := imaging.JPEG
	switch quire.BaseMediaType(m.MimeType) {
	case "image/jpeg":
	case "image/png":
		format = imaging.PNG
	default:
		return nil // GIF has no EXIF; nothing else is turned
	}
	select {
	case s.decode <- struct{}{}:
		defer func() { <-s.decode }()
	case <-ctx.Done():
		return ctx.Err()
	}
	obj, err := s.cfg.Storage.Open(ctx, m.StorageKey)
	if err != nil {
		return fmt.Errorf("reorient: %w", err)
	}
	img, err := imaging.Decode(obj, imaging.AutoOrientation(false))
	obj.Close()
	if err != nil {
		return refusal("is not a readable image: %v", err)
	}
	img = orient(img, o)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(imaging.Encode(pw, img, format, imaging.JPEGQuality(92), imaging.PNGCompressionLevel(png.DefaultCompression)))
	}()
	out := &hashingReader{r: pr, sum: newSum()}
	size, err := s.cfg.Storage.Put(ctx, m.StorageKey, out)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("reorient: %w", err)
	}
	m.SizeBytes, m.Checksum = size, sumHex(out.sum)
	dims.w, dims.h = img.Bounds().Dx(), img.Bounds().Dy()
	return nil
}

// orient applies EXIF orientation o (2–8) to img.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}
