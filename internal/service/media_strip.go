package service

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"github.com/quirecms/quire"
)

// Uploaded images lose their metadata on the way to storage: EXIF (GPS
// position, camera serial number, capture time, a thumbnail of the
// uncropped picture), XMP, IPTC, comments and text chunks. The pixels and
// what renders them (colour profile, transparency, animation) are copied
// unchanged, segment by segment, while the upload streams; nothing is
// decoded. See docs/media.md ("Metadata").

// imageMeta is what a stripper learnt about the file.
type imageMeta struct {
	orientation int // EXIF orientation (1–8), 0 when none was found
}

// stripFunc copies an image from r to w without its metadata. It may stop
// at the image's end: what follows is read and dropped by the caller.
type stripFunc func(r *bufio.Reader, w *bufio.Writer, meta *imageMeta) error

// stripperFor returns the stripper for a detected type, or nil for types
// whose bytes are stored as uploaded.
func stripperFor(mimeType string) stripFunc {
	switch quire.BaseMediaType(mimeType) {
	case "image/jpeg":
		return stripJPEG
	case "image/png":
		return stripPNG
	case "image/gif":
		return stripGIF
	case "image/avif":
		return stripAVIF
	}
	return nil
}

// malformed is the refusal of an image whose structure a stripper cannot
// follow (a decoder would not read it either).
func malformed(kind, why string) error {
	return refusal("is not a well-formed %s image: %s", kind, why)
}

// cleaner runs a stripper between the upload and storage, in a goroutine
// connected by a pipe: storage reads the stripped bytes as the client
// sends the original ones, so memory stays bounded whatever the size.
type cleaner struct {
	pr   *io.PipeReader
	meta imageMeta
	err  error
	done chan struct{}
}

func startCleaner(src io.Reader, strip stripFunc) *cleaner {
	pr, pw := io.Pipe()
	c := &cleaner{pr: pr, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		br := bufio.NewReaderSize(src, 64<<10)
		bw := bufio.NewWriterSize(pw, 64<<10)
		err := strip(br, bw, &c.meta)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil // a truncated image is stored as far as it goes, as before
		}
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			// Whatever follows the image's end is not stored, but still
			// read: the size limit and the polyglot scan see all of it.
			_, err = io.Copy(io.Discard, br)
		}
		c.err = err
		pw.CloseWithError(err) // nil: storage sees the end
	}()
	return c
}

func (c *cleaner) Read(p []byte) (int, error) { return c.pr.Read(p) }

// finish stops the stripper (if storage stopped reading early) and
// returns why it failed, if it did.
func (c *cleaner) finish() error {
	c.pr.CloseWithError(errors.New("upload stopped"))
	<-c.done
	return c.err
}

// exifOrientation reads the Orientation tag (0x0112) from IFD0 of a TIFF
// structure (the body of an EXIF block after "Exif\0\0"); 0 if absent.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(tiff[:4]) {
	case "II*\x00":
		u16 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
		u32 = func(b []byte) int { return u16(b) | u16(b[2:])<<16 }
	case "MM\x00*":
		u16 = func(b []byte) int { return int(b[1]) | int(b[0])<<8 }
		u32 = func(b []byte) int { return u16(b[2:]) | u16(b)<<16 }
	default:
		return 0
	}
	ifd := u32(tiff[4:])
	if ifd < 8 || ifd+2 > len(tiff) {
		return 0
	}
	n := u16(tiff[ifd:])
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(tiff) {
			return 0
		}
		if u16(tiff[e:]) == 0x0112 && u16(tiff[e+2:]) == 3 { // SHORT
			if o := u16(tiff[e+8:]); o >= 1 && o <= 8 {
				return o
			}
			return 0
		}
	}
	return 0
}

// finishImage does what the cleaners left for after the bytes were
// stored: a JPEG or PNG whose EXIF orientation went with the EXIF block
// is turned; a WebP with something to drop is written again.
func (s *Media) finishImage(ctx context.Context, m *quire.Media, clean *cleaner, webp *webpPlan, dims *dimensions) error {
	if clean != nil && clean.meta.orientation > 1 {
		if err := s.reorient(ctx, m, clean.meta.orientation, dims); err != nil {
			return err
		}
	}
	if webp != nil && webp.rewrite {
		return s.rewriteWebP(ctx, m, *webp)
	}
	return nil
}

func newSum() hash.Hash { return sha256.New() }

func sumHex(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// hashingReader hashes what storage reads.
type hashingReader struct {
	r   io.Reader
	sum hash.Hash
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.sum.Write(p[:n])
	return n, err
}
