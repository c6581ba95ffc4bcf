package annotations

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// addUser creates an account whose password hash is a stand-in: the store never reads it.
func addUser(t *testing.T, s *Store, name, role string) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), Actor{Name: "root"}, NewUser{Name: name, Role: role, PasswordHash: "hash-of-" + name})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// addSession stores a session of u, seen at seen and ending at expires.
func addSession(t *testing.T, s *Store, u User, hash string, seen, expires time.Time) Session {
	t.Helper()
	se := Session{IDHash: hash, UserID: u.ID, CSRFToken: "csrf-" + hash, CreatedAt: seen, LastSeenAt: seen, ExpiresAt: expires,
		IP: "192.0.2.7", UserAgent: "test browser"}
	if err := s.CreateSession(context.Background(), se); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return se
}

// sessionExists says whether a session is still stored.
func sessionExists(t *testing.T, s *Store, hash string) bool {
	t.Helper()
	_, _, err := s.SessionByHash(context.Background(), hash)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatalf("SessionByHash: %v", err)
	}
	return err == nil
}

func TestCreateUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		tests := []struct {
			name      string
			user      string
			role      string
			wantField string // "" for success
		}{
			{name: "ok, plain name", user: "Kim Ji-woo", role: RoleAnalyst},
			{name: "ok, Hangul", user: "김지우", role: RoleViewer},
			{name: "ok, markup is only text to the store", user: "<img src=x onerror=alert(1)>", role: RoleAdmin},
			{name: "ok, 64 characters, not bytes", user: strings.Repeat("김", 64), role: RoleViewer},
			{name: "nok, empty", user: "", role: RoleViewer, wantField: "name"},
			{name: "nok, leading space", user: " eve", role: RoleViewer, wantField: "name"},
			{name: "nok, trailing space", user: "eve ", role: RoleViewer, wantField: "name"},
			{name: "nok, 65 characters", user: strings.Repeat("x", 65), role: RoleViewer, wantField: "name"},
			{name: "nok, control character", user: "eve\nmallory", role: RoleViewer, wantField: "name"},
			{name: "nok, invalid UTF-8", user: "eve\xff", role: RoleViewer, wantField: "name"},
			{name: "nok, unknown role", user: "eve", role: "superuser", wantField: "role"},
			{name: "nok, no role", user: "eve", role: "", wantField: "role"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := openStore(t)
				u, err := s.CreateUser(ctx, Actor{Name: "root"}, NewUser{Name: tc.user, Role: tc.role, PasswordHash: "h", MustChangePassword: true})
				if tc.wantField != "" {
					wantValidation(t, err, tc.wantField)
					if n := count(t, s, `SELECT COUNT(*) FROM users`); n != 0 {
						t.Errorf("got %d users, want none stored", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				if u.Name != tc.user || u.Role != tc.role || !u.MustChangePassword || u.Disabled || u.PasswordHash != "h" {
					t.Errorf("got %+v, want %q as %s, must change password, enabled", u, tc.user, tc.role)
				}
				if !ValidID(u.ID) || !strings.HasPrefix(u.ID, "usr_") {
					t.Errorf("got id %q, want a usr_ id", u.ID)
				}
				got, err := s.UserByName(ctx, strings.ToUpper(tc.user))
				if err != nil || got.ID != u.ID {
					t.Errorf("UserByName ignoring case: got %q (%v), want %q", got.ID, err, u.ID)
				}
			})
		}

		t.Run("nok, a name taken ignoring case is a conflict", func(t *testing.T) {
			s := openStore(t)
			addUser(t, s, "Alice", RoleAnalyst)
			_, err := s.CreateUser(ctx, Actor{Name: "root"}, NewUser{Name: "aLICE", Role: RoleViewer, PasswordHash: "h"})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("got %v, want ErrConflict", err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM users`); n != 1 {
				t.Errorf("got %d users, want 1", n)
			}
		})

		t.Run("nok, unknown user", func(t *testing.T) {
			s := openStore(t)
			if _, err := s.User(ctx, "usr_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
				t.Errorf("User: got %v, want ErrNotFound", err)
			}
			if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
				t.Errorf("UserByName: got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestUsersAreListedByName(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		for _, name := range []string{"carol", "Alice", "bob"} {
			addUser(t, s, name, RoleViewer)
		}
		users, err := s.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
		}
		if got := strings.Join(names, ","); got != "Alice,bob,carol" {
			t.Errorf("got %s, want Alice,bob,carol (by name, ignoring case)", got)
		}
		if n, err := s.CountUsers(context.Background()); err != nil || n != 3 {
			t.Errorf("CountUsers: got %d (%v), want 3", n, err)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		now := time.Now().UTC()

		t.Run("nok, the last enabled admin cannot be demoted or disabled", func(t *testing.T) {
			s := openStore(t)
			root := addUser(t, s, "root", RoleAdmin)
			// A disabled admin is no administrator anyone can use.
			other := addUser(t, s, "other", RoleAdmin)
			if _, err := s.UpdateUser(ctx, Actor{Name: "root"}, other.ID, UserChange{Disabled: ptr(true)}); err != nil {
				t.Fatalf("disable the other admin: %v", err)
			}
			for _, ch := range []UserChange{{Role: ptr(RoleAnalyst)}, {Role: ptr(RoleViewer)}, {Disabled: ptr(true)}} {
				if _, err := s.UpdateUser(ctx, Actor{Name: "root"}, root.ID, ch); !errors.Is(err, ErrConflict) {
					t.Errorf("change %+v: got %v, want ErrConflict", ch, err)
				}
			}
			got, err := s.User(ctx, root.ID)
			if err != nil || got.Role != RoleAdmin || got.Disabled {
				t.Errorf("after refused changes: got %+v (%v), want an enabled admin", got, err)
			}
			// A change that keeps them an admin is fine.
			if _, err := s.UpdateUser(ctx, Actor{Name: "root"}, root.ID, UserChange{Role: ptr(RoleAdmin), Disabled: ptr(false)}); err != nil {
				t.Errorf("keeping the admin an admin: %v", err)
			}
		})

		t.Run("ok, with two admins one may be demoted, then the other is the last", func(t *testing.T) {
			s := openStore(t)
			a := addUser(t, s, "a", RoleAdmin)
			b := addUser(t, s, "b", RoleAdmin)
			got, err := s.UpdateUser(ctx, Actor{Name: "root"}, a.ID, UserChange{Role: ptr(RoleAnalyst)})
			if err != nil || got.Role != RoleAnalyst {
				t.Fatalf("demote a: got %+v (%v), want an analyst", got, err)
			}
			if _, err := s.UpdateUser(ctx, Actor{Name: "root"}, b.ID, UserChange{Disabled: ptr(true)}); !errors.Is(err, ErrConflict) {
				t.Errorf("disable b, now the last admin: got %v, want ErrConflict", err)
			}
		})

		t.Run("ok, disabling ends the user's sessions, not others'", func(t *testing.T) {
			s := openStore(t)
			addUser(t, s, "root", RoleAdmin)
			alice := addUser(t, s, "alice", RoleAnalyst)
			bob := addUser(t, s, "bob", RoleAnalyst)
			addSession(t, s, alice, "a1", now, now.Add(time.Hour))
			addSession(t, s, alice, "a2", now, now.Add(time.Hour))
			addSession(t, s, bob, "b1", now, now.Add(time.Hour))
			tok, err := s.CreateToken(ctx, Actor{Name: "root"}, alice.ID, "script", "tokhash")
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{Disabled: ptr(true)})
			if err != nil || !got.Disabled {
				t.Fatalf("disable: got %+v (%v)", got, err)
			}
			if sessionExists(t, s, "a1") || sessionExists(t, s, "a2") {
				t.Errorf("alice's sessions survived her account being disabled")
			}
			if !sessionExists(t, s, "b1") {
				t.Errorf("bob's session ended when alice was disabled")
			}
			// The token stays for the record; its owner shows as disabled, so it is refused.
			gotTok, owner, err := s.TokenByHash(ctx, "tokhash")
			if err != nil || gotTok.ID != tok.ID || !owner.Disabled {
				t.Errorf("TokenByHash: got %+v of %+v (%v), want the token of a disabled user", gotTok, owner, err)
			}
			// Enabling again does not bring sessions back.
			if got, err := s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{Disabled: ptr(false)}); err != nil || got.Disabled {
				t.Errorf("enable: got %+v (%v)", got, err)
			}
		})

		t.Run("ok, a new password ends every session and says whether it was generated", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			addSession(t, s, alice, "a1", now, now.Add(time.Hour))
			got, err := s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{PasswordHash: ptr("new-hash"), MustChangePassword: true})
			if err != nil || got.PasswordHash != "new-hash" || !got.MustChangePassword {
				t.Fatalf("reset: got %+v (%v), want the new hash, to be changed", got, err)
			}
			if sessionExists(t, s, "a1") {
				t.Errorf("the session survived a password change")
			}
			got, err = s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{PasswordHash: ptr("own-hash")})
			if err != nil || got.MustChangePassword {
				t.Errorf("own password: got %+v (%v), want must_change_password cleared", got, err)
			}
		})

		t.Run("ok, a role change alone keeps the sessions", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			addSession(t, s, alice, "a1", now, now.Add(time.Hour))
			got, err := s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{Role: ptr(RoleViewer)})
			if err != nil || got.Role != RoleViewer || got.PasswordHash != alice.PasswordHash {
				t.Fatalf("demote: got %+v (%v)", got, err)
			}
			if !sessionExists(t, s, "a1") {
				t.Errorf("a role change ended the session")
			}
		})

		t.Run("nok, unknown user or role", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			if _, err := s.UpdateUser(ctx, Actor{Name: "root"}, "usr_aaaaaaaaaaaa", UserChange{Disabled: ptr(true)}); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown user: got %v, want ErrNotFound", err)
			}
			_, err := s.UpdateUser(ctx, Actor{Name: "root"}, alice.ID, UserChange{Role: ptr("root")})
			wantValidation(t, err, "role")
			if got, _ := s.User(ctx, alice.ID); got.Role != RoleAnalyst {
				t.Errorf("role after a refused change: %q, want analyst", got.Role)
			}
		})
	})
}

func TestSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

		t.Run("ok, round trip with its user", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			want := addSession(t, s, alice, "h1", now, now.Add(30*24*time.Hour))
			se, u, err := s.SessionByHash(ctx, "h1")
			if err != nil {
				t.Fatal(err)
			}
			if se.IDHash != "h1" || se.UserID != alice.ID || se.CSRFToken != want.CSRFToken || se.IP != "192.0.2.7" || se.UserAgent != "test browser" {
				t.Errorf("got %+v, want %+v", se, want)
			}
			if !se.CreatedAt.Equal(now) || !se.LastSeenAt.Equal(now) || !se.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("times: got created %v seen %v expires %v, want %v, %v, %v", se.CreatedAt, se.LastSeenAt, se.ExpiresAt, now, now, want.ExpiresAt)
			}
			if u.ID != alice.ID || u.Name != "alice" || u.Role != RoleAnalyst {
				t.Errorf("user: got %+v, want alice", u)
			}
			later := now.Add(time.Hour)
			if err := s.TouchSession(ctx, "h1", later); err != nil {
				t.Fatal(err)
			}
			if se, _, _ := s.SessionByHash(ctx, "h1"); !se.LastSeenAt.Equal(later) {
				t.Errorf("after touch: last seen %v, want %v", se.LastSeenAt, later)
			}
			if err := s.DeleteSession(ctx, "h1"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SessionByHash(ctx, "h1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after delete: got %v, want ErrNotFound", err)
			}
		})

		t.Run("ok, sign out everywhere ends only that user's sessions", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			bob := addUser(t, s, "bob", RoleAnalyst)
			addSession(t, s, alice, "a1", now, now.Add(time.Hour))
			addSession(t, s, alice, "a2", now, now.Add(time.Hour))
			addSession(t, s, bob, "b1", now, now.Add(time.Hour))
			n, err := s.DeleteUserSessions(ctx, Actor{Name: "root"}, alice.ID)
			if err != nil || n != 2 {
				t.Errorf("got %d (%v), want 2 sessions ended", n, err)
			}
			if sessionExists(t, s, "a1") || sessionExists(t, s, "a2") || !sessionExists(t, s, "b1") {
				t.Errorf("want alice's sessions gone and bob's kept")
			}
		})

		t.Run("ok, expired and idle sessions are swept, live ones kept", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			addSession(t, s, alice, "live", now.Add(-time.Minute), now.Add(time.Hour))
			addSession(t, s, alice, "expired", now.Add(-time.Minute), now.Add(-time.Second))
			addSession(t, s, alice, "idle", now.Add(-8*24*time.Hour), now.Add(time.Hour))
			if err := s.DeleteExpiredSessions(ctx, now, now.Add(-7*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for hash, want := range map[string]bool{"live": true, "expired": false, "idle": false} {
				if got := sessionExists(t, s, hash); got != want {
					t.Errorf("session %s kept = %v, want %v", hash, got, want)
				}
			}
		})

		t.Run("nok, unknown session", func(t *testing.T) {
			s := openStore(t)
			if _, _, err := s.SessionByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()

		t.Run("ok, round trip, use and revocation", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			tok, err := s.CreateToken(ctx, Actor{Name: "root"}, alice.ID, "nightly export", "hash-1")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.ID, "tok_") || tok.UserID != alice.ID || tok.Name != "nightly export" || tok.CreatedAt.IsZero() ||
				tok.LastUsedAt != nil || tok.RevokedAt != nil {
				t.Errorf("created: got %+v, want a fresh, unused token of alice", tok)
			}
			got, u, err := s.TokenByHash(ctx, "hash-1")
			if err != nil || got.ID != tok.ID || u.ID != alice.ID {
				t.Fatalf("TokenByHash: got %+v of %+v (%v)", got, u, err)
			}
			used := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
			if err := s.TouchToken(ctx, tok.ID, used); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeToken(ctx, Actor{Name: "root"}, alice.ID, tok.ID); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			got, _, err = s.TokenByHash(ctx, "hash-1")
			if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) || got.RevokedAt == nil {
				t.Errorf("after use and revocation: got %+v (%v), want last used %v and revoked", got, err, used)
			}
			if err := s.RevokeToken(ctx, Actor{Name: "root"}, alice.ID, tok.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("revoke twice: got %v, want ErrNotFound", err)
			}
			toks, err := s.Tokens(ctx, alice.ID)
			if err != nil || len(toks) != 1 || toks[0].RevokedAt == nil {
				t.Errorf("Tokens: got %+v (%v), want the revoked token kept for the record", toks, err)
			}
		})

		t.Run("nok, someone else's token is not found and stays valid", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			mallory := addUser(t, s, "mallory", RoleAdmin)
			tok, err := s.CreateToken(ctx, Actor{Name: "root"}, alice.ID, "", "hash-a")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeToken(ctx, Actor{Name: "root"}, mallory.ID, tok.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
			if got, _, _ := s.TokenByHash(ctx, "hash-a"); got.RevokedAt != nil {
				t.Errorf("alice's token was revoked by mallory")
			}
			if toks, _ := s.Tokens(ctx, mallory.ID); len(toks) != 0 {
				t.Errorf("mallory's tokens: got %+v, want none (alice's are hers)", toks)
			}
		})

		t.Run("nok, bad input", func(t *testing.T) {
			s := openStore(t)
			alice := addUser(t, s, "alice", RoleAnalyst)
			_, err := s.CreateToken(ctx, Actor{Name: "root"}, alice.ID, strings.Repeat("n", 101), "h")
			wantValidation(t, err, "name")
			if _, err := s.CreateToken(ctx, Actor{Name: "root"}, "usr_aaaaaaaaaaaa", "", "h2"); !errors.Is(err, ErrNotFound) {
				t.Errorf("token of an unknown user: got %v, want ErrNotFound", err)
			}
			if _, _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown hash: got %v, want ErrNotFound", err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM api_tokens`); n != 0 {
				t.Errorf("got %d tokens stored, want none", n)
			}
		})
	})
}

func TestUserNamesFoldBeyondASCII(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		if _, err := s.CreateUser(ctx, Actor{Name: "root"}, NewUser{Name: "Élodie", Role: RoleAnalyst, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, Actor{Name: "root"}, NewUser{Name: "élodie", Role: RoleViewer, PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
			t.Errorf("a name differing only in the case of É: got %v, want ErrConflict", err)
		}
		if u, err := s.UserByName(ctx, "ÉLODIE"); err != nil || u.Name != "Élodie" {
			t.Errorf("UserByName(ÉLODIE): got %+v, %v; want Élodie", u, err)
		}
	})
}
