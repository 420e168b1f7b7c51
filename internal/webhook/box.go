package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Box encrypts signing secrets at rest. Quire must sign with the secret, so
// it cannot keep only a hash as it does for API tokens; a copy of the
// database alone (a backup, a dump) does not reveal the secrets. The key is
// derived from the instance key (QUIRE_JWT_SECRET or the generated one):
// rotating that key makes stored secrets unreadable, and the endpoints then
// need a new secret (see docs/events.md).
type Box struct{ aead cipher.AEAD }

// NewBox derives the secret-encryption key from the instance key.
func NewBox(instanceKey []byte) (*Box, error) {
	m := hmac.New(sha256.New, instanceKey)
	m.Write([]byte("quire webhook secret encryption v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts secret; the webhook id is bound in as associated data, so
// a sealed secret copied to another endpoint's row does not open.
func (b *Box) Seal(webhookID, secret string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("webhook: no randomness: " + err.Error())
	}
	return base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(secret), []byte(webhookID)))
}

// Open decrypts what Seal returned for the same webhook.
func (b *Box) Open(webhookID, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("webhook: damaged sealed secret")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(webhookID))
	if err != nil {
		return "", errors.New("webhook: the signing secret cannot be decrypted (was the instance key changed?)")
	}
	return string(plain), nil
}
