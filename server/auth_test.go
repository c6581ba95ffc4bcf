package server_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/server"
)

// Signing in, sessions, CSRF, passwords, and the headers every answer carries. The role
// every route needs is tested in roles_test.go.

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestServerWith is newTestServer with server options of the test's choosing (a clock,
// the sign-in throttle, trusted proxies, a public image service), over the same kind of
// store and library.
func newTestServerWith(t *testing.T, opts server.Options) *testServer {
	t.Helper()
	ts := newTestServer(t, smallLimits)
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts.Builder = ts.builder
	if opts.PasswordCost == 0 {
		opts.PasswordCost = bcrypt.MinCost
	}
	srv, err := server.New(ts.store, ts.lib, os.DirFS("../web"), opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts.srv = srv
	return ts
}

// browser is a signed-in browser: the session cookie it holds and the CSRF token its
// pages carry.
type browser struct{ cookie, csrf string }

// headers make a request come from the browser (its cookie and CSRF token, no API token),
// followed by extra.
func (b browser) headers(extra ...string) []string {
	return append([]string{"Authorization", "", "Cookie", "satmark_session=" + b.cookie, "X-CSRF-Token", b.csrf}, extra...)
}

// signIn signs a user in through the API and returns the browser.
func (ts *testServer) signIn(t *testing.T, name, password string, headers ...string) browser {
	t.Helper()
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/session", map[string]string{"name": name, "password": password},
		append([]string{"Authorization", ""}, headers...)...)
	wantStatus(t, rec, http.StatusCreated)
	var me struct {
		Via       string `json:"via"`
		CSRFToken string `json:"csrf_token"`
	}
	decode(t, rec, &me)
	if me.Via != "session" || me.CSRFToken == "" {
		t.Fatalf("sign-in answered via %q with CSRF token %q, want a session and its token", me.Via, me.CSRFToken)
	}
	return browser{cookie: sessionCookieOf(t, rec).Value, csrf: me.CSRFToken}
}

// plantSession stores a session of the named user straight in the store, last seen at
// seen and ending at expires, and returns the browser holding it.
func (ts *testServer) plantSession(t *testing.T, name string, seen, expires time.Time) browser {
	t.Helper()
	u, err := ts.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	value, csrf := randomText(t), randomText(t)
	sum := sha256.Sum256([]byte(value))
	err = ts.store.CreateSession(context.Background(), annotations.Session{IDHash: hex.EncodeToString(sum[:]), UserID: u.ID,
		CSRFToken: csrf, CreatedAt: seen, LastSeenAt: seen, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	return browser{cookie: value, csrf: csrf}
}

// randomText is 32 random bytes in base64url: the shape of a session cookie.
func randomText(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionCookieOf returns the session cookie a response sets.
func sessionCookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == "satmark_session" {
			return c
		}
	}
	t.Fatalf("no satmark_session cookie set; Set-Cookie: %q", rec.Header().Values("Set-Cookie"))
	return nil
}

// wantCookieCleared fails the test unless the response tells the browser to drop its
// session cookie.
func wantCookieCleared(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == "satmark_session" {
			if c.MaxAge >= 0 || c.Value != "" || c.Path != "/" {
				t.Errorf("session cookie set to %q (Max-Age %d, Path %q), want it cleared", c.Value, c.MaxAge, c.Path)
			}
			return
		}
	}
	t.Errorf("the session cookie is not cleared; Set-Cookie: %q", rec.Header().Values("Set-Cookie"))
}

// errorCode is the code of an API error response, or "" for any other body.
func errorCode(rec *httptest.ResponseRecorder) string {
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	return body.Error.Code
}

// wantSignInRedirect checks a page visit sent to the sign-in page, to come back to target.
func wantSignInRedirect(t *testing.T, rec *httptest.ResponseRecorder, target string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303 to the sign-in page; body: %s", rec.Code, truncate(rec.Body.String(), 300))
	}
	if got, want := rec.Header().Get("Location"), "/login?next="+url.QueryEscape(target); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

// whoAmI is the name GET /api/v1/me answers with, or "" with the status when refused.
func (ts *testServer) whoAmI(t *testing.T, headers ...string) (string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/me", nil, headers...)
	if rec.Code != http.StatusOK {
		return "", rec
	}
	var me struct {
		User annotations.User `json:"user"`
	}
	decode(t, rec, &me)
	return me.User.Name, rec
}

// A browser's writes carry the CSRF token of its session; a script's API token needs none.
func TestCookieWritesNeedTheCSRFToken(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ts.addUser(t, "ana", annotations.RoleAnalyst)
	b := ts.signIn(t, "ana", testPassword)
	cookie := "satmark_session=" + b.cookie
	tokens := func() int {
		return len(ts.tokensOf(t, "ana"))
	}
	body := `{"name": "export script"}`
	other := ts.signIn(t, "ana", testPassword)
	tests := []struct {
		name    string
		headers []string
		status  int
	}{
		{"nok, cookie without a CSRF token", []string{"Authorization", "", "Cookie", cookie}, http.StatusForbidden},
		{"nok, cookie with another CSRF token", []string{"Authorization", "", "Cookie", cookie, "X-CSRF-Token", randomText(t)}, http.StatusForbidden},
		{"nok, cookie with the token of another session", []string{"Authorization", "", "Cookie", "satmark_session=" + other.cookie, "X-CSRF-Token", b.csrf}, http.StatusForbidden},
		{"ok, cookie with its CSRF token", b.headers(), http.StatusCreated},
		{"ok, an API token needs no CSRF token", ts.as(t, "ana"), http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tokens()
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/me/tokens", body, tc.headers...)
			if tc.status == http.StatusForbidden {
				wantError(t, rec, http.StatusForbidden, "csrf", "", "CSRF")
				if after := tokens(); after != before {
					t.Errorf("a refused write made a token: %d tokens, want %d", after, before)
				}
				return
			}
			wantStatus(t, rec, tc.status)
			if after := tokens(); after != before+1 {
				t.Errorf("%d tokens, want %d", after, before+1)
			}
		})
	}

	t.Run("ok, reads need no CSRF token", func(t *testing.T) {
		if name, rec := ts.whoAmI(t, "Authorization", "", "Cookie", cookie); name != "ana" {
			t.Errorf("GET /api/v1/me with the cookie alone: status %d, want ana", rec.Code)
		}
	})

	t.Run("ok, a form carries the token in a field", func(t *testing.T) {
		img := ts.newImage(t, 1)
		form := url.Values{"csrf_token": {b.csrf}}.Encode()
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/pyramid", strings.NewReader(form),
			"Authorization", "", "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded")
		if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized {
			t.Errorf("form with csrf_token: status %d, want it let through; body: %s", rec.Code, rec.Body)
		}
		form = url.Values{"csrf_token": {"forged"}}.Encode()
		rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/pyramid", strings.NewReader(form),
			"Authorization", "", "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded")
		wantError(t, rec, http.StatusForbidden, "csrf", "")
	})
}

// tokensOf lists a user's API tokens as stored.
func (ts *testServer) tokensOf(t *testing.T, name string) []annotations.Token {
	t.Helper()
	u, err := ts.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := ts.store.Tokens(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

// A cookie satmark did not issue, or has forgotten, signs nobody in: the API says 401,
// pages send the browser to sign in, and both tell it to drop the cookie.
func TestForgedSessionCookies(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ts.addUser(t, "ana", annotations.RoleAnalyst)
	real := ts.signIn(t, "ana", testPassword)
	sum := sha256.Sum256([]byte(real.cookie))
	tests := []struct {
		name, value string
	}{
		{"nok, too short", real.cookie[:42]},
		{"nok, too long", real.cookie + "A"},
		{"nok, not base64url", strings.Repeat("!", 43)},
		{"nok, standard base64 with padding", base64.StdEncoding.EncodeToString(make([]byte, 31))},
		{"nok, the right shape but never issued", randomText(t)},
		{"nok, one character changed", flipLast(real.cookie)},
		{"nok, the stored hash instead of the cookie", hex.EncodeToString(sum[:])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{"Authorization", "", "Cookie", "satmark_session=" + tc.value}
			rec := ts.do(t, http.MethodGet, "/api/v1/me", nil, headers...)
			wantError(t, rec, http.StatusUnauthorized, "session_invalid", "")
			wantCookieCleared(t, rec)

			rec = ts.do(t, http.MethodGet, "/labels", nil, append(headers, "Accept", "text/html")...)
			wantSignInRedirect(t, rec, "/labels")
			wantCookieCleared(t, rec)
		})
	}
	if name, rec := ts.whoAmI(t, real.headers()...); name != "ana" {
		t.Errorf("the real cookie stopped working: status %d", rec.Code)
	}
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

// signInRequest is a sign-in as a browser would send it: a form to /login or JSON to the
// API, from remoteAddr.
func signInRequest(form bool, name, password, remoteAddr string) *http.Request {
	var req *http.Request
	if form {
		body := url.Values{"name": {name}, "password": {password}, "next": {"/labels"}}.Encode()
		req = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
	} else {
		b, _ := json.Marshal(map[string]string{"name": name, "password": password})
		req = httptest.NewRequest(http.MethodPost, "/api/v1/session", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
	}
	if remoteAddr != "" {
		req.RemoteAddr = remoteAddr
	}
	return req
}

func (ts *testServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.srv.ServeHTTP(rec, req)
	return rec
}

func TestSignIn(t *testing.T) {
	_, trusted, _ := net.ParseCIDR("10.0.0.0/8")
	ts := newTestServerWith(t, server.Options{TrustedProxies: []*net.IPNet{trusted}})
	ts.addUser(t, "ana", annotations.RoleAnalyst)

	tests := []struct {
		name       string
		form       bool
		remoteAddr string
		https      bool
		headers    []string
		wantSecure bool
	}{
		{name: "ok, form over plain HTTP", form: true},
		{name: "ok, API over plain HTTP", form: false},
		{name: "ok, form over TLS", form: true, https: true, wantSecure: true},
		{name: "ok, API over TLS", https: true, wantSecure: true},
		{name: "ok, through a trusted proxy that says https", remoteAddr: "10.1.2.3:4444", headers: []string{"X-Forwarded-Proto", "https"}, wantSecure: true},
		{name: "ok, a trusted proxy that says http", remoteAddr: "10.1.2.3:4444", headers: []string{"X-Forwarded-Proto", "http"}},
		{name: "ok, an untrusted peer claiming https is not believed", remoteAddr: "192.0.2.50:4444", headers: []string{"X-Forwarded-Proto", "https"}},
		{name: "ok, same-origin fetch", headers: []string{"Sec-Fetch-Site", "same-origin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := signInRequest(tc.form, "ana", testPassword, tc.remoteAddr)
			if tc.https {
				req.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			rec := ts.serve(req)
			if tc.form {
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/labels" {
					t.Fatalf("status %d to %q, want 303 to /labels (the next field); body: %s", rec.Code, rec.Header().Get("Location"), truncate(rec.Body.String(), 300))
				}
			} else {
				wantStatus(t, rec, http.StatusCreated)
			}
			c := sessionCookieOf(t, rec)
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tc.wantSecure {
				t.Errorf("cookie HttpOnly %v SameSite %v Path %q Secure %v; want HttpOnly, Lax, /, Secure %v", c.HttpOnly, c.SameSite, c.Path, c.Secure, tc.wantSecure)
			}
			if len(c.Value) != 43 || c.MaxAge != 30*24*3600 {
				t.Errorf("cookie value %d characters, Max-Age %d; want 43 and 30 days", len(c.Value), c.MaxAge)
			}
			if name, rec := ts.whoAmI(t, "Authorization", "", "Cookie", "satmark_session="+c.Value); name != "ana" {
				t.Errorf("the new cookie: status %d, want it to sign in ana", rec.Code)
			}
		})
	}

	t.Run("ok, signing in again on the same browser ends the old session", func(t *testing.T) {
		first := ts.signIn(t, "ana", testPassword)
		second := ts.signIn(t, "ana", testPassword, "Cookie", "satmark_session="+first.cookie)
		if second.cookie == first.cookie || second.csrf == first.csrf {
			t.Fatalf("the second sign-in kept the session id or its CSRF token")
		}
		if name, rec := ts.whoAmI(t, first.headers()...); name != "" || rec.Code != http.StatusUnauthorized {
			t.Errorf("the old cookie after signing in again: status %d (%s), want 401", rec.Code, name)
		}
		if name, _ := ts.whoAmI(t, second.headers()...); name != "ana" {
			t.Errorf("the new cookie does not sign ana in")
		}
	})

	t.Run("ok, where to go next stays on this site", func(t *testing.T) {
		for next, want := range map[string]string{"/images?x=1": "/images?x=1", "//evil.example/": "/", "https://evil.example/": "/",
			"/\\evil.example": "/", "/login": "/", "": "/"} {
			body := url.Values{"name": {"ana"}, "password": {testPassword}, "next": {next}}.Encode()
			rec := ts.do(t, http.MethodPost, "/login", strings.NewReader(body), "Authorization", "", "Content-Type", "application/x-www-form-urlencoded")
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
				t.Errorf("next %q: status %d to %q, want 303 to %q", next, rec.Code, rec.Header().Get("Location"), want)
			}
		}
	})

	t.Run("ok, a signed-in visit to the sign-in page goes on", func(t *testing.T) {
		b := ts.signIn(t, "ana", testPassword)
		rec := ts.do(t, http.MethodGet, "/login?next=%2Fmap", nil, b.headers()...)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/map" {
			t.Errorf("status %d to %q, want 303 to /map", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ts.addUser(t, "ana", annotations.RoleAnalyst)
	olga := ts.addUser(t, "olga", annotations.RoleAnalyst)
	wantStatus(t, ts.patchUser(t, olga.ID, `{"disabled": true}`), http.StatusOK)
	tests := []struct {
		name, user, password string
		headers              []string
		status               int
		code                 string
		audit                string // the detail of the signin.failed entry; "" for none
	}{
		{name: "nok, wrong password", user: "ana", password: "not the password", status: 401, code: "wrong_credentials", audit: "wrong password"},
		{name: "nok, unknown user takes the same path", user: "nobody", password: testPassword, status: 401, code: "wrong_credentials", audit: "no such user"},
		{name: "nok, disabled user with the right password", user: "olga", password: testPassword, status: 401, code: "account_disabled", audit: "account disabled"},
		{name: "nok, disabled user with a wrong password learns nothing", user: "olga", password: "guess", status: 401, code: "wrong_credentials", audit: "wrong password"},
		{name: "nok, posted from another site", user: "ana", password: testPassword, headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403, code: "cross_site"},
		{name: "nok, no password", user: "ana", password: "", status: 400, code: "malformed"},
		{name: "nok, no name", user: "", password: testPassword, status: 400, code: "malformed"},
	}
	for _, tc := range tests {
		for _, form := range []bool{false, true} {
			name := tc.name + map[bool]string{false: ", API", true: ", form"}[form]
			t.Run(name, func(t *testing.T) {
				before := ts.auditLog(t, "?action=signin.failed")
				req := signInRequest(form, tc.user, tc.password, "")
				for i := 0; i+1 < len(tc.headers); i += 2 {
					req.Header.Set(tc.headers[i], tc.headers[i+1])
				}
				rec := ts.serve(req)
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d; body: %s", rec.Code, tc.status, truncate(rec.Body.String(), 300))
				}
				if !form && errorCode(rec) != tc.code {
					t.Errorf("error code %q, want %q", errorCode(rec), tc.code)
				}
				for _, c := range rec.Result().Cookies() {
					if c.Name == "satmark_session" && c.Value != "" {
						t.Errorf("a refused sign-in set a session cookie")
					}
				}
				after := ts.auditLog(t, "?action=signin.failed")
				switch {
				case tc.audit == "" && len(after) != len(before):
					t.Errorf("audit: %d new signin.failed entries, want none", len(after)-len(before))
				case tc.audit != "":
					if len(after) != len(before)+1 {
						t.Fatalf("audit: %d new signin.failed entries, want 1", len(after)-len(before))
					}
					if e := after[0]; e.Actor != tc.user || e.Detail != tc.audit || e.IP != "192.0.2.1" {
						t.Errorf("audit entry %+v, want %s, %q, from 192.0.2.1", e, tc.user, tc.audit)
					}
				}
			})
		}
	}
}

// auditLog reads the audit log through the API as the administrator.
func (ts *testServer) auditLog(t *testing.T, query string) []annotations.AuditEntry {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/audit"+query, nil)
	wantStatus(t, rec, http.StatusOK)
	var entries []annotations.AuditEntry
	decode(t, rec, &entries)
	return entries
}

// wantAudited fails the test unless the audit log holds an entry of action by actor on
// target (any target when "").
func (ts *testServer) wantAudited(t *testing.T, action, actor, target string) annotations.AuditEntry {
	t.Helper()
	for _, e := range ts.auditLog(t, "?action="+url.QueryEscape(action)) {
		if e.Action == action && e.Actor == actor && (target == "" || e.TargetID == target) {
			return e
		}
	}
	t.Errorf("the audit log has no %s by %s on %q", action, actor, target)
	return annotations.AuditEntry{}
}

// wantThrottled checks a 429 that says when to try again and returns the wait in seconds.
func wantThrottled(t *testing.T, rec *httptest.ResponseRecorder, form bool) int {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body: %s", rec.Code, truncate(rec.Body.String(), 300))
	}
	wait, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || wait <= 0 {
		t.Fatalf("Retry-After = %q, want a number of seconds", rec.Header().Get("Retry-After"))
	}
	text := rec.Body.String()
	if !form {
		e := wantError(t, rec, http.StatusTooManyRequests, "throttled", "")
		text = e.Message
	}
	var minutes int
	i := strings.Index(text, "try again in ")
	if i < 0 {
		t.Fatalf("the answer does not say when to try again: %s", truncate(text, 300))
	}
	if _, err := fmt.Sscanf(text[i:], "try again in %d minute", &minutes); err != nil {
		t.Fatalf("the answer does not say in how many minutes: %q", text[i:])
	}
	if minutes*60 < wait || (minutes-1)*60 >= wait {
		t.Errorf("says %d minutes but Retry-After is %d s", minutes, wait)
	}
	return wait
}

func TestSignInThrottle(t *testing.T) {
	t.Run("nok, ten wrong passwords: from the sixth the account waits, right password or not", func(t *testing.T) {
		clock := newTestClock()
		ts := newTestServerWith(t, server.Options{Now: clock.Now})
		ts.addUser(t, "ana", annotations.RoleAnalyst)
		ts.addUser(t, "bob", annotations.RoleAnalyst)
		wait := 0
		for i := 1; i <= 10; i++ {
			rec := ts.serve(signInRequest(false, "ana", fmt.Sprintf("guess %d", i), ""))
			if i <= 5 {
				wantError(t, rec, http.StatusUnauthorized, "wrong_credentials", "")
				continue
			}
			wait = wantThrottled(t, rec, false)
		}
		wantThrottled(t, ts.serve(signInRequest(false, "ana", testPassword, "")), false)
		wantThrottled(t, ts.serve(signInRequest(true, "ANA", testPassword, "")), true)
		if wait > 15*60+1 || wait < 14*60 {
			t.Errorf("Retry-After %d s, want about the 15-minute window", wait)
		}
		// Another account from the same address is not held up by ana's.
		ts.signIn(t, "bob", testPassword)

		// The audit log names who was refused and from where, in the API and on its page.
		throttled := ts.auditLog(t, "?action=signin.throttled")
		if len(throttled) != 7 || throttled[0].Actor != "ANA" || throttled[0].IP != "192.0.2.1" {
			t.Errorf("signin.throttled entries: %+v, want 7, the last by ANA from 192.0.2.1", throttled)
		}
		failed := ts.auditLog(t, "?action=signin.failed&actor=ana")
		if len(failed) != 5 || failed[0].IP != "192.0.2.1" || failed[0].Detail != "wrong password" {
			t.Errorf("signin.failed entries of ana: %+v, want 5 wrong passwords from 192.0.2.1", failed)
		}
		all := ts.auditLog(t, "?action=signin")
		if len(all) != 13 {
			t.Errorf("signin entries: %d, want 5 failed, 7 throttled and bob's success", len(all))
		}
		page := wantHTML(t, ts, "/audit?action=signin")
		for _, want := range []string{"signin.throttled", "signin.failed", "<td>ana</td>", "<td>192.0.2.1</td>"} {
			if !strings.Contains(page, want) {
				t.Errorf("the audit page does not show %q", want)
			}
		}

		clock.advance(time.Duration(wait) * time.Second)
		ts.signIn(t, "ana", testPassword)
	})

	t.Run("nok, one address trying many names waits, even for a real account", func(t *testing.T) {
		ts := newTestServer(t, smallLimits)
		ts.addUser(t, "ana", annotations.RoleAnalyst)
		// A client on the local network, sending a different X-Forwarded-For each time:
		// without trusted proxies it is not believed, private address or not.
		const lan = "10.0.0.5:1234"
		for i := 0; i < 20; i++ {
			req := signInRequest(false, fmt.Sprintf("guess%d", i), "password123", lan)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
			wantError(t, ts.serve(req), http.StatusUnauthorized, "wrong_credentials", "")
		}
		req := signInRequest(false, "ana", testPassword, lan)
		req.Header.Set("X-Forwarded-For", "198.51.100.200")
		wantThrottled(t, ts.serve(req), false)
		wantThrottled(t, ts.serve(signInRequest(true, "ana", testPassword, lan)), true)
		for _, e := range ts.auditLog(t, "?action=signin") {
			if e.IP != "10.0.0.5" {
				t.Errorf("audit entry %s by %s from %q, want the peer 10.0.0.5 (X-Forwarded-For is not trusted)", e.Action, e.Actor, e.IP)
			}
		}
		// Another address is not held up.
		wantStatus(t, ts.serve(signInRequest(false, "ana", testPassword, "203.0.113.5:1234")), http.StatusCreated)
	})

	t.Run("ok, behind a trusted proxy each client is counted apart and audited by its address", func(t *testing.T) {
		_, proxy, _ := net.ParseCIDR("192.0.2.0/24")
		ts := newTestServerWith(t, server.Options{TrustedProxies: []*net.IPNet{proxy}, FailuresPerAddress: 3})
		ts.addUser(t, "ana", annotations.RoleAnalyst)
		for i := 0; i < 3; i++ {
			req := signInRequest(false, fmt.Sprintf("guess%d", i), "password123", "")
			req.Header.Set("X-Forwarded-For", "198.51.100.7")
			wantError(t, ts.serve(req), http.StatusUnauthorized, "wrong_credentials", "")
		}
		req := signInRequest(false, "ana", testPassword, "")
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		wantThrottled(t, ts.serve(req), false)
		if e := ts.auditLog(t, "?action=signin.throttled"); len(e) != 1 || e[0].IP != "198.51.100.7" {
			t.Errorf("throttled entries %+v, want one from the client 198.51.100.7", e)
		}
		req = signInRequest(false, "ana", testPassword, "")
		req.Header.Set("X-Forwarded-For", "198.51.100.8")
		wantStatus(t, ts.serve(req), http.StatusCreated)
		if e := ts.auditLog(t, "?action=signin.ok"); len(e) != 1 || e[0].IP != "198.51.100.8" {
			t.Errorf("signin.ok entries %+v, want one from the client 198.51.100.8", e)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	clock := newTestClock()
	ts := newTestServerWith(t, server.Options{Now: clock.Now, SessionIdle: time.Hour, SessionMax: 3 * time.Hour})
	ts.addUser(t, "ana", annotations.RoleAnalyst)

	t.Run("nok, idle past SessionIdle", func(t *testing.T) {
		b := ts.signIn(t, "ana", testPassword)
		// Well inside SessionMax: only idleness can end it.
		for i := 0; i < 2; i++ {
			clock.advance(50 * time.Minute)
			if name, rec := ts.whoAmI(t, b.headers()...); name != "ana" {
				t.Fatalf("used every 50 minutes, after %d: status %d, want still signed in", 50*(i+1), rec.Code)
			}
		}
		clock.advance(61 * time.Minute)
		_, rec := ts.whoAmI(t, b.headers()...)
		wantError(t, rec, http.StatusUnauthorized, "session_expired", "")
		wantCookieCleared(t, rec)
		// The session is gone, not only refused this once.
		_, rec = ts.whoAmI(t, b.headers()...)
		wantError(t, rec, http.StatusUnauthorized, "session_invalid", "")
	})

	t.Run("nok, past SessionMax however busy", func(t *testing.T) {
		b := ts.signIn(t, "ana", testPassword)
		for i := 0; i < 6; i++ {
			clock.advance(30 * time.Minute)
			if name, rec := ts.whoAmI(t, b.headers()...); name != "ana" {
				t.Fatalf("after %d minutes: status %d, want still signed in", 30*(i+1), rec.Code)
			}
		}
		clock.advance(time.Minute)
		rec := ts.do(t, http.MethodGet, "/map", nil, b.headers("Accept", "text/html")...)
		wantSignInRedirect(t, rec, "/map")
		wantCookieCleared(t, rec)
	})
}

func TestSignOut(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ts.addUser(t, "ana", annotations.RoleAnalyst)

	t.Run("ok, the sign-out form", func(t *testing.T) {
		b := ts.signIn(t, "ana", testPassword)
		page := wantHTML(t, ts, "/map")
		if !strings.Contains(page, `action="/logout"`) {
			t.Errorf("pages do not offer the sign-out form")
		}
		forged := url.Values{"csrf_token": {"forged"}}.Encode()
		rec := ts.do(t, http.MethodPost, "/logout", strings.NewReader(forged), "Authorization", "", "Cookie", "satmark_session="+b.cookie,
			"Content-Type", "application/x-www-form-urlencoded")
		wantError(t, rec, http.StatusForbidden, "csrf", "")
		if name, _ := ts.whoAmI(t, b.headers()...); name != "ana" {
			t.Fatalf("a forged sign-out ended the session")
		}
		form := url.Values{"csrf_token": {b.csrf}}.Encode()
		rec = ts.do(t, http.MethodPost, "/logout", strings.NewReader(form), "Authorization", "", "Cookie", "satmark_session="+b.cookie,
			"Content-Type", "application/x-www-form-urlencoded")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?signed-out=1" {
			t.Fatalf("status %d to %q, want 303 to /login?signed-out=1", rec.Code, rec.Header().Get("Location"))
		}
		wantCookieCleared(t, rec)
		if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
			t.Errorf("after signing out: status %d, want 401", rec.Code)
		}
		ts.wantAudited(t, "signout", "ana", "")
	})

	t.Run("ok, DELETE /api/v1/session", func(t *testing.T) {
		b := ts.signIn(t, "ana", testPassword)
		other := ts.signIn(t, "ana", testPassword)
		rec := ts.do(t, http.MethodDelete, "/api/v1/session", nil, b.headers()...)
		wantStatus(t, rec, http.StatusNoContent)
		wantCookieCleared(t, rec)
		if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
			t.Errorf("after signing out: status %d, want 401", rec.Code)
		}
		if name, _ := ts.whoAmI(t, other.headers()...); name != "ana" {
			t.Errorf("signing out one browser ended another")
		}
	})

	t.Run("ok, sign out everywhere ends every session but not the API tokens", func(t *testing.T) {
		b1 := ts.signIn(t, "ana", testPassword)
		b2 := ts.signIn(t, "ana", testPassword)
		token := ts.as(t, "ana")
		if name, _ := ts.whoAmI(t, b2.headers()...); name != "ana" {
			t.Fatal("second browser not signed in")
		}
		rec := ts.do(t, http.MethodDelete, "/api/v1/me/sessions", nil, b1.headers()...)
		wantStatus(t, rec, http.StatusOK)
		var ended struct{ Ended int }
		decode(t, rec, &ended)
		if ended.Ended < 2 {
			t.Errorf("ended %d sessions, want both browsers' at least", ended.Ended)
		}
		wantCookieCleared(t, rec)
		for i, b := range []browser{b1, b2} {
			if _, rec := ts.whoAmI(t, b.headers()...); rec.Code != http.StatusUnauthorized {
				t.Errorf("browser %d after signing out everywhere: status %d, want 401", i+1, rec.Code)
			}
		}
		if name, rec := ts.whoAmI(t, token...); name != "ana" {
			t.Errorf("ana's API token after signing out everywhere: status %d, want it still working", rec.Code)
		}
		ts.wantAudited(t, "signout.everywhere", "ana", "")
	})
}

func TestChangePassword(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ts.addUser(t, "ana", annotations.RoleAnalyst)
	b := ts.signIn(t, "ana", testPassword)
	other := ts.signIn(t, "ana", testPassword)
	token := ts.as(t, "ana")
	const newPassword = "a much better passphrase"

	tests := []struct {
		name, current, next string
		code, field         string
	}{
		{"nok, wrong current password", "not it at all", newPassword, "wrong_password", "current_password"},
		{"nok, no current password", "", newPassword, "wrong_password", "current_password"},
		{"nok, new password under 10 characters", testPassword, "short1234", "invalid", "new_password"},
		{"nok, new password the same as the current", testPassword, testPassword, "invalid", "new_password"},
		{"nok, new password over 72 bytes", testPassword, strings.Repeat("x", 73), "invalid", "new_password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.doJSON(t, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": tc.current, "new_password": tc.next}, b.headers()...)
			wantError(t, rec, http.StatusUnprocessableEntity, tc.code, tc.field)
			if name, _ := ts.whoAmI(t, other.headers()...); name != "ana" {
				t.Errorf("a refused change ended the other session")
			}
		})
	}

	t.Run("ok, the password changes; other sessions end, this browser gets a new one", func(t *testing.T) {
		rec := ts.doJSON(t, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": testPassword, "new_password": newPassword}, b.headers()...)
		wantStatus(t, rec, http.StatusOK)
		var me struct {
			User      annotations.User `json:"user"`
			CSRFToken string           `json:"csrf_token"`
		}
		decode(t, rec, &me)
		fresh := browser{cookie: sessionCookieOf(t, rec).Value, csrf: me.CSRFToken}
		if fresh.cookie == b.cookie || fresh.csrf == b.csrf || fresh.csrf == "" {
			t.Errorf("the browser kept its session id or CSRF token across a password change")
		}
		for name, old := range map[string]browser{"the other browser": other, "this browser's old cookie": b} {
			if _, rec := ts.whoAmI(t, old.headers()...); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s after the change: status %d, want 401", name, rec.Code)
			}
		}
		if name, _ := ts.whoAmI(t, fresh.headers()...); name != "ana" {
			t.Errorf("the new cookie does not sign ana in")
		}
		wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/me/tokens", `{"name": "x"}`, fresh.headers()...), http.StatusCreated)
		if name, _ := ts.whoAmI(t, token...); name != "ana" {
			t.Errorf("ana's API token stopped working")
		}
		wantError(t, ts.serve(signInRequest(false, "ana", testPassword, "")), http.StatusUnauthorized, "wrong_credentials", "")
		ts.signIn(t, "ana", newPassword)
		ts.wantAudited(t, "user.password", "ana", me.User.ID)
	})
}

// A user given a generated password must choose their own before anything else.
func TestGeneratedPasswordMustBeChanged(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/users", `{"name": "newbie", "role": "analyst"}`)
	wantStatus(t, rec, http.StatusCreated)
	var created struct {
		User     annotations.User `json:"user"`
		Password string           `json:"password"`
	}
	decode(t, rec, &created)
	if len(created.Password) < 10 || !created.User.MustChangePassword || created.User.Role != "analyst" {
		t.Fatalf("created %+v with password %q, want an analyst with a one-time password of 10+ characters", created.User, created.Password)
	}
	if strings.Contains(rec.Body.String(), "password_hash") || strings.Contains(rec.Body.String(), "$2a$") {
		t.Errorf("the answer shows the password hash: %s", rec.Body)
	}
	if users := ts.do(t, http.MethodGet, "/api/v1/users", nil); strings.Contains(users.Body.String(), created.Password) {
		t.Errorf("the user list shows the one-time password")
	}

	b := ts.signIn(t, "newbie", created.Password)
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images", nil, b.headers()...), http.StatusForbidden, "password_change_required", "")
	wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/me/tokens", `{}`, b.headers()...), http.StatusForbidden, "password_change_required", "")
	for _, page := range []string{"/", "/map", "/labels"} {
		rec := ts.do(t, http.MethodGet, page, nil, b.headers("Accept", "text/html")...)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account?choose-password=1" {
			t.Errorf("%s: status %d to %q, want 303 to /account?choose-password=1", page, rec.Code, rec.Header().Get("Location"))
		}
	}
	rec = ts.do(t, http.MethodGet, "/account", nil, b.headers("Accept", "text/html")...)
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), `id="choose-password"`) || strings.Contains(rec.Body.String(), `id="token-form"`) {
		t.Errorf("the account page does not ask for a new password first")
	}
	if name, rec := ts.whoAmI(t, b.headers()...); name != "newbie" {
		t.Errorf("GET /api/v1/me: status %d, want it allowed", rec.Code)
	}

	rec = ts.doJSON(t, http.MethodPut, "/api/v1/me/password", map[string]string{"current_password": created.Password, "new_password": "my own passphrase"}, b.headers()...)
	wantStatus(t, rec, http.StatusOK)
	var me struct {
		User      annotations.User `json:"user"`
		CSRFToken string           `json:"csrf_token"`
	}
	decode(t, rec, &me)
	if me.User.MustChangePassword {
		t.Errorf("must_change_password still set after choosing a password")
	}
	fresh := browser{cookie: sessionCookieOf(t, rec).Value, csrf: me.CSRFToken}
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images", nil, fresh.headers()...), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodGet, "/", nil, fresh.headers("Accept", "text/html")...), http.StatusOK)
}

// An answer with no body's worth of headers would let a page be framed, sniffed or run
// inline script.
func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	tests := []struct {
		name    string
		target  string
		headers []string
		status  int
		page    bool
	}{
		{name: "ok, a page", target: "/", headers: []string{"Accept", "text/html"}, status: 200, page: true},
		{name: "ok, the sign-in page", target: "/login", headers: []string{"Authorization", "", "Accept", "text/html"}, status: 200, page: true},
		{name: "ok, the account page", target: "/account", headers: []string{"Accept", "text/html"}, status: 200, page: true},
		{name: "ok, an error page", target: "/images/img_aaaaaaaaaaaa", headers: []string{"Accept", "text/html"}, status: 404},
		{name: "ok, a redirect to sign in", target: "/labels", headers: []string{"Authorization", "", "Accept", "text/html"}, status: 303},
		{name: "ok, API JSON", target: "/api/v1/images/" + img.ID, status: 200},
		{name: "ok, API refusal", target: "/api/v1/images", headers: []string{"Authorization", ""}, status: 401},
		{name: "ok, API not found", target: "/api/v1/nothing", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil, tc.headers...)
			wantStatus(t, rec, tc.status)
			h := rec.Header()
			csp := h.Get("Content-Security-Policy")
			directives := map[string]string{}
			for _, d := range strings.Split(csp, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
				directives[name] = value
			}
			if s := directives["script-src"]; !strings.Contains(s, "'self'") || strings.Contains(s, "unsafe") {
				t.Errorf("script-src = %q, want 'self' and nothing unsafe (CSP %q)", s, csp)
			}
			if directives["frame-ancestors"] != "'none'" {
				t.Errorf("frame-ancestors = %q, want 'none'", directives["frame-ancestors"])
			}
			if _, ok := directives["script-src"]; !ok && !strings.Contains(directives["default-src"], "'self'") {
				t.Errorf("no script-src and no default-src 'self' in %q", csp)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := h.Get("Referrer-Policy"); got == "" || strings.Contains(got, "unsafe-url") {
				t.Errorf("Referrer-Policy = %q, want one that does not leak paths to other sites", got)
			}
			if tc.page && h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store on a page naming who is signed in", h.Get("Cache-Control"))
			}
		})
	}
}

// Account changes made by another process (`satmark user disable`, `role`, `passwd`
// from a shell) reach a running server's cached principals within a second.
func TestAccountChangesFromTheShell(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	ts := newTestServerWith(t, server.Options{Now: clock.Now})
	ana := ts.addUser(t, "ana", annotations.RoleAnalyst)
	token := ts.userToken(t, "ana", annotations.RoleAnalyst)
	browser := ts.signIn(t, "ana", testPassword)
	bearer := []string{"Authorization", "Bearer " + token}
	img := ts.newImage(t, 1)
	write := func() *httptest.ResponseRecorder {
		return ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations",
			`{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`, bearer...)
	}
	// Both are cached now.
	wantStatus(t, write(), http.StatusCreated)
	if name, rec := ts.whoAmI(t, browser.headers()...); name != "ana" {
		t.Fatalf("signed in: status %d", rec.Code)
	}

	// What `satmark user role ana viewer` does: straight to the database.
	viewer := annotations.RoleViewer
	if _, err := ts.store.UpdateUser(ctx, annotations.Actor{Name: "tester"}, ana.ID, annotations.UserChange{Role: &viewer}); err != nil {
		t.Fatal(err)
	}
	clock.advance(1100 * time.Millisecond)
	wantError(t, write(), http.StatusForbidden, "forbidden", "")

	// What `satmark user disable ana` does.
	disabled := true
	if _, err := ts.store.UpdateUser(ctx, annotations.Actor{Name: "tester"}, ana.ID, annotations.UserChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	clock.advance(1100 * time.Millisecond)
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images", nil, bearer...), http.StatusUnauthorized, "account_disabled", "")
	if name, rec := ts.whoAmI(t, browser.headers()...); name != "" || rec.Code != http.StatusUnauthorized {
		t.Errorf("the disabled account's session: %q, status %d; want 401", name, rec.Code)
	}
}

// lastTokenID is the id of the newest API token of the named user.
func (ts *testServer) lastTokenID(t *testing.T, name string) string {
	t.Helper()
	u, err := ts.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := ts.store.Tokens(context.Background(), u.ID)
	if err != nil || len(toks) == 0 {
		t.Fatalf("tokens of %s: %v (%v)", name, toks, err)
	}
	return toks[len(toks)-1].ID
}

// A token revoked by another process (`satmark token revoke ID` from a shell) is refused
// by a running server within a second, though it had trusted it from memory; the owner's
// other tokens keep working.
func TestTokenRevokedFromTheShell(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	ts := newTestServerWith(t, server.Options{Now: clock.Now})
	ana := ts.addUser(t, "ana", annotations.RoleAnalyst)
	revoked := ts.userToken(t, "ana", annotations.RoleAnalyst)
	id := ts.lastTokenID(t, "ana")
	kept := ts.userToken(t, "ana", annotations.RoleAnalyst)
	for _, tok := range []string{revoked, kept} {
		if name, rec := ts.whoAmI(t, "Authorization", "Bearer "+tok); name != "ana" {
			t.Fatalf("before the revocation: status %d", rec.Code)
		}
	}

	// What `satmark token revoke` does: straight to the database.
	if err := ts.store.RevokeToken(ctx, annotations.Actor{Name: "tester"}, ana.ID, id); err != nil {
		t.Fatal(err)
	}
	clock.advance(1100 * time.Millisecond)
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+revoked), http.StatusUnauthorized, "token_revoked", "")
	if name, rec := ts.whoAmI(t, "Authorization", "Bearer "+kept); name != "ana" {
		t.Errorf("ana's other token after the revocation: status %d, want 200", rec.Code)
	}
}
