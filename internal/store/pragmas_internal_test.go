package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
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

// TestSQLiteWriterPragmas: the writer keeps savepoint journals in memory
// (group commit) and checkpoints only as a backstop; the checkpointer's own
// connection copies the log back after commits.
func TestSQLiteWriterPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "q.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tempStore, autoCheckpoint int64
	if err := db.write.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&tempStore); err != nil {
		t.Fatal(err)
	}
	if err := db.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&autoCheckpoint); err != nil {
		t.Fatal(err)
	}
	if tempStore != 2 || autoCheckpoint != backstopCheckpointPages {
		t.Errorf("writer: temp_store %d, wal_autocheckpoint %d; want 2 (memory), %d", tempStore, autoCheckpoint, backstopCheckpointPages)
	}
	if err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `CREATE TABLE checkpointed (x INTEGER)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The write's frames are in the log until the checkpointer copies
	// them into the database file, a moment after the commit.
	deadline := time.Now().Add(10 * time.Second)
	for db.checkpoints.copied.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after the commit: %d runs", db.checkpoints.runs.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
