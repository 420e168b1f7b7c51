package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/quirecms/quire/internal/storage"
)

// maxManifest bounds manifest.json, read into memory.
const maxManifest = 64 << 20

// Verify reads the whole archive at path and checks it before anything is
// written anywhere: a tar file whose manifest.json names this format, a
// schema no newer than latest, and every part present, of its size and
// SHA-256, with nothing else beside them.
func Verify(path string, latest int64) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type seen struct {
		size int64
		sum  string
	}
	parts := map[string]seen{}
	var manifest []byte
	tr := tar.NewReader(f)
	last := "the start"
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if last == "the start" {
				return nil, fmt.Errorf("%s is not a Quire archive (not a tar file): %w", path, err)
			}
			return nil, &PartError{Part: "after " + last, Err: fmt.Errorf("the archive is truncated or corrupt: %w", err)}
		}
		last = hdr.Name
		if _, dup := parts[hdr.Name]; dup || (hdr.Name == manifestName && manifest != nil) {
			return nil, &PartError{Part: hdr.Name, Err: errors.New("appears twice in the archive")}
		}
		if hdr.Name == manifestName {
			manifest, err = io.ReadAll(io.LimitReader(tr, maxManifest))
			if err != nil {
				return nil, &PartError{Part: hdr.Name, Err: fmt.Errorf("truncated: %w", err)}
			}
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, tr)
		if err != nil {
			return nil, &PartError{Part: hdr.Name, Err: fmt.Errorf("truncated: %w", err)}
		}
		parts[hdr.Name] = seen{n, hex.EncodeToString(h.Sum(nil))}
	}
	if manifest == nil {
		return nil, fmt.Errorf("%s is not a Quire archive: it has no %s", path, manifestName)
	}
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, &PartError{Part: manifestName, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	if m.Format != Format {
		return nil, &PartError{Part: manifestName, Err: fmt.Errorf("format is %q, not %q: this archive was not written by quire export", m.Format, Format)}
	}
	if m.FormatVersion != FormatVersion {
		return nil, &PartError{Part: manifestName, Err: fmt.Errorf("format version %d; this build of Quire reads version %d", m.FormatVersion, FormatVersion)}
	}
	if m.SchemaVersion > latest {
		return nil, fmt.Errorf("the archive is from a newer Quire (schema version %d; this build knows up to %d): upgrade Quire, then import it", m.SchemaVersion, latest)
	}
	if m.SchemaVersion < 1 {
		return nil, &PartError{Part: manifestName, Err: errors.New("schema_version is missing")}
	}
	want := map[string]Part{}
	add := func(p Part) error {
		if prev, ok := want[p.File]; ok && prev != p {
			return &PartError{Part: p.File, Err: errors.New("listed twice with different checksums")}
		}
		want[p.File] = p
		return nil
	}
	for _, t := range m.Tables {
		if t.File != tableFile(t.Name) || strings.ContainsAny(t.Name, `/"`) {
			return nil, &PartError{Part: manifestName, Err: fmt.Errorf("table %q has the file name %q", t.Name, t.File)}
		}
		if err := add(t.Part); err != nil {
			return nil, err
		}
	}
	for _, md := range m.Media {
		if err := storage.CheckKey(md.Key); err != nil {
			return nil, &PartError{Part: manifestName, Err: err}
		}
		if md.File != mediaFile(md.SHA256) {
			return nil, &PartError{Part: manifestName, Err: fmt.Errorf("media %q has the file name %q", md.Key, md.File)}
		}
		if err := add(md.Part); err != nil {
			return nil, err
		}
	}
	if err := add(m.Jobs); err != nil {
		return nil, err
	}
	for name, p := range want {
		got, ok := parts[name]
		switch {
		case !ok:
			return nil, &PartError{Part: name, Err: errors.New("missing from the archive")}
		case got.size != p.Size:
			return nil, &PartError{Part: name, Err: fmt.Errorf("%d bytes, the manifest says %d", got.size, p.Size)}
		case got.sum != p.SHA256:
			return nil, &PartError{Part: name, Err: fmt.Errorf("SHA-256 %s does not match the manifest's %s", got.sum, p.SHA256)}
		}
	}
	for name := range parts {
		if _, ok := want[name]; !ok {
			return nil, &PartError{Part: name, Err: errors.New("not listed in the manifest")}
		}
	}
	return &m, nil
}

// openPart opens the archive at path at the named part. tar skips the
// parts before it by seeking, so this is cheap on a file.
func openPart(path, name string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			f.Close()
			return nil, nil, &PartError{Part: name, Err: fmt.Errorf("cannot read it again: %w", err)}
		}
		if hdr.Name == name {
			return tr, func() { f.Close() }, nil
		}
	}
}
