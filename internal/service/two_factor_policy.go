package service

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// RequireTwoFactorSetting is the setting that lists the roles whose users
// must sign in with a second factor, e.g. ["admin", "editor"]. Users of
// those roles without one can only enrol until they have.
const RequireTwoFactorSetting = "auth.require_two_factor"

// twoFactorPolicy caches the setting for AccountCacheTTL: it is read on
// every authenticated request.
type twoFactorPolicy struct {
	mu    sync.Mutex
	roles []quire.Role
	at    time.Time
}

func (pol *twoFactorPolicy) get(ctx context.Context, r *store.Tx) []quire.Role {
	pol.mu.Lock()
	defer pol.mu.Unlock()
	if !pol.at.IsZero() && time.Since(pol.at) < AccountCacheTTL {
		return pol.roles
	}
	pol.roles, pol.at = nil, time.Now()
	st, err := r.Setting(ctx, RequireTwoFactorSetting)
	if err != nil {
		return nil
	}
	// A value that is not a list of role names requires nothing.
	var roles []quire.Role
	if json.Unmarshal(st.Value, &roles) == nil {
		pol.roles = roles
	}
	return pol.roles
}

// mustEnrol reports whether u's role requires a second factor that u has
// not set up. Users of other roles cost nothing more than the cached
// setting.
func (a *Auth) mustEnrol(ctx context.Context, r *store.Tx, u *quire.User) (bool, error) {
	if !slices.Contains(a.policy.get(ctx, r), u.Role) {
		return false, nil
	}
	t, err := r.TOTP(ctx, u.ID)
	if err == nil && t.ConfirmedAt != nil {
		return false, nil
	}
	if err != nil && quire.ErrorCode(err) != quire.ENOTFOUND {
		return false, err
	}
	// A passkey is a second factor too.
	n, err := a.countPasskeys(ctx, r, u.ID)
	return n == 0, err
}
