package httpapi_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/mailtest"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/testdb"
)

var inviteLink = regexp.MustCompile(`https://cms\.example\.com/admin/invitation\?token=(qiv_[A-Za-z0-9_-]{43})`)

type invitation struct {
	ID     string     `json:"id"`
	Email  string     `json:"email"`
	Role   quire.Role `json:"role"`
	Mailed bool       `json:"mailed"`
	Token  string     `json:"token"`
	URL    string     `json:"url"`
}

func TestInvitationsByMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		mp := mailtest.Start(t)
		e := newMailEnv(t, dsn, mp)
		adm := e.admin().AccessToken
		var inv invitation
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": "New@Example.com", "role": "editor"}).want(t, 201).json(t, &inv)
		if !inv.Mailed || inv.Token != "" || inv.Email != "new@example.com" || inv.Role != quire.RoleEditor {
			t.Fatalf("invitation %+v", inv)
		}
		first := inviteLink.FindStringSubmatch(mp.WaitFor(t, "new@example.com", 1, 10*time.Second)[0].Text)
		if first == nil {
			t.Fatal("no invitation link in the mail")
		}
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": "new@example.com", "role": "viewer"}).want(t, 409)
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": adminEmail, "role": "viewer"}).want(t, 409)
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": "x@example.com", "role": "owner"}).want(t, 422)

		var again invitation
		e.do("POST", "/api/v1/users/invitations/"+inv.ID+"/resend", adm, nil).want(t, 201).json(t, &again)
		msgs := mp.WaitFor(t, "new@example.com", 2, 10*time.Second)
		var second []string
		for _, m := range msgs {
			if l := inviteLink.FindStringSubmatch(m.Text); l != nil && l[1] != first[1] {
				second = l
			}
		}
		if second == nil || again.ID == inv.ID {
			t.Fatalf("resend: %+v, links %v", again, second)
		}
		var listed struct{ Data []invitation }
		e.do("GET", "/api/v1/users/invitations", adm, nil).want(t, 200).json(t, &listed)
		if len(listed.Data) != 1 || listed.Data[0].ID != again.ID || listed.Data[0].Token != "" {
			t.Fatalf("pending %+v", listed.Data)
		}
		// The first link ended with the resend.
		e.do("POST", "/api/v1/auth/invitations/accept", "", map[string]string{"token": first[1], "password": testPassword}).want(t, 422)
		var u quire.User
		e.do("POST", "/api/v1/auth/invitations/accept", "", map[string]string{"token": second[1], "password": testPassword, "display_name": "Nia"}).
			want(t, 201).json(t, &u)
		if u.Email != "new@example.com" || u.Role != quire.RoleEditor || u.DisplayName != "Nia" {
			t.Fatalf("user %+v", u)
		}
		e.login("new@example.com", testPassword)
		e.do("POST", "/api/v1/auth/invitations/accept", "", map[string]string{"token": second[1], "password": testPassword}).want(t, 422)
		e.do("GET", "/api/v1/users/invitations", adm, nil).want(t, 200).json(t, &listed)
		if len(listed.Data) != 0 {
			t.Fatalf("an accepted invitation is still pending: %+v", listed.Data)
		}
		actions := e.auditActions()
		for _, a := range []string{quire.ActionInvitationCreate, quire.ActionInvitationResend, quire.ActionInvitationAccept} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s", a)
			}
		}
	})
}

func TestInvitationsWithoutMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newMailEnv(t, dsn, nil)
		adm := e.admin().AccessToken
		var inv, other invitation
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": "a@example.com", "role": "author"}).want(t, 201).json(t, &inv)
		if inv.Mailed || len(inv.Token) != 47 || inv.URL != "" {
			t.Fatalf("invitation %+v", inv)
		}
		// Revoked: the link no longer works.
		e.do("POST", "/api/v1/users/invitations", adm, map[string]any{"email": "b@example.com", "role": "author"}).want(t, 201).json(t, &other)
		e.do("DELETE", "/api/v1/users/invitations/"+other.ID, adm, nil).want(t, 204)
		e.do("DELETE", "/api/v1/users/invitations/"+other.ID, adm, nil).want(t, 404)
		e.do("POST", "/api/v1/users/invitations/"+other.ID+"/resend", adm, nil).want(t, 404)
		e.do("POST", "/api/v1/auth/invitations/accept", "", map[string]string{"token": other.Token, "password": testPassword}).want(t, 422)
		// Expired after 7 days.
		testdb.Tamper(t, e.cfg.DSN(), `UPDATE account_tokens SET expires_at = ? WHERE id = ?`, "2001-01-01T00:00:00Z", inv.ID)
		e.do("POST", "/api/v1/auth/invitations/accept", "", map[string]string{"token": inv.Token, "password": testPassword}).want(t, 422)
		if !slices.Contains(e.auditActions(), quire.ActionInvitationRevoke) {
			t.Fatal("revoking is not audited")
		}
		// Only admins invite.
		_, editor := e.newUser(quire.RoleEditor)
		e.do("POST", "/api/v1/users/invitations", editor.AccessToken, map[string]any{"email": "c@example.com", "role": "viewer"}).want(t, 403)
	})
}

func TestSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		u, _ := e.newUser(quire.RoleAuthor)
		signIn := func(agent string) service.TokenPair {
			var p service.TokenPair
			e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}, "User-Agent", agent).want(t, 200).json(t, &p)
			return p
		}
		a, b := signIn("Firefox"), signIn("Curl")
		type session struct {
			ID        string `json:"id"`
			UserAgent string `json:"user_agent"`
			IP        string `json:"ip"`
			Current   bool   `json:"current"`
		}
		var list struct{ Data []session }
		e.do("GET", "/api/v1/auth/sessions", a.AccessToken, nil).want(t, 200).json(t, &list)
		var mine, theirs session
		for _, s := range list.Data {
			switch s.UserAgent {
			case "Firefox":
				mine = s
			case "Curl":
				theirs = s
			}
		}
		if len(list.Data) != 3 || !mine.Current || theirs.Current || theirs.IP != "192.0.2.1" {
			t.Fatalf("sessions %+v", list.Data)
		}
		e.do("DELETE", "/api/v1/auth/sessions/"+theirs.ID, a.AccessToken, nil).want(t, 204)
		e.do("GET", "/api/v1/auth/me", b.AccessToken, nil).want(t, 401)
		e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": b.RefreshToken}).want(t, 401)
		e.do("GET", "/api/v1/auth/me", a.AccessToken, nil).want(t, 200)
		// Someone else's session is not found, and is not ended.
		_, other := e.newUser(quire.RoleViewer)
		e.do("DELETE", "/api/v1/auth/sessions/"+mine.ID, other.AccessToken, nil).want(t, 404)
		e.do("GET", "/api/v1/auth/me", a.AccessToken, nil).want(t, 200)
		// An admin ends every session of the user.
		e.do("POST", "/api/v1/users/"+u.ID+"/logout-all", e.admin().AccessToken, nil).want(t, 204)
		e.do("GET", "/api/v1/auth/me", a.AccessToken, nil).want(t, 401)
		e.do("POST", "/api/v1/users/nope/logout-all", e.admin().AccessToken, nil).want(t, 404)
		actions := e.auditActions()
		if !slices.Contains(actions, quire.ActionSessionRevoke) || !slices.Contains(actions, quire.ActionUserSessionsRevoke) {
			t.Fatalf("not audited: %v", actions)
		}
	})
}
