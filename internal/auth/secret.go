package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// secretBytes is the entropy of an opaque secret: 256 bits.
const secretBytes = 32

// NewSecret returns prefix + base64url(no padding) of 32 random bytes, and
// its hash. The prefix (e.g. "qrt_") lets humans and secret scanners tell
// token kinds apart; it adds no entropy.
func NewSecret(prefix string) (plain, hash string, err error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("auth: reading secret: %w", err)
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return plain, HashSecret(plain), nil
}

// HashSecret is hex(SHA-256(plain)). Secrets have 256 bits of entropy, so a
// fast hash is the right tool (no salt or stretching needed: there is nothing
// to guess); only the hash is stored, so a leaked table grants nothing.
func HashSecret(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}
