package service

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"
)

func sampleImages(t *testing.T) map[string][]byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var j, p, g bytes.Buffer
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	pal := image.NewPaletted(img.Bounds(), color.Palette{color.Black, color.White})
	if err := gif.Encode(&g, pal, nil); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"image/jpeg": j.Bytes(), "image/png": p.Bytes(), "image/gif": g.Bytes(),
		"image/avif": []byte("\x00\x00\x00\x14ftypavif\x00\x00\x00\x00avif\x00\x00\x00\x10meta\x00\x00\x00\x00\x00\x00\x00\x08iinf")}
}

func runStrip(strip stripFunc, in []byte) (out []byte, err error) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	err = strip(bufio.NewReaderSize(bytes.NewReader(in), 64<<10), w, &imageMeta{})
	w.Flush()
	return buf.Bytes(), err
}

// A clean image (Go's encoders write no metadata) passes unchanged.
func TestStripKeepsCleanImages(t *testing.T) {
	for typ, data := range sampleImages(t) {
		out, err := runStrip(stripperFor(typ), data)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Fatalf("%s: %v", typ, err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("%s: changed a clean image (%d → %d bytes)", typ, len(data), len(out))
		}
	}
}

// Damaged files make the strippers refuse or stop, never panic or loop,
// and never write more than they read.
func TestStripSurvivesDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for typ, data := range sampleImages(t) {
		strip := stripperFor(typ)
		for range 3000 {
			in := bytes.Clone(data)
			for range 1 + rng.IntN(6) {
				in[rng.IntN(len(in))] = byte(rng.IntN(256))
			}
			if rng.IntN(4) == 0 {
				in = in[:rng.IntN(len(in))]
			}
			out, _ := runStrip(strip, in)
			if len(out) > len(in) {
				t.Fatalf("%s: wrote %d bytes from %d", typ, len(out), len(in))
			}
		}
	}
}

func TestExifOrientation(t *testing.T) {
	for o := 1; o <= 8; o++ {
		if got := exifOrientation(orientationEXIF(o)); got != o {
			t.Errorf("orientation %d read back as %d", o, got)
		}
	}
	for _, bad := range [][]byte{nil, []byte("II*\x00"), []byte("MM\x00*\xff\xff\xff\xff"), []byte("XX*\x00\x08\x00\x00\x00")} {
		if got := exifOrientation(bad); got != 0 {
			t.Errorf("exifOrientation(%q) = %d", bad, got)
		}
	}
}

// The AVIF and WebP walkers take any bytes without panicking.
func TestContainerWalkersSurviveNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[uint32]bool{}
	for i := range uint32(16) {
		want[i] = true
	}
	for range 20000 {
		b := make([]byte, rng.IntN(120))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(3) == 0 {
				b[i] = byte(rng.IntN(3))
			}
		}
		_ = ilocRanges(b, want, uint64(rng.IntN(1000)))
		items := map[uint32]bool{}
		avifMetadataItems(b, items)
		_ = avifMetadataRanges(append([]byte("\x00\x00\x00\x50meta"), b...))
		_, _, _ = walkWebP(bufio.NewReader(bytes.NewReader(append([]byte("RIFF\x40\x00\x00\x00WEBP"), b...))),
			func(string, uint32, io.Reader) error { return nil })
	}
}
