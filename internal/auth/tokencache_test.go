package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A cached token is refused at the same instants, with the same error, as
// by an Issuer that has never seen it: exp and iat are checked with the
// leeway on every hit, even when the clock goes back.
func TestVerifyCachedTimes(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{start}
	i := newTestIssuer(t, c)
	tok, issued, err := i.Issue("user-1", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	exp := start.Add(15 * time.Minute)
	for _, at := range []time.Time{
		start, exp.Add(leeway - time.Nanosecond), exp.Add(leeway), exp.Add(time.Hour),
		start, start.Add(-leeway), start.Add(-leeway - time.Nanosecond), start,
	} {
		if _, err := i.Verify(tok); err != nil { // cached, if it was not
			t.Fatal(err)
		}
		c.t = at
		got, err := i.Verify(tok)
		fresh := newTestIssuer(t, &clock{at})
		want, wantErr := fresh.Verify(tok)
		if got != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("at %v: cached Verify = %+v, %v; uncached = %+v, %v", at, got, err, want, wantErr)
		}
		if err == nil && got != issued {
			t.Fatalf("at %v: claims %+v, issued %+v", at, got, issued)
		}
		c.t = start
	}
	c.t = exp.Add(leeway)
	if _, err := i.Verify(tok); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired cached token: err = %v", err)
	}
}

// nbf is rechecked on a hit too, should the clock go back.
func TestVerifyCachedNotBefore(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{start.Add(2 * time.Minute)}
	i := newTestIssuer(t, c)
	tok := sign(t, jwt.SigningMethodHS256, testKey, map[string]any{
		"iss": "quire", "aud": "quire-api", "sub": "u", "typ": "access", "jti": "x",
		"iat": start.Unix(), "iat_us": start.UnixMicro(), "exp": start.Add(time.Hour).Unix(),
		"nbf": start.Add(time.Minute).Unix(),
	})
	if _, err := i.Verify(tok); err != nil {
		t.Fatal(err)
	}
	c.t = start
	if _, err := i.Verify(tok); err == nil || !strings.Contains(err.Error(), "not valid yet") {
		t.Fatalf("cached token before its nbf: err = %v", err)
	}
}

// A token that differs from a cached one in any byte misses the cache and is
// verified in full.
func TestVerifyCachedTampered(t *testing.T) {
	c := &clock{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	i := newTestIssuer(t, c)
	good, _, err := i.Issue("user-1", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Verify(good); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"signature": parts[0] + "." + parts[1] + "." + flipLast(parts[2]),
		"payload":   parts[0] + "." + encodeSegment(withSub(t, parts[1], "admin")) + "." + parts[2],
		"truncated": good[:len(good)-1],
		"extended":  good + "A",
	} {
		if _, err := i.Verify(tok); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%s: tampered token accepted (err %v)", name, err)
		}
	}
	if n := i.verified.len(); n != 1 {
		t.Fatalf("cache holds %d tokens, want only the genuine one", n)
	}
	if got, err := i.Verify(good); err != nil || got.UserID != "user-1" {
		t.Fatalf("genuine token after tampered ones: %+v, %v", got, err)
	}
}

// Failures are not cached, and the cache never holds more than
// maxCachedTokens tokens, the latest verified always among them.
func TestVerifyCacheBounded(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{start}
	i := newTestIssuer(t, c)
	tok, _, _ := i.Issue("u", "")
	c.t = start.Add(time.Hour)
	if _, err := i.Verify(tok); err == nil {
		t.Fatal("expired token accepted")
	}
	if n := i.verified.len(); n != 0 {
		t.Fatalf("a failure was cached: %d entries", n)
	}
	c.t = start
	for n := 0; n < maxCachedTokens+50; n++ {
		tok, _, err := i.Issue("u", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := i.Verify(tok); err != nil {
			t.Fatal(err)
		}
		if _, ok := i.verified.get(tok); !ok {
			t.Fatalf("token %d not cached", n)
		}
	}
	if n := i.verified.len(); n != maxCachedTokens {
		t.Fatalf("cache holds %d tokens, want %d", n, maxCachedTokens)
	}
}

// Verify may be called from many goroutines at once (run with -race).
func TestVerifyCacheConcurrent(t *testing.T) {
	i := newTestIssuer(t, &clock{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)})
	var toks []string
	for range 8 {
		tok, _, _ := i.Issue("u", "")
		toks = append(toks, tok)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				if _, err := i.Verify(toks[(g+n)%len(toks)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerify(b *testing.B) {
	i, err := NewIssuer(testKey, "quire", "quire-api", 15*time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, _, _ := i.Issue("0190a5e4-7c3b-7d2e-8f10-123456789abc", "0190a5e4-7c3b-7d2e-8f10-123456789abd")
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			i.verified.remove(tok)
			if _, err := i.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := i.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
