package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quirecms/quire"
)

var errSettingNotFound = quire.Errorf(quire.ENOTFOUND, "setting not found")

const settingColumns = `key, value, public, updated_by, updated_at, version`

func scanSetting(row interface{ Scan(...any) error }) (*quire.Setting, error) {
	var s quire.Setting
	var value []byte
	var by sql.NullString
	err := row.Scan(&s.Key, &value, &s.Public, &by, scanTime{&s.UpdatedAt}, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSettingNotFound
	}
	if err != nil {
		return nil, mapErr(err)
	}
	s.Value, s.UpdatedBy = value, by.String
	return &s, nil
}

// Setting returns one setting.
func (tx *Tx) Setting(ctx context.Context, key string) (*quire.Setting, error) {
	return scanSetting(tx.queryRow(ctx, `SELECT `+settingColumns+` FROM site_settings WHERE key = ?`, key))
}

// SettingForUpdate reads a setting and, on PostgreSQL, locks its row until
// commit, so that concurrent writers of one key queue here instead of
// failing each other's version check (SQLite's single writer does the same).
func (tx *Tx) SettingForUpdate(ctx context.Context, key string) (*quire.Setting, error) {
	q := `SELECT ` + settingColumns + ` FROM site_settings WHERE key = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanSetting(tx.queryRow(ctx, q, key))
}

// Settings returns every setting, or only the public ones, ordered by key.
func (tx *Tx) Settings(ctx context.Context, publicOnly bool) ([]*quire.Setting, error) {
	q := `SELECT ` + settingColumns + ` FROM site_settings`
	var args []any
	if publicOnly {
		q += ` WHERE public = ?`
		args = append(args, true)
	}
	return queryAll(ctx, tx, scanSetting, q+` ORDER BY key`, args...)
}

// SettingsAfter lists settings ordered by key, after the key afterKey
// ("" for the first page): a range of the primary key.
func (tx *Tx) SettingsAfter(ctx context.Context, afterKey string, limit int) ([]*quire.Setting, error) {
	q, args := settingsQuery(afterKey, limit)
	return queryAll(ctx, tx, scanSetting, q, args...)
}

func settingsQuery(afterKey string, limit int) (string, []any) {
	k := &keyset{cols: settingColumns, from: "site_settings", keys: "key", limit: limit}
	if afterKey != "" {
		k.after(afterKey)
	}
	return k.sql()
}

// CreateSetting inserts a new setting; an existing key is ECONFLICT
// wrapping ErrUniqueViolation. ON CONFLICT DO NOTHING rather than a
// failed insert: on PostgreSQL it waits for a concurrent insert of the
// same key to commit and leaves this transaction usable, so that the
// caller can lock the row the other made and update it instead.
func (tx *Tx) CreateSetting(ctx context.Context, s *quire.Setting) error {
	s.UpdatedAt, s.Version = tx.now, 1
	res, err := tx.exec(ctx, `INSERT INTO site_settings (key, value, public, updated_by, updated_at, version) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`,
		s.Key, string(s.Value), s.Public, nullString(s.UpdatedBy), s.UpdatedAt, s.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return quire.Wrap(quire.ECONFLICT, errors.Join(ErrUniqueViolation, mapErr(err)), "the setting was created by someone else; fetch it again")
	}
	return nil
}

// UpdateSetting writes value and public when the stored version is still
// s.Version, then bumps it; a stale version is EPRECONDITION.
func (tx *Tx) UpdateSetting(ctx context.Context, s *quire.Setting) error {
	stale := quire.Errorf(quire.EPRECONDITION, "the setting was changed by someone else; fetch it again")
	err := tx.execOne(ctx, stale, `UPDATE site_settings SET value = ?, public = ?, updated_by = ?, updated_at = ?, version = version + 1 WHERE key = ? AND version = ?`,
		string(s.Value), s.Public, nullString(s.UpdatedBy), tx.now, s.Key, s.Version)
	if err != nil {
		return err
	}
	s.UpdatedAt, s.Version = tx.now, s.Version+1
	return nil
}

// DeleteSetting removes a setting at the given version.
func (tx *Tx) DeleteSetting(ctx context.Context, key string, version int64) error {
	stale := quire.Errorf(quire.EPRECONDITION, "the setting was changed by someone else; fetch it again")
	return tx.execOne(ctx, stale, `DELETE FROM site_settings WHERE key = ? AND version = ?`, key, version)
}
