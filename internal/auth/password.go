package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id cost parameters. Memory is in KiB.
type Argon2Params struct {
	Memory      uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// DefaultArgon2 is OWASP's minimum recommendation for argon2id (m=19456 KiB,
// t=2, p=1), salt 16, key 32.
var DefaultArgon2 = Argon2Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// FastArgon2 is for tests only: tiny memory so suites with the race detector
// stay quick.
var FastArgon2 = Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash. A corrupted or hostile row
// must not make a login request allocate gigabytes or spin for minutes.
const (
	maxMemory     = 1 << 20 // KiB, i.e. 1 GiB
	maxIterations = 100
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 128
)

// ErrMalformedHash is wrapped by every error Verify returns for a stored hash
// it refuses to use.
var ErrMalformedHash = errors.New("malformed password hash")

// b64 is the PHC encoding (standard alphabet, no padding). Strict rejects
// non-canonical trailing bits so one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Hasher hashes and verifies passwords with argon2id.
type Hasher struct {
	params Argon2Params
	dummy  string
}

// NewHasher returns a Hasher using p for new hashes. It panics if p is outside
// the bounds Verify accepts, since such a Hasher could never check its own
// hashes; that is a programming error, not a runtime condition.
func NewHasher(p Argon2Params) *Hasher {
	if err := p.check(); err != nil {
		panic("auth: NewHasher: " + err.Error())
	}
	h := &Hasher{params: p}
	// The dummy is a hash of a password nobody knows, computed with the same
	// parameters as real hashes so VerifyDummy costs what Verify costs.
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		panic("auth: NewHasher: " + err.Error())
	}
	h.dummy = dummy
	return h
}

// Hash returns password's argon2id hash as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (h *Hasher) Hash(password string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded. It derives the key with
// the parameters stored in encoded, so hashes made under older parameters
// keep working. A malformed hash or out-of-bounds parameters give an error
// wrapping ErrMalformedHash, before any expensive work is done.
func (h *Hasher) Verify(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyDummy costs as much as a Verify against a hash made by h. Call it
// when the account is unknown so that response timing does not reveal
// whether an email is registered.
func (h *Hasher) VerifyDummy(password string) {
	_, _ = h.Verify(h.dummy, password)
}

// NeedsRehash reports whether encoded should be replaced by a fresh hash
// from h: it is malformed, or its memory, iterations, salt or key length are
// below h's. Parallelism is ignored: it changes the latency on our side, not
// the total work an attacker must do.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	return p.Memory < h.params.Memory ||
		p.Iterations < h.params.Iterations ||
		p.SaltLen < h.params.SaltLen ||
		p.KeyLen < h.params.KeyLen
}

// check returns an error when p is outside the bounds Verify accepts.
func (p Argon2Params) check() error {
	switch {
	case p.Parallelism < 1:
		return errors.New("parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		// argon2 needs 8 KiB per lane; below that it would silently raise m.
		return fmt.Errorf("memory %d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Parallelism), maxMemory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d out of range [1, %d]", p.Iterations, maxIterations)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// decodeHash parses a PHC argon2id string and checks its parameters. Error
// texts never quote the hash itself.
func decodeHash(encoded string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	fail := func(why string) (Argon2Params, []byte, []byte, error) {
		return p, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	m, t, par, ok := parseCost(parts[3])
	if !ok {
		return fail("bad m,t,p field")
	}
	// Reject oversized fields before decoding so a huge string costs nothing.
	if len(parts[4]) > b64.EncodedLen(maxSaltLen) || len(parts[5]) > b64.EncodedLen(maxKeyLen) {
		return fail("salt or key too long")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fail("bad salt encoding")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return fail("bad key encoding")
	}
	p = Argon2Params{Memory: m, Iterations: t, Parallelism: par,
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.check(); err != nil {
		return fail(err.Error())
	}
	return p, salt, key, nil
}

// parseCost parses "m=<uint>,t=<uint>,p=<uint>" in exactly that order.
func parseCost(s string) (m, t uint32, p uint8, ok bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, false
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(fields[i], name)
		if !found {
			return 0, 0, 0, false
		}
		bits := 32
		if i == 2 {
			bits = 8
		}
		v, err := strconv.ParseUint(digits, 10, bits)
		if err != nil {
			return 0, 0, 0, false
		}
		vals[i] = v
	}
	return uint32(vals[0]), uint32(vals[1]), uint8(vals[2]), true
}
