package service

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// InvitePrefix marks invitation secrets.
const InvitePrefix = "qiv_"

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitations lets admins invite people, who then choose their password.
type Invitations struct {
	db       *store.DB
	hasher   *auth.Hasher
	mail     Mailer
	links    *Recovery // link addresses and the per-client throttle
	accounts *AccountCache
}

// NewInvitations returns the invitation service; it shares Recovery's
// public address and per-client throttle.
func NewInvitations(db *store.DB, r *Recovery) *Invitations {
	return &Invitations{db: db, hasher: r.hasher, mail: r.mail, links: r, accounts: r.accounts}
}

// Invitation is a pending invitation. Token and URL are set only when the
// invitation was not mailed (no SMTP): the admin hands them over.
type Invitation struct {
	*store.AccountToken
	Mailed bool   `json:"mailed"`
	Token  string `json:"token,omitempty"`
	URL    string `json:"url,omitempty"`
}

// NewInvitation is the input of Create.
type NewInvitation struct {
	Email string     `json:"email"`
	Role  quire.Role `json:"role"`
}

// Create invites email with role: mailed when SMTP is configured, else
// returned for the admin to hand over.
func (s *Invitations) Create(ctx context.Context, p *quire.Principal, in NewInvitation) (*Invitation, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	in.Email = quire.NormalizeEmail(in.Email)
	var v quire.Validator
	quire.ValidateEmail(&v, "email", in.Email)
	quire.ValidateRole(&v, "role", in.Role)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Invitation
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, _, err := tx.UserByEmail(ctx, in.Email); err == nil {
			return quire.Errorf(quire.ECONFLICT, "%s already has an account", in.Email)
		} else if quire.ErrorCode(err) != quire.ENOTFOUND {
			return err
		}
		pending, err := tx.PendingInvitationFor(ctx, in.Email, tx.Now())
		if err != nil {
			return err
		}
		if pending {
			return quire.Errorf(quire.ECONFLICT, "%s has a pending invitation; resend or revoke it", in.Email)
		}
		t := &store.AccountToken{Purpose: store.PurposeInvite, Email: in.Email, Role: in.Role, CreatedBy: p.UserID}
		if out, err = s.issue(ctx, tx, p, t); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionInvitationCreate, "invitation", t.ID,
			map[string]any{"email": t.Email, "role": string(t.Role), "mailed": out.Mailed})
	})
	return out, err
}

// issue stores t with a new secret and a fresh expiry, and mails it.
func (s *Invitations) issue(ctx context.Context, tx *store.Tx, p *quire.Principal, t *store.AccountToken) (*Invitation, error) {
	plain, hash, err := auth.NewSecret(InvitePrefix)
	if err != nil {
		return nil, err
	}
	t.ExpiresAt = tx.Now().Add(InvitationTTL)
	if err := tx.CreateAccountToken(ctx, t, hash); err != nil {
		return nil, err
	}
	link := s.links.address("/admin/invitation?token=", plain)
	out := &Invitation{AccountToken: t}
	if !s.mail.Enabled() {
		out.Token, out.URL = plain, link
		return out, nil
	}
	inviter, err := tx.User(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	name := inviter.DisplayName
	if strings.TrimSpace(name) == "" {
		name = inviter.Email
	}
	data := map[string]any{"Site": siteName(ctx, tx), "Email": t.Email, "Role": string(t.Role), "Inviter": name, "Link": link}
	if err := s.mail.Queue(ctx, tx, "invitation", t.Email, data); err != nil {
		return nil, err
	}
	out.Mailed = true
	return out, nil
}

// List returns pending invitations after the cursor id, and the next cursor.
func (s *Invitations) List(ctx context.Context, p *quire.Principal, after string, limit int) ([]*store.AccountToken, string, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, "", err
	}
	r := s.db.Reader()
	list, err := r.Invitations(ctx, r.Now(), after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > limit {
		list, next = list[:limit], list[limit-1].ID
	}
	return list, next, nil
}

var errNoInvitation = quire.Errorf(quire.ENOTFOUND, "no pending invitation with this id")

// Resend ends a pending invitation's link and sends a new one, valid
// another 7 days (the invitation keeps its email and role, with a new id).
func (s *Invitations) Resend(ctx context.Context, p *quire.Principal, id string) (*Invitation, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	var out *Invitation
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.RevokeAccountToken(ctx, old.ID); err != nil {
			return err
		}
		t := &store.AccountToken{Purpose: store.PurposeInvite, Email: old.Email, Role: old.Role, CreatedBy: p.UserID}
		if out, err = s.issue(ctx, tx, p, t); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionInvitationResend, "invitation", t.ID,
			map[string]any{"replaces": old.ID, "email": t.Email, "mailed": out.Mailed})
	})
	return out, err
}

// Revoke ends a pending invitation.
func (s *Invitations) Revoke(ctx context.Context, p *quire.Principal, id string) error {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.RevokeAccountToken(ctx, t.ID); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionInvitationRevoke, "invitation", t.ID, map[string]any{"email": t.Email})
	})
}

func (s *Invitations) pending(ctx context.Context, tx *store.Tx, id string) (*store.AccountToken, error) {
	t, err := tx.AccountToken(ctx, store.PurposeInvite, id)
	if quire.ErrorCode(err) == quire.ENOTFOUND || (err == nil && !t.Usable(tx.Now())) {
		return nil, errNoInvitation
	}
	return t, err
}

var errBadInvitation = quire.Invalid(quire.FieldError{Field: "token", Message: "is not valid: the invitation may have been used, revoked or have expired"})

// AcceptInvitation is the input of Accept.
type AcceptInvitation struct {
	Token       string `json:"token"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

// Accept makes the invited account with the chosen password; the link
// works once.
func (s *Invitations) Accept(ctx context.Context, in AcceptInvitation) (*quire.User, error) {
	ip := MetaFrom(ctx).IP
	if ok, wait, err := s.links.byClient.Allow(ctx, "accept:"+ip); err != nil || !ok {
		return nil, cmp.Or(err, tooManyRequests(wait))
	}
	var v quire.Validator
	v.Check(in.Token != "", "token", "is required")
	quire.ValidatePassword(&v, "password", in.Password)
	quire.ValidateDisplayName(&v, "display_name", in.DisplayName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.Token, InvitePrefix) || len(in.Token) > 128 {
		s.links.failedLink(ctx, "accept:"+ip)
		return nil, errBadInvitation
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	var u *quire.User
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.AccountTokenByHash(ctx, store.PurposeInvite, auth.HashSecret(in.Token))
		if quire.ErrorCode(err) == quire.ENOTFOUND {
			return errBadInvitation
		}
		if err != nil {
			return err
		}
		if fresh, err := tx.UseAccountToken(ctx, t.ID); err != nil || !fresh || !t.Usable(tx.Now()) {
			if err == nil {
				err = errBadInvitation
			}
			return err
		}
		u = &quire.User{Email: t.Email, Role: t.Role, DisplayName: in.DisplayName, Active: true}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		if err := tx.SetAccountTokenUser(ctx, t.ID, u.ID); err != nil {
			return err
		}
		details := quire.Changes(nil, userFields(u))
		details["invitation_id"], details["invited_by"] = t.ID, t.CreatedBy
		return audit(ctx, tx, u.ID, quire.ActionInvitationAccept, "user", u.ID, details)
	})
	if quire.ErrorCode(err) == quire.EINVALID {
		s.links.failedLink(ctx, "accept:"+ip)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
