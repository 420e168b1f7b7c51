package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// Settings manages site settings: editors and admins read them all, admins
// write them, and anyone reads the public ones through a cached document.
type Settings struct {
	db     *store.DB
	public publicSettings
}

// NewSettings returns the settings service.
func NewSettings(db *store.DB) *Settings { return &Settings{db: db} }

// SettingInput is the body of PUT /settings/{key}. Public is optional: a
// new setting is private unless it says otherwise, an existing one keeps
// its visibility.
type SettingInput struct {
	Value  json.RawMessage `json:"value"`
	Public *bool           `json:"public"`
}

// List returns settings by key, after the key afterKey ("" from the start).
func (s *Settings) List(ctx context.Context, p *quire.Principal, afterKey string, limit int) ([]*quire.Setting, error) {
	if err := require(p, quire.RoleEditor); err != nil {
		return nil, err
	}
	return s.db.Reader().SettingsAfter(ctx, afterKey, limit)
}

// Get returns one setting.
func (s *Settings) Get(ctx context.Context, p *quire.Principal, key string) (*quire.Setting, error) {
	if err := require(p, quire.RoleEditor); err != nil {
		return nil, err
	}
	return s.db.Reader().Setting(ctx, key)
}

// Put creates or replaces a setting. ifMatch, when not zero, must be the
// stored version (and the setting must exist). It reports whether the
// setting was created.
func (s *Settings) Put(ctx context.Context, p *quire.Principal, key string, ifMatch int64, in SettingInput) (*quire.Setting, bool, error) {
	if err := require(p, quire.RoleAdmin); err != nil {
		return nil, false, err
	}
	var v quire.Validator
	quire.ValidateSettingKey(&v, "key", key)
	if len(in.Value) > quire.MaxSettingValueBytes {
		return nil, false, &quire.Error{Code: quire.ETOOLARGE, Message: "value must be at most 64 KiB of JSON",
			Fields: []quire.FieldError{{Field: "value", Message: "must be at most 64 KiB of JSON"}}}
	}
	quire.ValidateSettingValue(&v, "value", in.Value)
	if !storableJSON(in.Value) {
		v.Add("value", "must be UTF-8 without the NUL character (\\u0000)")
	}
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, in.Value); err != nil {
		return nil, false, quire.Invalid(quire.FieldError{Field: "value", Message: "must be valid JSON"})
	}
	var out *quire.Setting
	created := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, created, err = putSetting(ctx, tx, p, key, ifMatch, compact.Bytes(), in.Public)
		if errors.Is(err, store.ErrUniqueViolation) && ifMatch == 0 {
			// Another writer created the key after we found it missing;
			// its row is committed now: lock it and update it instead.
			out, created, err = putSetting(ctx, tx, p, key, ifMatch, compact.Bytes(), in.Public)
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	s.public.invalidate() // after commit: a rolled-back write changes nothing
	return out, created, nil
}

// putSetting creates or updates one setting with its audit entry. The row
// is locked first, so that a write without If-Match waits for concurrent
// writers instead of failing their version check.
func putSetting(ctx context.Context, tx *store.Tx, p *quire.Principal, key string, ifMatch int64, value json.RawMessage, public *bool) (*quire.Setting, bool, error) {
	cur, err := tx.SettingForUpdate(ctx, key)
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		if ifMatch != 0 {
			return nil, false, quire.Errorf(quire.EPRECONDITION, "the setting does not exist (If-Match names a version)")
		}
		out := &quire.Setting{Key: key, Value: value, Public: public != nil && *public, UpdatedBy: p.UserID}
		if err := tx.CreateSetting(ctx, out); err != nil {
			return nil, false, err
		}
		if err := audit(ctx, tx, p.UserID, quire.ActionSettingCreate, "setting", key, quire.Changes(nil, settingFields(out))); err != nil {
			return nil, false, err
		}
		return out, true, emit(ctx, tx, settingEvent(quire.EventSettingChanged, key, out.Public))
	}
	if err != nil {
		return nil, false, err
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		return nil, false, quire.Errorf(quire.EPRECONDITION, "the setting was changed by someone else; fetch it again")
	}
	before := settingFields(cur)
	out := &quire.Setting{Key: key, Value: value, Public: cur.Public, UpdatedBy: p.UserID, Version: cur.Version}
	if public != nil {
		out.Public = *public
	}
	if err := tx.UpdateSetting(ctx, out); err != nil {
		return nil, false, err
	}
	if err := audit(ctx, tx, p.UserID, quire.ActionSettingUpdate, "setting", key, quire.Changes(before, settingFields(out))); err != nil {
		return nil, false, err
	}
	return out, false, emit(ctx, tx, settingEvent(quire.EventSettingChanged, key, cur.Public || out.Public))
}

// Delete removes a setting.
func (s *Settings) Delete(ctx context.Context, p *quire.Principal, key string, ifMatch int64) error {
	if err := require(p, quire.RoleAdmin); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.SettingForUpdate(ctx, key)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return quire.Errorf(quire.EPRECONDITION, "the setting was changed by someone else; fetch it again")
		}
		if err := tx.DeleteSetting(ctx, key, cur.Version); err != nil {
			return err
		}
		if err := audit(ctx, tx, p.UserID, quire.ActionSettingDelete, "setting", key, quire.Changes(settingFields(cur), nil)); err != nil {
			return err
		}
		return emit(ctx, tx, settingEvent(quire.EventSettingDeleted, key, cur.Public))
	})
	if err != nil {
		return err
	}
	s.public.invalidate()
	return nil
}

// secretLooking keys have their values kept out of audit details: settings
// are not meant for secrets, but someone will store one there anyway.
var secretLooking = regexp.MustCompile(`(?i)(password|secret|token|api[_.-]?key|private)`)

func settingFields(st *quire.Setting) map[string]any {
	var value any = quire.Redacted
	if !secretLooking.MatchString(st.Key) {
		_ = json.Unmarshal(st.Value, &value)
	}
	return map[string]any{"value": value, "public": st.Public}
}

// PublicDocument is the encoded {key: value} object of public settings and
// its strong ETag.
type PublicDocument struct {
	Body []byte
	ETag string
}

// Public returns the public settings document from memory, building it
// from the database on the first read after a write on this node. Other
// nodes' writes are picked up within publicSettingsTTL.
func (s *Settings) Public(ctx context.Context) (*PublicDocument, error) {
	return s.public.get(func() (*PublicDocument, error) {
		list, err := s.db.Reader().Settings(ctx, true)
		if err != nil {
			return nil, err
		}
		obj := make(map[string]json.RawMessage, len(list))
		for _, st := range list {
			obj[st.Key] = st.Value
		}
		body, err := json.Marshal(obj) // map keys are sorted: same settings, same bytes
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		return &PublicDocument{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
	})
}

// publicSettingsTTL bounds how stale another node's cache can be; a write
// on this node invalidates at once.
const publicSettingsTTL = 5 * time.Second

type publicSettings struct {
	mu    sync.Mutex
	doc   *PublicDocument
	built time.Time
	gen   uint64 // bumped by every invalidation
}

// InvalidatePublic drops the cached public settings document: another
// node changed a public setting.
func (s *Settings) InvalidatePublic() { s.public.invalidate() }

func (c *publicSettings) invalidate() {
	c.mu.Lock()
	c.doc, c.gen = nil, c.gen+1
	c.mu.Unlock()
}

func (c *publicSettings) get(build func() (*PublicDocument, error)) (*PublicDocument, error) {
	c.mu.Lock()
	if c.doc != nil && time.Since(c.built) < publicSettingsTTL {
		d := c.doc
		c.mu.Unlock()
		return d, nil
	}
	gen := c.gen
	c.mu.Unlock()
	doc, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// A write that committed while we read may not be in doc: keep it only
	// if nothing was invalidated meanwhile.
	if c.gen == gen {
		c.doc, c.built = doc, time.Now()
	}
	c.mu.Unlock()
	return doc, nil
}

// storableJSON reports whether PostgreSQL's jsonb can hold raw: it refuses
// invalid UTF-8 and U+0000 in any string or key, which would otherwise end
// a PUT as a 500. Invalid JSON is left to ValidateSettingValue.
func storableJSON(raw json.RawMessage) bool {
	if !utf8.Valid(raw) {
		return false
	}
	if !bytes.Contains(raw, []byte(`\u0000`)) { // the only way to write U+0000 in JSON
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, 0) {
			return false
		}
	}
}
