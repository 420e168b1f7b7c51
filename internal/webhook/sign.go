// Package webhook delivers events to HTTP endpoints the way the Standard
// Webhooks specification (https://www.standardwebhooks.com) says: signed
// messages, at least once, with backoff, and never to an address inside
// the network unless allowed. Endpoints and their deliveries are rows in
// the database; each delivery is a job of the durable queue (package jobs).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// secretPrefix marks a signing secret, as the specification suggests.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 32 random bytes in
// standard base64, the form receivers' libraries accept.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("webhook: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key of a whsec_ secret: its base64-decoded bytes.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: malformed signing secret")
	}
	return key, nil
}

// Signature signs one message with every given secret and returns the
// webhook-signature header value: space-separated "v1,<base64 HMAC-SHA256>"
// over "<msg id>.<unix seconds>.<body>". During a rotation two secrets sign,
// so receivers holding either verify.
func Signature(msgID string, at time.Time, body []byte, secrets ...string) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msgID + "." + strconv.FormatInt(at.Unix(), 10) + "."))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
