package service

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered for image.DecodeConfig and image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"strings"
	"unicode"

	_ "golang.org/x/image/webp"

	"github.com/quirecms/quire"
)

// An inspector sees a copy of the upload as it streams to storage and
// judges it at the end. Write may refuse early, which stops the upload.
type inspector interface {
	io.Writer
	// Finish reports the verdict once every byte was written.
	Finish() error
}

// refusal is what an inspector says about a file it refuses.
func refusal(format string, args ...any) error {
	return quire.Invalid(quire.FieldError{Field: "file", Message: fmt.Sprintf(format, args...)})
}

// pipeInspector runs a check that wants an io.Reader in a goroutine fed
// by Write. The check may return before the end (a header was enough);
// the rest is then drained.
type pipeInspector struct {
	pw   *io.PipeWriter
	done chan error
}

func newPipeInspector(check func(io.Reader) error) *pipeInspector {
	pr, pw := io.Pipe()
	p := &pipeInspector{pw: pw, done: make(chan error, 1)}
	go func() {
		err := check(pr)
		if err != nil {
			pr.CloseWithError(err) // the next Write fails: stop the upload now
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		p.done <- err
	}()
	return p
}

func (p *pipeInspector) Write(b []byte) (int, error) { return p.pw.Write(b) }

func (p *pipeInspector) Finish() error {
	p.pw.Close()
	return <-p.done
}

// abort ends the goroutine when the upload failed for another reason.
func (p *pipeInspector) abort() {
	p.pw.CloseWithError(errors.New("upload aborted"))
	<-p.done
}

// dimensions reads an image's size from its header (image.DecodeConfig
// decodes no pixels) and refuses more than maxPixels: a small file can
// declare a huge canvas, and decoding it for a variant would exhaust memory.
type dimensions struct {
	w, h int
}

func checkPixels(w, h int, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return refusal("is an image without a size")
	}
	if int64(w)*int64(h) > maxPixels {
		return refusal("is an image of %d×%d pixels, more than the %d pixels allowed", w, h, maxPixels)
	}
	return nil
}

func rasterInspector(maxPixels int64, out *dimensions) *pipeInspector {
	return newPipeInspector(func(r io.Reader) error {
		cfg, _, err := image.DecodeConfig(r)
		if err != nil {
			return refusal("is not a readable image: %v", err)
		}
		if err := checkPixels(cfg.Width, cfg.Height, maxPixels); err != nil {
			return err
		}
		out.w, out.h = cfg.Width, cfg.Height
		return nil
	})
}

// avifInspector keeps the first bytes of an AVIF file and reads the
// image spatial extents ('ispe') from its metadata boxes, which come
// first. The largest declared extent is checked against the budget.
type avifInspector struct {
	head      []byte
	maxPixels int64
	out       *dimensions
}

const avifHeadLimit = 64 << 10

func (a *avifInspector) Write(b []byte) (int, error) {
	if room := avifHeadLimit - len(a.head); room > 0 {
		a.head = append(a.head, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (a *avifInspector) Finish() error {
	w, h := 0, 0
	walkBoxes(a.head, 0, func(typ string, body []byte) {
		if typ == "ispe" && len(body) >= 12 {
			bw, bh := int(binary.BigEndian.Uint32(body[4:8])), int(binary.BigEndian.Uint32(body[8:12]))
			if int64(bw)*int64(bh) > int64(w)*int64(h) {
				w, h = bw, bh
			}
		}
	})
	if w == 0 {
		return refusal("is an AVIF image whose size could not be read")
	}
	if err := checkPixels(w, h, a.maxPixels); err != nil {
		return err
	}
	a.out.w, a.out.h = w, h
	return nil
}

// walkBoxes visits the ISO BMFF boxes in b, descending into the
// containers that lead to 'ispe' (meta → iprp → ipco).
func walkBoxes(b []byte, depth int, fn func(typ string, body []byte)) {
	for depth < 6 && len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return
			}
			size, hdr = binary.BigEndian.Uint64(b[8:16]), 16
		}
		if size < hdr {
			return
		}
		end := min(size, uint64(len(b)))
		body := b[hdr:end]
		fn(typ, body)
		switch typ {
		case "meta":
			if len(body) >= 4 {
				walkBoxes(body[4:], depth+1, fn) // a full box: version and flags first
			}
		case "iprp", "ipco":
			walkBoxes(body, depth+1, fn)
		}
		if size > uint64(len(b)) {
			return
		}
		b = b[size:]
	}
}

// polyglotScanner refuses a binary file that also reads as HTML: an
// image with a <script> inside (in a text chunk, or appended after its
// end) that a browser could be tricked into rendering as a page. The
// markers are long enough that compressed data practically never holds
// one by chance.
type polyglotScanner struct {
	tail []byte
}

// htmlMarkers start HTML that a browser would act on; the short ones
// count only when a delimiter follows ("<html>", "<body onload=…").
var htmlMarkers = []struct {
	s     string
	delim bool
}{
	{"<script", false}, {"<!doctype html", false}, {"<iframe", false}, {"<object", false}, {"<embed", false},
	{"<?xml-stylesheet", false}, {"<html", true}, {"<body", true},
}

const maxMarker = 17 // longest marker plus its delimiter

func isDelimiter(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '>' || c == '/'
}

func (p *polyglotScanner) Write(b []byte) (int, error) {
	buf := append(p.tail, b...)
	for i := 0; ; i++ {
		j := bytes.IndexByte(buf[i:], '<')
		if j < 0 {
			break
		}
		i += j
		for _, m := range htmlMarkers {
			n := len(m.s)
			if len(buf)-i < n || !bytes.EqualFold(buf[i:i+n], []byte(m.s)) {
				continue
			}
			if m.delim && (len(buf)-i == n || !isDelimiter(buf[i+n])) {
				continue // undecided at the end of buf: the tail carries it into the next Write
			}
			return 0, refusal("holds HTML markup (%s) inside a binary file: such polyglot files are refused", m.s)
		}
	}
	keep := min(len(buf), maxMarker-1)
	p.tail = append(p.tail[:0], buf[len(buf)-keep:]...)
	return len(b), nil
}

func (p *polyglotScanner) Finish() error { return nil }

// svgInspector refuses SVG that can run script or pull in other
// documents: <script>, <foreignObject> and other embedding elements,
// event-handler attributes, javascript: and other active URLs, entity
// declarations, style sheets with expressions. The file is also served as
// an attachment under a sandbox CSP; this keeps such files out of the
// library in the first place.
func svgInspector() *pipeInspector {
	return newPipeInspector(checkSVG)
}

var svgBannedElements = map[string]bool{
	"script": true, "foreignobject": true, "iframe": true, "embed": true, "object": true,
	"handler": true, "listener": true, "applet": true, "frame": true, "frameset": true,
}

func checkSVG(r io.Reader) error {
	d := xml.NewDecoder(r)
	depth, root := 0, ""
	inStyle := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return refusal("is not well-formed SVG (UTF-8 XML): %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 256 {
				return refusal("is SVG nested more than 256 elements deep")
			}
			name := strings.ToLower(t.Name.Local)
			if root == "" {
				root = name
			}
			if svgBannedElements[name] {
				return refusal("is SVG with a <%s> element, which can run script or embed documents", t.Name.Local)
			}
			inStyle = name == "style"
			for _, a := range t.Attr {
				if err := checkSVGAttr(name, a); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
			inStyle = false
		case xml.CharData:
			if inStyle {
				if err := checkCSS(string(t)); err != nil {
					return err
				}
			}
		case xml.Directive:
			if bytes.Contains(bytes.ToUpper(t), []byte("ENTITY")) {
				return refusal("is SVG with entity declarations")
			}
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml-stylesheet") {
				return refusal("is SVG that loads a style sheet")
			}
		}
	}
	if root != "svg" {
		return refusal("is not SVG: its root element is <%s>", root)
	}
	return nil
}

func checkSVGAttr(element string, a xml.Attr) error {
	name := strings.ToLower(a.Name.Local)
	if strings.HasPrefix(name, "on") {
		return refusal("is SVG with an event handler attribute (%s), which runs script", a.Name.Local)
	}
	// <set attributeName="href" to="…"> and friends rewrite attributes.
	if name == "attributename" {
		v := strings.ToLower(strings.TrimSpace(a.Value))
		if strings.HasPrefix(v, "on") || strings.HasSuffix(v, "href") {
			return refusal("is SVG that animates the %s attribute", a.Value)
		}
	}
	if err := checkURLValue(a.Value); err != nil {
		return err
	}
	if name == "style" {
		return checkCSS(a.Value)
	}
	return nil
}

// compact lowercases s and removes whitespace and control characters,
// which browsers skip inside a URL scheme ("java\tscript:").
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

var safeDataURLs = []string{"data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp"}

func checkURLValue(v string) error {
	c := compact(v)
	for _, scheme := range []string{"javascript:", "vbscript:", "livescript:"} {
		if strings.Contains(c, scheme) {
			return refusal("is SVG with a %s URL", strings.TrimSuffix(scheme, ":"))
		}
	}
	for i := strings.Index(c, "data:"); i >= 0; {
		safe := false
		for _, p := range safeDataURLs {
			safe = safe || strings.HasPrefix(c[i:], p)
		}
		if !safe {
			return refusal("is SVG with a data: URL of a type that can hold script (only raster images are allowed)")
		}
		next := strings.Index(c[i+5:], "data:")
		if next < 0 {
			break
		}
		i += 5 + next
	}
	return nil
}

func checkCSS(css string) error {
	c := compact(css)
	for _, bad := range []string{"expression(", "behavior:", "-moz-binding", "@import"} {
		if strings.Contains(c, bad) {
			return refusal("is SVG whose style uses %s", strings.TrimSuffix(strings.TrimSuffix(bad, "("), ":"))
		}
	}
	return checkURLValue(css)
}
