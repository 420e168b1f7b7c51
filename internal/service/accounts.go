package service

import (
	"context"
	"sync"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// AccountCacheTTL is how long Authenticate trusts what it read about a
// user (role, active, last_token_issue) or a login session (revoked):
// the writes that change them forget it at once in this process, so the
// TTL only bounds how late another process (another node, the `quire
// user` command) is seen.
const AccountCacheTTL = 2 * time.Second

// maxCachedAccounts bounds each map; past it the cache starts over.
const maxCachedAccounts = 10_000

// AccountCache spares authenticated requests their per-request reads of
// the user and the session, which revocation needs, for AccountCacheTTL.
// A nil *AccountCache caches nothing. Safe for concurrent use.
type AccountCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	// gen counts Forget calls: a read that began before one must not
	// store what it read, which may predate the change.
	gen      uint64
	users    map[string]cachedUser
	sessions map[string]cachedSession
}

type cachedUser struct {
	u  quire.User
	at time.Time
}

type cachedSession struct {
	s  store.Session
	at time.Time
}

// NewAccountCache returns a cache keeping entries for ttl (zero or less:
// nothing is cached). now defaults to time.Now when nil.
func NewAccountCache(ttl time.Duration, now func() time.Time) *AccountCache {
	if now == nil {
		now = time.Now
	}
	return &AccountCache{ttl: ttl, now: now, users: map[string]cachedUser{}, sessions: map[string]cachedSession{}}
}

// Forget drops everything. The services call it after committing any
// change to a user's role, activity, password or tokens, or to a
// session. Such changes are rare, so dropping all is simpler than
// tracking which entries they touch, and as cheap.
func (c *AccountCache) Forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.users)
	clear(c.sessions)
}

// user returns user id, from the cache when it was read within the TTL.
func (c *AccountCache) user(ctx context.Context, r *store.Tx, id string) (*quire.User, error) {
	if c == nil || c.ttl <= 0 {
		return r.User(ctx, id)
	}
	c.mu.Lock()
	now := c.now()
	if e, ok := c.users[id]; ok && now.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		u := e.u
		return &u, nil
	}
	gen := c.gen
	c.mu.Unlock()
	u, err := r.User(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if len(c.users) >= maxCachedAccounts {
			clear(c.users)
		}
		c.users[id] = cachedUser{u: *u, at: now}
	}
	return u, nil
}

// session returns session id, from the cache when it was read within the TTL.
func (c *AccountCache) session(ctx context.Context, r *store.Tx, id string) (*store.Session, error) {
	if c == nil || c.ttl <= 0 {
		return r.Session(ctx, id)
	}
	c.mu.Lock()
	now := c.now()
	if e, ok := c.sessions[id]; ok && now.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		s := e.s
		return &s, nil
	}
	gen := c.gen
	c.mu.Unlock()
	s, err := r.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if len(c.sessions) >= maxCachedAccounts {
			clear(c.sessions)
		}
		c.sessions[id] = cachedSession{s: *s, at: now}
	}
	return s, nil
}
