package service

import (
	"context"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/auth"
	"github.com/quirecms/quire/internal/store"
)

// Users manages accounts (admins, with a login session: requireSession).
type Users struct {
	db       *store.DB
	hasher   *auth.Hasher
	accounts *AccountCache
}

// NewUsers returns the user service. accounts (may be nil) is the cache
// authentication reads, which every change to a user forgets.
func NewUsers(db *store.DB, hasher *auth.Hasher, accounts *AccountCache) *Users {
	return &Users{db: db, hasher: hasher, accounts: accounts}
}

// NewUser is the input of Create.
type NewUser struct {
	Email       string     `json:"email"`
	Password    string     `json:"password"`
	Role        quire.Role `json:"role"`
	DisplayName string     `json:"display_name"`
}

// UserPatch is the input of Update; nil fields stay as they are.
type UserPatch struct {
	Email       *string     `json:"email"`
	DisplayName *string     `json:"display_name"`
	Role        *quire.Role `json:"role"`
	Active      *bool       `json:"active"`
	Password    *string     `json:"password"`
}

func userFields(u *quire.User) map[string]any {
	return map[string]any{"email": u.Email, "display_name": u.DisplayName, "role": string(u.Role), "active": u.Active}
}

// Create adds a user. p may be nil only for the bootstrap and the CLI,
// which call CreateSystem instead.
func (s *Users) Create(ctx context.Context, p *quire.Principal, in NewUser) (*quire.User, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.create(ctx, actorID(p), in)
}

// CreateSystem adds a user on behalf of the operator (first-admin
// bootstrap, `quire user create`); the audit entry has no user.
func (s *Users) CreateSystem(ctx context.Context, in NewUser) (*quire.User, error) {
	return s.create(ctx, "", in)
}

func (s *Users) create(ctx context.Context, actor string, in NewUser) (*quire.User, error) {
	in.Email = quire.NormalizeEmail(in.Email)
	var v quire.Validator
	quire.ValidateEmail(&v, "email", in.Email)
	quire.ValidatePassword(&v, "password", in.Password)
	quire.ValidateRole(&v, "role", in.Role)
	quire.ValidateDisplayName(&v, "display_name", in.DisplayName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	u := &quire.User{Email: in.Email, Role: in.Role, DisplayName: in.DisplayName, Active: true}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		return audit(ctx, tx, actor, quire.ActionUserCreate, "user", u.ID, quire.Changes(nil, userFields(u)))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Get returns one user.
func (s *Users) Get(ctx context.Context, p *quire.Principal, id string) (*quire.User, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	return s.db.Reader().User(ctx, id)
}

// List returns up to limit users after the cursor id, and the next cursor.
func (s *Users) List(ctx context.Context, p *quire.Principal, after string, limit int) ([]*quire.User, string, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, "", err
	}
	users, err := s.db.Reader().Users(ctx, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > limit {
		users, next = users[:limit], users[limit-1].ID
	}
	return users, next, nil
}

// Update applies patch to user id. ifMatch, when not zero, must be the
// stored version. A role change, deactivation or password reset moves
// last_token_issue and ends the user's sessions, so that it takes effect
// on their next request. The last active admin keeps that status.
func (s *Users) Update(ctx context.Context, p *quire.Principal, id string, ifMatch int64, patch UserPatch) (*quire.User, error) {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return nil, err
	}
	var v quire.Validator
	if patch.Email != nil {
		*patch.Email = quire.NormalizeEmail(*patch.Email)
		quire.ValidateEmail(&v, "email", *patch.Email)
	}
	if patch.DisplayName != nil {
		quire.ValidateDisplayName(&v, "display_name", *patch.DisplayName)
	}
	if patch.Role != nil {
		quire.ValidateRole(&v, "role", *patch.Role)
	}
	var hash string
	if patch.Password != nil {
		quire.ValidatePassword(&v, "password", *patch.Password)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if patch.Password != nil {
		var err error
		if hash, err = s.hasher.Hash(*patch.Password); err != nil {
			return nil, err
		}
	}
	var u *quire.User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if patch.Role != nil || patch.Active != nil {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if u, err = tx.UserForUpdate(ctx, id); err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != u.Version {
			return quire.Errorf(quire.EPRECONDITION, "the user was changed by someone else; fetch it again")
		}
		before := userFields(u)
		wasAdmin := u.Role == quire.RoleAdmin && u.Active
		if patch.Email != nil {
			u.Email = *patch.Email
		}
		if patch.DisplayName != nil {
			u.DisplayName = *patch.DisplayName
		}
		if patch.Role != nil {
			u.Role = *patch.Role
		}
		if patch.Active != nil {
			u.Active = *patch.Active
		}
		if wasAdmin && (u.Role != quire.RoleAdmin || !u.Active) {
			if err := lastAdminGuard(ctx, tx); err != nil {
				return err
			}
		}
		action := quire.ActionUserUpdate
		roleChanged, deactivated := before["role"] != string(u.Role), before["active"] == true && !u.Active
		switch {
		case deactivated:
			action = quire.ActionUserDeactivate
		case roleChanged:
			action = quire.ActionUserRoleChange
		}
		after := userFields(u)
		details := quire.Changes(before, after)
		if len(details["after"].(map[string]any)) == 0 && patch.Password == nil {
			return nil // nothing changes: no new version, no audit entry
		}
		if roleChanged || deactivated || patch.Password != nil {
			u.LastTokenIssue = tx.Now()
			if err := tx.RevokeUserTokens(ctx, u.ID); err != nil {
				return err
			}
			if err := tx.RevokeUserSessions(ctx, u.ID, ""); err != nil {
				return err
			}
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if patch.Password != nil {
			if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
				return err
			}
			u.Version++
			details["password_reset"] = true
		}
		return audit(ctx, tx, actorID(p), action, "user", u.ID, details)
	})
	if err != nil {
		return nil, err
	}
	s.accounts.Forget()
	return u, nil
}

// lastAdminGuard refuses a change that would leave no active admin.
func lastAdminGuard(ctx context.Context, tx *store.Tx) error {
	n, err := tx.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return quire.Errorf(quire.ECONFLICT, "this is the last active admin; promote another admin first")
	}
	return nil
}

// lockAdmins takes the locks of the last-admin check (every active admin's
// row, on PostgreSQL) before a change locks the user's own row, so that
// two changes that may both need the check lock in one order instead of
// deadlocking.
func lockAdmins(ctx context.Context, tx *store.Tx) error {
	_, err := tx.CountActiveAdmins(ctx)
	return err
}

// Delete removes a user who owns no content.
func (s *Users) Delete(ctx context.Context, p *quire.Principal, id string, ifMatch int64) error {
	if err := requireSession(p, quire.RoleAdmin); err != nil {
		return err
	}
	defer s.accounts.Forget() // after the commit (or rollback, harmlessly)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		u, err := tx.UserForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != u.Version {
			return quire.Errorf(quire.EPRECONDITION, "the user was changed by someone else; fetch it again")
		}
		if u.Role == quire.RoleAdmin && u.Active {
			if err := lastAdminGuard(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, actorID(p), quire.ActionUserDelete, "user", id, quire.Changes(userFields(u), nil))
	})
}

// UpdateSelf lets any signed-in user change their own display name. The
// input type has no role or active field, so nothing else can ride along.
func (s *Users) UpdateSelf(ctx context.Context, p *quire.Principal, ifMatch int64, displayName string) (*quire.User, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	var v quire.Validator
	quire.ValidateDisplayName(&v, "display_name", displayName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u *quire.User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.UserForUpdate(ctx, p.UserID); err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != u.Version {
			return quire.Errorf(quire.EPRECONDITION, "your account was changed elsewhere; fetch it again")
		}
		before := userFields(u)
		u.DisplayName = displayName
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return audit(ctx, tx, p.UserID, quire.ActionUserUpdate, "user", u.ID, quire.Changes(before, userFields(u)))
	})
	return u, err
}

// Self returns the calling user.
func (s *Users) Self(ctx context.Context, p *quire.Principal) (*quire.User, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	return s.db.Reader().User(ctx, p.UserID)
}
