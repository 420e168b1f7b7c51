package quire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Audit actions. The prefix before the dot is the resource type.
const (
	ActionLogin          = "auth.login"
	ActionLoginFailed    = "auth.login_failed"
	ActionLogout         = "auth.logout"
	ActionLogoutAll      = "auth.logout_all"
	ActionRefreshReuse   = "auth.refresh_reuse"
	ActionUserCreate     = "user.create"
	ActionUserUpdate     = "user.update"
	ActionUserRoleChange = "user.role_change"
	ActionUserDeactivate = "user.deactivate"
	ActionUserDelete     = "user.delete"
	ActionPasswordChange = "user.password_change"
	ActionTokenCreate    = "api_token.create"
	ActionTokenRevoke    = "api_token.revoke"
	ActionSettingCreate  = "setting.create"
	ActionSettingUpdate  = "setting.update"
	ActionSettingDelete  = "setting.delete"
	ActionAuditPrune     = "audit.prune"
	// ActionForbidden records refused attempts on administrative routes,
	// at most one entry per caller and route a minute, with a count.
	ActionForbidden = "auth.forbidden"
)

// GenesisHash is the prev_hash of the first entry of the chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditTimeLayout is the fixed-width UTC form of timestamps inside the
// canonical encoding: microseconds, because PostgreSQL keeps no more.
const AuditTimeLayout = "2006-01-02T15:04:05.000000Z"

// AuditEntry is one record of the append-only, hash-chained audit log.
// APITokenID and APITokenName name the API token an action was taken with
// (UserID is then the admin who made the token); they are empty otherwise.
type AuditEntry struct {
	Seq          int64           `json:"seq"`
	ID           string          `json:"id"`
	At           time.Time       `json:"at"`
	UserID       string          `json:"user_id,omitempty"`
	APITokenID   string          `json:"api_token_id,omitempty"`
	APITokenName string          `json:"api_token_name,omitempty"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Details      json.RawMessage `json:"details"`
	RequestID    string          `json:"request_id"`
	IP           string          `json:"ip"`
	PrevHash     string          `json:"prev_hash"`
	Hash         string          `json:"hash"`
}

// Canonical is the byte string that the entry's hash covers: a JSON array of
// a version tag and every field in a fixed order, with no HTML escaping and
// no trailing newline. details is included as its stored text, so the hash
// does not depend on how a database would re-encode JSON. docs/audit.md
// describes it for verifiers written in other languages.
//
// An entry without an API token is encoded as v1 (twelve elements), as
// every entry was before tokens were recorded, so old entries verify
// unchanged; an entry with either token field set is v2, with api_token_id
// and api_token_name after user_id. Which version applies follows from the
// fields themselves, so blanking or adding token fields changes the hash.
func (e *AuditEntry) Canonical() []byte {
	var userID any
	if e.UserID != "" {
		userID = e.UserID
	}
	fields := []any{"quire-audit-v1", e.Seq, e.ID, e.At.UTC().Format(AuditTimeLayout), userID}
	if e.APITokenID != "" || e.APITokenName != "" {
		fields[0] = "quire-audit-v2"
		fields = append(fields, e.APITokenID, e.APITokenName)
	}
	fields = append(fields,
		e.Action, e.ResourceType, e.ResourceID, string(e.Details), e.RequestID, e.IP, e.PrevHash,
	)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(fields) // cannot fail: strings and integers only
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// ComputeHash returns hex(SHA-256(Canonical())).
func (e *AuditEntry) ComputeHash() string {
	sum := sha256.Sum256(e.Canonical())
	return hex.EncodeToString(sum[:])
}

// AuditVerification is the outcome of walking the chain.
type AuditVerification struct {
	OK         bool   `json:"ok"`
	Entries    int64  `json:"entries"`
	FirstBadID string `json:"first_bad_id"`
	FirstBad   int64  `json:"-"`
	Reason     string `json:"reason,omitempty"`
}

// ChainVerifier checks entries one at a time, in sequence order.
type ChainVerifier struct {
	Result   AuditVerification
	prevHash string
	prevSeq  int64
}

// NewChainVerifier starts a verification at the genesis of the chain.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{Result: AuditVerification{OK: true}, prevHash: GenesisHash}
}

// Next checks e against the entry before it; it returns false at the first
// entry that does not verify and records why. A deleted or reordered entry
// shows up as a broken link or a gap in seq; an edited one as a wrong hash.
func (v *ChainVerifier) Next(e *AuditEntry) bool {
	if !v.Result.OK {
		return false
	}
	v.Result.Entries++
	fail := func(reason string) bool {
		v.Result.OK, v.Result.FirstBadID, v.Result.FirstBad, v.Result.Reason = false, e.ID, e.Seq, reason
		return false
	}
	switch {
	case e.Seq != v.prevSeq+1:
		return fail("sequence gap: an entry is missing or out of order")
	case e.PrevHash != v.prevHash:
		return fail("prev_hash does not match the previous entry's hash")
	case e.ComputeHash() != e.Hash:
		return fail("hash does not match the entry's content")
	}
	v.prevHash, v.prevSeq = e.Hash, e.Seq
	return true
}

// secretKeys are never written into audit details, whatever their value.
var secretKeys = map[string]bool{
	"password": true, "current_password": true, "new_password": true, "hashed_password": true,
	"password_hash": true, "token": true, "token_hash": true, "secret": true,
	"refresh_token": true, "access_token": true, "jwt_secret": true,
}

// Redacted is what replaces a secret in audit details.
const Redacted = "[redacted]"

// Redact returns a copy of v with the value of every secret key replaced.
func Redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if secretKeys[strings.ToLower(k)] {
				out[k] = Redacted
			} else {
				out[k] = Redact(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = Redact(val)
		}
		return out
	}
	return v
}

// Changes builds audit details holding only the fields that differ between
// before and after (nil before for a creation, nil after for a deletion),
// with secrets redacted.
func Changes(before, after map[string]any) map[string]any {
	if before != nil && after != nil {
		b, a := map[string]any{}, map[string]any{}
		for k, av := range after {
			if bv, ok := before[k]; !ok || !reflect.DeepEqual(bv, av) {
				b[k], a[k] = before[k], av
			}
		}
		before, after = b, a
	}
	d := map[string]any{}
	if before != nil {
		d["before"] = Redact(before)
	}
	if after != nil {
		d["after"] = Redact(after)
	}
	return d
}

// AuditCheckpoint anchors the chain after a prune: entries up to ThroughSeq
// were removed, and the first remaining entry must link to LastHash.
type AuditCheckpoint struct {
	ID         string    `json:"id"`
	ThroughSeq int64     `json:"through_seq"`
	LastHash   string    `json:"last_hash"`
	Pruned     int64     `json:"pruned"`
	CreatedAt  time.Time `json:"created_at"`
	Signature  string    `json:"signature"`
}

// SigningBytes is what a checkpoint's HMAC covers.
func (c *AuditCheckpoint) SigningBytes() []byte {
	return []byte(fmt.Sprintf("quire-audit-checkpoint-v1\n%s\n%d\n%s\n%d\n%s",
		c.ID, c.ThroughSeq, c.LastHash, c.Pruned, c.CreatedAt.UTC().Format(AuditTimeLayout)))
}

// Sign sets the checkpoint's signature: hex(HMAC-SHA256(key, SigningBytes())).
func (c *AuditCheckpoint) Sign(key []byte) { c.Signature = c.mac(key) }

// Verify reports whether the signature was made with key.
func (c *AuditCheckpoint) Verify(key []byte) bool {
	return hmac.Equal([]byte(c.Signature), []byte(c.mac(key)))
}

func (c *AuditCheckpoint) mac(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(c.SigningBytes())
	return hex.EncodeToString(m.Sum(nil))
}

// StartAt makes the verifier continue a chain whose entries up to seq were
// pruned, the last of them with hash.
func (v *ChainVerifier) StartAt(seq int64, hash string) { v.prevSeq, v.prevHash = seq, hash }
