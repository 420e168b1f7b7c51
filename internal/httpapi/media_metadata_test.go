package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/gif"
	"image/png"
	"testing"

	_ "golang.org/x/image/webp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/testdb"
)

func noMarkers(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, m := range metadataMarkers {
		if bytes.Contains(b, m) {
			t.Errorf("%s still holds %q", what, m)
		}
	}
}

// Images lose EXIF (GPS position, camera serial), XMP, IPTC, comments,
// text chunks and trailing data on upload; the pixels are untouched, the
// record's size and checksum are those of the stored bytes, and the same
// picture without metadata is the same media (dedup).
func TestMediaMetadataStripped(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		clean := map[string][]byte{"jpeg": jpegOf(40, 30, 7), "png": pngOf(24, 16, 7), "gif": gifOf(12, 8), "animated gif": animatedGIF()}
		for _, c := range []struct {
			name, filename string
			data, clean    []byte
		}{
			{"jpeg", "photo.jpg", withJPEGMetadata(clean["jpeg"], 1), clean["jpeg"]},
			{"png", "chart.png", withPNGMetadata(clean["png"], 1), clean["png"]},
			{"gif", "anim.gif", withGIFMetadata(clean["gif"]), clean["gif"]},
			{"animated gif", "loop.gif", withGIFMetadata(clean["animated gif"]), clean["animated gif"]},
			{"webp", "pixel.webp", withWebPMetadata(1), riff(vp8x(0), webpVP8L)},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				m := e.mustUpload(tok, c.filename, c.data)
				served := e.do("GET", m.URL, "", nil).want(t, 200).Body
				noMarkers(t, "the served file", served)
				if c.name == "animated gif" { // it still loops, with both frames
					g, err := gif.DecodeAll(bytes.NewReader(served))
					if err != nil || len(g.Image) != 2 || g.LoopCount != 0 || !bytes.Contains(served, []byte("NETSCAPE2.0")) {
						t.Fatalf("animation: %v", err)
					}
				}
				if _, _, err := image.Decode(bytes.NewReader(served)); err != nil {
					t.Fatalf("the stripped file does not decode: %v", err)
				}
				// These clean files came from Go's encoders, which write no
				// metadata (and the WebP is built by hand): stripping gives
				// exactly them back.
				if !bytes.Equal(served, c.clean) {
					t.Fatalf("served %d bytes, want the %d bytes of the image without its metadata", len(served), len(c.clean))
				}
				sum := sha256.Sum256(served)
				if m.SizeBytes != int64(len(served)) || m.Checksum != hex.EncodeToString(sum[:]) {
					t.Fatalf("record says %d bytes, %s; stored %d bytes", m.SizeBytes, m.Checksum, len(served))
				}
				var again quire.Media
				e.upload(tok, "again", c.clean).want(t, 200).json(t, &again)
				if again.ID != m.ID {
					t.Fatalf("the same picture without metadata is new media %s, want %s", again.ID, m.ID)
				}
			})
		}
	})
}

// A JPEG or PNG whose EXIF says "rotate" is turned on upload, since the
// EXIF block that said so is gone: it looks the same, its record has the
// turned size, and no metadata is left.
func TestMediaOrientationApplied(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		for _, c := range []struct {
			name string
			data []byte
		}{
			{"jpeg", withJPEGMetadata(halvesJPEG(40, 20), 6)},
			{"png", withPNGMetadata(pngHalves(40, 20), 6)},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				m := e.mustUpload(tok, "turned", c.data)
				if m.Width == nil || *m.Width != 20 || *m.Height != 40 {
					t.Fatalf("dimensions %v×%v, want 20×40", m.Width, m.Height)
				}
				served := e.do("GET", m.URL, "", nil).want(t, 200).Body
				noMarkers(t, "the served file", served)
				img, _, err := image.Decode(bytes.NewReader(served))
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
					t.Fatalf("served image is %v", b)
				}
				// Orientation 6 shows the stored left (red) half at the top.
				if !reddish(img.At(10, 5)) || reddish(img.At(10, 35)) {
					t.Fatalf("top %v, bottom %v: not turned clockwise", img.At(10, 5), img.At(10, 35))
				}
				sum := sha256.Sum256(served)
				if m.SizeBytes != int64(len(served)) || m.Checksum != hex.EncodeToString(sum[:]) {
					t.Fatal("record does not describe the stored bytes")
				}
				e.do("GET", m.URL+"?w=64", "", nil).want(t, 200) // variants are made from the turned picture
			})
		}
	})
}

func reddish(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, _, b, _ := c.RGBA()
	return r > 2*b
}

func pngHalves(w, h int) []byte {
	j, _, _ := image.Decode(bytes.NewReader(halvesJPEG(w, h)))
	var buf bytes.Buffer
	_ = png.Encode(&buf, j)
	return buf.Bytes()
}

// With QUIRE_MEDIA_KEEP_METADATA the upload is stored as it came.
func TestMediaKeepMetadata(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, func(c *config.Config) { c.MediaKeepMetadata = true })
		tok := e.admin().AccessToken
		for _, data := range [][]byte{withJPEGMetadata(jpegOf(20, 20, 3), 6), withPNGMetadata(pngOf(8, 8, 3), 1), withGIFMetadata(gifOf(4, 4)), withWebPMetadata(6)} {
			m := e.mustUpload(tok, "kept", data)
			if served := e.do("GET", m.URL, "", nil).want(t, 200).Body; !bytes.Equal(served, data) {
				t.Fatal("the upload was changed although metadata is kept")
			}
		}
	})
}

// An image whose structure the cleaner cannot follow is refused, naming
// the field, and nothing is left in storage.
func TestMediaMetadataMalformedRefused(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		badGIF := append(gifOf(4, 4)[:19], 0x99, 1, 2, 3)                      // an unknown block
		badWebP := riff(vp8x(0), webpVP8L, []byte("EXIF\xff\xff\x00\x00tiny")) // a chunk larger than the file
		for name, data := range map[string][]byte{"bad.gif": badGIF, "bad.webp": badWebP} {
			wantProblem(t, e.upload(tok, name, data), 422, "file")
		}
		if n := e.mediaRows(); n != 0 || len(e.storedKeys()) != 0 {
			t.Fatalf("%d records, keys %v left behind", n, e.storedKeys())
		}
	})
}

// A WebP cannot be turned (Go has no WebP encoder): its EXIF is replaced
// by one holding only the orientation, so it still shows upright.
func TestMediaWebPKeepsOnlyOrientation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		m := e.mustUpload(e.admin().AccessToken, "p.webp", withWebPMetadata(6))
		served := e.do("GET", m.URL, "", nil).want(t, 200).Body
		noMarkers(t, "the served file", served)
		onlyOrientation := []byte("EXIF\x1a\x00\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00")
		if !bytes.Contains(served, onlyOrientation) || served[20]&0x08 == 0 || served[20]&0x04 != 0 {
			t.Fatalf("served %q", served)
		}
		if _, _, err := image.Decode(bytes.NewReader(served)); err != nil {
			t.Fatal(err)
		}
	})
}

// AVIF's EXIF and XMP items are overwritten with zeros in place: the file
// keeps its size and structure, the image data is untouched.
func TestMediaAVIFMetadataZeroed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		data, at, n := avifWithMetadata(1200, 800, 6)
		m := e.mustUpload(e.admin().AccessToken, "photo.avif", data)
		served := e.do("GET", m.URL, "", nil).want(t, 200).Body
		for _, mk := range metadataMarkers[:len(metadataMarkers)-1] { // "Exif\0\0" also begins the item's entry
			if bytes.Contains(served, mk) {
				t.Errorf("the served file still holds %q", mk)
			}
		}
		want := bytes.Clone(data)
		clear(want[at : at+n])
		if !bytes.Equal(served, want) {
			t.Fatalf("served %d bytes; want the upload with only its metadata items zeroed", len(served))
		}
		if *m.Width != 1200 || *m.Height != 800 {
			t.Fatalf("dimensions %d×%d", *m.Width, *m.Height)
		}
	})
}
