package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Recovery codes: ten, each 80 random bits written as 16 base32 letters
// in four groups (abcd-efgh-ijkl-mnop), stored as SHA-256.
const (
	recoveryCodes   = 10
	recoveryCodeLen = 16
)

// TwoFactor lets a signed-in user turn TOTP two-factor sign-in on and off.
type TwoFactor struct {
	db   *store.DB
	auth *Auth
}

// NewTwoFactor returns the two-factor service; it shares Auth's sealer,
// password hasher and throttles.
func NewTwoFactor(db *store.DB, a *Auth) *TwoFactor { return &TwoFactor{db: db, auth: a} }

// TOTPEnrolment is what an authenticator app needs: the otpauth:// URI,
// the same as a QR code (PNG data URL) and the secret to type in.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
	QRCode string `json:"qr_code"`
}

// TwoFactorStatus says what the caller has set up.
type TwoFactorStatus struct {
	TOTP              bool `json:"totp"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	Passkeys          int  `json:"passkeys"`
}

// Status reports the caller's second factors.
func (s *TwoFactor) Status(ctx context.Context, p *quire.Principal) (*TwoFactorStatus, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	keys, err := r.CountPasskeys(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	t, err := r.TOTP(ctx, p.UserID)
	if quire.ErrorCode(err) == quire.ENOTFOUND || (err == nil && t.ConfirmedAt == nil) {
		return &TwoFactorStatus{Passkeys: keys}, nil
	}
	if err != nil {
		return nil, err
	}
	n, err := r.RecoveryCodesLeft(ctx, p.UserID)
	return &TwoFactorStatus{TOTP: true, RecoveryCodesLeft: n, Passkeys: keys}, err
}

var errTOTPOn = quire.Errorf(quire.ECONFLICT, "two-factor sign-in is already on; turn it off first")

// Enrol starts a TOTP enrolment with a new secret; it takes effect once
// Confirm gets a code from it.
func (s *TwoFactor) Enrol(ctx context.Context, p *quire.Principal) (*TOTPEnrolment, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	var out *TOTPEnrolment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if t, err := tx.TOTP(ctx, p.UserID); err == nil && t.ConfirmedAt != nil {
			return errTOTPOn
		} else if err != nil && quire.ErrorCode(err) != quire.ENOTFOUND {
			return err
		}
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		en, err := newEnrolment(siteName(ctx, tx), u.Email, nil)
		if err != nil {
			return err
		}
		sealed := base64.StdEncoding.EncodeToString(s.auth.totp.Seal([]byte(en.Secret), []byte(u.ID)))
		if err := tx.PutPendingTOTP(ctx, u.ID, sealed); err != nil {
			return err
		}
		out = en
		return nil
	})
	return out, err
}

// Pending shows the caller's enrolment again while it waits for its
// confirmation code (the admin's enrolment screen, after a wrong code):
// the same secret, so the app the user already scanned it into still
// works. 404 when none is pending, 409 when TOTP is already on.
func (s *TwoFactor) Pending(ctx context.Context, p *quire.Principal) (*TOTPEnrolment, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	r := s.db.Reader()
	t, err := r.TOTP(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if t.ConfirmedAt != nil {
		return nil, errTOTPOn
	}
	secret, err := s.auth.openTOTP(t)
	if err != nil {
		return nil, err
	}
	raw, err := recoveryEncoding.DecodeString(string(secret))
	if err != nil {
		return nil, err
	}
	u, err := r.User(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return newEnrolment(siteName(ctx, r), u.Email, raw)
}

// newEnrolment describes a TOTP secret (a new random one when secret is
// nil) for an authenticator app: SHA-1, 6 digits, 30 s, 160 bits.
func newEnrolment(issuer, email string, secret []byte) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: email, Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: 20, Secret: secret})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URI: key.URL(), QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())}, nil
}

// RecoveryCodes are shown once, when two-factor sign-in is turned on.
type RecoveryCodes struct {
	Codes []string `json:"recovery_codes"`
}

// Confirm turns TOTP on with a code from the pending enrolment, and
// returns ten new recovery codes.
func (s *TwoFactor) Confirm(ctx context.Context, p *quire.Principal, code string) (*RecoveryCodes, error) {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	if ok, wait, err := s.auth.byUser.Allow(ctx, p.UserID); err != nil || !ok {
		return nil, throttled(wait, err)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	wrong := false
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.TOTP(ctx, p.UserID)
		if quire.ErrorCode(err) == quire.ENOTFOUND {
			return quire.Errorf(quire.ECONFLICT, "no enrolment is pending; start one first")
		}
		if err != nil {
			return err
		}
		if t.ConfirmedAt != nil {
			return errTOTPOn
		}
		secret, err := s.auth.openTOTP(t)
		if err != nil {
			return err
		}
		step, ok := totpStep(string(secret), strings.TrimSpace(code), tx.Now())
		if !ok {
			wrong = true
			return quire.Invalid(quire.FieldError{Field: "code", Message: "is not correct"})
		}
		if _, err := tx.ConfirmTOTP(ctx, p.UserID, step); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, p.UserID, hashes); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionTwoFactorEnable, "user", p.UserID, map[string]any{"method": "totp"})
	})
	if wrong {
		if ferr := s.auth.byUser.Fail(ctx, p.UserID); ferr != nil {
			return nil, ferr
		}
	}
	if err != nil {
		return nil, err
	}
	return &RecoveryCodes{Codes: codes}, nil
}

// Disable turns two-factor sign-in off after checking the password again.
func (s *TwoFactor) Disable(ctx context.Context, p *quire.Principal, password string) error {
	if err := requireSession(p, quire.RoleViewer); err != nil {
		return err
	}
	if ok, wait, err := s.auth.byUser.Allow(ctx, p.UserID); err != nil || !ok {
		return throttled(wait, err)
	}
	hash, err := s.db.Reader().PasswordHash(ctx, p.UserID)
	if err != nil {
		return err
	}
	if ok, _ := s.auth.hasher.Verify(hash, password); !ok || len(password) > 4*quire.MaxPasswordLen {
		if err := s.auth.byUser.Fail(ctx, p.UserID); err != nil {
			return err
		}
		return quire.Invalid(quire.FieldError{Field: "password", Message: "is not correct"})
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.TOTP(ctx, p.UserID); err != nil {
			return err
		}
		if err := tx.DeleteTwoFactor(ctx, p.UserID); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionTwoFactorDisable, "user", p.UserID, map[string]any{"method": "totp"})
	})
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRecoveryCodes() (codes, hashes []string, err error) {
	for range recoveryCodes {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, err
		}
		c := strings.ToLower(recoveryEncoding.EncodeToString(b[:]))
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, auth.HashSecret(c))
	}
	return codes, hashes, nil
}

// normalizeRecoveryCode drops dashes and spaces and lowercases.
func normalizeRecoveryCode(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(s))
}
