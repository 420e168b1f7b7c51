package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

func TestTOTPTwoFactorSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		u, pair := e.newUser(quire.RoleEditor)
		tok := pair.AccessToken
		var st service.TwoFactorStatus
		e.do("GET", "/api/v1/auth/2fa", tok, nil).want(t, 200).json(t, &st)
		if st.TOTP {
			t.Fatal("TOTP on before enrolment")
		}
		var en service.TOTPEnrolment
		e.do("POST", "/api/v1/auth/2fa/totp", tok, nil).want(t, 200).json(t, &en)
		if !strings.HasPrefix(en.URI, "otpauth://totp/") || !strings.Contains(en.URI, "secret="+en.Secret) {
			t.Fatalf("enrolment %+v", en)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(en.QRCode, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatalf("QR code is not a PNG: %v", err)
		}
		// Password sign-in still gives tokens until the enrolment is confirmed.
		e.login(u.Email, testPassword)
		now := time.Now()
		code, _ := totp.GenerateCode(en.Secret, now)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		p := e.do("POST", "/api/v1/auth/2fa/totp/confirm", tok, map[string]string{"code": wrong}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "code" {
			t.Fatalf("problem %+v", p)
		}
		var rc service.RecoveryCodes
		e.do("POST", "/api/v1/auth/2fa/totp/confirm", tok, map[string]string{"code": code}).want(t, 200).json(t, &rc)
		if len(rc.Codes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(rc.Codes)))) != 10 {
			t.Fatalf("recovery codes %v", rc.Codes)
		}
		e.do("POST", "/api/v1/auth/2fa/totp", tok, nil).want(t, 409)
		e.do("GET", "/api/v1/auth/2fa", tok, nil).want(t, 200).json(t, &st)
		if !st.TOTP || st.RecoveryCodesLeft != 10 {
			t.Fatalf("status %+v", st)
		}

		challenge := func() string {
			t.Helper()
			r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}).want(t, 202)
			if bytes.Contains(r.Body, []byte("access_token")) || bytes.Contains(r.Body, []byte("refresh_token")) {
				t.Fatalf("the first step gave tokens: %s", r.Body)
			}
			var c service.ChallengeResult
			r.json(t, &c)
			return c.Challenge
		}
		second := func(c, code string, status int) {
			t.Helper()
			e.do("POST", "/api/v1/auth/login/2fa", "", map[string]string{"challenge": c, "code": code}).want(t, status)
		}
		c := challenge()
		second(c, wrong, 401)
		second(c, code, 401) // used to confirm: never accepted again
		next, _ := totp.GenerateCode(en.Secret, now.Add(30*time.Second))
		second(c, next, 200)
		second(c, next, 401) // the challenge is spent
		second(challenge(), next, 401)
		// A recovery code works once, typed any way.
		second(challenge(), strings.ToUpper(rc.Codes[0]), 200)
		second(challenge(), rc.Codes[0], 401)
		// Five wrong codes end a challenge.
		c = challenge()
		for range 5 {
			second(c, wrong, 401)
		}
		second(c, rc.Codes[1], 401)
		second("qlc_nonsense", rc.Codes[1], 401)
		e.do("GET", "/api/v1/auth/2fa", tok, nil).want(t, 200).json(t, &st)
		if st.RecoveryCodesLeft != 9 {
			t.Fatalf("status %+v", st)
		}
		// Turning it off needs the password again.
		e.do("POST", "/api/v1/auth/2fa/totp/disable", tok, map[string]string{"password": "not it at all"}).want(t, 422)
		e.do("POST", "/api/v1/auth/2fa/totp/disable", tok, map[string]string{"password": testPassword}).want(t, 204)
		e.login(u.Email, testPassword)
		actions := e.auditActions()
		for _, a := range []string{quire.ActionTwoFactorEnable, quire.ActionTwoFactorDisable} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s", a)
			}
		}
		if strings.Contains(string(e.auditJSON()), en.Secret) || strings.Contains(string(e.auditJSON()), rc.Codes[2]) {
			t.Fatal("a secret is in the audit log")
		}
	})
}

// Admins can require a second factor for a role: its users without one
// are told so at sign-in and can only enrol until they have.
func TestRequireTwoFactorForRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		admin := &quire.Principal{UserID: e.adminID(), Role: quire.RoleAdmin, SessionID: "test"}
		if _, _, err := e.srv.Settings.Put(t.Context(), admin, service.RequireTwoFactorSetting, 0, service.SettingInput{Value: json.RawMessage(`["author"]`)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(service.AccountCacheTTL + 100*time.Millisecond) // the policy is cached that long
		u, pair := e.newUser(quire.RoleAuthor)
		if !pair.TwoFactorEnrolment {
			t.Fatal("sign-in does not say that enrolment is required")
		}
		_, editor := e.newUser(quire.RoleEditor)
		if editor.TwoFactorEnrolment {
			t.Fatal("an editor is asked to enrol")
		}
		e.do("GET", "/api/v1/pages", editor.AccessToken, nil).want(t, 200)
		// The browser admin's sign-in gives them a session marked so too
		// (the admin then shows only its enrolment screens).
		if res, err := e.srv.Auth.BrowserSignIn(t.Context(), u.Email, testPassword); err != nil || res.Tokens == nil || !res.Tokens.TwoFactorEnrolment {
			t.Fatalf("admin sign-in of a user who must enrol: %+v %v", res, err)
		}
		e.do("GET", "/api/v1/pages", pair.AccessToken, nil).want(t, 403)
		e.do("GET", "/api/v1/auth/me", pair.AccessToken, nil).want(t, 200)
		var en service.TOTPEnrolment
		e.do("POST", "/api/v1/auth/2fa/totp", pair.AccessToken, nil).want(t, 200).json(t, &en)
		code, _ := totp.GenerateCode(en.Secret, time.Now())
		e.do("POST", "/api/v1/auth/2fa/totp/confirm", pair.AccessToken, map[string]string{"code": code}).want(t, 200)
		e.do("GET", "/api/v1/pages", pair.AccessToken, nil).want(t, 200)
		e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}).want(t, 202)
	})
}
