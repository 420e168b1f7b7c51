package service

import (
	"mime"
	"path"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/quirecms/quire"
)

// typeExtensions are the extensions a file of each default type may keep;
// the first is the one it gets otherwise.
var typeExtensions = map[string][]string{
	"image/jpeg":      {".jpg", ".jpeg", ".jpe"},
	"image/png":       {".png"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"image/avif":      {".avif"},
	"image/svg+xml":   {".svg"},
	"application/pdf": {".pdf"},
	"video/mp4":       {".mp4", ".m4v"},
	"video/webm":      {".webm"},
	"audio/mpeg":      {".mp3"},
	"text/plain":      {".txt", ".text", ".log", ".md"},
}

// extensionsFor are the extensions a file of mimeType may have: the table
// above, else what the type detector and the system's type table know,
// else ".bin" (which no system runs).
func extensionsFor(mimeType string) []string {
	base := quire.BaseMediaType(mimeType)
	if exts, ok := typeExtensions[base]; ok {
		return exts
	}
	if mt := mimetype.Lookup(base); mt != nil && mt.Extension() != "" {
		return []string{mt.Extension()}
	}
	if exts, _ := mime.ExtensionsByType(base); len(exts) > 0 {
		return exts
	}
	return []string{".bin"}
}

// nameForType makes a sanitised file name's extension agree with the
// type detected from the bytes, so that a download saved to disk opens as
// what it is: "update.bat" holding text becomes "update.txt", PNG bytes
// named "a.html" become "a.png", "photo" of JPEG bytes "photo.jpg". An
// extension that fits the type is kept as written ("IMG_1.JPEG").
func nameForType(name, mimeType string) string {
	exts := extensionsFor(mimeType)
	ext := path.Ext(name)
	if slices.Contains(exts, strings.ToLower(ext)) {
		return name
	}
	stem := name
	if isExtension(ext) {
		stem = strings.TrimSuffix(name, ext)
	}
	if stem == "" {
		stem = "file"
	}
	return quire.SanitizeFilename(stem + exts[0])
}

// isExtension: what follows the last dot looks like a type's extension
// (a short run of letters and digits), which the right one replaces;
// anything else ("v1.2 final", "notes.") is part of the name and kept.
func isExtension(ext string) bool {
	if len(ext) < 2 || len(ext) > 11 {
		return false
	}
	for _, c := range ext[1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
