package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

const passkeyOrigin = "https://cms.example.test"

func passkeyEnv(t *testing.T, dsn string) *env {
	return newEnv(t, dsn, func(c *config.Config) { c.PublicURL = passkeyOrigin + "/" })
}

type ceremony struct {
	Ceremony  string         `json:"ceremony"`
	ExpiresIn int            `json:"expires_in"`
	Options   map[string]any `json:"options"`
}

// registerPasskey adds a new soft key to the caller's account under name.
func (e *env) registerPasskey(token, name string) (*softKey, service.PasskeyInfo) {
	e.t.Helper()
	var c ceremony
	e.do("POST", "/api/v1/auth/2fa/passkeys/register", token, nil).want(e.t, 200).json(e.t, &c)
	k := newSoftKey(e.t, passkeyOrigin)
	var info service.PasskeyInfo
	e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", token, map[string]any{"ceremony": c.Ceremony, "name": name, "credential": k.create(c.Options)}).
		want(e.t, 201).json(e.t, &info)
	return k, info
}

type challenge struct {
	Challenge string         `json:"challenge"`
	Methods   []string       `json:"methods"`
	Passkey   map[string]any `json:"passkey"`
}

func (e *env) passwordStep(email string) challenge {
	e.t.Helper()
	var c challenge
	e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": testPassword}).want(e.t, 202).json(e.t, &c)
	return c
}

func (e *env) beginPasswordless() ceremony {
	e.t.Helper()
	var c ceremony
	e.do("POST", "/api/v1/auth/login/passkey", "", nil).want(e.t, 200).json(e.t, &c)
	return c
}

// TestPasskeys: register, list, rename, remove; sign in with a passkey as
// the second factor and passwordless; replays, a counter that goes back,
// another user's passkey and bad names are refused; all audited without
// key material.
func TestPasskeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := passkeyEnv(t, dsn)
		u, pair := e.newUser(quire.RoleEditor)
		tok := pair.AccessToken
		var list struct {
			Data []service.PasskeyInfo `json:"data"`
		}
		e.do("GET", "/api/v1/auth/2fa/passkeys", tok, nil).want(t, 200).json(t, &list)
		if len(list.Data) != 0 {
			t.Fatalf("passkeys before any: %+v", list.Data)
		}

		// Registration; the ceremony is single use.
		var c ceremony
		e.do("POST", "/api/v1/auth/2fa/passkeys/register", tok, nil).want(t, 200).json(t, &c)
		if rp, _ := c.Options["rp"].(map[string]any); rp["id"] != "cms.example.test" {
			t.Fatalf("relying party %v", c.Options["rp"])
		}
		key := newSoftKey(t, passkeyOrigin)
		cred := key.create(c.Options)
		var info service.PasskeyInfo
		e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", tok, map[string]any{"ceremony": c.Ceremony, "name": " Laptop ", "credential": cred}).
			want(t, 201).json(t, &info)
		if info.Name != "Laptop" || info.LastUsedAt != nil || !slices.Equal(info.Transports, []string{"internal"}) {
			t.Fatalf("registered %+v", info)
		}
		p := e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", tok, map[string]any{"ceremony": c.Ceremony, "name": "Again", "credential": cred}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "ceremony" {
			t.Fatalf("replayed registration: %+v", p)
		}
		// A wrong origin is refused (and burns its ceremony).
		e.do("POST", "/api/v1/auth/2fa/passkeys/register", tok, nil).want(t, 200).json(t, &c)
		evil := newSoftKey(t, "https://evil.example")
		p = e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", tok, map[string]any{"ceremony": c.Ceremony, "name": "Evil", "credential": evil.create(c.Options)}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "credential" {
			t.Fatalf("wrong origin: %+v", p)
		}
		var st service.TwoFactorStatus
		e.do("GET", "/api/v1/auth/2fa", tok, nil).want(t, 200).json(t, &st)
		if st.Passkeys != 1 || st.TOTP {
			t.Fatalf("status %+v", st)
		}

		// Second factor: the password step now returns a challenge with
		// passkey options naming this passkey.
		ch := e.passwordStep(u.Email)
		if !slices.Equal(ch.Methods, []string{"passkey"}) || ch.Passkey == nil {
			t.Fatalf("challenge %+v", ch)
		}
		e.do("POST", "/api/v1/auth/login/2fa", "", map[string]string{"challenge": ch.Challenge, "code": "123456"}).want(t, 401)
		answer := key.get(ch.Passkey, false)
		var signedIn service.TokenPair
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": answer}).want(t, 200).json(t, &signedIn)
		if signedIn.User == nil || signedIn.User.ID != u.ID {
			t.Fatalf("signed in as %+v", signedIn.User)
		}
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": answer}).want(t, 401)

		// Passwordless: user verification required, ceremony single use.
		pc := e.beginPasswordless()
		if _, ok := pc.Options["allowCredentials"]; ok {
			t.Errorf("passwordless options name credentials: %v", pc.Options["allowCredentials"])
		}
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": key.get(pc.Options, false)}).want(t, 401)
		pc = e.beginPasswordless()
		answer = key.get(pc.Options, true)
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": answer}).want(t, 200).json(t, &signedIn)
		if signedIn.User == nil || signedIn.User.ID != u.ID || signedIn.AccessToken == "" {
			t.Fatalf("passwordless signed in as %+v", signedIn.User)
		}
		e.do("GET", "/api/v1/auth/me", signedIn.AccessToken, nil).want(t, 200)
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": answer}).want(t, 401)
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": "qwc_nothing", "credential": answer}).want(t, 401)

		// A counter that goes back (a cloned authenticator) is refused.
		pc = e.beginPasswordless()
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": key.getAt(pc.Options, true, 1)}).want(t, 401)

		// Another user's passkey does not answer this user's challenge, and
		// an unregistered key does not sign anyone in.
		other, otherPair := e.newUser(quire.RoleAuthor)
		otherKey, otherInfo := e.registerPasskey(otherPair.AccessToken, "Other")
		ch = e.passwordStep(u.Email)
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": otherKey.get(ch.Passkey, true)}).want(t, 401)
		stranger := newSoftKey(t, passkeyOrigin)
		stranger.user, stranger.rpID = []byte(u.ID), "cms.example.test"
		pc = e.beginPasswordless()
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": stranger.get(pc.Options, true)}).want(t, 401)
		// The other user's key still signs its owner in.
		pc = e.beginPasswordless()
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": otherKey.get(pc.Options, true)}).want(t, 200).json(t, &signedIn)
		if signedIn.User.ID != other.ID {
			t.Fatalf("other key signed in %s", signedIn.User.ID)
		}

		// Five wrong answers end a challenge, as five wrong codes do; a
		// registration ceremony is its own user's only.
		ch = e.passwordStep(u.Email)
		for range 5 {
			e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": stranger.get(ch.Passkey, true)}).want(t, 401)
		}
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": key.get(ch.Passkey, true)}).want(t, 401)
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": "not an object"}).want(t, 401)
		e.do("POST", "/api/v1/auth/2fa/passkeys/register", otherPair.AccessToken, nil).want(t, 200).json(t, &c)
		p = e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", tok, map[string]any{"ceremony": c.Ceremony, "name": "Stolen", "credential": newSoftKey(t, passkeyOrigin).create(c.Options)}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "ceremony" {
			t.Fatalf("another user's ceremony: %+v", p)
		}

		// Rename: validated, own passkeys only.
		for _, bad := range []string{"", "   ", strings.Repeat("x", 65), "a\x00b"} {
			p := e.do("PATCH", "/api/v1/auth/2fa/passkeys/"+info.ID, tok, map[string]string{"name": bad}).want(t, 422).problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Field != "name" {
				t.Errorf("name %q: %+v", bad, p)
			}
		}
		e.do("PATCH", "/api/v1/auth/2fa/passkeys/"+otherInfo.ID, tok, map[string]string{"name": "Mine"}).want(t, 404)
		e.do("PATCH", "/api/v1/auth/2fa/passkeys/"+info.ID, tok, map[string]string{"name": strings.Repeat("é", 64)}).want(t, 200).json(t, &info)
		e.do("GET", "/api/v1/auth/2fa/passkeys", tok, nil).want(t, 200).json(t, &list)
		if len(list.Data) != 1 || list.Data[0].Name != strings.Repeat("é", 64) || list.Data[0].LastUsedAt == nil {
			t.Fatalf("list %+v", list.Data)
		}

		// Remove: the password again, own passkeys only.
		e.do("POST", "/api/v1/auth/2fa/passkeys/"+otherInfo.ID+"/remove", tok, map[string]string{"password": testPassword}).want(t, 404)
		p = e.do("POST", "/api/v1/auth/2fa/passkeys/"+info.ID+"/remove", tok, map[string]string{"password": "wrong password"}).want(t, 422).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "password" {
			t.Fatalf("wrong password: %+v", p)
		}
		e.do("POST", "/api/v1/auth/2fa/passkeys/"+info.ID+"/remove", tok, map[string]string{"password": testPassword}).want(t, 204)
		e.do("POST", "/api/v1/auth/2fa/passkeys/"+info.ID+"/remove", tok, map[string]string{"password": testPassword}).want(t, 404)
		e.login(u.Email, testPassword) // no second factor left
		pc = e.beginPasswordless()
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": pc.Ceremony, "credential": key.get(pc.Options, true)}).want(t, 401)

		actions := e.auditActions()
		for _, a := range []string{quire.ActionPasskeyRegister, quire.ActionPasskeyRename, quire.ActionPasskeyRemove} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s", a)
			}
		}
		log := string(e.auditJSON())
		for _, want := range []string{`"second_factor":"passkey"`, `"method":"passkey"`, `"reason":"sign_count"`, `"reason":"invalid_assertion"`} {
			if !strings.Contains(log, strings.ReplaceAll(want, `"`, `\"`)) && !strings.Contains(log, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
		if strings.Contains(log, b64.EncodeToString(key.id)) || strings.Contains(log, "publicKey") {
			t.Error("credential material in the audit log")
		}
	})
}

// TestPasskeyLimits: at most MaxPasskeys per user; oversized bodies are
// 413; without QUIRE_PUBLIC_URL passkeys are off (409).
func TestPasskeyLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := passkeyEnv(t, dsn)
		u, pair := e.newUser(quire.RoleViewer)
		for range service.MaxPasskeys {
			e.registerPasskey(pair.AccessToken, "Key")
		}
		p := e.do("POST", "/api/v1/auth/2fa/passkeys/register", pair.AccessToken, nil).want(t, 409).problem(t)
		if !strings.Contains(p.Detail, "20") {
			t.Errorf("limit: %+v", p)
		}
		big := map[string]any{"ceremony": "qwc_x", "name": "n", "credential": map[string]string{"pad": strings.Repeat("a", service.MaxPasskeyBody)}}
		e.do("POST", "/api/v1/auth/2fa/passkeys/register/finish", pair.AccessToken, big).want(t, 413)
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", big).want(t, 413)
		e.do("POST", "/api/v1/auth/login/passkey/finish", "", map[string]any{"ceremony": "qwc_x"}).want(t, 422)
		e.passwordStep(u.Email)

		// The same database without QUIRE_PUBLIC_URL: nobody could answer
		// with a passkey, so they are not asked for (no lockout).
		off := newEnv(t, dsn, nil)
		off.login(u.Email, testPassword)
	})
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		_, pair := e.newUser(quire.RoleViewer)
		e.do("POST", "/api/v1/auth/2fa/passkeys/register", pair.AccessToken, nil).want(t, 409)
		e.do("POST", "/api/v1/auth/login/passkey", "", nil).want(t, 409)
	})
}

// TestPasskeyRequiredRole: a passkey satisfies a role's two-factor
// requirement, and API tokens cannot manage passkeys (session only).
func TestPasskeyRequiredRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := passkeyEnv(t, dsn)
		admin := &quire.Principal{UserID: e.adminID(), Role: quire.RoleAdmin, SessionID: "test"}
		if _, _, err := e.srv.Settings.Put(t.Context(), admin, service.RequireTwoFactorSetting, 0, service.SettingInput{Value: json.RawMessage(`["editor"]`)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(service.AccountCacheTTL + 100*time.Millisecond)
		u, pair := e.newUser(quire.RoleEditor)
		if !pair.TwoFactorEnrolment {
			t.Fatal("enrolment not required")
		}
		e.do("GET", "/api/v1/pages", pair.AccessToken, nil).want(t, 403)
		e.do("GET", "/api/v1/auth/2fa/passkeys", pair.AccessToken, nil).want(t, 200)
		key, _ := e.registerPasskey(pair.AccessToken, "Phone")
		e.do("GET", "/api/v1/pages", pair.AccessToken, nil).want(t, 200)
		if _, err := e.srv.Auth.Login(t.Context(), u.Email, testPassword); quire.ErrorCode(err) != quire.EFORBIDDEN {
			t.Fatalf("password alone: %v", err)
		}
		ch := e.passwordStep(u.Email)
		var signedIn service.TokenPair
		e.do("POST", "/api/v1/auth/login/2fa/passkey", "", map[string]any{"challenge": ch.Challenge, "credential": key.get(ch.Passkey, false)}).want(t, 200).json(t, &signedIn)
		if signedIn.TwoFactorEnrolment {
			t.Error("still asked to enrol")
		}
		e.do("GET", "/api/v1/pages", signedIn.AccessToken, nil).want(t, 200)

		// Per role: every role may manage its own passkeys, with a session only.
		for _, role := range []quire.Role{quire.RoleViewer, quire.RoleAuthor, quire.RoleAdmin} {
			_, p := e.newUser(role)
			e.registerPasskey(p.AccessToken, string(role))
			tok := e.newAPIToken(role)
			e.do("GET", "/api/v1/auth/2fa/passkeys", tok, nil).want(t, 403)
			e.do("POST", "/api/v1/auth/2fa/passkeys/register", tok, nil).want(t, 403)
		}
	})
}
