package auth

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	for _, prefix := range []string{"qrt_", "qat_", ""} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			plain, hash, err := NewSecret(prefix)
			if err != nil {
				t.Fatal(err)
			}
			body, ok := strings.CutPrefix(plain, prefix)
			if !ok {
				t.Fatalf("%q lost prefix %q", plain, prefix)
			}
			if len(body) != 43 { // 32 bytes, base64 without padding
				t.Fatalf("body length %d, want 43", len(body))
			}
			if raw, err := base64.RawURLEncoding.DecodeString(body); err != nil || len(raw) != 32 {
				t.Fatalf("body is not 32 bytes of base64url: %v", err)
			}
			if hash != HashSecret(plain) {
				t.Fatal("returned hash differs from HashSecret(plain)")
			}
			other, otherHash, _ := NewSecret(prefix)
			if other == plain || otherHash == hash {
				t.Fatal("two secrets are equal")
			}
		})
	}
}

func TestHashSecret(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	tests := []struct{ in, want string }{
		// SHA-256 test vectors.
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		got := HashSecret(tt.in)
		if got != tt.want || !hexRE.MatchString(got) {
			t.Errorf("HashSecret(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if HashSecret(tt.in) != got {
			t.Errorf("HashSecret(%q) not stable", tt.in)
		}
	}
	if HashSecret("qrt_a") == HashSecret("qrt_b") {
		t.Error("different secrets hash alike")
	}
}
