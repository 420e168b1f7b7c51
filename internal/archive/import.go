package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/quirecms/quire/internal/storage"
	"github.com/quirecms/quire/internal/store"
)

// batchRows is how many rows one transaction loads.
const batchRows = 2000

// Import verifies the archive at path, then loads it into db, which must
// be empty (new, or migrated with no rows), and its media into files. The
// database is marked incomplete before the first row is written and stays
// so when Import fails or is interrupted; the caller checks the audit
// chain and then calls db.EndImport. An archive from an older schema is
// loaded into that schema and migrated up afterwards. Secrets the target
// keeps outside the database (SQLite: the signing key) are returned by
// name for the caller to keep.
func Import(ctx context.Context, db *store.DB, files storage.Storage, path string, progress Progress) (*Manifest, map[string]string, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	latest, err := db.LatestSchemaVersion()
	if err != nil {
		return nil, nil, err
	}
	m, err := Verify(path, latest)
	if err != nil {
		return nil, nil, err
	}
	if err := checkEmpty(ctx, db, m.SchemaVersion); err != nil {
		return nil, nil, err
	}
	if err := db.BeginImport(ctx, filepath.Base(path)); err != nil {
		return nil, nil, err
	}
	if err := db.MigrateTo(ctx, m.SchemaVersion); err != nil {
		return nil, nil, err
	}
	tables, err := db.PortableTables(ctx)
	if err != nil {
		return nil, nil, err
	}
	parts := map[string]TablePart{}
	for _, p := range m.Tables {
		parts[p.Name] = p
	}
	secrets := map[string]string{}
	for _, p := range m.Tables {
		if p.Name == SecretsTable && !slices.ContainsFunc(tables, func(t *store.PortableTable) bool { return t.Name == p.Name }) {
			if err := readSecrets(path, p, secrets); err != nil {
				return nil, nil, err
			}
			continue
		}
		if !slices.ContainsFunc(tables, func(t *store.PortableTable) bool { return t.Name == p.Name }) {
			return nil, nil, &PartError{Part: p.File, Err: fmt.Errorf("this database has no table %s at schema version %d (it has %v)", p.Name, m.SchemaVersion, tableNames(tables))}
		}
	}
	deferred := map[*store.PortableTable][][]any{}
	for _, t := range tables {
		p, ok := parts[t.Name]
		if !ok {
			continue
		}
		rows, err := loadTable(ctx, db, path, t, p, progress)
		if err != nil {
			return nil, nil, err
		}
		if len(rows) > 0 {
			deferred[t] = rows
		}
	}
	for _, t := range tables {
		if rows := deferred[t]; rows != nil {
			if err := db.SetDeferred(ctx, t, rows); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := putMedia(ctx, files, path, m.Media, progress); err != nil {
		return nil, nil, err
	}
	if err := loadJobs(ctx, db, path, m.Jobs); err != nil {
		return nil, nil, err
	}
	if err := db.MigrateImported(ctx); err != nil {
		return nil, nil, err
	}
	return m, secrets, nil
}

// checkEmpty refuses a database that holds anything, or whose schema is
// newer than the archive's (it could not be loaded at the archive's schema).
func checkEmpty(ctx context.Context, db *store.DB, archived int64) error {
	current, err := db.SchemaVersion(ctx)
	if err != nil || current == 0 {
		return err
	}
	counts, err := db.PortableCounts(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(counts))
	for name, n := range counts {
		if n > 0 {
			names = append(names, fmt.Sprintf("%s (%d rows)", name, n))
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return fmt.Errorf("the target database is not empty: %v; import only into a new database", names)
	}
	if current > archived {
		return fmt.Errorf("the target database is already at schema version %d and the archive is from version %d: import into a new database (the import migrates it to %d, loads, then migrates up)", current, archived, archived)
	}
	return nil
}

// loadTable loads one table part in batches and returns the key and
// deferred values of rows whose deferred columns are set.
func loadTable(ctx context.Context, db *store.DB, path string, t *store.PortableTable, p TablePart, progress Progress) ([][]any, error) {
	r, closePart, err := openPart(path, p.File)
	if err != nil {
		return nil, err
	}
	defer closePart()
	cols := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		cols[i] = c.Name
	}
	index := func(name string) int { return slices.Index(cols, name) }
	var keyAt, deferAt []int
	for _, k := range t.Key {
		keyAt = append(keyAt, index(k))
	}
	for _, d := range t.Deferred {
		deferAt = append(deferAt, index(d))
	}
	if slices.Contains(keyAt, -1) {
		return nil, &PartError{Part: p.File, Err: fmt.Errorf("the primary key %v is not among its columns", t.Key)}
	}
	var fixups [][]any
	batch := make([][]any, 0, batchRows)
	var n int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := db.InsertRows(ctx, t, cols, batch); err != nil {
			return &PartError{Part: p.File, Err: err}
		}
		progress("table "+t.Name, n, p.Rows)
		batch = batch[:0]
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		n++
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var row []any
		if err := dec.Decode(&row); err != nil || len(row) != len(cols) {
			return nil, &PartError{Part: p.File, Err: fmt.Errorf("line %d is not a row of %d values", n, len(cols))}
		}
		fix := make([]any, 0, len(keyAt)+len(deferAt))
		set := false
		for _, i := range keyAt {
			fix = append(fix, row[i])
		}
		for _, i := range deferAt {
			if i >= 0 && row[i] != nil {
				set = true
			}
			if i >= 0 {
				fix = append(fix, row[i])
			} else {
				fix = append(fix, nil)
			}
		}
		if set {
			fixups = append(fixups, fix)
		}
		batch = append(batch, row)
		if len(batch) == batchRows {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &PartError{Part: p.File, Err: err}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if n != p.Rows {
		return nil, &PartError{Part: p.File, Err: fmt.Errorf("%d rows, the manifest says %d", n, p.Rows)}
	}
	return fixups, nil
}

// putMedia stores the media in one pass over the archive: each part's
// bytes under every storage key the manifest maps to them.
func putMedia(ctx context.Context, files storage.Storage, path string, media []MediaPart, progress Progress) error {
	keys := map[string][]MediaPart{}
	for _, md := range media {
		if err := storage.CheckKey(md.Key); err != nil {
			return &PartError{Part: md.File, Err: err}
		}
		keys[md.File] = append(keys[md.File], md)
	}
	if len(media) == 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	done := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &PartError{Part: "media", Err: fmt.Errorf("cannot read it again: %w", err)}
		}
		for i, md := range keys[hdr.Name] {
			if i > 0 { // the same bytes under a second key: read them again
				if err := putOne(ctx, files, path, md); err != nil {
					return err
				}
			} else if err := storeMedia(ctx, files, tr, md); err != nil {
				return err
			}
			done++
			if done%100 == 0 || done == len(media) {
				progress("media", int64(done), int64(len(media)))
			}
		}
	}
	if done != len(media) {
		return &PartError{Part: "media", Err: fmt.Errorf("%d of %d media files found on the second read", done, len(media))}
	}
	return nil
}

func putOne(ctx context.Context, files storage.Storage, path string, md MediaPart) error {
	r, closePart, err := openPart(path, md.File)
	if err != nil {
		return err
	}
	defer closePart()
	return storeMedia(ctx, files, r, md)
}

func storeMedia(ctx context.Context, files storage.Storage, r io.Reader, md MediaPart) error {
	n, err := files.Put(ctx, md.Key, r)
	if err != nil {
		return &PartError{Part: md.File, Err: fmt.Errorf("store as %s: %w", md.Key, err)}
	}
	if n != md.Size {
		return &PartError{Part: md.File, Err: fmt.Errorf("stored %d bytes of %d", n, md.Size)}
	}
	return nil
}

func tableNames(ts []*store.PortableTable) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// readSecrets reads the instance_secrets part into secrets (name → value).
func readSecrets(path string, p TablePart, secrets map[string]string) error {
	r, closePart, err := openPart(path, p.File)
	if err != nil {
		return err
	}
	defer closePart()
	name, value := -1, -1
	for i, c := range p.Columns {
		switch c.Name {
		case "name":
			name = i
		case "value":
			value = i
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var row []any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || name < 0 || value < 0 || len(row) != len(p.Columns) {
			return &PartError{Part: p.File, Err: errors.New("not rows of name and value")}
		}
		n, _ := row[name].(string)
		v, _ := row[value].(string)
		secrets[n] = v
	}
	return sc.Err()
}
