package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerifyRoundTrip(t *testing.T) {
	h := NewHasher(FastArgon2)
	tests := []struct {
		name, password, attempt string
		want                    bool
	}{
		{"same password", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong password", "correct horse battery staple", "correct horse battery stapler", false},
		{"empty password", "", "", true},
		{"empty attempt", "secret", "", false},
		{"unicode", "pässwörd 🔑", "pässwörd 🔑", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := h.Hash(tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("unexpected encoding %q", enc)
			}
			got, err := h.Verify(enc, tt.attempt)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := NewHasher(FastArgon2)
	a, _ := h.Hash("same")
	b, _ := h.Hash("same")
	if a == b {
		t.Fatal("two hashes of the same password are identical")
	}
	saltOf := func(s string) string { return strings.Split(s, "$")[4] }
	if saltOf(a) == saltOf(b) {
		t.Fatal("salt reused")
	}
}

// A hash made under other parameters verifies with the parameters it carries.
func TestVerifyUsesEncodedParams(t *testing.T) {
	old := FastArgon2
	old.Memory, old.Iterations, old.KeyLen = 32, 2, 16
	enc, _ := NewHasher(old).Hash("pw")
	ok, err := NewHasher(FastArgon2).Verify(enc, "pw")
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(FastArgon2)
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	const key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	// The fixture itself is well formed, so each case below fails for its own reason.
	if _, err := h.Verify("$argon2id$v=19$m=64,t=1,p=1$"+salt+"$"+key, "pw"); err != nil {
		t.Fatalf("control hash rejected: %v", err)
	}
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$"},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"negative m", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"huge m", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"m overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"huge t", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key},
		{"zero t", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero p", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"p overflows uint8", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"m below 8 per lane", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"bad salt base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"bad key base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$%%%"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5"},
		{"huge key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(tt.enc, "pw")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformedHash", ok, err)
			}
			if !h.NeedsRehash(tt.enc) {
				t.Fatal("NeedsRehash = false for a malformed hash")
			}
		})
	}
}

func TestDefaultArgon2MeetsOWASP(t *testing.T) {
	p := DefaultArgon2
	if p.Memory < 19456 || p.Iterations < 2 || p.Parallelism < 1 {
		t.Fatalf("DefaultArgon2 %+v is below OWASP's m=19456,t=2,p=1", p)
	}
	if p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("DefaultArgon2 %+v: salt or key too short", p)
	}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(FastArgon2)
	with := func(f func(*Argon2Params)) string {
		p := FastArgon2
		f(&p)
		enc, err := NewHasher(p).Hash("pw")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	tests := []struct {
		name string
		enc  string
		want bool
	}{
		{"same params", with(func(*Argon2Params) {}), false},
		{"less memory", with(func(p *Argon2Params) { p.Memory = 32 }), true},
		{"more memory", with(func(p *Argon2Params) { p.Memory = 128 }), false},
		{"more iterations", with(func(p *Argon2Params) { p.Iterations = 2 }), false},
		{"shorter key", with(func(p *Argon2Params) { p.KeyLen = 16 }), true},
		{"shorter salt", with(func(p *Argon2Params) { p.SaltLen = 8 }), true},
		{"other parallelism", with(func(p *Argon2Params) { p.Parallelism = 2 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.NeedsRehash(tt.enc); got != tt.want {
				t.Fatalf("NeedsRehash = %v, want %v", got, tt.want)
			}
		})
	}
	stronger := NewHasher(Argon2Params{Memory: 128, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	if !stronger.NeedsRehash(with(func(*Argon2Params) {})) {
		t.Fatal("hash with fewer iterations than the hasher should need a rehash")
	}
}

func TestVerifyDummyDoesNotPanic(t *testing.T) {
	h := NewHasher(FastArgon2)
	h.VerifyDummy("anything")
	if ok, err := h.Verify(h.dummy, "anything"); ok || err != nil {
		t.Fatalf("dummy hash: Verify = %v, %v; want false, nil", ok, err)
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewHasher accepted zero parallelism")
		}
	}()
	NewHasher(Argon2Params{Memory: 64, Iterations: 1, SaltLen: 16, KeyLen: 32})
}
