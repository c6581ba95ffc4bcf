package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// API tokens, and administrators managing accounts.

// createdToken is POST /api/v1/me/tokens's answer: the token, shown this once.
type createdToken struct {
	annotations.Token
	Secret string `json:"token"`
}

func (ts *testServer) createToken(t *testing.T, name string, headers ...string) createdToken {
	t.Helper()
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/me/tokens", map[string]string{"name": name}, headers...)
	wantStatus(t, rec, http.StatusCreated)
	var tok createdToken
	decode(t, rec, &tok)
	return tok
}

func TestAPITokens(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ana := ts.addUser(t, "ana", annotations.RoleAnalyst)
	b := ts.signIn(t, "ana", testPassword)

	tok := ts.createToken(t, "nightly export", b.headers()...)
	if !strings.HasPrefix(tok.Secret, "smk_") || len(tok.Secret) < 40 || tok.Name != "nightly export" || tok.UserID != ana.ID {
		t.Fatalf("created %+v, want an smk_ token of ana named nightly export", tok)
	}
	bearer := []string{"Authorization", "Bearer " + tok.Secret}

	t.Run("ok, shown once: the list has no secret, the database only its hash", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/me/tokens", nil, b.headers()...)
		wantStatus(t, rec, http.StatusOK)
		var listed []map[string]any
		decode(t, rec, &listed)
		if len(listed) != 1 || listed[0]["id"] != tok.ID {
			t.Fatalf("listed %v, want the one token", listed)
		}
		if _, ok := listed[0]["token"]; ok || strings.Contains(rec.Body.String(), tok.Secret) {
			t.Errorf("the list shows the token itself: %s", rec.Body)
		}
		var stored string
		if err := ts.store.DB().QueryRow(`SELECT token_hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(tok.Secret))
		if stored != hex.EncodeToString(sum[:]) {
			t.Errorf("stored %q, want the SHA-256 of the token", stored)
		}
		// Not in any table, nor in the write-ahead log not yet checkpointed.
		for _, name := range []string{"satmark.db", "satmark.db-wal"} {
			data, err := os.ReadFile(filepath.Join(ts.dir, name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(tok.Secret)) || bytes.Contains(data, []byte(strings.TrimPrefix(tok.Secret, "smk_"))) {
				t.Errorf("%s holds the token itself", name)
			}
		}
	})

	t.Run("ok, the token acts as its user", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/me", nil, bearer...)
		wantStatus(t, rec, http.StatusOK)
		var me struct {
			User      annotations.User `json:"user"`
			Via       string           `json:"via"`
			CSRFToken string           `json:"csrf_token"`
		}
		decode(t, rec, &me)
		if me.User.Name != "ana" || me.Via != "token" || me.CSRFToken != "" {
			t.Errorf("me = %+v, want ana via token, no CSRF token", me)
		}
		img := ts.newImage(t, 1)
		a := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`, bearer...)
		if a.CreatedBy != "ana" {
			t.Errorf("created by %q, want ana", a.CreatedBy)
		}
		toks := ts.tokensOf(t, "ana")
		if len(toks) != 1 || toks[0].LastUsedAt == nil {
			t.Errorf("tokens %+v, want its use recorded", toks)
		}
	})

	t.Run("nok, malformed or unknown tokens", func(t *testing.T) {
		for _, h := range []string{"Bearer smk_nope", "Bearer " + strings.TrimPrefix(tok.Secret, "smk_"), "Basic YW5hOnB3", "Bearer",
			"Bearer smk_" + strings.Repeat("a", 200), tok.Secret} {
			rec := ts.do(t, http.MethodGet, "/api/v1/me", nil, "Authorization", h)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("Authorization %q: status %d, WWW-Authenticate %q; want 401 asking for a bearer token", h, rec.Code, rec.Header().Get("WWW-Authenticate"))
			}
		}
	})

	t.Run("nok, someone else's token cannot be revoked", func(t *testing.T) {
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+tok.ID, nil, ts.as(t, "mallory")...), http.StatusNotFound, "not_found", "")
		if name, _ := ts.whoAmI(t, bearer...); name != "ana" {
			t.Errorf("ana's token stopped working")
		}
	})

	t.Run("ok, revoked, it stops at once", func(t *testing.T) {
		if name, _ := ts.whoAmI(t, bearer...); name != "ana" { // now remembered for a while
			t.Fatal("the token does not work")
		}
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+tok.ID, nil, b.headers()...), http.StatusNoContent)
		_, rec := ts.whoAmI(t, bearer...)
		wantError(t, rec, http.StatusUnauthorized, "token_revoked", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+tok.ID, nil, b.headers()...), http.StatusNotFound, "not_found", "")
		toks := ts.tokensOf(t, "ana")
		if len(toks) != 1 || toks[0].RevokedAt == nil {
			t.Errorf("tokens %+v, want the token kept, revoked", toks)
		}
	})

	t.Run("ok, a token can revoke itself", func(t *testing.T) {
		self := ts.createToken(t, "", b.headers()...)
		headers := []string{"Authorization", "Bearer " + self.Secret}
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+self.ID, nil, headers...), http.StatusNoContent)
		_, rec := ts.whoAmI(t, headers...)
		wantError(t, rec, http.StatusUnauthorized, "token_revoked", "")
	})

	ts.wantAudited(t, "token.create", "ana", tok.ID)
	ts.wantAudited(t, "token.revoke", "ana", tok.ID)
}

// patchUser changes an account as the administrator.
func (ts *testServer) patchUser(t *testing.T, id string, body any) *httptest.ResponseRecorder {
	t.Helper()
	return ts.doJSON(t, http.MethodPatch, "/api/v1/users/"+id, body)
}

func TestDisablingAUserLocksThemOut(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ana := ts.addUser(t, "ana", annotations.RoleAnalyst)
	b := ts.signIn(t, "ana", testPassword)
	token := ts.as(t, "ana")
	if name, _ := ts.whoAmI(t, token...); name != "ana" { // remembered now
		t.Fatal("the token does not work")
	}

	rec := ts.patchUser(t, ana.ID, `{"disabled": true}`)
	wantStatus(t, rec, http.StatusOK)
	_, rec = ts.whoAmI(t, token...)
	wantError(t, rec, http.StatusUnauthorized, "account_disabled", "")
	if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
		t.Errorf("ana's session after she was disabled: status %d, want 401", rec.Code)
	}
	wantError(t, ts.serve(signInRequest(false, "ana", testPassword, "")), http.StatusUnauthorized, "account_disabled", "")
	e := ts.wantAudited(t, "user.update", "tester", ana.ID)
	if !strings.Contains(e.Detail, "disabled") {
		t.Errorf("audit detail %q, want it to say disabled", e.Detail)
	}

	wantStatus(t, ts.patchUser(t, ana.ID, `{"disabled": false}`), http.StatusOK)
	if name, rec := ts.whoAmI(t, token...); name != "ana" {
		t.Errorf("ana's token after she was enabled again: status %d, want it working", rec.Code)
	}
	if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
		t.Errorf("ana's old session came back with her account: status %d", rec.Code)
	}
}

func TestTheLastAdminStays(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	tester, err := ts.store.UserByName(context.Background(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"role": "analyst"}`, `{"role": "viewer"}`, `{"disabled": true}`} {
		wantError(t, ts.patchUser(t, tester.ID, body), http.StatusConflict, "conflict", "", "last administrator")
	}
	if name, _ := ts.whoAmI(t); name != "tester" {
		t.Fatal("the administrator lost access")
	}
	if u, _ := ts.store.User(context.Background(), tester.ID); u.Role != annotations.RoleAdmin || u.Disabled {
		t.Errorf("tester is %s (disabled %v), want still an enabled admin", u.Role, u.Disabled)
	}

	// With a second administrator the first may step down, and then cannot act as one.
	second := ts.userToken(t, "root", annotations.RoleAdmin)
	rec := ts.doJSON(t, http.MethodPatch, "/api/v1/users/"+tester.ID, `{"role": "analyst"}`, "Authorization", "Bearer "+second)
	wantStatus(t, rec, http.StatusOK)
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/users", nil), http.StatusForbidden, "forbidden", "", "admin")
}

func TestManagingUsers(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"ok, with a password", `{"name": "bob", "role": "viewer", "password": "a long enough one"}`, 201, "", ""},
		{"nok, the name taken, ignoring case", `{"name": "BOB", "role": "viewer"}`, 409, "conflict", ""},
		{"nok, no name", `{"name": "  ", "role": "viewer"}`, 422, "invalid", "name"},
		{"nok, name with a control character", `{"name": "bob\u0007", "role": "viewer"}`, 422, "invalid", "name"},
		{"nok, name over 64 characters", `{"name": "` + strings.Repeat("n", 65) + `", "role": "viewer"}`, 422, "invalid", "name"},
		{"nok, unknown role", `{"name": "carol", "role": "owner"}`, 422, "invalid", "role"},
		{"nok, no role", `{"name": "carol"}`, 422, "invalid", "role"},
		{"nok, password too short", `{"name": "carol", "role": "viewer", "password": "short"}`, 422, "invalid", "password"},
		{"nok, unknown field", `{"name": "carol", "role": "viewer", "admin": true}`, 400, "malformed", "admin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := ts.store.CountUsers(context.Background())
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/users", tc.body)
			if tc.status != http.StatusCreated {
				wantError(t, rec, tc.status, tc.code, tc.field)
				if after, _ := ts.store.CountUsers(context.Background()); after != before {
					t.Errorf("a refused account was created")
				}
				return
			}
			wantStatus(t, rec, tc.status)
			var created struct {
				User     annotations.User `json:"user"`
				Password string           `json:"password"`
			}
			decode(t, rec, &created)
			if created.Password != "" || created.User.MustChangePassword {
				t.Errorf("an account given a password got a generated one too: %+v", created)
			}
			ts.signIn(t, "bob", "a long enough one")
			ts.wantAudited(t, "user.create", "tester", created.User.ID)
		})
	}

	t.Run("ok, resetting a password gives a one-time one and ends the sessions", func(t *testing.T) {
		bob, _ := ts.store.UserByName(context.Background(), "bob")
		b := ts.signIn(t, "bob", "a long enough one")
		rec := ts.patchUser(t, bob.ID, `{"reset_password": true}`)
		wantStatus(t, rec, http.StatusOK)
		var reset struct {
			User     annotations.User `json:"user"`
			Password string           `json:"password"`
		}
		decode(t, rec, &reset)
		if len(reset.Password) < 10 || !reset.User.MustChangePassword {
			t.Errorf("reset %+v, want a one-time password to be changed", reset)
		}
		if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
			t.Errorf("bob's session after the reset: status %d, want 401", rec.Code)
		}
		wantError(t, ts.serve(signInRequest(false, "bob", "a long enough one", "")), http.StatusUnauthorized, "wrong_credentials", "")
		ts.signIn(t, "bob", reset.Password)
	})

	t.Run("nok, unknown user or bad change", func(t *testing.T) {
		bob, _ := ts.store.UserByName(context.Background(), "bob")
		wantError(t, ts.patchUser(t, "usr_aaaaaaaaaaaa", `{"disabled": true}`), http.StatusNotFound, "not_found", "")
		wantError(t, ts.patchUser(t, "not-an-id", `{"disabled": true}`), http.StatusNotFound, "not_found", "")
		wantError(t, ts.patchUser(t, bob.ID, `{"role": "god"}`), http.StatusUnprocessableEntity, "invalid", "role")
		wantError(t, ts.patchUser(t, bob.ID, `{"password": "short"}`), http.StatusUnprocessableEntity, "invalid", "password")
	})

	t.Run("ok, the list never shows password hashes", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/users", nil)
		wantStatus(t, rec, http.StatusOK)
		var users []map[string]any
		decode(t, rec, &users)
		if len(users) < 2 {
			t.Fatalf("listed %d users, want tester and bob at least", len(users))
		}
		for _, u := range users {
			for k := range u {
				if strings.Contains(strings.ToLower(k), "password_hash") || strings.Contains(strings.ToLower(k), "hash") {
					t.Errorf("user %v has a field %q", u["name"], k)
				}
			}
		}
		if strings.Contains(rec.Body.String(), "$2a$") {
			t.Errorf("the list holds a bcrypt hash")
		}
	})
}

// Names, comments, reasons and token names are text: markup in them never reaches a page
// as markup.
func TestMarkupInUserTextIsShownAsText(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	const evilName = `<img src=x onerror=alert(1)>`
	const evilComment = `<script>alert("comment")</script>`
	const evilReason = `<iframe src="javascript:alert('reason')"></iframe>`
	const evilToken = `<svg onload=alert('token')>`

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/users", map[string]string{"name": evilName, "role": "analyst", "password": testPassword})
	wantStatus(t, rec, http.StatusCreated)
	evil := ts.signIn(t, evilName, testPassword)
	ts.createToken(t, evilToken, evil.headers()...)

	img := ts.newImage(t, 1)
	a := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`, evil.headers()...)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/comments", map[string]string{"body": evilComment}, evil.headers()...), http.StatusCreated)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/reviews", map[string]any{"decision": "submitted", "version": 1}, evil.headers()...), http.StatusOK)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/reviews", map[string]any{"decision": "disputed", "version": 2, "reason": evilReason},
		ts.as(t, "bob")...), http.StatusOK)

	pages := []struct {
		name, target string
		headers      []string
		texts        []string
	}{
		{"ok, the users page", "/users", nil, []string{evilName}},
		{"ok, the audit log", "/audit", nil, []string{evilName}},
		{"ok, the account page of that user", "/account", evil.headers(), []string{evilName, evilToken}},
		{"ok, the gallery as that user", "/", evil.headers(), []string{evilName}},
		{"ok, the annotator as that user", "/images/" + img.ID, evil.headers(), []string{evilName}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, p.target, nil, append([]string{"Accept", "text/html"}, p.headers...)...)
			wantStatus(t, rec, http.StatusOK)
			body := rec.Body.String()
			for _, raw := range []string{"<img src=x", "<script>alert", "<iframe", "<svg"} {
				if strings.Contains(body, raw) {
					t.Errorf("the page holds the markup %q unescaped", raw)
				}
			}
			for _, text := range p.texts {
				if !strings.Contains(body, html.EscapeString(text)) && !strings.Contains(body, templateEscaped(text)) {
					t.Errorf("the page does not show %q as text", text)
				}
			}
		})
	}

	t.Run("ok, the API sends it as JSON text, never as HTML", func(t *testing.T) {
		for _, target := range []string{"/api/v1/annotations/" + a.ID + "/comments", "/api/v1/annotations/" + a.ID + "/reviews",
			"/api/v1/users", "/api/v1/audit", "/api/v1/annotations/" + a.ID + "/history"} {
			rec := ts.do(t, http.MethodGet, target, nil)
			wantStatus(t, rec, http.StatusOK)
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q, want JSON", target, ct)
			}
			for _, raw := range []string{"<img", "<script", "<iframe"} {
				if strings.Contains(rec.Body.String(), raw) {
					t.Errorf("%s: the body holds %q unescaped", target, raw)
				}
			}
		}
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/comments", nil)
		var comments []annotations.Comment
		decode(t, rec, &comments)
		if len(comments) != 1 || comments[0].Body != evilComment || comments[0].Author != evilName {
			t.Errorf("comments %+v, want the text as written, by %q", comments, evilName)
		}
		rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/reviews", nil)
		var reviews []annotations.Review
		decode(t, rec, &reviews)
		if len(reviews) != 2 || reviews[1].Reason != evilReason {
			t.Errorf("reviews %+v, want the dispute's reason as written", reviews)
		}
	})
}

// templateEscaped is text as html/template writes it (it escapes a few more characters
// than html.EscapeString, and differently).
func templateEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
