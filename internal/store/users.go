package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirecms/quire"
)

// NewID returns a UUIDv7: time-ordered, so ids also sort by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

var errUserNotFound = quire.Errorf(quire.ENOTFOUND, "user not found")

const userColumns = `id, email, display_name, role, active, last_token_issue, created_at, updated_at, version`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*quire.User, error) {
	var u quire.User
	dest := append([]any{&u.ID, &u.Email, &u.DisplayName, &u.Role, &u.Active,
		scanTime{&u.LastTokenIssue}, scanTime{&u.CreatedAt}, scanTime{&u.UpdatedAt}, &u.Version}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errUserNotFound
		}
		return nil, mapErr(err)
	}
	return &u, nil
}

// CreateUser inserts u with the given password hash. ID, timestamps and
// version are set here.
func (tx *Tx) CreateUser(ctx context.Context, u *quire.User, hashedPassword string) error {
	u.ID, u.CreatedAt, u.UpdatedAt, u.LastTokenIssue, u.Version = NewID(), tx.now, tx.now, tx.now, 1
	_, err := tx.exec(ctx, `INSERT INTO users (id, email, hashed_password, role, display_name, active, last_token_issue, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, hashedPassword, u.Role, u.DisplayName, u.Active, u.LastTokenIssue, u.CreatedAt, u.UpdatedAt, u.Version)
	if errors.Is(err, ErrUniqueViolation) {
		return quire.Wrap(quire.ECONFLICT, err, "a user with this email already exists")
	}
	return err
}

// User returns the user with id.
func (tx *Tx) User(ctx context.Context, id string) (*quire.User, error) {
	return scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserForUpdate reads a user and, on PostgreSQL, locks the row until
// commit, so that concurrent changes to one account queue instead of
// failing each other's version check.
func (tx *Tx) UserForUpdate(ctx context.Context, id string) (*quire.User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanUser(tx.queryRow(ctx, q, id))
}

// UserByEmail returns the user with this (normalized) email and their password hash.
func (tx *Tx) UserByEmail(ctx context.Context, email string) (*quire.User, string, error) {
	var hash string
	u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+`, hashed_password FROM users WHERE lower(email) = lower(?)`, email), &hash)
	return u, hash, err
}

// PasswordHash returns the stored hash of a user's password.
func (tx *Tx) PasswordHash(ctx context.Context, id string) (string, error) {
	var hash string
	err := tx.queryRow(ctx, `SELECT hashed_password FROM users WHERE id = ?`, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errUserNotFound
	}
	return hash, mapErr(err)
}

// Users lists users ordered by id (UUIDv7, so by creation), starting after
// the id afterID (keyset pagination), at most limit rows.
func (tx *Tx) Users(ctx context.Context, afterID string, limit int) ([]*quire.User, error) {
	rows, err := tx.query(ctx, `SELECT `+userColumns+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*quire.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// UpdateUser writes the mutable fields of u when its stored version is
// still u.Version, then bumps the version. A stale version is EPRECONDITION.
func (tx *Tx) UpdateUser(ctx context.Context, u *quire.User) error {
	// last_token_issue is not written here: a logout-all racing with this
	// update must not be undone by a stale copy. RevokeUserTokens moves it.
	res, err := tx.exec(ctx, `UPDATE users SET email = ?, display_name = ?, role = ?, active = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		u.Email, u.DisplayName, u.Role, u.Active, tx.now, u.ID, u.Version)
	if errors.Is(err, ErrUniqueViolation) {
		return quire.Wrap(quire.ECONFLICT, err, "a user with this email already exists")
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.User(ctx, u.ID); err != nil {
			return err
		}
		return quire.Errorf(quire.EPRECONDITION, "the user was changed by someone else; fetch it again")
	}
	u.UpdatedAt, u.Version = tx.now, u.Version+1
	return nil
}

// SetPassword stores a new hash and moves last_token_issue to now, so that
// every token issued before the change stops working.
func (tx *Tx) SetPassword(ctx context.Context, id, hashedPassword string) error {
	return tx.execOne(ctx, errUserNotFound, `UPDATE users SET hashed_password = ?, last_token_issue = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		hashedPassword, tx.now, tx.now, id)
}

// RevokeUserTokens moves last_token_issue to now (logout-all).
func (tx *Tx) RevokeUserTokens(ctx context.Context, id string) error {
	return tx.execOne(ctx, errUserNotFound, `UPDATE users SET last_token_issue = ? WHERE id = ?`, tx.now, id)
}

// DeleteUser removes a user. Their sessions and API tokens go with them; a
// user who still owns content cannot be deleted (ECONFLICT).
func (tx *Tx) DeleteUser(ctx context.Context, id string) error {
	err := tx.execOne(ctx, errUserNotFound, `DELETE FROM users WHERE id = ?`, id)
	if errors.Is(err, ErrForeignKey) {
		return quire.Wrap(quire.ECONFLICT, err, "the user still owns pages, revisions or media; deactivate the account instead")
	}
	return err
}

// CountActiveAdmins counts active admins, locking their rows on PostgreSQL
// so that two concurrent demotions cannot both see "one other admin left".
func (tx *Tx) CountActiveAdmins(ctx context.Context) (int, error) {
	q := `SELECT id FROM users WHERE role = 'admin' AND active = ?`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	rows, err := tx.query(ctx, q, true)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count admins: %w", mapErr(err))
	}
	return n, nil
}

// CountUsers counts all users (used to bootstrap the first admin once).
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}
