package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// Every SQLite connection, reader and writer, gets the configured page
// cache and memory map; zero options mean the documented defaults.
func TestSQLiteCacheAndMmapPragmas(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		opts               Options
		wantCache, wantMap int64
	}{
		{Options{}, -4096, 256 << 20},
		{Options{SQLiteCacheBytes: 1 << 20, SQLiteMmapBytes: 64 << 20}, -1024, 64 << 20},
	} {
		db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "q.db"), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		for name, pool := range map[string]*sql.DB{"read": db.read, "write": db.write} {
			var cache, mmap int64
			if err := pool.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
				t.Fatal(err)
			}
			if err := pool.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
				t.Fatal(err)
			}
			if cache != c.wantCache || mmap != c.wantMap {
				t.Errorf("%s with %+v: cache_size %d, mmap_size %d; want %d, %d", name, c.opts, cache, mmap, c.wantCache, c.wantMap)
			}
		}
		db.Close()
	}
}
