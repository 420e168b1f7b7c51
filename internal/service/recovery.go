package service

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// ResetPrefix marks password reset secrets.
const ResetPrefix = "qpr_"

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

// Mailer queues mail in a transaction (internal/mail.Outbox).
type Mailer interface {
	// Enabled reports whether an SMTP server is configured.
	Enabled() bool
	// Queue renders template name for to and enqueues it in tx.
	Queue(ctx context.Context, tx *store.Tx, name, to string, data map[string]any) error
}

// Recovery lets people who forgot their password choose a new one.
type Recovery struct {
	db        *store.DB
	hasher    *auth.Hasher
	accounts  *AccountCache
	mail      Mailer
	publicURL string
	// byAddress counts reset requests per email, byClient requests (and
	// failed resets) per client address.
	byAddress *auth.Throttle
	byClient  *auth.Throttle
	// minDuration is the least time Forgot takes, so that its answer
	// takes about as long whether or not the address has an account.
	minDuration time.Duration
	log         *slog.Logger
}

// RecoveryConfig gathers what Recovery needs.
type RecoveryConfig struct {
	Hasher   *auth.Hasher
	Accounts *AccountCache
	// Mail may be nil or disabled: then only admins make links.
	Mail Mailer
	// PublicURL is where people reach Quire (QUIRE_PUBLIC_URL); links in
	// mail point to PublicURL/admin/….
	PublicURL string
	// MinDuration overrides the least time of Forgot (tests).
	MinDuration time.Duration
	// Failures gives each limit (scope "reset_address", "reset_client")
	// where it counts, as AuthConfig.Failures does for the sign-in
	// limits: the database on PostgreSQL, so that every node counts the
	// same requests. Nil counts in this process's memory.
	Failures func(scope string) auth.Failures
	Log      *slog.Logger
}

// Reset request limits; see docs/security/accounts.md.
const (
	resetsPerAddress = 3
	resetsPerClient  = 20
	resetWindow      = time.Hour
	forgotDuration   = 400 * time.Millisecond
)

// NewRecovery returns the password recovery service.
func NewRecovery(db *store.DB, c RecoveryConfig) *Recovery {
	failures := c.Failures
	if failures == nil {
		failures = func(string) auth.Failures { return auth.NewMemoryFailures(100_000) }
	}
	r := &Recovery{db: db, hasher: c.Hasher, accounts: c.Accounts, mail: c.Mail, publicURL: strings.TrimRight(c.PublicURL, "/"),
		byAddress:   auth.NewThrottle(resetsPerAddress, resetWindow, failures("reset_address"), nil),
		byClient:    auth.NewThrottle(resetsPerClient, resetWindow, failures("reset_client"), nil),
		minDuration: c.MinDuration, log: c.Log}
	if r.minDuration <= 0 {
		r.minDuration = forgotDuration
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// failedLink counts a failed use of a link against the client. The
// answer is the link's refusal either way, so a failure to count (the
// database, on PostgreSQL) is logged rather than returned.
func (r *Recovery) failedLink(ctx context.Context, key string) {
	if err := r.byClient.Fail(ctx, key); err != nil {
		r.log.Warn("could not count a failed account link", "err", err, "request_id", MetaFrom(ctx).RequestID)
	}
}

func tooManyRequests(wait time.Duration) error {
	e := quire.Errorf(quire.ETOOMANY, "too many requests from this address; try again later")
	e.RetryAfter = int(math.Ceil(wait.Seconds()))
	return e
}

// Forgot mails a reset link to email when it belongs to an active account.
// It answers the same, in about the same time (minDuration), whether or
// not it does; past the per-address limit it quietly sends nothing, past
// the per-client limit it answers 429 (which says nothing about the
// address).
func (r *Recovery) Forgot(ctx context.Context, email string) error {
	deadline := time.Now().Add(r.minDuration)
	defer func() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}()
	ip := MetaFrom(ctx).IP
	if ok, wait, err := r.byClient.Allow(ctx, "forgot:"+ip); err != nil || !ok {
		return cmp.Or(err, tooManyRequests(wait))
	}
	if err := r.byClient.Fail(ctx, "forgot:"+ip); err != nil {
		return err
	}
	email = quire.NormalizeEmail(email)
	var v quire.Validator
	v.Check(utf8.ValidString(email) && !strings.ContainsRune(email, 0), "email", "must be valid UTF-8")
	if err := v.Err(); err != nil {
		return err
	}
	quire.ValidateEmail(&v, "email", email)
	if err := v.Err(); err != nil {
		return err
	}
	if ok, _, err := r.byAddress.Allow(ctx, email); err != nil || !ok {
		return err // over the limit: the same answer, and no mail
	}
	if err := r.byAddress.Fail(ctx, email); err != nil {
		return err
	}
	if !r.mail.Enabled() {
		r.log.Warn("password reset requested, but no SMTP server is configured (QUIRE_SMTP_URL): an admin must make the link")
		return nil
	}
	u, _, err := r.db.Reader().UserByEmail(ctx, email)
	if quire.ErrorCode(err) == quire.ENOTFOUND || (err == nil && !u.Active) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		token, _, err := r.createLink(ctx, tx, u, "")
		if err != nil {
			return err
		}
		data := map[string]any{"Site": siteName(ctx, tx), "Email": u.Email, "Link": r.link(token)}
		if err := r.mail.Queue(ctx, tx, "password_reset", u.Email, data); err != nil {
			return err
		}
		return audit(ctx, tx, "", quire.ActionPasswordResetRequest, "user", u.ID, map[string]any{"via": "mail"})
	})
}

// createLink stores a new reset link for u and returns its secret.
func (r *Recovery) createLink(ctx context.Context, tx *store.Tx, u *quire.User, by string) (string, *store.AccountToken, error) {
	plain, hash, err := auth.NewSecret(ResetPrefix)
	if err != nil {
		return "", nil, err
	}
	t := &store.AccountToken{Purpose: store.PurposeReset, UserID: u.ID, Email: u.Email, CreatedBy: by, ExpiresAt: tx.Now().Add(ResetTTL)}
	if err := tx.CreateAccountToken(ctx, t, hash); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// link is the address of the reset screen for token, or "" without
// QUIRE_PUBLIC_URL.
func (r *Recovery) link(token string) string { return r.address("/admin/password/reset?token=", token) }

// address is QUIRE_PUBLIC_URL + path + token, or "" without it.
func (r *Recovery) address(path, token string) string {
	if r.publicURL == "" {
		return ""
	}
	return r.publicURL + path + token
}

// ResetLink is what an admin gets to hand over: the secret (shown once)
// and, with QUIRE_PUBLIC_URL set, the address of the reset screen.
type ResetLink struct {
	UserID    string    `json:"user_id"`
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateResetLink makes a reset link for user id without mailing it, for
// an admin to hand over (the way without SMTP).
func (r *Recovery) CreateResetLink(ctx context.Context, p *quire.Principal, id string) (*ResetLink, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	var out *ResetLink
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		if !u.Active {
			return quire.Errorf(quire.ECONFLICT, "the account is deactivated; activate it first")
		}
		token, t, err := r.createLink(ctx, tx, u, p.UserID)
		if err != nil {
			return err
		}
		out = &ResetLink{UserID: u.ID, Token: token, URL: r.link(token), ExpiresAt: t.ExpiresAt}
		return audit(ctx, tx, p.UserID, quire.ActionPasswordResetLink, "user", u.ID, map[string]any{"expires_at": t.ExpiresAt})
	})
	return out, err
}

var errBadResetLink = quire.Invalid(quire.FieldError{Field: "token", Message: "is not valid: it may have been used, replaced or have expired"})

// Reset sets a new password with a reset link's secret. The link works
// once; every session and token of the user ends, and every other open
// reset link of theirs too.
func (r *Recovery) Reset(ctx context.Context, token, password string) error {
	ip := MetaFrom(ctx).IP
	if ok, wait, err := r.byClient.Allow(ctx, "reset:"+ip); err != nil || !ok {
		return cmp.Or(err, tooManyRequests(wait))
	}
	var v quire.Validator
	v.Check(token != "", "token", "is required")
	quire.ValidatePassword(&v, "new_password", password)
	if err := v.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(token, ResetPrefix) || len(token) > 128 {
		r.failedLink(ctx, "reset:"+ip)
		return errBadResetLink
	}
	hash, err := r.hasher.Hash(password)
	if err != nil {
		return err
	}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.AccountTokenByHash(ctx, store.PurposeReset, auth.HashSecret(token))
		if quire.ErrorCode(err) == quire.ENOTFOUND {
			return errBadResetLink
		}
		if err != nil {
			return err
		}
		if !t.Usable(tx.Now()) {
			return errBadResetLink
		}
		if fresh, err := tx.UseAccountToken(ctx, t.ID); err != nil || !fresh {
			if err == nil {
				err = errBadResetLink
			}
			return err
		}
		u, err := tx.User(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !u.Active {
			return errBadResetLink
		}
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.RevokeUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		if err := tx.RevokeUserAccountTokens(ctx, u.ID, store.PurposeReset); err != nil {
			return err
		}
		return audit(ctx, tx, u.ID, quire.ActionPasswordReset, "user", u.ID, map[string]any{"link_id": t.ID, "sessions_revoked": true})
	})
	if quire.ErrorCode(err) == quire.EINVALID {
		r.failedLink(ctx, "reset:"+ip)
	}
	if err == nil {
		r.accounts.Forget()
	}
	return err
}

// siteName is the setting site.name when it is a non-empty JSON string,
// else "Quire".
func siteName(ctx context.Context, tx *store.Tx) string {
	st, err := tx.Setting(ctx, "site.name")
	if err != nil {
		return "Quire"
	}
	var name string
	if json.Unmarshal(st.Value, &name) != nil || strings.TrimSpace(name) == "" {
		return "Quire"
	}
	return name
}
