package service

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// --- JPEG: a sequence of marker segments, then entropy-coded data ---

// jpegKeep decides whether an APPn or COM segment stays: only what
// rendering needs — JFIF (APP0), the ICC colour profile (APP2) and
// Adobe's colour transform flag (APP14, needed for CMYK). EXIF and XMP
// (APP1), IPTC (APP13, Photoshop), comments (COM), JFXX thumbnails,
// multi-picture data (APP2 MPF) and every vendor segment go.
func jpegKeep(marker byte, head []byte) bool {
	switch {
	case marker == 0xe0:
		return bytes.HasPrefix(head, []byte("JFIF\x00"))
	case marker == 0xe2:
		return bytes.HasPrefix(head, []byte("ICC_PROFILE\x00"))
	case marker == 0xee:
		return bytes.HasPrefix(head, []byte("Adobe"))
	case marker >= 0xe0 && marker <= 0xef, marker == 0xfe:
		return false
	}
	return true // frame, tables, scan headers, restart interval, …
}

func stripJPEG(r *bufio.Reader, w *bufio.Writer, meta *imageMeta) error {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil {
		return err
	}
	if soi != [2]byte{0xff, 0xd8} {
		return malformed("JPEG", "no start of image")
	}
	w.Write(soi[:])
	marker, err := jpegMarker(r)
	for {
		if err != nil {
			return err
		}
		switch {
		case marker == 0xd9: // end of image: anything after it is dropped
			_, err := w.Write([]byte{0xff, 0xd9})
			return err
		case marker >= 0xd0 && marker <= 0xd7, marker == 0x01: // no length
			w.Write([]byte{0xff, marker})
			marker, err = jpegMarker(r)
			continue
		}
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(l[:])) - 2
		if n < 0 {
			return malformed("JPEG", "a segment shorter than its header")
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		if marker == 0xe1 && bytes.HasPrefix(body, []byte("Exif\x00\x00")) && meta.orientation == 0 {
			meta.orientation = exifOrientation(body[6:])
		}
		if !jpegKeep(marker, body) {
			marker, err = jpegMarker(r)
			continue
		}
		w.Write([]byte{0xff, marker})
		w.Write(l[:])
		w.Write(body)
		if marker == 0xda { // start of scan: entropy-coded data up to the next marker
			marker, err = jpegScan(r, w)
			continue
		}
		marker, err = jpegMarker(r)
	}
}

// jpegMarker reads the next marker, skipping fill bytes (and, as libjpeg
// does, stray bytes before it).
func jpegMarker(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != 0xff {
			continue
		}
		for b == 0xff {
			if b, err = r.ReadByte(); err != nil {
				return 0, err
			}
		}
		if b != 0x00 {
			return b, nil
		}
	}
}

// jpegScan copies entropy-coded data (with its stuffed zero bytes and
// restart markers) and returns the marker that ends it.
func jpegScan(r *bufio.Reader, w *bufio.Writer) (byte, error) {
	for {
		chunk, err := r.ReadSlice(0xff)
		if err == bufio.ErrBufferFull {
			w.Write(chunk)
			continue
		}
		if err != nil {
			w.Write(chunk)
			return 0, err
		}
		w.Write(chunk[:len(chunk)-1])
		b, err := r.ReadByte()
		for err == nil && b == 0xff { // fill bytes
			b, err = r.ReadByte()
		}
		if err != nil {
			return 0, err
		}
		if b == 0x00 || b >= 0xd0 && b <= 0xd7 {
			w.Write([]byte{0xff, b})
			continue
		}
		return b, nil
	}
}

// --- PNG: chunks of length, type, data and CRC ---

// pngKeep are the ancillary chunks that affect rendering; critical chunks
// (upper-case first letter) are always kept. Text (tEXt, zTXt, iTXt),
// EXIF (eXIf), the modification time (tIME) and private chunks go.
var pngKeep = map[string]bool{
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true, "bKGD": true,
	"pHYs": true, "hIST": true, "sPLT": true, "acTL": true, "fcTL": true, "fdAT": true,
	"cICP": true, "mDCv": true, "cLLi": true,
}

func stripPNG(r *bufio.Reader, w *bufio.Writer, meta *imageMeta) error {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil {
		return err
	}
	if string(sig[:]) != "\x89PNG\r\n\x1a\n" {
		return malformed("PNG", "no signature")
	}
	w.Write(sig[:])
	for {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(h[:4]))
		if n > 1<<31-1 {
			return malformed("PNG", "a chunk longer than 2³¹−1 bytes")
		}
		typ := string(h[4:8])
		critical := typ[0] >= 'A' && typ[0] <= 'Z'
		switch {
		case critical || pngKeep[typ]:
			w.Write(h[:])
			if _, err := io.CopyN(w, r, n+4); err != nil { // data and CRC
				return err
			}
		case typ == "eXIf":
			head := make([]byte, min(n, 64<<10))
			if _, err := io.ReadFull(r, head); err != nil {
				return err
			}
			if meta.orientation == 0 {
				meta.orientation = exifOrientation(head)
			}
			if _, err := io.CopyN(io.Discard, r, n-int64(len(head))+4); err != nil {
				return err
			}
		default:
			if _, err := io.CopyN(io.Discard, r, n+4); err != nil {
				return err
			}
		}
		if typ == "IEND" {
			return nil
		}
	}
}

// --- GIF: header, colour table, then blocks and extensions ---

func stripGIF(r *bufio.Reader, w *bufio.Writer, meta *imageMeta) error {
	var h [13]byte // header and logical screen descriptor
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return err
	}
	if s := string(h[:6]); s != "GIF87a" && s != "GIF89a" {
		return malformed("GIF", "no header")
	}
	w.Write(h[:])
	if h[10]&0x80 != 0 {
		if _, err := io.CopyN(w, r, 3<<(h[10]&7+1)); err != nil {
			return err
		}
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		switch b {
		case 0x3b: // trailer: anything after it is dropped
			return w.WriteByte(b)
		case 0x2c: // image descriptor, optional local colour table, LZW data
			var d [9]byte
			if _, err := io.ReadFull(r, d[:]); err != nil {
				return err
			}
			w.WriteByte(b)
			w.Write(d[:])
			if d[8]&0x80 != 0 {
				if _, err := io.CopyN(w, r, 3<<(d[8]&7+1)); err != nil {
					return err
				}
			}
			if _, err := io.CopyN(w, r, 1); err != nil { // LZW minimum code size
				return err
			}
			if err := gifSubBlocks(r, w); err != nil {
				return err
			}
		case 0x21:
			label, err := r.ReadByte()
			if err != nil {
				return err
			}
			first, err := gifSubBlock(r)
			if err != nil {
				return err
			}
			// Comments go, and application extensions other than the
			// loop count (NETSCAPE2.0, ANIMEXTS1.0) and the ICC profile:
			// XMP travels as "XMP DataXMP".
			keep := label != 0xfe
			if label == 0xff {
				id := string(first)
				keep = id == "NETSCAPE2.0" || id == "ANIMEXTS1.0" || id == "ICCRGBG1012"
			}
			out := w
			if !keep {
				out = bufio.NewWriter(io.Discard)
			}
			out.Write([]byte{0x21, label, byte(len(first))})
			out.Write(first)
			if len(first) > 0 {
				if err := gifSubBlocks(r, out); err != nil {
					return err
				}
			}
		default:
			return malformed("GIF", "an unknown block")
		}
	}
}

// gifSubBlock reads one data sub-block (a length byte and that many
// bytes); an empty one ends a run.
func gifSubBlock(r *bufio.Reader) ([]byte, error) {
	n, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// gifSubBlocks copies sub-blocks up to and including the terminator.
func gifSubBlocks(r *bufio.Reader, w *bufio.Writer) error {
	for {
		b, err := gifSubBlock(r)
		if err != nil {
			return err
		}
		w.WriteByte(byte(len(b)))
		w.Write(b)
		if len(b) == 0 {
			return nil
		}
	}
}
