package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
)

// TestSettingsScreens: an invalid JSON value says where it fails and
// stores nothing; a valid one is saved and public; an editor reads but
// cannot write; an author does not see settings at all.
func TestSettingsScreens(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/settings/new")
		b.do(chromedp.SendKeys(chromedp.ID("key"), "site.title"))
		b.clear("#value")
		b.do(chromedp.SendKeys(chromedp.ID("value"), "{'name': Quire}"))
		b.submit(`form[action="/admin/settings/new"] button`)
		if e := b.text("#value-error"); !strings.Contains(e, "not valid JSON") || !strings.Contains(e, "line 1") {
			t.Errorf("invalid JSON: %q", e)
		}
		if v := run(b, chromedp.Value(chromedp.ID("value"))); v != "{'name': Quire}" {
			t.Errorf("the form lost the typed value: %q", v)
		}
		if _, err := in.srv.Settings.Get(context.Background(), in.admin(), "site.title"); quire.ErrorCode(err) != quire.ENOTFOUND {
			t.Errorf("an invalid value was stored: %v", err)
		}
		b.screenshot("settings-error")
		b.clear("#value")
		b.do(chromedp.SendKeys(chromedp.ID("value"), `{"name": "Quire"}`), chromedp.Click(chromedp.CSS(`input[name=public]`)))
		b.submit(`form[action="/admin/settings/new"] button`)
		if got := b.text(".flash"); got != "Setting saved." {
			t.Fatalf("save: %q", got)
		}
		// The New form does not replace an existing setting.
		b.open("/admin/settings/new")
		b.do(chromedp.SendKeys(chromedp.ID("key"), "site.title"))
		b.clear("#value")
		b.do(chromedp.SendKeys(chromedp.ID("value"), `"overwritten"`))
		b.submit(`form[action="/admin/settings/new"] button`)
		if e := b.text("#key-error"); !strings.Contains(e, "already") {
			t.Errorf("new setting over an existing key: %q", e)
		}
		var pub map[string]any
		if st := in.api("GET", "/api/v1/public/settings", "", "", &pub); st != http.StatusOK || pub["site.title"] == nil {
			t.Errorf("public settings: %d %v", st, pub)
		}

		editor := in.user(quire.RoleEditor)
		e := newBrowser(t, in)
		e.signIn(editor.Email, userPassword)
		e.open("/admin/settings")
		if !strings.Contains(e.text("#settings"), "site.title") || e.has(`a[href="/admin/settings/new"]`) {
			t.Error("an editor should read settings and not be offered to add one")
		}
		e.open("/admin/settings/site.title")
		if e.has(`form[action="/admin/settings/site.title"] button[type=submit]`) || !e.has("fieldset[disabled]") {
			t.Error("an editor is offered to change a setting")
		}
		if st := e.post("/admin/settings/site.title", map[string]string{"value": "1", "version": "1"}); st != http.StatusForbidden {
			t.Errorf("an editor's setting post answered %d", st)
		}
		if e.has(`a[href="/admin/users"]`) {
			t.Error("an editor sees Users")
		}

		author := in.user(quire.RoleAuthor)
		au := newBrowser(t, in)
		au.signIn(author.Email, userPassword)
		if au.has(`a[href="/admin/settings"]`) || au.has(`a[href="/admin/users"]`) || au.has(`a[href="/admin/audit"]`) {
			t.Error("an author sees settings, users or the audit log in the navigation")
		}
		for _, path := range []string{"/admin/settings", "/admin/users", "/admin/tokens", "/admin/audit"} {
			au.open(path)
			if h := au.text("h1"); h != "Forbidden" {
				t.Errorf("author at %s: %q", path, h)
			}
		}
	})
}

// TestUsersTokensAudit: an admin creates a user and changes their role,
// creates an API token whose secret is shown once and works, revokes it,
// and reads the audit log with its diffs and a verified chain.
func TestUsersTokensAudit(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/users")
		b.do(chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("display_name"), "New Editor"),
			chromedp.SetValue(chromedp.ID("role"), "editor"), chromedp.SendKeys(chromedp.ID("password"), "a long enough password"))
		b.submit(`form[action="/admin/users"] button`)
		if e := b.text("#email-error"); !strings.Contains(e, "already used") {
			t.Errorf("taken email: %q", e)
		}
		b.clear("#email")
		b.do(chromedp.SendKeys(chromedp.ID("email"), "new.editor@example.com"), chromedp.SendKeys(chromedp.ID("password"), "a long enough password"))
		b.submit(`form[action="/admin/users"] button`)
		if got := b.text(".flash"); got != "User created." {
			t.Fatalf("create user: %q", got)
		}
		href := run(b, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#users a")).find(a => a.textContent === "new.editor@example.com").getAttribute("href")`))
		b.open(href)
		b.do(chromedp.SetValue(chromedp.ID("role"), "author"))
		b.submit(`form[action^="/admin/users/"] button`)
		if !strings.Contains(b.text("#users"), "author") {
			t.Errorf("role change not shown: %s", b.text("#users"))
		}
		b.screenshot("users")

		b.open("/admin/tokens")
		b.do(chromedp.SendKeys(chromedp.ID("name"), "site build"), chromedp.SetValue(chromedp.ID("role"), "viewer"), chromedp.SendKeys(chromedp.ID("days"), "30"))
		b.submit(`form[action="/admin/tokens"] button`)
		secret := run(b, chromedp.Value(chromedp.ID("secret")))
		if !strings.HasPrefix(secret, "qpat_") {
			t.Fatalf("secret shown: %q", secret)
		}
		b.do(chromedp.Click(chromedp.ID("copy-secret")))
		b.wait(`document.getElementById("copy-status").textContent !== ""`)
		var me map[string]any
		if st := in.api("GET", "/api/v1/pages", secret, "", &me); st != http.StatusOK {
			t.Errorf("the new token does not work: %d", st)
		}
		b.open("/admin/tokens")
		if b.has("#secret") || strings.Contains(run(b, chromedp.OuterHTML(chromedp.CSS("html"))), secret) {
			t.Error("the secret is shown again")
		}
		b.submit(`#tokens form button`)
		if st := in.api("GET", "/api/v1/pages", secret, "", nil); st != http.StatusUnauthorized {
			t.Errorf("a revoked token answered %d", st)
		}

		b.open("/admin/audit?action=user.")
		if !strings.Contains(b.text("#audit li:first-child"), "user.role_change") {
			t.Fatalf("audit filter: %s", b.text("#audit"))
		}
		b.do(chromedp.Click(chromedp.CSS(`#audit li:first-child summary`)))
		if d := b.text(`#audit li:first-child .diff`); !strings.Contains(d, "role") || !strings.Contains(d, "editor") || !strings.Contains(d, "author") {
			t.Errorf("role change diff: %q", d)
		}
		b.submit("#verify")
		if got := b.text("#verify-result"); !strings.Contains(got, "intact") {
			t.Errorf("verify: %q", got)
		}
		b.screenshot("audit")
		// The admin's actions carry the request ids of the admin requests.
		entries := []struct {
			RequestID string `json:"request_id"`
		}{}
		var list struct {
			Data json.RawMessage `json:"data"`
		}
		tok := in.token(adminEmail, adminPassword)
		in.api("GET", "/api/v1/audit-log?action=api_token.", tok, "", &list)
		_ = json.Unmarshal(list.Data, &entries)
		if len(entries) == 0 || entries[0].RequestID == "" {
			t.Errorf("token audit entries: %s", list.Data)
		}
	})
}

// TestAccountPassword changes the password in My account: the session
// goes on with the new secret, other sessions end, and the old password
// no longer signs in.
func TestAccountPassword(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		u := in.user(quire.RoleAuthor)
		other := newBrowser(t, in)
		other.signIn(u.Email, userPassword)
		b := newBrowser(t, in)
		b.signIn(u.Email, userPassword)
		b.open("/admin/account")
		b.do(chromedp.SendKeys(chromedp.ID("current_password"), "wrong password here"), chromedp.SendKeys(chromedp.ID("new_password"), "a brand new password"))
		b.submit(`form[action="/admin/account/password"] button`)
		if e := b.text("#current_password-error"); !strings.Contains(e, "not correct") {
			t.Errorf("wrong current password: %q", e)
		}
		b.do(chromedp.SendKeys(chromedp.ID("current_password"), userPassword), chromedp.SendKeys(chromedp.ID("new_password"), "a brand new password"))
		b.submit(`form[action="/admin/account/password"] button`)
		if got := b.text(".flash"); !strings.HasPrefix(got, "Password changed") {
			t.Fatalf("change: %q", got)
		}
		b.open("/admin/pages")
		if p := b.path(); p != "/admin/pages" {
			t.Errorf("this session ended with the password change: %s", p)
		}
		other.open("/admin/pages")
		if p := other.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("another session survived the password change: %s", p)
		}
		b.open("/admin/account")
		b.submit(`form[action="/admin/account/logout-all"] button`)
		b.open("/admin/")
		if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
			t.Errorf("after sign out everywhere: %s", p)
		}
	})
}

// An admin ends every session of another user from the user's screen
// (Sessions.RevokeUser, as POST /users/{id}/logout-all).
func TestAdminEndsUserSessions(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		u := in.user(quire.RoleEditor)
		tok := in.token(u.Email, userPassword)
		if st := in.api("GET", "/api/v1/auth/me", tok, "", nil); st != http.StatusOK {
			t.Fatalf("before: %d", st)
		}
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/users/" + u.ID)
		b.submit(`form[action$="/logout-all"] button`)
		if got := b.text(".flash"); got != "Every session of this user has ended." {
			t.Fatalf("after ending: %s %q", b.path(), got)
		}
		if st := in.api("GET", "/api/v1/auth/me", tok, "", nil); st != http.StatusUnauthorized {
			t.Errorf("the user's access token answered %d after its sessions ended", st)
		}
	})
}
