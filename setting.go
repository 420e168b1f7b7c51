package quire

import (
	"encoding/json"
	"regexp"
	"time"
)

// MaxSettingValueBytes bounds one setting's JSON value.
const MaxSettingValueBytes = 64 << 10

var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,99}$`)

// Setting is one site-wide key/value pair; public ones are served to anyone.
type Setting struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Public    bool            `json:"public"`
	UpdatedBy string          `json:"updated_by"`
	UpdatedAt time.Time       `json:"updated_at"`
	Version   int64           `json:"version"`
}

// ValidateSettingKey checks the key pattern of PRODUCT.md §2.
func ValidateSettingKey(v *Validator, field, key string) {
	v.Check(settingKey.MatchString(key), field, "must match ^[a-z][a-z0-9_.-]{0,99}$")
}

// ValidateSettingValue checks that value is present, valid JSON and within the size limit.
func ValidateSettingValue(v *Validator, field string, value json.RawMessage) {
	switch {
	case len(value) == 0:
		v.Add(field, "is required (any JSON value, null included)")
	case len(value) > MaxSettingValueBytes:
		v.Add(field, "must be at most 64 KiB of JSON")
	case !json.Valid(value):
		v.Add(field, "must be valid JSON")
	}
}
