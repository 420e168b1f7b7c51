package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
)

// Progress reports long work: Stage names what is being done, Done of
// Total items (Total 0 when unknown).
type Progress func(stage string, done, total int64)

// ExportOptions tune Export.
type ExportOptions struct {
	// TmpDir stages table parts ("" for the system's), as a tar header
	// needs each part's size before its bytes.
	TmpDir   string
	Progress Progress
	// SigningKey is the instance's key when it is kept outside the
	// database (SQLite keeps it in QUIRE_DATA_DIR/jwt.key): it goes into
	// the archive as the instance_secrets row PostgreSQL keeps it in, so
	// that sessions, checkpoint signatures and webhook secrets survive the move.
	SigningKey string
}

// SecretsTable is where PostgreSQL keeps instance secrets.
const SecretsTable = "instance_secrets"

// Export writes the whole instance, as of one snapshot, to w as a tar archive.
func Export(ctx context.Context, db *store.DB, files storage.Storage, w io.Writer, opts ExportOptions) (*Manifest, error) {
	progress, tmpDir := opts.Progress, opts.TmpDir
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	if err := db.CheckImportComplete(ctx); err != nil {
		return nil, err
	}
	tables, err := db.PortableTables(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := db.BeginSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	m := &Manifest{Format: Format, FormatVersion: FormatVersion, SourceDatabase: string(db.Dialect()),
		CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	if m.SchemaVersion, err = snap.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	var keys []mediaKey
	for _, t := range tables {
		total, err := snap.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		keyCol, deletedCol := -1, -1
		if t.Name == "media" {
			for i, c := range t.Columns {
				switch c.Name {
				case "storage_key":
					keyCol = i
				case "deleted_at":
					deletedCol = i
				}
			}
		}
		part, err := writeStaged(tw, tableFile(t.Name), tmpDir, func(enc *json.Encoder) (int64, error) {
			var n int64
			err := snap.Rows(ctx, t, func(row []any) error {
				if keyCol >= 0 {
					key, _ := row[keyCol].(string)
					keys = append(keys, mediaKey{key: key, id: fmt.Sprint(row[0]), deleted: deletedCol >= 0 && row[deletedCol] != nil})
				}
				n++
				if n%1000 == 0 {
					progress("table "+t.Name, n, total)
				}
				return enc.Encode(row)
			})
			return n, err
		})
		if err != nil {
			return nil, err
		}
		progress("table "+t.Name, part.Rows, total)
		m.Tables = append(m.Tables, TablePart{Name: t.Name, Columns: t.Columns, Part: part})
	}
	if opts.SigningKey != "" && !slices.ContainsFunc(tables, func(t *store.PortableTable) bool { return t.Name == SecretsTable }) {
		cols := []store.PortableColumn{{Name: "name", Kind: store.KindText}, {Name: "value", Kind: store.KindText}, {Name: "created_at", Kind: store.KindTimestamp}}
		part, err := writeStaged(tw, tableFile(SecretsTable), tmpDir, func(enc *json.Encoder) (int64, error) {
			return 1, enc.Encode([]any{"jwt_signing_key", opts.SigningKey, store.Now().Format("2006-01-02T15:04:05.000000Z")})
		})
		if err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, TablePart{Name: SecretsTable, Columns: cols, Part: part})
	}
	m.Jobs, err = writeStaged(tw, jobsName, tmpDir, func(enc *json.Encoder) (int64, error) {
		var n int64
		err := snap.PendingJobs(ctx, func(j store.PendingJob) error {
			n++
			return enc.Encode(j)
		})
		return n, err
	})
	if err != nil {
		return nil, err
	}
	if m.Media, err = writeMedia(ctx, tw, files, keys, progress); err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(body)), ModTime: time.Now()}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(body); err != nil {
		return nil, err
	}
	return m, tw.Close()
}

type mediaKey struct {
	key, id string
	deleted bool
}

// writeStaged writes a JSON Lines part to a temp file through fill, then
// copies it into the archive with its size and checksum.
func writeStaged(tw *tar.Writer, name, tmpDir string, fill func(*json.Encoder) (int64, error)) (Part, error) {
	f, err := os.CreateTemp(tmpDir, "quire-export-*")
	if err != nil {
		return Part{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	rows, err := fill(enc)
	if err != nil {
		return Part{}, err
	}
	if err := bw.Flush(); err != nil {
		return Part{}, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return Part{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Part{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: time.Now()}); err != nil {
		return Part{}, err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return Part{}, err
	}
	return Part{File: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows}, nil
}

// writeMedia adds the bytes of every media record, once per distinct
// content. A live record whose bytes are missing fails the export, naming
// it; a trashed one is left out (nothing is there to carry).
func writeMedia(ctx context.Context, tw *tar.Writer, files storage.Storage, keys []mediaKey, progress Progress) ([]MediaPart, error) {
	var out []MediaPart
	written := map[string]bool{}
	seen := map[string]bool{}
	for i, k := range keys {
		if seen[k.key] {
			continue
		}
		seen[k.key] = true
		sum, size, err := hashObject(ctx, files, k.key)
		if errors.Is(err, storage.ErrNotExist) && k.deleted {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("media %s (%s): %w", k.id, k.key, err)
		}
		part := Part{File: mediaFile(sum), Size: size, SHA256: sum}
		if !written[sum] {
			if err := copyObject(ctx, tw, files, k.key, part); err != nil {
				return nil, fmt.Errorf("media %s (%s): %w", k.id, k.key, err)
			}
			written[sum] = true
		}
		out = append(out, MediaPart{Key: k.key, Part: part})
		if (i+1)%100 == 0 {
			progress("media", int64(i+1), int64(len(keys)))
		}
	}
	progress("media", int64(len(keys)), int64(len(keys)))
	return out, nil
}

func hashObject(ctx context.Context, files storage.Storage, key string) (string, int64, error) {
	obj, err := files.Open(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyObject writes the object into the archive, checking that its bytes
// did not change since they were hashed.
func copyObject(ctx context.Context, tw *tar.Writer, files storage.Storage, key string, part Part) error {
	obj, err := files.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	if err := tw.WriteHeader(&tar.Header{Name: part.File, Mode: 0o600, Size: part.Size, ModTime: time.Now()}); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(obj, part.Size)); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != part.SHA256 {
		return errors.New("the stored bytes changed while they were being exported")
	}
	return nil
}
