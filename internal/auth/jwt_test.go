package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time source for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestIssuer(t *testing.T, c *clock) *Issuer {
	t.Helper()
	i, err := NewIssuer(testKey, "quire", "quire-api", 15*time.Minute, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	c := &clock{time.Date(2025, 3, 1, 12, 0, 0, 123_456_789, time.UTC)}
	i := newTestIssuer(t, c)
	for _, sid := range []string{"sess-1", ""} {
		tok, issued, err := i.Issue("user-1", sid)
		if err != nil {
			t.Fatal(err)
		}
		got, err := i.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got != issued {
			t.Fatalf("Verify = %+v, Issue said %+v", got, issued)
		}
		if got.UserID != "user-1" || got.SessionID != sid || got.ID == "" {
			t.Fatalf("claims %+v", got)
		}
		// Microsecond precision is what revocation depends on.
		if want := time.Date(2025, 3, 1, 12, 0, 0, 123_456_000, time.UTC); !got.IssuedAt.Equal(want) {
			t.Fatalf("IssuedAt = %v, want %v", got.IssuedAt, want)
		}
		if want := time.Date(2025, 3, 1, 12, 15, 0, 0, time.UTC); !got.ExpiresAt.Equal(want) {
			t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, want)
		}
	}
	if i.TTL() != 15*time.Minute {
		t.Fatalf("TTL = %v", i.TTL())
	}
}

func TestIssueWireFormat(t *testing.T) {
	c := &clock{time.Unix(1_700_000_000, 250_000_000)}
	tok, _, err := newTestIssuer(t, c).Issue("u", "s")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(decodeSegment(t, strings.Split(tok, ".")[1]), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss": "quire", "aud": "quire-api", "sub": "u", "sid": "s", "typ": "access",
		"iat": 1_700_000_000.0, "exp": 1_700_000_900.0, "iat_us": 1_700_000_000_250_000.0,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("claim %q = %#v, want %#v", k, m[k], v)
		}
	}
	if _, ok := m["nbf"]; ok {
		t.Error("unexpected nbf claim")
	}
	if s, _ := m["jti"].(string); s == "" {
		t.Error("missing jti")
	}
}

func TestIssueDistinctIDs(t *testing.T) {
	i := newTestIssuer(t, &clock{time.Now()})
	_, a, _ := i.Issue("u", "")
	_, b, _ := i.Issue("u", "")
	if a.ID == b.ID {
		t.Fatal("two tokens share a jti")
	}
}

func TestVerifyRejects(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{start}
	i := newTestIssuer(t, c)
	good, _, err := i.Issue("user-1", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	goodClaims := func() map[string]any {
		return map[string]any{
			"iss": "quire", "aud": "quire-api", "sub": "user-1", "typ": "access",
			"iat": start.Unix(), "exp": start.Add(time.Minute).Unix(), "iat_us": start.UnixMicro(), "jti": "x",
		}
	}
	with := func(k string, v any) string {
		m := goodClaims()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return sign(t, jwt.SigningMethodHS256, testKey, m)
	}
	parts := strings.Split(good, ".")

	tests := []struct {
		name  string
		token string
		at    time.Time
	}{
		{"expired", good, start.Add(16 * time.Minute)},
		{"issued in the future", good, start.Add(-time.Minute)},
		{"wrong key", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), goodClaims()), start},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipLast(parts[2]), start},
		{"tampered payload", parts[0] + "." + encodeSegment(withSub(t, parts[1], "admin")) + "." + parts[2], start},
		{"alg none", noneToken(t, goodClaims()), start},
		{"alg none with signature", noneToken(t, goodClaims()) + parts[2], start},
		{"HS512", sign(t, jwt.SigningMethodHS512, testKey, goodClaims()), start},
		{"RS256 header", encodeSegment([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2], start},
		{"wrong issuer", with("iss", "evil"), start},
		{"no issuer", with("iss", nil), start},
		{"wrong audience", with("aud", "other"), start},
		{"audience list without ours", with("aud", []string{"other"}), start},
		{"missing sub", with("sub", nil), start},
		{"empty sub", with("sub", ""), start},
		{"refresh typ", with("typ", "refresh"), start},
		{"missing typ", with("typ", nil), start},
		{"missing exp", with("exp", nil), start},
		{"missing iat", with("iat", nil), start},
		{"missing iat_us", with("iat_us", nil), start},
		{"zero iat_us", with("iat_us", 0), start},
		{"iat_us far from iat", with("iat_us", start.Add(-time.Hour).UnixMicro()), start},
		{"fractional iat_us", with("iat_us", 1.5), start},
		{"opaque secret", "qrt_abc", start},
		{"empty", "", start},
		{"two segments", parts[0] + "." + parts[1], start},
		{"too long", good + strings.Repeat("A", maxTokenLen), start},
		// RFC 8725: registered claims are checked strictly.
		{"exp as a string", with("exp", strconv.FormatInt(start.Add(time.Hour).Unix(), 10)), start},
		{"iat as a string", with("iat", strconv.FormatInt(start.Unix(), 10)), start},
		{"exp as a bool", with("exp", true), start},
		{"exp null", with("exp", json.RawMessage("null")), start},
		{"nbf in the future", with("nbf", start.Add(time.Hour).Unix()), start},
		{"nbf as a string", with("nbf", strconv.FormatInt(start.Add(-time.Hour).Unix(), 10)), start},
		{"missing jti", with("jti", nil), start},
		{"header typ JWT", signHeader(t, testKey, goodClaims(), map[string]any{"typ": "JWT"}), start},
		{"header without typ", signHeader(t, testKey, goodClaims(), map[string]any{"typ": nil}), start},
		{"header with crit", signHeader(t, testKey, goodClaims(), map[string]any{"crit": []string{"exp"}, "exp": 1}), start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = tt.at
			_, err := i.Verify(tt.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify err = %v, want ErrInvalidToken", err)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatal("error text quotes the token")
			}
		})
	}

	// Sanity check for the helpers: an untouched hand-signed token passes.
	c.t = start
	if _, err := i.Verify(sign(t, jwt.SigningMethodHS256, testKey, goodClaims())); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	// An nbf that has passed is accepted, as are non-integer NumericDates
	// (RFC 7519 §2), so the cases above fail for the reason they name.
	if _, err := i.Verify(with("nbf", start.Add(-time.Minute).Unix())); err != nil {
		t.Fatalf("past nbf rejected: %v", err)
	}
	if _, err := i.Verify(with("exp", float64(start.Add(time.Minute).Unix())+0.5)); err != nil {
		t.Fatalf("fractional exp rejected: %v", err)
	}
}

// The header of an issued token names its type explicitly.
func TestIssueHeader(t *testing.T) {
	tok, _, err := newTestIssuer(t, &clock{time.Now()}).Issue("u", "")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(decodeSegment(t, strings.Split(tok, ".")[0]), &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "HS256" || h["typ"] != "at+jwt" || len(h) != 2 {
		t.Fatalf("header = %v", h)
	}
}

func TestVerifyLeeway(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{start}
	i := newTestIssuer(t, c)
	tok, _, _ := i.Issue("u", "")
	c.t = start.Add(15*time.Minute + leeway - time.Second)
	if _, err := i.Verify(tok); err != nil {
		t.Fatalf("token rejected within leeway: %v", err)
	}
}

func TestNewIssuerValidates(t *testing.T) {
	tests := []struct {
		name     string
		key      []byte
		iss, aud string
		ttl      time.Duration
	}{
		{"short key", testKey[:31], "quire", "api", time.Minute},
		{"nil key", nil, "quire", "api", time.Minute},
		{"no issuer", testKey, "", "api", time.Minute},
		{"no audience", testKey, "quire", "", time.Minute},
		{"zero ttl", testKey, "quire", "api", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewIssuer(tt.key, tt.iss, tt.aud, tt.ttl, nil); err == nil {
				t.Fatal("NewIssuer accepted bad input")
			}
		})
	}
	if i, err := NewIssuer(testKey, "quire", "api", time.Minute, nil); err != nil || i.now == nil {
		t.Fatalf("NewIssuer with nil clock: %v", err)
	}
}

// sign signs claims as Quire's issuer would, with header typ at+jwt.
func sign(t *testing.T, m jwt.SigningMethod, key []byte, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signHeader signs claims with HS256 and the header changed as given (nil removes).
func signHeader(t *testing.T, key []byte, claims map[string]any, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noneToken builds an unsigned token by hand, as an attacker would.
func noneToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return encodeSegment([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + encodeSegment(payload) + "."
}

func withSub(t *testing.T, seg, sub string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(decodeSegment(t, seg), &m); err != nil {
		t.Fatal(err)
	}
	m["sub"] = sub
	b, _ := json.Marshal(m)
	return b
}

func flipLast(seg string) string {
	last := seg[len(seg)-2]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return seg[:len(seg)-2] + string(repl) + seg[len(seg)-1:]
}

func encodeSegment(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeSegment(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
