package service

import "testing"

func TestNameForType(t *testing.T) {
	for _, c := range []struct{ name, mime, want string }{
		{"update.bat", "text/plain; charset=utf-8", "update.txt"},
		{"run.cmd", "text/plain; charset=utf-8", "run.txt"},
		{"payload.hta", "text/plain; charset=utf-8", "payload.txt"},
		{"notes.TXT", "text/plain; charset=utf-8", "notes.TXT"},
		{"README.md", "text/plain; charset=utf-8", "README.md"},
		{"a.html", "image/png", "a.png"},
		{"a.png.exe", "image/png", "a.png.png"},
		{"photo", "image/jpeg", "photo.jpg"},
		{"IMG_1.JPEG", "image/jpeg", "IMG_1.JPEG"},
		{"v1.2 final", "application/pdf", "v1.2 final.pdf"},
		{"clip.mov", "video/mp4", "clip.mp4"},
		{"song", "audio/mpeg", "song.mp3"},
		{"drawing.xml", "image/svg+xml", "drawing.svg"},
		{"x.zip", "application/zip", "x.zip"}, // a type added to the allow-list: the detector knows it
		{"x.exe", "application/zip", "x.zip"},
		{"x.exe", "application/x-quire-unknown", "x.bin"},
	} {
		if got := nameForType(c.name, c.mime); got != c.want {
			t.Errorf("nameForType(%q, %q) = %q, want %q", c.name, c.mime, got, c.want)
		}
	}
	long := ""
	for range 250 {
		long += "a"
	}
	if got := nameForType(long+".bat", "text/plain"); len(got) != 200 || got[len(got)-4:] != ".txt" {
		t.Errorf("long name: %d %q", len(got), got[len(got)-8:])
	}
}
