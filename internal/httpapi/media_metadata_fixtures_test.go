package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
)

// Crafted metadata, as cameras and editors write it, with markers the
// tests look for in the served bytes.
const (
	cameraSerial = "SN-7731-QUIRE-SERIAL"
	cameraMake   = "QuireCam Mark IV"
	xmpSecret    = "XMP-GPS-51.4769N-0.0005W"
	iptcSecret   = "IPTC-CITY-GREENWICH"
	commentText  = "COMMENT-SECRET-HOME-ADDRESS"
	trailingText = "TRAILING-DATA-AFTER-THE-IMAGE"
)

// gpsLatitude is 51° 28′ 38.61″ as three big-endian RATIONALs.
var gpsLatitude = []byte{0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 1, 0, 0, 0x0f, 0x15, 0, 0, 0, 0x64}

// metadataMarkers must not appear in a stripped file.
var metadataMarkers = [][]byte{[]byte(cameraSerial), []byte(cameraMake), gpsLatitude, []byte(xmpSecret),
	[]byte(iptcSecret), []byte(commentText), []byte(trailingText), []byte("Exif\x00\x00")}

type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte // inline when 4 bytes or fewer
}

func ifdSize(es []tiffEntry) int {
	n := 2 + 12*len(es) + 4
	for _, e := range es {
		if len(e.data) > 4 {
			n += len(e.data) + len(e.data)%2
		}
	}
	return n
}

// ifdBytes lays out a big-endian IFD at offset base, its long values after it.
func ifdBytes(base int, es []tiffEntry) []byte {
	be := binary.BigEndian
	out := be.AppendUint16(nil, uint16(len(es)))
	var ext []byte
	extAt := base + 2 + 12*len(es) + 4
	for _, e := range es {
		out = be.AppendUint16(out, e.tag)
		out = be.AppendUint16(out, e.typ)
		out = be.AppendUint32(out, e.count)
		if len(e.data) <= 4 {
			v := make([]byte, 4)
			copy(v, e.data)
			out = append(out, v...)
			continue
		}
		out = be.AppendUint32(out, uint32(extAt+len(ext)))
		ext = append(ext, e.data...)
		if len(e.data)%2 == 1 {
			ext = append(ext, 0)
		}
	}
	out = be.AppendUint32(out, 0) // no next IFD
	return append(out, ext...)
}

func ascii(s string) tiffEntry {
	return tiffEntry{typ: 2, count: uint32(len(s) + 1), data: append([]byte(s), 0)}
}

func u32be(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// exifTIFF is an EXIF block (TIFF structure) with the camera's make, an
// orientation, a serial number in the Exif IFD and a GPS position.
func exifTIFF(orientation int) []byte {
	mk := ascii(cameraMake)
	mk.tag = 0x010f
	ifd0 := []tiffEntry{mk, {tag: 0x0112, typ: 3, count: 1, data: []byte{0, byte(orientation)}},
		{tag: 0x8769, typ: 4, count: 1}, {tag: 0x8825, typ: 4, count: 1}}
	serial := ascii(cameraSerial)
	serial.tag = 0xa431 // BodySerialNumber
	exifIFD := []tiffEntry{serial}
	gpsIFD := []tiffEntry{{tag: 0x0001, typ: 2, count: 2, data: []byte("N\x00")}, {tag: 0x0002, typ: 5, count: 3, data: gpsLatitude}}
	exifAt := 8 + ifdSize(ifd0)
	gpsAt := exifAt + ifdSize(exifIFD)
	ifd0[2].data, ifd0[3].data = u32be(exifAt), u32be(gpsAt)
	out := append([]byte("MM\x00*"), u32be(8)...)
	out = append(out, ifdBytes(8, ifd0)...)
	out = append(out, ifdBytes(exifAt, exifIFD)...)
	return append(out, ifdBytes(gpsAt, gpsIFD)...)
}

func jpegSegment(marker byte, body []byte) []byte {
	return append([]byte{0xff, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
}

// withJPEGMetadata puts EXIF, XMP, IPTC and a comment after the start of
// image, and data after its end, as cameras and editors do.
func withJPEGMetadata(j []byte, orientation int) []byte {
	segs := [][]byte{
		j[:2],
		jpegSegment(0xe1, append([]byte("Exif\x00\x00"), exifTIFF(orientation)...)),
		jpegSegment(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:Description exif:GPSLatitude=\""+xmpSecret+"\"/></x:xmpmeta>")),
		jpegSegment(0xed, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x17\x1c\x02\x5a\x00\x13"+iptcSecret)),
		jpegSegment(0xfe, []byte(commentText)),
		j[2:],
		[]byte(trailingText),
	}
	return bytes.Join(segs, nil)
}

// halvesJPEG is w×h, red on the left half and blue on the right.
func halvesJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{R: 230, G: 20, B: 20, A: 255}
			if x >= w/2 {
				c = color.RGBA{R: 20, G: 20, B: 230, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	return buf.Bytes()
}

func pngChunk(typ string, data []byte) []byte {
	body := append([]byte(typ), data...)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, body...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
}

// withPNGMetadata inserts text, XMP, EXIF and time chunks after the
// header, and data after the end.
func withPNGMetadata(p []byte, orientation int) []byte {
	return bytes.Join([][]byte{
		p[:33],
		pngChunk("tEXt", []byte("Comment\x00"+commentText)),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta><rdf:Description exif:GPSLatitude=\""+xmpSecret+"\"/></x:xmpmeta>")),
		pngChunk("zTXt", []byte("Raw profile type iptc\x00\x00"+iptcSecret)), // not really compressed: dropped unread
		pngChunk("eXIf", exifTIFF(orientation)),
		pngChunk("tIME", []byte{0x07, 0xea, 11, 30, 1, 2, 3}),
		p[33:],
		[]byte(trailingText),
	}, nil)
}

// withGIFMetadata inserts a comment and an XMP application extension
// before the first image, and data after the trailer.
func withGIFMetadata(g []byte) []byte {
	at := 13
	if g[10]&0x80 != 0 {
		at += 3 << (g[10]&7 + 1)
	}
	comment := append([]byte{0x21, 0xfe, byte(len(commentText))}, commentText...)
	comment = append(comment, 0)
	xmp := append([]byte{0x21, 0xff, 11}, "XMP DataXMP"...)
	xmp = append(xmp, byte(len(xmpSecret)))
	xmp = append(xmp, xmpSecret...)
	xmp = append(xmp, 0)
	return bytes.Join([][]byte{g[:at], comment, xmp, g[at:], []byte(trailingText)}, nil)
}

// animatedGIF has two frames and loops forever (a NETSCAPE2.0 extension).
func animatedGIF() []byte {
	pal := color.Palette{color.Black, color.White}
	f1, f2 := image.NewPaletted(image.Rect(0, 0, 6, 4), pal), image.NewPaletted(image.Rect(0, 0, 6, 4), pal)
	f2.SetColorIndex(1, 1, 1)
	var buf bytes.Buffer
	_ = gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}, LoopCount: 0})
	return buf.Bytes()
}

func riffChunk(fourcc string, data []byte) []byte {
	out := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	out = append(out, data...)
	if len(data)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

func riff(chunks ...[]byte) []byte {
	body := append([]byte("WEBP"), bytes.Join(chunks, nil)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// webpVP8L is the image data chunk of webp1x1.
var webpVP8L = webp1x1[12:]

// vp8x is the extended-format header chunk of a 1×1 canvas with flags.
func vp8x(flags byte) []byte { return riffChunk("VP8X", []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0}) }

// withWebPMetadata is webp1x1 in the extended format with EXIF and XMP
// chunks after the image, and data after the RIFF end.
func withWebPMetadata(orientation int) []byte {
	f := riff(vp8x(0x08|0x04), webpVP8L,
		riffChunk("EXIF", append([]byte("Exif\x00\x00"), exifTIFF(orientation)...)),
		riffChunk("XMP ", []byte("<x:xmpmeta><rdf:Description exif:GPSLatitude=\""+xmpSecret+"\"/></x:xmpmeta>")))
	return append(f, trailingText...)
}

func u16(n uint16) []byte { return binary.BigEndian.AppendUint16(nil, n) }

// avifWithMetadata is avifOf(w, h) with an EXIF item and an XMP item
// whose bytes are in mdat, located by iloc, as encoders write them. It
// returns the file and the range [at, at+n) the metadata occupies.
func avifWithMetadata(w, h uint32, orientation int) (file []byte, at, n int) {
	ftyp := box("ftyp", []byte("avif"), u32(0), []byte("avifmif1miaf"))
	exif := append(u32(6), append([]byte("Exif\x00\x00"), exifTIFF(orientation)...)...) // exif_tiff_header_offset, then EXIF
	xmp := []byte("<x:xmpmeta><rdf:Description exif:GPSLatitude=\"" + xmpSecret + "\"/></x:xmpmeta>")
	pixels := bytes.Repeat([]byte{7}, 64)
	infe := func(id uint16, typ string, extra []byte) []byte {
		return box("infe", []byte{2, 0, 0, 0}, u16(id), u16(0), []byte(typ), extra)
	}
	iinf := box("iinf", u32(0), u16(3), infe(1, "av01", []byte{0}), infe(2, "Exif", []byte{0}),
		infe(3, "mime", []byte("XMP\x00application/rdf+xml\x00")))
	meta := func(mdatAt uint32) []byte {
		iloc := box("iloc", u32(0), []byte{0x44, 0x00}, u16(3),
			u16(1), u16(0), u16(1), u32(mdatAt+uint32(len(exif)+len(xmp))), u32(uint32(len(pixels))),
			u16(2), u16(0), u16(1), u32(mdatAt), u32(uint32(len(exif))),
			u16(3), u16(0), u16(1), u32(mdatAt+uint32(len(exif))), u32(uint32(len(xmp))))
		ispe := box("ispe", u32(0), u32(w), u32(h))
		return box("meta", u32(0), box("hdlr", u32(0), u32(0), []byte("pict"), make([]byte, 13)), iinf, iloc, box("iprp", box("ipco", ispe)))
	}
	mdatAt := len(ftyp) + len(meta(0)) + 8
	file = bytes.Join([][]byte{ftyp, meta(uint32(mdatAt)), box("mdat", exif, xmp, pixels)}, nil)
	return file, mdatAt, len(exif) + len(xmp)
}
