package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Roles, each allowed what the one before is and more.
const (
	RoleViewer  = "viewer"  // reads and exports
	RoleAnalyst = "analyst" // also uploads, annotates and reviews others' work
	RoleAdmin   = "admin"   // also manages users and the taxonomy, and deletes images
)

// RoleRank orders roles; an unknown role ranks below every real one.
func RoleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleAnalyst:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// User is an account. The password hash never leaves the store's callers.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Disabled bool   `json:"disabled"`
	// MustChangePassword is set for a generated password, until the user picks their own.
	MustChangePassword bool      `json:"must_change_password"`
	PasswordHash       string    `json:"-"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// CheckUserName refuses names that would be confusing or unsafe to show: empty, over 64
// characters, control characters, or leading/trailing spaces.
func CheckUserName(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) != name:
		return invalid("name", "a user name cannot be empty or start or end with a space")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64:
		return invalid("name", "a user name is at most 64 characters of text")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return invalid("name", "a user name cannot contain control characters")
		}
	}
	return nil
}

func checkRole(role string) error {
	if RoleRank(role) == 0 {
		return invalid("role", "%q is not a role: use viewer, analyst or admin", role)
	}
	return nil
}

// NewUser is an account to create. PasswordHash is the caller's (bcrypt) hash.
type NewUser struct {
	Name               string
	Role               string
	PasswordHash       string
	MustChangePassword bool
}

// CreateUser adds an account, audited as by's. A name already taken (ignoring case) is
// ErrConflict.
func (s *Store) CreateUser(ctx context.Context, by Actor, in NewUser) (User, error) {
	if err := CheckUserName(in.Name); err != nil {
		return User{}, err
	}
	if err := checkRole(in.Role); err != nil {
		return User{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback()
	// SQLite's NOCASE folds ASCII only: "Élodie" and "élodie" are told apart here.
	rows, err := tx.QueryContext(ctx, `SELECT name FROM users`)
	if err != nil {
		return User{}, err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return User{}, err
		}
		if strings.EqualFold(name, in.Name) {
			rows.Close()
			return User{}, fmt.Errorf("a user named %q already exists: %w", name, ErrConflict)
		}
	}
	rows.Close()
	now := formatTime(s.now())
	id := newID("usr")
	_, err = tx.ExecContext(ctx, `INSERT INTO users (id, name, role, password_hash, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, in.Name, in.Role, in.PasswordHash, in.MustChangePassword, now, now)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("a user named %q already exists: %w", in.Name, ErrConflict)
	}
	if err != nil {
		return User{}, err
	}
	if err := s.audit(ctx, tx, by, "user.create", "user", id, in.Name+" as "+in.Role); err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, err
	}
	return s.User(ctx, id)
}

const userColumns = `id, name, role, disabled, must_change_password, password_hash, created_at, updated_at`

func scanUser(row scanner) (User, error) {
	var u User
	var created, updated string
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &u.MustChangePassword, &u.PasswordHash, &created, &updated); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.UpdatedAt = parseTime(created), parseTime(updated)
	return u, nil
}

func (s *Store) userWhere(ctx context.Context, where string, arg any) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	return u, err
}

// User returns an account by id, or ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	return s.userWhere(ctx, "id = ?", id)
}

// UserByName returns an account by name (ignoring case), or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := s.userWhere(ctx, s.d.nocase("name")+" = "+s.d.nocase("CAST(? AS TEXT)"), name)
	if !errors.Is(err, ErrNotFound) {
		return u, err
	}
	// NOCASE folds ASCII only; fold the rest (few accounts) here.
	users, err := s.Users(ctx)
	if err != nil {
		return User{}, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Name, name) {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("user: %w", ErrNotFound)
}

// Users returns every account by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY `+s.d.nocase("name"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// CountUsers says how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// UserChange changes an account; nil fields stay as they are.
type UserChange struct {
	Role         *string
	Disabled     *bool
	PasswordHash *string
	// MustChangePassword goes with PasswordHash: true for a generated password.
	MustChangePassword bool
}

// UpdateUser applies a change. Disabling an account or changing its password ends its
// sessions; disabling also revokes its tokens' use (they are refused while it is
// disabled). The last enabled admin cannot be demoted or disabled (ErrConflict). A change
// that changes something is audited as by's: user.password when by sets their own
// password, else user.update saying what changed.
func (s *Store) UpdateUser(ctx context.Context, by Actor, id string, ch UserChange) (User, error) {
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return User{}, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback()
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	before := u
	losesAdmin := u.Role == RoleAdmin && !u.Disabled &&
		((ch.Role != nil && *ch.Role != RoleAdmin) || (ch.Disabled != nil && *ch.Disabled))
	if losesAdmin {
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&admins); err != nil {
			return User{}, err
		}
		if admins <= 1 {
			return User{}, fmt.Errorf("%s is the last administrator; make another one first: %w", u.Name, ErrConflict)
		}
	}
	if ch.Role != nil {
		u.Role = *ch.Role
	}
	endSessions := false
	if ch.Disabled != nil {
		endSessions = endSessions || *ch.Disabled
		u.Disabled = *ch.Disabled
	}
	if ch.PasswordHash != nil {
		u.PasswordHash, u.MustChangePassword, endSessions = *ch.PasswordHash, ch.MustChangePassword, true
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, disabled = ?, password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
		u.Role, u.Disabled, u.PasswordHash, u.MustChangePassword, formatTime(s.now()), id); err != nil {
		return User{}, err
	}
	if endSessions {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return User{}, err
		}
	}
	if err := s.auditUserChange(ctx, tx, by, before, u, ch); err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, err
	}
	return s.User(ctx, id)
}

// auditUserChange writes the audit entry of a change from before to after, if it changed
// anything.
func (s *Store) auditUserChange(ctx context.Context, q querier, by Actor, before, after User, ch UserChange) error {
	var what []string
	if after.Role != before.Role {
		what = append(what, "role: "+before.Role+" → "+after.Role)
	}
	if after.Disabled != before.Disabled {
		what = append(what, map[bool]string{true: "disabled", false: "enabled"}[after.Disabled])
	}
	if ch.PasswordHash != nil {
		if len(what) == 0 && by.Name == after.Name && !ch.MustChangePassword {
			return s.audit(ctx, q, by, "user.password", "user", after.ID, "changed own password")
		}
		what = append(what, "password reset")
	}
	if len(what) == 0 {
		return nil
	}
	return s.audit(ctx, q, by, "user.update", "user", after.ID, after.Name+": "+strings.Join(what, ", "))
}

// Session is a signed-in browser, known by the hash of its cookie.
type Session struct {
	IDHash     string
	UserID     string
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry; idle expiry is the caller's rule on LastSeenAt
	IP         string
	UserAgent  string
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, se.IDHash, se.UserID, se.CSRFToken, formatTime(se.CreatedAt), formatTime(se.LastSeenAt),
		formatTime(se.ExpiresAt), se.IP, se.UserAgent)
	return err
}

// SessionByHash returns a session and its user, or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, hash string) (Session, User, error) {
	var se Session
	var created, seen, expires string
	row := s.db.QueryRowContext(ctx, `SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent,
			u.id, u.name, u.role, u.disabled, u.must_change_password, u.password_hash, u.created_at, u.updated_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, hash)
	var u User
	var uc, uu string
	err := row.Scan(&se.IDHash, &se.UserID, &se.CSRFToken, &created, &seen, &expires, &se.IP, &se.UserAgent,
		&u.ID, &u.Name, &u.Role, &u.Disabled, &u.MustChangePassword, &u.PasswordHash, &uc, &uu)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, User{}, err
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = parseTime(created), parseTime(seen), parseTime(expires)
	u.CreatedAt, u.UpdatedAt = parseTime(uc), parseTime(uu)
	return se, u, nil
}

// TouchSession records that a session was used now.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, formatTime(at), hash)
	return err
}

// DeleteSession ends one session, unaudited: one that expired or that a new sign-in on
// the same browser replaces. SignOut is its audited counterpart.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash)
	return err
}

// SignOut ends one session of by's, audited as a sign-out of the session's user; a
// session already gone changes and audits nothing.
func (s *Store) SignOut(ctx context.Context, by Actor, hash string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var userID string
	err = tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE id_hash = ? RETURNING user_id`, hash).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "signout", "user", userID, ""); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteUserSessions ends every session of a user (sign out everywhere), audited as by's,
// and says how many.
func (s *Store) DeleteUserSessions(ctx context.Context, by Actor, userID string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	sessions := "sessions"
	if n == 1 {
		sessions = "session"
	}
	if err := s.audit(ctx, tx, by, "signout.everywhere", "user", userID, fmt.Sprintf("%d %s ended", n, sessions)); err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle since before
// idleSince.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?`, formatTime(now), formatTime(idleSince))
	return err
}

// Token is an API token. Only its hash is stored; the token itself is shown once.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken stores the hash of a new token for a user, audited as by's.
func (s *Store) CreateToken(ctx context.Context, by Actor, userID, name, hash string) (Token, error) {
	if utf8.RuneCountInString(name) > 100 {
		return Token{}, invalid("name", "a token's name is at most 100 characters")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Token{}, err
	}
	defer tx.Rollback()
	id := newID("tok")
	_, err = tx.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, userID, name, hash, formatTime(s.now()))
	if isForeignKeyViolation(err) {
		return Token{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	if err != nil {
		return Token{}, err
	}
	toks, err := s.tokens(ctx, tx, "id = ?", id)
	if err != nil || len(toks) == 0 {
		return Token{}, err
	}
	if err := s.audit(ctx, tx, by, "token.create", "token", id, name); err != nil {
		return Token{}, err
	}
	return toks[0], tx.Commit()
}

func (s *Store) tokens(ctx context.Context, q querier, where string, arg any) ([]Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE `+where+` ORDER BY created_at, id`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var created, used, revoked string
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = parseTime(created)
		if used != "" {
			v := parseTime(used)
			t.LastUsedAt = &v
		}
		if revoked != "" {
			v := parseTime(revoked)
			t.RevokedAt = &v
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Tokens lists a user's tokens, revoked ones included.
func (s *Store) Tokens(ctx context.Context, userID string) ([]Token, error) {
	return s.tokens(ctx, s.db, "user_id = ?", userID)
}

// TokenByID returns a token (revoked or not), or ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id string) (Token, error) {
	toks, err := s.tokens(ctx, s.db, "id = ?", id)
	if err != nil {
		return Token{}, err
	}
	if len(toks) == 0 {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	return toks[0], nil
}

// TokenByHash returns a token and its user, or ErrNotFound. A revoked token is returned
// with RevokedAt set; the caller refuses it.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, User, error) {
	toks, err := s.tokens(ctx, s.db, "token_hash = ?", hash)
	if err != nil {
		return Token{}, User{}, err
	}
	if len(toks) == 0 {
		return Token{}, User{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	u, err := s.User(ctx, toks[0].UserID)
	return toks[0], u, err
}

// TouchToken records a token's use.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(at), id)
	return err
}

// RevokeToken revokes one of a user's tokens, audited as by's (naming its owner and
// label). ErrNotFound when the user has no such token.
func (s *Store) RevokeToken(ctx context.Context, by Actor, userID, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = ''`,
		formatTime(s.now()), id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token: %w", ErrNotFound)
	}
	var owner, name string
	if err := tx.QueryRowContext(ctx, `SELECT u.name, t.name FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id).Scan(&owner, &name); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "token.revoke", "token", id, fmt.Sprintf("%s's token %q", owner, name)); err != nil {
		return err
	}
	return tx.Commit()
}

// UsersStamp changes whenever an account is added or changed or a token revoked, by
// this process or another (the satmark user and token commands): servers compare it to
// know their cached accounts are stale.
func (s *Store) UsersStamp(ctx context.Context) (string, error) {
	var stamp string
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) || '/' || COALESCE(MAX(updated_at), '') FROM users) || '/' ||
		(SELECT COUNT(*) || '/' || COALESCE(MAX(revoked_at), '') FROM api_tokens WHERE revoked_at != '')`).Scan(&stamp)
	return stamp, err
}
