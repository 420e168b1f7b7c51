package service

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// passkeyBeginsPerFailure: an address may begin this many passwordless
// sign-ins per failed sign-in it is allowed (QUIRE_LOGIN_IP_FAILURES) in
// the window; each begin stores a ceremony for a caller nobody knows yet.
const passkeyBeginsPerFailure = 5

var (
	errBadPasskey         = quire.Errorf(quire.EUNAUTHORIZED, "the passkey was not accepted")
	errBadPasskeySignIn   = quire.Errorf(quire.EUNAUTHORIZED, "the passkey sign-in is invalid, used or expired; start again")
	errNoPasskeyChallenge = quire.Errorf(quire.EUNAUTHORIZED, "this sign-in challenge has no passkey step; sign in again")
)

// countPasskeys counts userID's passkeys as second factors: none while
// passkeys are off (QUIRE_PUBLIC_URL unset), since nobody could then
// answer with one; a passkey-only account signs in with its password
// alone until they are on again, rather than being locked out.
func (a *Auth) countPasskeys(ctx context.Context, r *store.Tx, userID string) (int, error) {
	if a.webauthn == nil {
		return 0, nil
	}
	return r.CountPasskeys(ctx, userID)
}

// beginSecondFactor stores, beside a login challenge (same secret hash),
// the WebAuthn state for answering it with one of u's passkeys, and
// returns the options for navigator.credentials.get. Presence is enough
// here (user verification preferred): the password was the first factor.
func (a *Auth) beginSecondFactor(ctx context.Context, tx *store.Tx, u *quire.User, hash string) (any, error) {
	w, _, err := loadWAUser(ctx, tx, u)
	if err != nil {
		return nil, err
	}
	assertion, session, err := a.webauthn.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	enc, err := encodeSession(session)
	if err != nil {
		return nil, err
	}
	err = tx.CreateCeremony(ctx, &store.Ceremony{Kind: "second_factor", UserID: u.ID, Session: enc, ExpiresAt: tx.Now().Add(ChallengeTTL)}, hash)
	return assertion.Response, err
}

// CompleteSignInPasskey is the second step answered with a passkey
// instead of a code: the same challenge, the same limits (wrong answers
// count against the challenge and the sign-in throttles) and the same
// audit entries as CompleteSignIn.
func (a *Auth) CompleteSignInPasskey(ctx context.Context, challenge string, credential []byte) (*TokenPair, error) {
	if a.webauthn == nil {
		return nil, errPasskeysOff
	}
	if !strings.HasPrefix(challenge, ChallengePrefix) || len(challenge) > 128 {
		return nil, errBadChallenge
	}
	hash := auth.HashSecret(challenge)
	r := a.db.Reader()
	c, err := r.ChallengeByHash(ctx, hash)
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
	cer, err := r.CeremonyByHash(ctx, "second_factor", hash)
	if err != nil {
		return nil, notFoundIs(err, errNoPasskeyChallenge)
	}
	session, err := decodeSession(cer.Session)
	if err != nil {
		return nil, err
	}
	ip := MetaFrom(ctx).IP
	if err := a.allowAttempt(ctx, u.Email, ip); err != nil {
		return nil, err
	}
	parsed, perr := protocol.ParseCredentialRequestResponseBytes(credential)
	var pair *TokenPair
	reason := ""
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		var k *store.Passkey
		switch {
		case !u.Active:
			reason = "inactive"
		case perr != nil:
			reason = "malformed"
			a.log.Info("passkey assertion refused", "user_id", u.ID, "reason", webauthnReason(perr))
		default:
			w, keys, err := loadWAUser(ctx, tx, u)
			if err != nil {
				return err
			}
			cred, err := a.webauthn.ValidateLogin(w, session, parsed)
			if err != nil {
				reason = "invalid_assertion"
				a.log.Info("passkey assertion refused", "user_id", u.ID, "reason", webauthnReason(err))
				break
			}
			if k, reason, err = a.usePasskey(ctx, tx, keys, cred); err != nil {
				return err
			}
		}
		if reason != "" {
			if err := tx.FailChallenge(ctx, c.ID); err != nil {
				return err
			}
			return audit(ctx, tx, u.ID, quire.ActionLoginFailed, "user", u.ID, map[string]any{"email": u.Email, "second_factor": true, "method": "passkey", "reason": reason})
		}
		if fresh, err := tx.UseChallenge(ctx, c.ID); err != nil || !fresh {
			if err == nil {
				err = errBadChallenge
			}
			return err
		}
		pair, err = a.startSessionTx(ctx, tx, u, map[string]any{"second_factor": "passkey", "passkey_id": k.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	if reason != "" {
		if err := a.failAttempt(ctx, u.Email, ip); err != nil {
			return nil, err
		}
		return nil, errBadPasskey
	}
	if err := a.byPair.Reset(ctx, u.Email+"|"+ip); err != nil {
		return nil, err
	}
	return pair, nil
}

// usePasskey records a verified assertion of cred, one of keys: a
// counter that did not go up (a cloned authenticator, or a replay racing
// the original) refuses the sign-in with reason "sign_count".
func (a *Auth) usePasskey(ctx context.Context, tx *store.Tx, keys []*store.Passkey, cred *webauthn.Credential) (*store.Passkey, string, error) {
	k := passkeyByCredential(keys, cred.ID)
	if k == nil {
		return nil, "unknown_credential", nil
	}
	if cred.Authenticator.CloneWarning {
		a.log.Warn("passkey sign count went back: refused", "user_id", k.UserID, "passkey_id", k.ID)
		return nil, "sign_count", nil
	}
	ok, err := tx.UsePasskey(ctx, k.ID, cred.Authenticator.SignCount, cred.Flags.MsgpByte())
	if err != nil || !ok {
		return nil, "sign_count", err
	}
	return k, "", nil
}

// BeginPasskeySignIn starts a passwordless sign-in: options for
// navigator.credentials.get with no allowed list (the browser offers the
// discoverable credentials it has for this site) and user verification
// required, since the passkey is then the only factor.
func (a *Auth) BeginPasskeySignIn(ctx context.Context) (*PasskeyCeremony, error) {
	if a.webauthn == nil {
		return nil, errPasskeysOff
	}
	ip := MetaFrom(ctx).IP
	if ok, wait, err := a.byAddr.Allow(ctx, ip); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	if ok, wait, err := a.passkeyBegins.Allow(ctx, ip); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	if err := a.passkeyBegins.Fail(ctx, ip); err != nil {
		return nil, err
	}
	plain, hash, err := auth.NewSecret(PasskeyCeremonyPrefix)
	if err != nil {
		return nil, err
	}
	assertion, session, err := a.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	enc, err := encodeSession(session)
	if err != nil {
		return nil, err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateCeremony(ctx, &store.Ceremony{Kind: "login", Session: enc, ExpiresAt: tx.Now().Add(PasskeyCeremonyTTL)}, hash)
	})
	if err != nil {
		return nil, err
	}
	return &PasskeyCeremony{Ceremony: plain, ExpiresIn: int(PasskeyCeremonyTTL.Seconds()), Options: assertion.Response}, nil
}

// FinishPasskeySignIn checks a passwordless sign-in's assertion: the user
// is the one its user handle names, the credential one of theirs, user
// verification done. It starts a session like a password sign-in (and
// counts as the second factor too). The ceremony is spent by any answer.
func (a *Auth) FinishPasskeySignIn(ctx context.Context, ceremony string, credential []byte) (*TokenPair, error) {
	if a.webauthn == nil {
		return nil, errPasskeysOff
	}
	ip := MetaFrom(ctx).IP
	if ok, wait, err := a.byAddr.Allow(ctx, ip); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	c, err := a.spendCeremony(ctx, "login", ceremony)
	if errors.Is(err, errCeremony) {
		return nil, errBadPasskeySignIn
	}
	if err != nil {
		return nil, err
	}
	session, err := decodeSession(c.Session)
	if err != nil {
		return nil, err
	}
	parsed, perr := protocol.ParseCredentialRequestResponseBytes(credential)
	var pair *TokenPair
	var u *quire.User
	reason := ""
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		var keys []*store.Passkey
		if perr != nil {
			reason = "malformed"
			a.log.Info("passkey sign-in refused", "reason", webauthnReason(perr))
		} else {
			// The handler looks the user up by the assertion's user handle;
			// the library then checks that the credential is one of theirs
			// and verifies the signature with its stored key.
			var lookupErr error // a database error, not a refusal
			handler := func(_, handle []byte) (webauthn.User, error) {
				id := string(handle)
				if len(handle) > 64 || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
					return nil, errBadPasskey
				}
				found, err := tx.User(ctx, id)
				if err != nil {
					if quire.ErrorCode(err) != quire.ENOTFOUND {
						lookupErr = err
					}
					return nil, err
				}
				u = found
				var w *waUser
				w, keys, err = loadWAUser(ctx, tx, u)
				lookupErr = err
				return w, err
			}
			_, cred, err := a.webauthn.ValidatePasskeyLogin(handler, session, parsed)
			var k *store.Passkey
			switch {
			case lookupErr != nil:
				return lookupErr
			case err != nil && u == nil:
				reason = "unknown_user"
			case err != nil:
				reason = "invalid_assertion"
				a.log.Info("passkey sign-in refused", "user_id", u.ID, "reason", webauthnReason(err))
			case !u.Active:
				reason = "inactive"
			default:
				if k, reason, err = a.usePasskey(ctx, tx, keys, cred); err != nil {
					return err
				}
			}
			if reason == "" {
				pair, err = a.startSessionTx(ctx, tx, u, map[string]any{"method": "passkey", "passkey_id": k.ID})
				return err
			}
		}
		userID, details := "", map[string]any{"method": "passkey", "reason": reason}
		if u != nil {
			userID, details["email"] = u.ID, u.Email
		}
		return audit(ctx, tx, userID, quire.ActionLoginFailed, "user", userID, details)
	})
	if err != nil {
		return nil, err
	}
	if reason != "" {
		ferr := a.byAddr.Fail(ctx, ip)
		if u != nil {
			ferr = errors.Join(ferr, a.byAccount.Fail(ctx, u.Email))
		}
		if ferr != nil {
			return nil, ferr
		}
		return nil, errBadPasskey
	}
	return pair, nil
}
