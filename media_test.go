package quire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeFilename(t *testing.T) {
	cases := map[string]string{
		"photo.jpg":                     "photo.jpg",
		"../../etc/passwd":              "passwd",
		`C:\Users\me\..\secret.docx`:    "secret.docx",
		"bad\x00name\x1b[31m\n.png":     "badname[31m.png",
		"evil\u202egnp.exe":             "evilgnp.exe",
		"  .hidden  ":                   "hidden",
		"trailing dots...":              "trailing dots",
		"\x01\x02":                      "file",
		"":                              "file",
		"/":                             "file",
		"résumé \"final\".pdf":          "résumé \"final\".pdf",
		"in\xffvalid.txt":               "invalid.txt",
		"tab\there.txt":                 "tabhere.txt",
		"zero\u200bwidth\ufeffbom.txt":  "zerowidthbom.txt",
		"nbsp\u00a0gone.txt":            "nbspgone.txt", // only the ASCII space is kept
		strings.Repeat("é", 300) + ".x": strings.Repeat("é", MaxFilenameLen-2) + ".x",
	}
	for in, want := range cases {
		got := SanitizeFilename(in)
		if got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", in, got, want)
		}
		if utf8.RuneCountInString(got) > MaxFilenameLen || strings.ContainsAny(got, "/\\\x00") {
			t.Errorf("SanitizeFilename(%q) = %q is not safe", in, got)
		}
	}
	long := SanitizeFilename(strings.Repeat("a", 500) + "." + strings.Repeat("b", 50))
	if utf8.RuneCountInString(long) != MaxFilenameLen {
		t.Errorf("a long extension is not kept whole: %d characters", utf8.RuneCountInString(long))
	}
}

func TestServeInline(t *testing.T) {
	for _, mt := range []string{"image/png", "text/plain; charset=utf-8", "video/mp4", "IMAGE/JPEG"} {
		if !ServeInline(mt) {
			t.Errorf("%s is not inline", mt)
		}
	}
	for _, mt := range []string{"image/svg+xml", "application/pdf", "text/html", "application/octet-stream", ""} {
		if ServeInline(mt) {
			t.Errorf("%s is inline", mt)
		}
	}
}
