package service

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// AVIF keeps EXIF and XMP as items of its 'meta' box: an 'infe' entry
// names the item's type ('Exif', or 'mime' with content type
// application/rdf+xml for XMP) and 'iloc' says where its bytes are.
// Removing the items would mean rewriting every offset in the file, so
// their bytes are overwritten with zeros instead, in the stream: the file
// keeps its size and structure, the picture is untouched, and the
// location, serial number and the rest are gone. The items' entries
// remain, pointing at zeros, which readers skip as unreadable metadata.

// byteRange is a range of a file: [off, off+n).
type byteRange struct{ off, n uint64 }

func stripAVIF(r *bufio.Reader, w *bufio.Writer, meta *imageMeta) error {
	head, err := r.Peek(avifHeadLimit)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err
	}
	ranges := avifMetadataRanges(head)
	var pos uint64
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		for _, rg := range ranges {
			lo, hi := max(rg.off, pos), min(rg.off+rg.n, pos+uint64(n))
			if lo < hi {
				clear(chunk[lo-pos : hi-pos])
			}
		}
		if _, werr := w.Write(chunk); werr != nil {
			return werr
		}
		pos += uint64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// isoBox is a box found in a file, with its body's absolute offset.
type isoBox struct {
	typ  string
	at   uint64 // offset of the body in the file
	body []byte
}

// isoBoxes lists the boxes in b, which starts at offset base of the file.
func isoBoxes(b []byte, base uint64) []isoBox {
	var out []isoBox
	for len(b) >= 8 {
		size, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		typ := string(b[4:8])
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return out
			}
			size, hdr = binary.BigEndian.Uint64(b[8:16]), 16
		}
		if size < hdr {
			return out
		}
		end := min(size, uint64(len(b)))
		out = append(out, isoBox{typ: typ, at: base + hdr, body: b[hdr:end]})
		if size > uint64(len(b)) {
			return out
		}
		b, base = b[size:], base+size
	}
	return out
}

// avifMetadataRanges finds the bytes of the EXIF and XMP items declared
// in the file's first bytes.
func avifMetadataRanges(head []byte) []byteRange {
	var metaBox *isoBox
	for _, b := range isoBoxes(head, 0) {
		if b.typ == "meta" && len(b.body) >= 4 {
			metaBox = &isoBox{typ: b.typ, at: b.at + 4, body: b.body[4:]}
			break
		}
	}
	if metaBox == nil {
		return nil
	}
	items := map[uint32]bool{} // metadata item ids
	var iloc []byte
	var idatAt uint64
	for _, b := range isoBoxes(metaBox.body, metaBox.at) {
		switch b.typ {
		case "iinf":
			avifMetadataItems(b.body, items)
		case "iloc":
			iloc = b.body
		case "idat":
			idatAt = b.at
		}
	}
	if len(items) == 0 || iloc == nil {
		return nil
	}
	return ilocRanges(iloc, items, idatAt)
}

// avifMetadataItems adds the ids of EXIF and XMP items listed by iinf.
func avifMetadataItems(iinf []byte, items map[uint32]bool) {
	if len(iinf) < 6 {
		return
	}
	skip := 6 // version, flags, 16-bit count
	if iinf[0] != 0 {
		skip = 8
	}
	for _, e := range isoBoxes(iinf[min(skip, len(iinf)):], 0) {
		b := e.body
		if e.typ != "infe" || len(b) < 4 || b[0] < 2 {
			continue
		}
		v := b[0]
		b = b[4:]
		var id uint32
		if v == 2 && len(b) >= 2 {
			id, b = uint32(binary.BigEndian.Uint16(b)), b[2:]
		} else if v >= 3 && len(b) >= 4 {
			id, b = binary.BigEndian.Uint32(b), b[4:]
		} else {
			continue
		}
		if len(b) < 6 {
			continue
		}
		itemType := string(b[2:6])
		rest := b[6:]
		switch itemType {
		case "Exif":
			items[id] = true
		case "mime":
			// item_name, then content_type, each NUL-terminated
			if i := bytes.IndexByte(rest, 0); i >= 0 && bytes.HasPrefix(rest[i+1:], []byte("application/rdf+xml")) {
				items[id] = true
			}
		}
	}
}

// ilocRanges reads the extents of the wanted items from an iloc body.
func ilocRanges(b []byte, want map[uint32]bool, idatAt uint64) []byteRange {
	if len(b) < 8 {
		return nil
	}
	v := b[0]
	offSize, lenSize := int(b[4]>>4), int(b[4]&15)
	baseSize, idxSize := int(b[5]>>4), int(b[5]&15)
	if v == 0 {
		idxSize = 0
	}
	p := 6
	read := func(n int) (uint64, bool) {
		if n == 0 {
			return 0, true
		}
		if p+n > len(b) || n > 8 {
			return 0, false
		}
		var x uint64
		for _, c := range b[p : p+n] {
			x = x<<8 | uint64(c)
		}
		p += n
		return x, true
	}
	countSize := 2
	if v == 2 {
		countSize = 4
	}
	count, ok := read(countSize)
	var out []byteRange
	for i := uint64(0); ok && i < count; i++ {
		id, ok1 := read(countSize)
		method := uint64(0)
		ok2 := true
		if v == 1 || v == 2 {
			method, ok2 = read(2)
			method &= 15
		}
		_, ok3 := read(2) // data reference index
		base, ok4 := read(baseSize)
		extents, ok5 := read(2)
		if !(ok1 && ok2 && ok3 && ok4 && ok5) {
			return out
		}
		for j := uint64(0); j < extents; j++ {
			_, okA := read(idxSize)
			off, okB := read(offSize)
			n, okC := read(lenSize)
			if !(okA && okB && okC) {
				return out
			}
			if !want[uint32(id)] || n == 0 || base+off+n < base+off { // 0: "to the end of the file", never metadata
				continue
			}
			switch method {
			case 0:
				out = append(out, byteRange{base + off, n})
			case 1:
				out = append(out, byteRange{idatAt + base + off, n})
			}
		}
	}
	return out
}
