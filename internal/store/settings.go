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

// Settings returns every setting, or only the public ones, ordered by key.
func (tx *Tx) Settings(ctx context.Context, publicOnly bool) ([]*quire.Setting, error) {
	q := `SELECT ` + settingColumns + ` FROM site_settings`
	var args []any
	if publicOnly {
		q += ` WHERE public = ?`
		args = append(args, true)
	}
	rows, err := tx.query(ctx, q+` ORDER BY key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Setting
	for rows.Next() {
		s, err := scanSetting(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// SettingsAfter lists settings ordered by key, after the key afterKey
// ("" for the first page): a range of the primary key.
func (tx *Tx) SettingsAfter(ctx context.Context, afterKey string, limit int) ([]*quire.Setting, error) {
	q, args := settingsQuery(afterKey, limit)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.Setting
	for rows.Next() {
		s, err := scanSetting(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

func settingsQuery(afterKey string, limit int) (string, []any) {
	k := &keyset{cols: settingColumns, from: "site_settings", keys: "key", limit: limit}
	if afterKey != "" {
		k.after(afterKey)
	}
	return k.sql()
}

// CreateSetting inserts a new setting; an existing key is ECONFLICT.
func (tx *Tx) CreateSetting(ctx context.Context, s *quire.Setting) error {
	s.UpdatedAt, s.Version = tx.now, 1
	_, err := tx.exec(ctx, `INSERT INTO site_settings (key, value, public, updated_by, updated_at, version) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Key, string(s.Value), s.Public, nullString(s.UpdatedBy), s.UpdatedAt, s.Version)
	if errors.Is(err, ErrUniqueViolation) {
		return quire.Wrap(quire.ECONFLICT, err, "the setting was created by someone else; fetch it again")
	}
	return err
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
