package service

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Sign-in throttling beyond the configured limits; docs/security/accounts.md.
const (
	// maxDelayDoublings bounds how far an account's delay grows (1 s·2^n).
	maxDelayDoublings = 6
	maxSignInDelay    = 30 * time.Second
	// ChallengeTTL is how long the second step of a sign-in may take.
	ChallengeTTL = 5 * time.Minute
	// maxChallengeAttempts wrong codes end a challenge.
	maxChallengeAttempts = 5
	// ChallengePrefix marks sign-in challenge secrets.
	ChallengePrefix = "qlc_"
)

// NewTOTPSealer is the sealer of TOTP secrets for instanceKey.
func NewTOTPSealer(instanceKey []byte) (*auth.Sealer, error) {
	return auth.NewSealer(instanceKey, "quire totp secret encryption v1")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// allowAttempt applies the sign-in limits before a password or code is
// checked: 429 past the pair's or the address's limit; past the account's
// own threshold, a delay that doubles with every further failure (up to
// 30 s) but never a refusal, so that the owner still gets in.
func (a *Auth) allowAttempt(ctx context.Context, email, ip string) error {
	if ok, wait, err := a.byPair.Allow(ctx, email+"|"+ip); err != nil || !ok {
		return throttled(wait, err)
	}
	if ok, wait, err := a.byAddr.Allow(ctx, ip); err != nil || !ok {
		return throttled(wait, err)
	}
	d, err := a.accountDelay(ctx, email)
	if err != nil {
		return err
	}
	if d > 0 {
		a.sleep(ctx, d)
	}
	return nil
}

func (a *Auth) failAttempt(ctx context.Context, email, ip string) error {
	return errors.Join(a.byPair.Fail(ctx, email+"|"+ip), a.byAddr.Fail(ctx, ip), a.byAccount.Fail(ctx, email))
}

// accountDelay is how long an attempt on email waits: nothing until the
// account has twice the pair limit of failures in the window, then 1 s,
// doubling with each further failure, at most 30 s.
func (a *Auth) accountDelay(ctx context.Context, email string) (time.Duration, error) {
	n, err := a.byAccount.Count(ctx, email)
	if err != nil {
		return 0, err
	}
	n -= a.delayAfter
	if n < 0 {
		return 0, nil
	}
	return min(time.Second<<n, maxSignInDelay), nil
}

// ChallengeResult is the first step's answer for an account with a
// second factor. Passkey holds the options for navigator.credentials.get
// when the account has passkeys (method "passkey").
type ChallengeResult struct {
	Challenge string   `json:"challenge"`
	ExpiresIn int      `json:"expires_in"`
	Methods   []string `json:"methods"`
	Passkey   any      `json:"passkey,omitempty"`
}

// challenge starts the second step for u when u has a confirmed TOTP
// secret or a passkey; nil when u signs in with a password alone.
func (a *Auth) challenge(ctx context.Context, u *quire.User) (*ChallengeResult, error) {
	r := a.db.Reader()
	t, err := r.TOTP(ctx, u.ID)
	if err != nil && quire.ErrorCode(err) != quire.ENOTFOUND {
		return nil, err
	}
	hasTOTP := err == nil && t.ConfirmedAt != nil
	passkeys, err := a.countPasskeys(ctx, r, u.ID)
	if err != nil {
		return nil, err
	}
	if !hasTOTP && passkeys == 0 {
		return nil, nil
	}
	plain, hash, err := auth.NewSecret(ChallengePrefix)
	if err != nil {
		return nil, err
	}
	res := &ChallengeResult{Challenge: plain, ExpiresIn: int(ChallengeTTL.Seconds()), Methods: []string{}}
	if hasTOTP {
		res.Methods = append(res.Methods, "totp", "recovery_code")
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateChallenge(ctx, &store.Challenge{UserID: u.ID, ExpiresAt: tx.Now().Add(ChallengeTTL)}, hash); err != nil {
			return err
		}
		if passkeys == 0 || a.webauthn == nil {
			return nil
		}
		opts, err := a.beginSecondFactor(ctx, tx, u, hash)
		if err == nil {
			res.Methods, res.Passkey = append(res.Methods, "passkey"), opts
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

var errBadChallenge = quire.Errorf(quire.EUNAUTHORIZED, "the sign-in challenge is invalid or expired; sign in again")
var errBadCode = quire.Errorf(quire.EUNAUTHORIZED, "the code is not correct")

// CompleteSignIn is the second step: a challenge from SignIn and a TOTP
// code (or a recovery code). Wrong codes count against the challenge (5
// end it) and against the sign-in limits like wrong passwords; a code is
// never accepted twice.
func (a *Auth) CompleteSignIn(ctx context.Context, challenge, code string) (*TokenPair, error) {
	if !strings.HasPrefix(challenge, ChallengePrefix) || len(challenge) > 128 || len(code) > 64 {
		return nil, errBadChallenge
	}
	r := a.db.Reader()
	c, err := r.ChallengeByHash(ctx, auth.HashSecret(challenge))
	if err != nil {
		return nil, notFoundIs(err, errBadChallenge)
	}
	if c.UsedAt != nil || !r.Now().Before(c.ExpiresAt) || c.Attempts >= maxChallengeAttempts {
		return nil, errBadChallenge
	}
	u, err := r.User(ctx, c.UserID)
	if err != nil {
		return nil, notFoundIs(err, errBadChallenge)
	}
	ip := MetaFrom(ctx).IP
	if err := a.allowAttempt(ctx, u.Email, ip); err != nil {
		return nil, err
	}
	var pair *TokenPair
	wrong := false
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		method, err := a.checkSecondFactor(ctx, tx, u.ID, code)
		if err != nil {
			return err
		}
		if method == "" || !u.Active {
			wrong = true
			if err := tx.FailChallenge(ctx, c.ID); err != nil {
				return err
			}
			return audit(ctx, tx, u.ID, quire.ActionLoginFailed, "user", u.ID, map[string]any{"email": u.Email, "second_factor": true})
		}
		if fresh, err := tx.UseChallenge(ctx, c.ID); err != nil || !fresh {
			if err == nil {
				err = errBadChallenge
			}
			return err
		}
		pair, err = a.startSessionTx(ctx, tx, u, map[string]any{"second_factor": method})
		return err
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		if err := a.failAttempt(ctx, u.Email, ip); err != nil {
			return nil, err
		}
		return nil, errBadCode
	}
	if err := a.byPair.Reset(ctx, u.Email+"|"+ip); err != nil {
		return nil, err
	}
	return pair, nil
}

// checkSecondFactor returns "totp" or "recovery_code" when code is right
// for userID (and spends it), "" when it is not.
func (a *Auth) checkSecondFactor(ctx context.Context, tx *store.Tx, userID, code string) (string, error) {
	t, err := tx.TOTP(ctx, userID)
	if err != nil && quire.ErrorCode(err) != quire.ENOTFOUND {
		return "", err
	}
	// An account whose only second factor is a passkey has no TOTP secret
	// (and no recovery codes): every code is wrong.
	if err == nil && t.ConfirmedAt != nil {
		secret, err := a.openTOTP(t)
		if err != nil {
			return "", err
		}
		if step, ok := totpStep(string(secret), strings.TrimSpace(code), tx.Now()); ok {
			fresh, err := tx.UseTOTPStep(ctx, userID, step)
			if err != nil || !fresh {
				return "", err
			}
			return "totp", nil
		}
	}
	norm := normalizeRecoveryCode(code)
	if len(norm) != recoveryCodeLen {
		return "", nil
	}
	used, err := tx.UseRecoveryCode(ctx, userID, auth.HashSecret(norm))
	if err != nil || !used {
		return "", err
	}
	return "recovery_code", nil
}

// openTOTP decrypts a stored TOTP secret (base64 of the sealed bytes,
// bound to its user).
func (a *Auth) openTOTP(t *store.TOTP) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(t.SecretSealed)
	if err != nil {
		return nil, auth.ErrUnsealable
	}
	return a.totp.Open(raw, []byte(t.UserID))
}

// totpStep checks a 6-digit code against the previous, current and next
// 30-second steps (clock drift), comparing each in constant time and
// always all three; it returns the step that matched.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / 30
	var found int64
	ok := false
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// startSessionTx is startSession inside tx.
func (a *Auth) startSessionTx(ctx context.Context, tx *store.Tx, u *quire.User, details map[string]any) (*TokenPair, error) {
	s := &store.Session{UserID: u.ID, ExpiresAt: tx.Now().Add(a.refreshTTL), IP: MetaFrom(ctx).IP, UserAgent: truncate(MetaFrom(ctx).UserAgent, 256)}
	if err := tx.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	pair, err := a.issue(ctx, tx, u, s.ID)
	if err != nil {
		return nil, err
	}
	details["session_id"] = s.ID
	return pair, audit(ctx, tx, u.ID, quire.ActionLogin, "user", u.ID, details)
}

func notFoundIs(err, as error) error {
	if quire.ErrorCode(err) == quire.ENOTFOUND {
		return as
	}
	return err
}
