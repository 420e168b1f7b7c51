package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// sealer encrypts queued messages at rest. A queued mail may carry a
// secret (a password reset or invitation link); River keeps job rows for a
// day after they finish, and a copy of the database (a backup, a dump)
// must not hand out working links. The key is derived from the instance
// key with a label of its own.
type sealer struct{ aead cipher.AEAD }

func newSealer(instanceKey []byte) (*sealer, error) {
	m := hmac.New(sha256.New, instanceKey)
	m.Write([]byte("quire queued mail encryption v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("mail: no randomness: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, plain, nil)
}

func (s *sealer) open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("mail: damaged queued message")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, errors.New("mail: the queued message cannot be decrypted (was the instance key changed?)")
	}
	return plain, nil
}
