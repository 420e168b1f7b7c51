package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is wrapped by every error Issuer.Verify returns.
var ErrInvalidToken = errors.New("invalid token")

const (
	minKeyLen256 = 32 // HS256 keys shorter than the hash output weaken it
	tokenType    = "access"
	// headerType is the JOSE "typ" of our access tokens (RFC 9068 explicit
	// typing, RFC 8725 §3.11): a JWT made for another purpose, even one
	// signed with the same key, is not mistaken for one of ours.
	headerType = "at+jwt"
	// leeway absorbs clock skew between servers; it is kept small because it
	// also extends every token's life.
	leeway = 5 * time.Second
	// maxTokenLen bounds the work done on hostile input; our tokens are
	// about 400 bytes.
	maxTokenLen = 4096
)

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	UserID    string    // "sub"
	SessionID string    // "sid": refresh session it belongs to; empty for none
	IssuedAt  time.Time // from "iat_us" (Unix microseconds, the precision of last_token_issue), UTC
	ExpiresAt time.Time // from "exp", UTC
	ID        string    // "jti", random
}

// Issuer signs and verifies HS256 access tokens.
type Issuer struct {
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	verified tokenCache
}

// NewIssuer returns an Issuer. key must be at least 32 bytes; now defaults to
// time.Now when nil.
func NewIssuer(key []byte, issuer, audience string, ttl time.Duration, now func() time.Time) (*Issuer, error) {
	if len(key) < minKeyLen256 {
		return nil, fmt.Errorf("auth: signing key is %d bytes, need at least %d", len(key), minKeyLen256)
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("auth: issuer and audience must not be empty")
	}
	if ttl <= 0 {
		return nil, errors.New("auth: token TTL must be positive")
	}
	if now == nil {
		now = time.Now
	}
	i := &Issuer{
		key:      append([]byte(nil), key...), // callers may reuse their slice
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		now:      now,
	}
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	return i, nil
}

// TTL is the lifetime of the tokens i issues.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue returns a signed access token for userID, tied to the refresh session
// sessionID (may be empty), and the claims it carries.
func (i *Issuer) Issue(userID, sessionID string) (string, AccessClaims, error) {
	if userID == "" {
		return "", AccessClaims{}, errors.New("auth: empty user ID")
	}
	now := i.now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", AccessClaims{}, fmt.Errorf("auth: reading token ID: %w", err)
	}
	c := tokenClaims{
		Issuer:     i.issuer,
		Audience:   i.audience,
		Subject:    userID,
		IssuedAt:   newDate(now),
		ExpiresAt:  newDate(now.Add(i.ttl)),
		ID:         base64.RawURLEncoding.EncodeToString(jti[:]),
		Type:       tokenType,
		SessionID:  sessionID,
		IssuedAtUs: now.UnixMicro(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["typ"] = headerType
	signed, err := t.SignedString(i.key)
	if err != nil {
		return "", AccessClaims{}, fmt.Errorf("auth: signing token: %w", err)
	}
	return signed, c.access(), nil
}

// Verify checks token's signature, issuer, audience, times and type and
// returns its claims. Every registered claim is checked strictly (RFC 8725):
// alg pinned to HS256, header typ "at+jwt", no "crit" header, iss and aud
// ours, exp and iat required, exp, iat and nbf JSON numbers (never strings),
// nbf honoured, sub and jti present. Every error wraps ErrInvalidToken and
// never quotes the token.
func (i *Issuer) Verify(token string) (AccessClaims, error) {
	if len(token) > maxTokenLen {
		return AccessClaims{}, invalid("too long")
	}
	if e, ok := i.verified.get(token); ok {
		if err := e.checkTimes(i.now()); err != nil {
			// Mostly an expired token, which will not pass again; should
			// the clock have gone back, a full verification is as good.
			i.verified.remove(token)
			return AccessClaims{}, err
		}
		return e.claims, nil
	}
	var c tokenClaims
	_, err := i.parser.ParseWithClaims(token, &c, i.keyFunc)
	if err != nil {
		return AccessClaims{}, invalid(reason(err))
	}
	switch {
	case c.Subject == "":
		return AccessClaims{}, invalid("missing subject")
	case c.ID == "":
		return AccessClaims{}, invalid("missing jti")
	case c.Type != tokenType:
		return AccessClaims{}, invalid("not an access token")
	case c.IssuedAt == nil:
		return AccessClaims{}, invalid("missing iat")
	case c.IssuedAtUs <= 0:
		return AccessClaims{}, invalid("missing iat_us")
	case c.IssuedAtUs/1_000_000 != c.IssuedAt.Unix():
		// iat was checked by the parser; iat_us is what revocation reads,
		// so it must describe the same instant.
		return AccessClaims{}, invalid("iat_us disagrees with iat")
	}
	a := c.access()
	e := cachedToken{claims: a, exp: c.ExpiresAt.Time, iat: c.IssuedAt.Time}
	if c.NotBefore != nil {
		e.nbf = c.NotBefore.Time
	}
	i.verified.put(token, e)
	return a, nil
}

// keyFunc returns the key only for HMAC tokens with our header. WithValidMethods
// already pins HS256; this second check keeps the key from ever reaching
// another algorithm's verifier should the options change.
func (i *Issuer) keyFunc(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errors.New("unexpected signing method")
	}
	if typ, _ := t.Header["typ"].(string); typ != headerType {
		return nil, errHeader
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: extensions we do not understand must be refused.
		return nil, errHeader
	}
	return i.key, nil
}

var errHeader = errors.New("unexpected header")

func invalid(why string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, why) }

// reason maps a jwt error to a fixed phrase, so error text never carries
// anything derived from the token.
func reason(err error) string {
	for _, r := range []struct {
		err error
		why string
	}{
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenUsedBeforeIssued, "issued in the future"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
		{jwt.ErrTokenRequiredClaimMissing, "missing required claim"},
		{jwt.ErrTokenSignatureInvalid, "bad signature or algorithm"},
		{jwt.ErrTokenMalformed, "malformed"},
		{jwt.ErrTokenNotValidYet, "not valid yet"},
		{errHeader, "wrong header typ or crit"},
	} {
		if errors.Is(err, r.err) {
			return r.why
		}
	}
	return "rejected"
}

// tokenClaims is the wire form. It implements jwt.Claims itself rather than
// embedding jwt.RegisteredClaims so "aud" is a plain string without touching
// the package-global jwt.MarshalSingleStringAsArray.
type tokenClaims struct {
	Issuer     string      `json:"iss"`
	Audience   string      `json:"aud"`
	Subject    string      `json:"sub"`
	IssuedAt   *strictDate `json:"iat"`
	ExpiresAt  *strictDate `json:"exp"`
	NotBefore  *strictDate `json:"nbf,omitempty"`
	ID         string      `json:"jti"`
	Type       string      `json:"typ"`
	SessionID  string      `json:"sid,omitempty"`
	IssuedAtUs int64       `json:"iat_us"`
}

func (c tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.date(), nil }
func (c tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.date(), nil }
func (c tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.date(), nil }
func (c tokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c tokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c tokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}

func (c tokenClaims) access() AccessClaims {
	a := AccessClaims{
		UserID:    c.Subject,
		SessionID: c.SessionID,
		IssuedAt:  time.UnixMicro(c.IssuedAtUs).UTC(),
		ID:        c.ID,
	}
	if c.ExpiresAt != nil {
		a.ExpiresAt = c.ExpiresAt.UTC()
	}
	return a
}

// strictDate is a NumericDate that must be a JSON number. jwt.NumericDate
// also accepts a string of digits ("exp":"9999999999"), which RFC 7519 does
// not allow and which a validator must not read as a time.
type strictDate struct{ jwt.NumericDate }

func newDate(t time.Time) *strictDate { return &strictDate{*jwt.NewNumericDate(t)} }

func (d *strictDate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !(b[0] == '-' || '0' <= b[0] && b[0] <= '9') {
		return errors.New("a NumericDate must be a JSON number")
	}
	return d.NumericDate.UnmarshalJSON(b)
}

// date is the jwt form of d; nil when the claim is absent.
func (d *strictDate) date() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}
