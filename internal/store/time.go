package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is how SQLite stores timestamps: UTC, fixed width, so that
// comparing and ordering the text compares and orders the times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// scanTime scans a timestamp from either database into a time.Time.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(src any) error {
	t, ok, err := parseTime(src)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("store: NULL timestamp where one is required")
	}
	*s.t = t
	return nil
}

// scanNullTime scans a nullable timestamp into a *time.Time.
type scanNullTime struct{ t **time.Time }

func (s scanNullTime) Scan(src any) error {
	t, ok, err := parseTime(src)
	if err != nil {
		return err
	}
	if !ok {
		*s.t = nil
		return nil
	}
	*s.t = &t
	return nil
}

func parseTime(src any) (time.Time, bool, error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return v.UTC(), true, nil
	case string:
		return parseTimeText(v)
	case []byte:
		return parseTimeText(string(v))
	}
	return time.Time{}, false, fmt.Errorf("store: cannot scan %T as a timestamp", src)
}

func parseTimeText(s string) (time.Time, bool, error) {
	// RFC 3339 covers our own layout and SQLite's strftime defaults.
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: bad timestamp %q: %w", s, err)
	}
	return t.UTC(), true, nil
}

var _ driver.Valuer = (*nullString)(nil)

// nullString stores "" as NULL.
type nullString string

func (s nullString) Value() (driver.Value, error) {
	if s == "" {
		return nil, nil
	}
	return string(s), nil
}
