package service

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/quirecms/quire"
)

// WebP is a RIFF file whose header holds the size of everything after
// it, so its metadata chunks cannot be dropped while it streams: the
// upload is stored as it comes while an inspector walks its chunks, and
// when something must go (EXIF, XMP, unknown chunks, data after the
// RIFF end), the stored file is read once more and written again without
// it. There is no WebP encoder in pure Go, so a WebP whose EXIF asks for
// rotation keeps a new EXIF chunk holding the orientation tag and nothing
// else, instead of turned pixels.

// webpKeep are the chunks that make the picture.
var webpKeep = map[string]bool{"VP8 ": true, "VP8L": true, "VP8X": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

// webpPlan is what the walk of an upload found.
type webpPlan struct {
	rewrite     bool   // something must go
	size        uint32 // the RIFF size of the rewritten file
	orientation int
}

// walkWebP calls fn for each chunk of a WebP file, with a reader of its
// data (fn need not read it all); it returns the RIFF size and whether
// bytes follow the RIFF end.
func walkWebP(r *bufio.Reader, fn func(fourcc string, size uint32, data io.Reader) error) (riffSize uint32, trailing bool, err error) {
	var h [12]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, false, err
	}
	if string(h[:4]) != "RIFF" || string(h[8:12]) != "WEBP" {
		return 0, false, malformed("WebP", "no RIFF header")
	}
	riffSize = binary.LittleEndian.Uint32(h[4:8])
	for left := int64(riffSize) - 4; left > 0; {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, false, err
		}
		size := binary.LittleEndian.Uint32(ch[4:])
		padded := int64(size) + int64(size&1)
		if 8+padded > left {
			return 0, false, malformed("WebP", "a chunk larger than the file")
		}
		data := io.LimitReader(r, int64(size))
		if err := fn(string(ch[:4]), size, data); err != nil {
			return 0, false, err
		}
		if _, err := io.Copy(io.Discard, data); err != nil {
			return 0, false, err
		}
		if size&1 == 1 {
			if _, err := r.ReadByte(); err != nil {
				return 0, false, err
			}
		}
		left -= 8 + padded
	}
	_, err = r.Peek(1)
	return riffSize, err == nil, nil
}

// webpInspector plans the rewrite while the upload streams.
func webpInspector(plan *webpPlan) *pipeInspector {
	return newPipeInspector(func(r io.Reader) error {
		out := uint32(4) // "WEBP"
		extended := false
		riffSize, trailing, err := walkWebP(bufio.NewReader(r), func(fourcc string, size uint32, data io.Reader) error {
			extended = extended || fourcc == "VP8X"
			if webpKeep[fourcc] {
				out += 8 + size + size&1
				return nil
			}
			plan.rewrite = true
			if fourcc == "EXIF" && plan.orientation == 0 {
				head := make([]byte, min(size, 64<<10))
				if _, err := io.ReadFull(data, head); err != nil {
					return err
				}
				plan.orientation = exifOrientation(trimExifHeader(head))
			}
			return nil
		})
		if err != nil {
			var q *quire.Error
			if errors.As(err, &q) {
				return err
			}
			return malformed("WebP", err.Error())
		}
		if !extended {
			plan.orientation = 0 // EXIF belongs only in the extended format
		}
		if plan.orientation > 1 {
			out += 8 + uint32(len(orientationEXIF(plan.orientation)))
		}
		plan.rewrite = plan.rewrite || trailing || out != riffSize
		plan.size = out
		return nil
	})
}

// trimExifHeader drops the "Exif\0\0" some writers put before the TIFF
// structure in a WebP EXIF chunk.
func trimExifHeader(b []byte) []byte {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		return b[6:]
	}
	return b
}

// orientationEXIF is an EXIF block holding only the orientation tag.
func orientationEXIF(o int) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	b[18] = byte(o)
	return b
}

// rewriteWebP writes the stored WebP of m again as plan says: the kept
// chunks in order, the VP8X flags for EXIF and XMP cleared (EXIF set
// again when the orientation is kept), nothing after the RIFF end.
func (s *Media) rewriteWebP(ctx context.Context, m *quire.Media, plan webpPlan) error {
	obj, err := s.cfg.Storage.Open(ctx, m.StorageKey)
	if err != nil {
		return fmt.Errorf("strip metadata: %w", err)
	}
	defer obj.Close()
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriter(pw)
		h := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, plan.size)...)
		w.Write(append(h, "WEBP"...))
		_, _, err := walkWebP(bufio.NewReader(obj), func(fourcc string, size uint32, data io.Reader) error {
			if !webpKeep[fourcc] {
				return nil
			}
			w.Write(append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, size)...))
			if fourcc == "VP8X" && size >= 1 {
				var flags [1]byte
				if _, err := io.ReadFull(data, flags[:]); err != nil {
					return err
				}
				flags[0] &^= 0x08 | 0x04 // EXIF and XMP
				if plan.orientation > 1 {
					flags[0] |= 0x08
				}
				w.WriteByte(flags[0])
			}
			if _, err := io.Copy(w, data); err != nil {
				return err
			}
			if size&1 == 1 {
				return w.WriteByte(0)
			}
			return nil
		})
		if err == nil && plan.orientation > 1 {
			exif := orientationEXIF(plan.orientation)
			w.Write(append(append([]byte("EXIF"), binary.LittleEndian.AppendUint32(nil, uint32(len(exif)))...), exif...))
		}
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	out := &hashingReader{r: pr, sum: newSum()}
	size, err := s.cfg.Storage.Put(ctx, m.StorageKey, out)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("strip metadata: %w", err)
	}
	m.SizeBytes, m.Checksum = size, sumHex(out.sum)
	return nil
}
