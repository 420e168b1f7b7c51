package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/s3test"
	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
	"github.com/quirecms/quire/internal/testdb"
)

// Media tests run on every storage backend and every database: local
// directory and a real S3-compatible server (versitygw on loopback), on
// SQLite and PostgreSQL.
func eachStorage(t *testing.T, tweak func(*config.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("local", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, dsn string) { fn(t, newEnv(t, dsn, tweak)) })
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		testdb.Each(t, func(t *testing.T, dsn string) {
			bucket := srv.Bucket(t)
			fn(t, newEnv(t, dsn, func(c *config.Config) {
				if tweak != nil {
					tweak(c)
				}
				useS3(c, srv, bucket)
			}))
		})
	})
}

func useS3(c *config.Config, srv *s3test.Server, bucket string) {
	c.S3Endpoint, c.S3Bucket, c.S3Region = srv.Endpoint, bucket, srv.Region
	c.S3AccessKey, c.S3SecretKey, c.S3PathStyle = srv.AccessKey, srv.SecretKey, true
}

// filePart is one part of a multipart upload body.
type filePart struct {
	name     string
	filename string // "" for a plain field
	data     []byte
	header   textproto.MIMEHeader // replaces the generated headers when set
}

// multipartBody builds an upload body and its Content-Type.
func multipartBody(t *testing.T, parts ...filePart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := p.header
		if h == nil {
			h = textproto.MIMEHeader{}
			cd := fmt.Sprintf(`form-data; name=%q`, p.name)
			if p.filename != "" {
				cd += fmt.Sprintf(`; filename=%q`, p.filename)
				h.Set("Content-Type", "application/octet-stream")
			}
			h.Set("Content-Disposition", cd)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload posts a file with optional alt and title.
func (e *env) upload(token, filename string, data []byte, fields ...string) *resp {
	e.t.Helper()
	parts := []filePart{{name: "file", filename: filename, data: data}}
	for i := 0; i+1 < len(fields); i += 2 {
		parts = append(parts, filePart{name: fields[i], data: []byte(fields[i+1])})
	}
	body, ct := multipartBody(e.t, parts...)
	return e.do("POST", "/api/v1/media", token, body, "Content-Type", ct)
}

// mustUpload uploads and returns the new media.
func (e *env) mustUpload(token, filename string, data []byte, fields ...string) quire.Media {
	e.t.Helper()
	var m quire.Media
	e.upload(token, filename, data, fields...).want(e.t, 201).json(e.t, &m)
	return m
}

// storedKeys lists every object in the instance's media storage.
func (e *env) storedKeys() []string {
	e.t.Helper()
	var out []string
	if err := e.srv.Media.Storage().List(context.Background(), "media/", func(i storage.Info) error {
		out = append(out, i.Key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// mediaRows counts media records, deleted ones included.
func (e *env) mediaRows() int {
	e.t.Helper()
	n := 0
	for _, deleted := range []bool{false, true} {
		list, _, err := e.srv.DB.Reader().MediaList(context.Background(), store.MediaFilter{Deleted: deleted, Limit: 10000})
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(list)
	}
	return n
}

// mediaAudit returns the media.* actions of the audit log, oldest first.
func (e *env) mediaAudit() []string {
	var out []string
	for _, a := range e.auditActions() {
		if strings.HasPrefix(a, "media.") {
			out = append(out, a)
		}
	}
	return out
}

// --- files of every allowed type, made here so that nothing binary is committed ---

// pngOf is a w×h PNG whose pixels depend on seed, so that different seeds
// give different bytes.
func pngOf(w, h int, seed byte) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: byte(x) + seed, G: byte(y) * 3, B: seed, A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// noisyPNG is a PNG of random pixels: it does not compress.
func noisyPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	_, _ = rand.Read(img.Pix)
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func jpegOf(w, h int, seed byte) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: byte(x*2) + seed, G: byte(y), B: 100, A: 255})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	return buf.Bytes()
}

func gifOf(w, h int) []byte {
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	for x := 0; x < w; x++ {
		img.SetColorIndex(x, x%h, 1)
	}
	var buf bytes.Buffer
	_ = gif.Encode(&buf, img, nil)
	return buf.Bytes()
}

// webp1x1 is a lossless 1×1 WebP.
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func box(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, typ...), b...)
}

func u32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// avifOf is the start of an AVIF file: ftyp, and meta declaring a w×h
// image ('ispe'), then a little media data.
func avifOf(w, h uint32) []byte {
	ftyp := box("ftyp", []byte("avif"), u32(0), []byte("avifmif1miaf"))
	ispe := box("ispe", u32(0), u32(w), u32(h))
	meta := box("meta", u32(0), box("hdlr", u32(0), u32(0), []byte("pict"), make([]byte, 13)), box("iprp", box("ipco", ispe)))
	return bytes.Join([][]byte{ftyp, meta, box("mdat", bytes.Repeat([]byte{7}, 64))}, nil)
}

const svgOK = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" viewBox="0 0 10 10">
  <style>rect { fill: #c00; }</style>
  <rect width="10" height="10"/><a xlink:href="https://example.com/"><circle r="2"/></a>
</svg>`

var pdfOK = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func mp4Of() []byte {
	return append(box("ftyp", []byte("isom"), u32(512), []byte("isomiso2avc1mp41")), box("mdat", bytes.Repeat([]byte{1}, 128))...)
}

// webmOf is an EBML header with DocType "webm" and an empty segment.
func webmOf() []byte {
	docType := append([]byte{0x42, 0x82, 0x84}, "webm"...)
	header := append([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x80 | byte(len(docType))}, docType...)
	return append(header, 0x18, 0x53, 0x80, 0x67, 0x80)
}

// mp3Of is an ID3v2 tag followed by MPEG audio frame headers.
func mp3Of() []byte {
	tag := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0a"), make([]byte, 10)...) // 10 bytes of padding
	return append(tag, bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x00}, 64)...)
}

// withPNGSize rewrites the size a PNG declares (and its header's CRC):
// the pixels stay one, the canvas is whatever the header says.
func withPNGSize(p []byte, w, h uint32) []byte {
	out := bytes.Clone(p)
	binary.BigEndian.PutUint32(out[16:], w)
	binary.BigEndian.PutUint32(out[20:], h)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

// withPNGText inserts a tEXt chunk after the header.
func withPNGText(p []byte, text string) []byte {
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)))
	body := append([]byte("tEXt"), text...)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	return bytes.Join([][]byte{p[:33], chunk, p[33:]}, nil)
}
