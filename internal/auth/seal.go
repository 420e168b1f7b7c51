package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// Sealer encrypts secrets Quire must read back (a TOTP key, a queued mail
// holding a link) with AES-256-GCM under a key derived from the instance
// key and a label, so that a copy of the database alone (a backup, a dump)
// does not reveal them, and a value sealed for one use does not open for
// another.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the key for label from the instance key.
func NewSealer(instanceKey []byte, label string) (*Sealer, error) {
	m := hmac.New(sha256.New, instanceKey)
	m.Write([]byte(label))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; ad (may be nil) is bound in as associated data.
func (s *Sealer) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, plain, ad)
}

// ErrUnsealable is returned for a damaged value or one sealed under
// another key (the instance key changed).
var ErrUnsealable = errors.New("the sealed value cannot be decrypted (damaged, or the instance key changed)")

// Open decrypts what Seal returned with the same ad.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrUnsealable
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrUnsealable
	}
	return plain, nil
}
