package service

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/quirecms/quire"
)

func scan(chunks ...string) error {
	var p polyglotScanner
	for _, c := range chunks {
		if _, err := p.Write([]byte(c)); err != nil {
			return err
		}
	}
	return p.Finish()
}

// Markers are found wherever the stream is cut.
func TestPolyglotScannerAcrossWrites(t *testing.T) {
	refused := [][]string{
		{"\x89PNG....<script>"},
		{"\x89PNG....<scr", "ipt>"},
		{"\x89PNG....<", "!DOCTYPE HTML>"},
		{"....<HTML", ">"},
		{"....<html", "\n<body>"},
		{"....<bo", "dy onload=x>"},
		{"<iframe src=x>"},
	}
	for _, chunks := range refused {
		if err := scan(chunks...); quire.ErrorCode(err) != quire.EINVALID {
			t.Errorf("%q: %v, want a refusal", chunks, err)
		}
	}
	accepted := [][]string{
		{"\x89PNG <htmlx <bodyguard <scrip t> <svg>"},
		{"....<html"}, // at the very end: nothing a browser would act on
		{"a < b and c <= d"},
	}
	for _, chunks := range accepted {
		if err := scan(chunks...); err != nil {
			t.Errorf("%q refused: %v", chunks, err)
		}
	}
	// Random bytes (what compressed image data looks like) pass.
	noise := make([]byte, 4<<20)
	_, _ = rand.Read(noise)
	if err := scan(string(noise)); err != nil {
		t.Errorf("random bytes refused: %v", err)
	}
}

func TestCheckSVG(t *testing.T) {
	wrap := func(s string) string {
		return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">` + s + `</svg>`
	}
	ok := []string{
		wrap(`<rect width="1" height="1" fill="url(#g)"/><linearGradient id="g"/>`),
		wrap(`<image href="data:image/png;base64,iVBORw0KGgo="/>`),
		wrap(`<a href="https://example.com/page"><text>link</text></a>`),
		wrap(`<style>.a { fill: red }</style><text>javascript is a language</text>`),
	}
	for _, s := range ok {
		if err := checkSVG(strings.NewReader(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	bad := []string{
		wrap(`<SCRIPT>alert(1)</SCRIPT>`),
		`<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:script>alert(1)</svg:script></svg:svg>`,
		wrap(`<g ONCLICK="alert(1)"/>`),
		wrap(`<a xlink:href="&#x6A;avascript:alert(1)">x</a>`),
		wrap(`<a href="jav&#x09;ascript:alert(1)">x</a>`),
		wrap(`<use href="data:image/svg+xml;base64,PHN2Zz4="/>`),
		wrap(`<rect style="background: expression(alert(1))"/>`),
		wrap(`<style>@import url(https://evil.example/x.css);</style>`),
		wrap(`<animate attributeName="onbegin" to="alert(1)"/>`),
		wrap(`<iframe src="https://example.com"/>`),
		`<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
		`<?xml-stylesheet href="x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
		wrap(strings.Repeat("<g>", 300) + strings.Repeat("</g>", 300)),
		wrap(`<rect>`), // not well-formed
		`<html xmlns="http://www.w3.org/1999/xhtml"/>`,
	}
	for _, s := range bad {
		if err := checkSVG(strings.NewReader(s)); quire.ErrorCode(err) != quire.EINVALID {
			t.Errorf("%.80s: %v, want a refusal", s, err)
		}
	}
}

func TestAVIFDimensions(t *testing.T) {
	box := func(typ string, body ...byte) []byte {
		n := 8 + len(body)
		return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), typ[0], typ[1], typ[2], typ[3]}, body...)
	}
	ispe := func(w, h int) []byte {
		return box("ispe", 0, 0, 0, 0, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h))
	}
	ipco := box("ipco", append(ispe(64, 48), ispe(4000, 3000)...)...) // a thumbnail and the image
	meta := box("meta", append([]byte{0, 0, 0, 0}, box("iprp", ipco...)...)...)
	file := append(box("ftyp", []byte("avifmif1")...), meta...)
	var d dimensions
	a := &avifInspector{maxPixels: 50_000_000, out: &d}
	_, _ = a.Write(file[:10])
	_, _ = a.Write(file[10:])
	if err := a.Finish(); err != nil || d.w != 4000 || d.h != 3000 {
		t.Fatalf("dimensions %d×%d, %v", d.w, d.h, err)
	}
	a = &avifInspector{maxPixels: 1_000_000, out: &d}
	_, _ = a.Write(file)
	if err := a.Finish(); quire.ErrorCode(err) != quire.EINVALID {
		t.Fatalf("over budget: %v", err)
	}
	a = &avifInspector{maxPixels: 1_000_000, out: &d}
	_, _ = a.Write(box("ftyp", []byte("avif")...))
	if err := a.Finish(); quire.ErrorCode(err) != quire.EINVALID {
		t.Fatalf("no ispe: %v", err)
	}
	// Box sizes that lie do not crash the walk.
	walkBoxes([]byte{0, 0, 0, 1, 'm', 'e', 't', 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0, func(string, []byte) {})
	walkBoxes([]byte{0, 0, 0, 3, 'm', 'e', 't', 'a'}, 0, func(string, []byte) {})
	walkBoxes([]byte{0xff, 0xff, 0xff, 0xff, 'm', 'e', 't', 'a', 1, 2}, 0, func(string, []byte) {})
}
