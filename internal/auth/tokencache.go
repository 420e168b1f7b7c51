package auth

import (
	"strings"
	"sync"
	"time"
)

// maxCachedTokens bounds the verified-token cache: a few MB at most, since
// only tokens we signed get in and ours are about 400 bytes.
const maxCachedTokens = 4096

// tokenCache remembers tokens that passed Verify, so that a client sending
// the same bearer token on every request costs one map lookup instead of an
// HMAC and two JSON decodes each time. Only the pure function of the token's
// bytes is cached: signature, header and claims checks. The checks against
// the clock are redone on every hit, exactly as the parser does them, and
// revocation and roles are the caller's business, after Verify, every time.
// The key is the whole token, so any other byte string, a tampered copy of a
// cached token included, misses and is verified in full.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedToken
}

type cachedToken struct {
	claims        AccessClaims
	exp, iat, nbf time.Time // as the parser compared them; nbf zero when absent
}

func (c *tokenCache) get(token string) (cachedToken, bool) {
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	return e, ok
}

// put adds a verified token, first evicting an arbitrary entry (the one Go's
// randomised map iteration yields first) when the cache is full.
func (c *tokenCache) put(token string, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedToken)
	}
	if _, ok := c.m[token]; !ok && len(c.m) >= maxCachedTokens {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	// A copy, so that the entry does not pin whatever larger string (a
	// request header) the token was cut from.
	c.m[strings.Clone(token)] = e
}

func (c *tokenCache) remove(token string) {
	c.mu.Lock()
	delete(c.m, token)
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// checkTimes is the parser's time validation (jwt.Validator with our
// leeway) for a cached token: the same comparisons, and the same error as
// reason gives when more than one fails.
func (e *cachedToken) checkTimes(now time.Time) error {
	switch {
	case !now.Before(e.exp.Add(leeway)):
		return invalid("expired")
	case now.Before(e.iat.Add(-leeway)):
		return invalid("issued in the future")
	case !e.nbf.IsZero() && now.Before(e.nbf.Add(-leeway)):
		return invalid("not valid yet")
	}
	return nil
}
