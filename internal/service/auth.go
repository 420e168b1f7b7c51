package service

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Secret prefixes make leaked credentials recognisable (and scannable).
const (
	RefreshPrefix  = "qrt_"
	APITokenPrefix = "qpat_"
)

// Auth logs users in and out and turns bearer credentials into principals.
type Auth struct {
	db         *store.DB
	hasher     *auth.Hasher
	issuer     *auth.Issuer
	refreshTTL time.Duration
	// byPair counts failed sign-ins per (account, client address), byAddr
	// per client address: past their limits the answer is 429. byAccount
	// counts an account's failures from everywhere, which only slows its
	// sign-ins down (accountDelay). byUser limits password re-checks of a
	// signed-in user (password change, turning two-factor off).
	byPair     *auth.Throttle
	byAddr     *auth.Throttle
	byAccount  *auth.Throttle
	byUser     *auth.Throttle
	delayAfter int
	sleep      func(context.Context, time.Duration)
	// totp opens the sealed TOTP secrets.
	totp *auth.Sealer
	// webauthn is the passkey relying party; nil when passkeys are off.
	webauthn *webauthn.WebAuthn
	// passkeyBegins counts passwordless sign-ins begun per client address:
	// each stores a ceremony before anyone is known.
	passkeyBegins *auth.Throttle
	policy        twoFactorPolicy
	refusals      *refusals
	accounts      *AccountCache
	log           *slog.Logger
}

// AuthConfig gathers what the Auth service needs.
type AuthConfig struct {
	Hasher          *auth.Hasher
	Issuer          *auth.Issuer
	RefreshTTL      time.Duration
	AccountFailures int
	AddrFailures    int
	Window          time.Duration
	// Accounts caches what authentication reads; shared with Users, whose
	// writes forget it. Nil caches nothing.
	Accounts *AccountCache
	// TOTP seals authenticator secrets (NewTOTPSealer).
	TOTP *auth.Sealer
	// WebAuthn is the passkey relying party (NewWebAuthn); nil: passkeys off.
	WebAuthn *webauthn.WebAuthn
	// Sleep waits out sign-in delays; tests replace it. Nil: a timer.
	Sleep func(context.Context, time.Duration)
	// Failures gives each login throttle (scope "pair", "addr", "account",
	// "user") where it counts: the database on PostgreSQL, so that every
	// node counts the same failures. Nil counts in this process's memory.
	Failures func(scope string) auth.Failures
	Log      *slog.Logger
}

// NewAuth returns the auth service.
func NewAuth(db *store.DB, c AuthConfig) *Auth {
	failures := c.Failures
	if failures == nil {
		failures = func(string) auth.Failures { return auth.NewMemoryFailures(100_000) }
	}
	a := &Auth{
		db: db, hasher: c.Hasher, issuer: c.Issuer, refreshTTL: c.RefreshTTL, log: c.Log, accounts: c.Accounts,
		byPair:     auth.NewThrottle(c.AccountFailures, c.Window, failures("pair"), nil),
		byAddr:     auth.NewThrottle(c.AddrFailures, c.Window, failures("addr"), nil),
		byAccount:  auth.NewThrottle(2*c.AccountFailures+maxDelayDoublings, c.Window, failures("account"), nil),
		byUser:     auth.NewThrottle(c.AccountFailures, c.Window, failures("user"), nil),
		delayAfter: 2 * c.AccountFailures,
		sleep:      c.Sleep, totp: c.TOTP, webauthn: c.WebAuthn,
		passkeyBegins: auth.NewThrottle(max(c.AddrFailures, 1)*passkeyBeginsPerFailure, c.Window, auth.NewMemoryFailures(100_000), nil),
		refusals:      newRefusals(nil),
	}
	if a.sleep == nil {
		a.sleep = sleepCtx
	}
	return a
}

// TokenPair is what a login, refresh or password change returns.
type TokenPair struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    int         `json:"expires_in"`
	User         *quire.User `json:"user"`
	// TwoFactorEnrolment: the user's role requires two-factor sign-in and
	// they have none; until they enrol, only enrolment routes answer.
	TwoFactorEnrolment bool `json:"two_factor_enrolment_required,omitempty"`
}

var errBadCredentials = quire.Errorf(quire.EUNAUTHORIZED, "invalid email or password")
var errBadToken = quire.Errorf(quire.EUNAUTHORIZED, "the token is invalid or expired")

func tooMany(wait time.Duration) error {
	e := quire.Errorf(quire.ETOOMANY, "too many failed logins; try again later")
	e.RetryAfter = int(math.Ceil(wait.Seconds()))
	return e
}

// throttled is the answer to a login the throttle stops, or its error.
func throttled(wait time.Duration, err error) error {
	if err != nil {
		return err
	}
	return tooMany(wait)
}

// Login checks email and password and returns tokens; an account with a
// second factor gets an error here. SignIn (API) and BrowserSignIn (admin)
// are the full flow.
func (a *Auth) Login(ctx context.Context, email, password string) (*TokenPair, error) {
	res, err := a.BrowserSignIn(ctx, email, password)
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		return nil, quire.Errorf(quire.EFORBIDDEN, "this account signs in with a second factor: use POST /api/v1/auth/login and then /api/v1/auth/login/2fa")
	}
	return res.Tokens, nil
}

// BrowserSignIn is the admin's first step: tokens, or a challenge for an
// account with a second factor (answered with CompleteSignIn). As with
// SignIn, a user who must still enrol a second factor gets a session
// marked TwoFactorEnrolment, in which the admin shows only its enrolment
// screens (AuthenticateSession sets Principal.MustEnrol).
func (a *Auth) BrowserSignIn(ctx context.Context, email, password string) (*SignInResult, error) {
	return a.signIn(ctx, email, password)
}

// SignInResult is the first step of a sign-in: tokens, or for an account
// with a second factor a challenge to answer (never tokens).
type SignInResult struct {
	Tokens    *TokenPair
	Challenge *ChallengeResult
}

// SignIn checks email and password. An unknown email and a wrong password
// get the same answer after the same amount of hashing work. Failures are
// throttled per (account, client address) pair and per client address
// (429); failures of one account across all addresses only slow its
// attempts down (accountDelay), so that nobody can lock its owner out.
func (a *Auth) SignIn(ctx context.Context, email, password string) (*SignInResult, error) {
	return a.signIn(ctx, email, password)
}

// signIn is SignIn and BrowserSignIn: the same since the admin has its
// own enrolment screens.
func (a *Auth) signIn(ctx context.Context, email, password string) (*SignInResult, error) {
	email = quire.NormalizeEmail(email)
	ip := MetaFrom(ctx).IP
	// No stored address is this long or holds NUL or invalid UTF-8 (which
	// PostgreSQL would refuse as a query parameter): the same answer as for
	// an unknown email, without a lookup.
	if len(email) > quire.MaxEmailLen || len(password) > 4*quire.MaxPasswordLen ||
		!utf8.ValidString(email) || strings.ContainsRune(email, 0) {
		return nil, errBadCredentials
	}
	if err := a.allowAttempt(ctx, email, ip); err != nil {
		return nil, err
	}
	u, hash, err := a.db.Reader().UserByEmail(ctx, email)
	if err != nil && quire.ErrorCode(err) != quire.ENOTFOUND {
		return nil, err
	}
	ok := false
	if u == nil {
		a.hasher.VerifyDummy(password)
	} else if ok, err = a.hasher.Verify(hash, password); err != nil {
		a.log.Error("stored password hash is malformed", "user_id", u.ID, "err", err)
		ok = false
	}
	if !ok || !u.Active {
		if err := a.failAttempt(ctx, email, ip); err != nil {
			return nil, err
		}
		userID := ""
		if u != nil {
			userID = u.ID
		}
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			return audit(ctx, tx, userID, quire.ActionLoginFailed, "user", userID, map[string]any{"email": email})
		})
		if err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if c, err := a.challenge(ctx, u); err != nil || c != nil {
		return &SignInResult{Challenge: c}, err
	}
	if err := a.byPair.Reset(ctx, email+"|"+ip); err != nil {
		return nil, err
	}
	enrol, err := a.mustEnrol(ctx, a.db.Reader(), u)
	if err != nil {
		return nil, err
	}
	pair, err := a.startSession(ctx, u, map[string]any{})
	if err != nil {
		return nil, err
	}
	pair.TwoFactorEnrolment = enrol
	return &SignInResult{Tokens: pair}, nil
}

// startSession signs u in: a new session, its tokens and the login entry.
func (a *Auth) startSession(ctx context.Context, u *quire.User, details map[string]any) (*TokenPair, error) {
	var pair *TokenPair
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		pair, err = a.startSessionTx(ctx, tx, u, details)
		return err
	})
	return pair, err
}

// issue makes a new access token and a new refresh token in session sid.
func (a *Auth) issue(ctx context.Context, tx *store.Tx, u *quire.User, sid string) (*TokenPair, error) {
	refresh, hash, err := auth.NewSecret(RefreshPrefix)
	if err != nil {
		return nil, err
	}
	if err := tx.AddRefreshToken(ctx, sid, hash, tx.Now().Add(a.refreshTTL)); err != nil {
		return nil, err
	}
	access, _, err := a.issuer.Issue(u.ID, sid)
	if err != nil {
		return nil, err
	}
	return &TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(a.issuer.TTL().Seconds()), User: u}, nil
}

// Refresh exchanges a refresh token for a new pair. Each refresh token works
// once; presenting one that was already used means it was stolen (or the
// client is broken), so the whole session is revoked.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (*TokenPair, error) {
	if !strings.HasPrefix(refreshToken, RefreshPrefix) || len(refreshToken) > 128 {
		return nil, errBadToken
	}
	var pair *TokenPair
	reused := false
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.RefreshTokenByHash(ctx, auth.HashSecret(refreshToken))
		if err != nil {
			return err
		}
		s, err := tx.Session(ctx, t.SessionID)
		if err != nil {
			return err
		}
		if s.RevokedAt != nil || !tx.Now().Before(s.ExpiresAt) || !tx.Now().Before(t.ExpiresAt) {
			return errBadToken
		}
		fresh, err := tx.UseRefreshToken(ctx, t.ID)
		if err != nil {
			return err
		}
		if !fresh {
			reused = true
			if err := tx.RevokeSession(ctx, s.ID); err != nil {
				return err
			}
			return audit(ctx, tx, s.UserID, quire.ActionRefreshReuse, "session", s.ID, map[string]any{"revoked": true})
		}
		u, err := tx.User(ctx, s.UserID)
		if err != nil {
			return err
		}
		if !u.Active || t.CreatedAt.Before(u.LastTokenIssue) {
			return errBadToken
		}
		pair, err = a.issue(ctx, tx, u, s.ID)
		return err
	})
	if reused {
		a.accounts.Forget()
		a.log.Warn("refresh token reused; session revoked", "request_id", MetaFrom(ctx).RequestID)
		return nil, errBadToken
	}
	if err != nil {
		if code := quire.ErrorCode(err); code == quire.ENOTFOUND || code == quire.EUNAUTHORIZED {
			return nil, errBadToken
		}
		return nil, err
	}
	return pair, nil
}

// Logout ends the session of a refresh token. Unknown tokens are ignored,
// so the answer says nothing about whether a token existed.
func (a *Auth) Logout(ctx context.Context, refreshToken string) error {
	if !strings.HasPrefix(refreshToken, RefreshPrefix) || len(refreshToken) > 128 {
		return nil
	}
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.RefreshTokenByHash(ctx, auth.HashSecret(refreshToken))
		if err != nil {
			return err
		}
		s, err := tx.Session(ctx, t.SessionID)
		if err != nil || s.RevokedAt != nil {
			return err
		}
		if err := tx.RevokeSession(ctx, s.ID); err != nil {
			return err
		}
		return audit(ctx, tx, s.UserID, quire.ActionLogout, "session", s.ID, map[string]any{})
	})
	if err == nil {
		a.accounts.Forget()
	}
	if code := quire.ErrorCode(err); err != nil && (code == quire.ENOTFOUND || code == quire.EUNAUTHORIZED) {
		return nil
	}
	return err
}

// LogoutAll invalidates every token of the caller: access tokens through
// last_token_issue, refresh tokens by revoking every session.
func (a *Auth) LogoutAll(ctx context.Context, p *quire.Principal) error {
	if err := require(p, quire.RoleViewer); err != nil {
		return err
	}
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeUserTokens(ctx, p.UserID); err != nil {
			return err
		}
		if err := tx.RevokeUserSessions(ctx, p.UserID, ""); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionLogoutAll, "user", p.UserID, map[string]any{})
	})
	if err == nil {
		a.accounts.Forget()
	}
	return err
}

// ChangePassword sets a new password for the caller, ends every other
// session and every earlier token, and returns a fresh pair for this session.
func (a *Auth) ChangePassword(ctx context.Context, p *quire.Principal, current, next string) (*TokenPair, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if p.SessionID == "" {
		return nil, quire.Errorf(quire.EFORBIDDEN, "passwords are changed with a login session, not an API token")
	}
	var v quire.Validator
	quire.ValidatePassword(&v, "new_password", next)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if ok, wait, err := a.byUser.Allow(ctx, p.UserID); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	hash, err := a.db.Reader().PasswordHash(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if ok, _ := a.hasher.Verify(hash, current); !ok || len(current) > 4*quire.MaxPasswordLen {
		if err := a.byUser.Fail(ctx, p.UserID); err != nil {
			return nil, err
		}
		return nil, quire.Invalid(quire.FieldError{Field: "current_password", Message: "is not correct"})
	}
	newHash, err := a.hasher.Hash(next)
	if err != nil {
		return nil, err
	}
	var pair *TokenPair
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, p.UserID, newHash); err != nil {
			return err
		}
		if err := tx.RevokeUserSessions(ctx, p.UserID, p.SessionID); err != nil {
			return err
		}
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		if pair, err = a.issue(ctx, tx, u, p.SessionID); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionPasswordChange, "user", p.UserID, map[string]any{"other_sessions_revoked": true})
	})
	if err == nil {
		a.accounts.Forget()
	}
	return pair, err
}

// Authenticate turns a bearer credential into a principal. It checks, on
// every request, that the user is still active and that the token was
// issued after their last_token_issue, so a role change, deactivation,
// password change or logout-all takes effect at once. What it reads about
// the user and the session may come from the AccountCache, which those
// writes forget on commit.
func (a *Auth) Authenticate(ctx context.Context, bearer string) (*quire.Principal, error) {
	if strings.HasPrefix(bearer, APITokenPrefix) {
		return a.authenticateAPIToken(ctx, bearer)
	}
	claims, err := a.issuer.Verify(bearer)
	if err != nil {
		return nil, errBadToken
	}
	r := a.db.Reader()
	u, err := a.accounts.user(ctx, r, claims.UserID)
	if err != nil {
		return nil, notFoundIsUnauthorized(err)
	}
	if !u.Active || claims.IssuedAt.Before(u.LastTokenIssue) {
		return nil, errBadToken
	}
	if claims.SessionID != "" {
		s, err := a.accounts.session(ctx, r, claims.SessionID)
		if err != nil {
			return nil, notFoundIsUnauthorized(err)
		}
		if s.RevokedAt != nil || s.UserID != u.ID {
			return nil, errBadToken
		}
	}
	p := &quire.Principal{UserID: u.ID, Role: u.Role, SessionID: claims.SessionID}
	if claims.SessionID != "" {
		if p.MustEnrol, err = a.mustEnrol(ctx, r, u); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (a *Auth) authenticateAPIToken(ctx context.Context, bearer string) (*quire.Principal, error) {
	if len(bearer) > 128 {
		return nil, errBadToken
	}
	r := a.db.Reader()
	t, err := r.APITokenByHash(ctx, auth.HashSecret(bearer))
	if err != nil {
		return nil, notFoundIsUnauthorized(err)
	}
	if t.ExpiresAt != nil && !time.Now().Before(*t.ExpiresAt) {
		return nil, errBadToken
	}
	owner, err := a.accounts.user(ctx, r, t.CreatedBy)
	if err != nil {
		return nil, notFoundIsUnauthorized(err)
	}
	if !owner.Active {
		return nil, errBadToken
	}
	// A token never does more than the admin who made it can do now.
	role := t.Role
	if !(&quire.Principal{Role: owner.Role}).Can(role) {
		role = owner.Role
	}
	if t.LastUsedAt == nil || time.Since(*t.LastUsedAt) > time.Minute {
		if err := a.db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(ctx, t.ID) }); err != nil {
			a.log.Warn("could not record API token use", "token_id", t.ID, "err", err)
		}
	}
	return &quire.Principal{UserID: owner.ID, Role: role, TokenID: t.ID, TokenName: t.Name, Scopes: t.Scopes}, nil
}

func notFoundIsUnauthorized(err error) error {
	if quire.ErrorCode(err) == quire.ENOTFOUND || errors.Is(err, auth.ErrInvalidToken) {
		return errBadToken
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
