package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// startServe runs `satmark serve` on a free port over data and returns its URL and
// everything it printed before it began serving requests (the sign-in help).
func startServe(t *testing.T, data string, env ...string) (string, string) {
	t.Helper()
	s := startServeProcess(t, data, env...)
	return s.url, s.printed
}

// served is a running `satmark serve`.
type served struct {
	url     string        // http(s)://127.0.0.1:PORT, no trailing slash
	printed string        // standard output up to the sign-in help
	cmd     *exec.Cmd     // to signal and wait for
	stderr  *bytes.Buffer // its log; read it only after cmd.Wait
}

// startServeProcess is startServe that also gives the process and its log.
func startServeProcess(t *testing.T, data string, env ...string) served {
	t.Helper()
	cmd := command(t, env, "serve", "--addr", "127.0.0.1:0", "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(stdout)
	var printed strings.Builder
	for !strings.Contains(printed.String(), "/login") {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading what serve printed: %v (so far %q)", err, printed.String())
		}
		printed.WriteString(line)
	}
	m := regexp.MustCompile(`serving (https?://127\.0\.0\.1:\d+)/`).FindStringSubmatch(printed.String())
	if m == nil {
		t.Fatalf("serve printed no URL: %q", printed.String())
	}
	go io.Copy(io.Discard, r)
	return served{url: m[1], printed: printed.String(), cmd: cmd, stderr: stderr}
}

// jsonClient is an HTTP client with a cookie jar and the CSRF token of its session.
type jsonClient struct {
	*http.Client
	csrf string
}

func newClient(t *testing.T) *jsonClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &jsonClient{Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// call sends a JSON request and decodes the JSON answer into out (when not nil).
func (b *jsonClient) call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	res, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

type meAnswer struct {
	User      annotations.User `json:"user"`
	CSRFToken string           `json:"csrf_token"`
	Error     struct{ Code, Message string }
}

func (b *jsonClient) signIn(t *testing.T, url, name, password string) (int, meAnswer) {
	t.Helper()
	var me meAnswer
	code := b.call(t, http.MethodPost, url+"/api/v1/session", map[string]string{"name": name, "password": password}, &me)
	b.csrf = me.CSRFToken
	return code, me
}

func TestFirstStartCreatesAnAdministrator(t *testing.T) {
	t.Run("ok, one-time password printed, to be changed at first sign-in", func(t *testing.T) {
		data := t.TempDir()
		url, printed := startServe(t, data)
		m := regexp.MustCompile(`one-time password\s+(\S+)`).FindStringSubmatch(printed)
		if m == nil || !strings.Contains(printed, `"admin"`) || !strings.Contains(printed, url+"/login") {
			t.Fatalf("serve printed %q; want the administrator's name, a one-time password and the sign-in URL", printed)
		}
		b := newClient(t)
		if code, me := b.signIn(t, url, "admin", m[1]); code != http.StatusCreated || !me.User.MustChangePassword || me.User.Role != "admin" {
			t.Fatalf("sign in with the one-time password: %d %+v", code, me)
		}
		var refused meAnswer
		if code := b.call(t, http.MethodGet, url+"/api/v1/images", nil, &refused); code != http.StatusForbidden || refused.Error.Code != "password_change_required" {
			t.Errorf("before choosing a password: %d %+v, want 403 password_change_required", code, refused)
		}
		var changed meAnswer
		if code := b.call(t, http.MethodPut, url+"/api/v1/me/password", map[string]string{"current_password": m[1], "new_password": "the admin's own password"}, &changed); code != http.StatusOK {
			t.Fatalf("choose a password: %d %+v", code, changed)
		}
		b.csrf = changed.CSRFToken
		if code := b.call(t, http.MethodGet, url+"/api/v1/images", nil, nil); code != http.StatusOK {
			t.Errorf("after choosing a password: %d, want 200", code)
		}
		// The one-time password is spent.
		if code, _ := newClient(t).signIn(t, url, "admin", m[1]); code != http.StatusUnauthorized {
			t.Errorf("the one-time password again: %d, want 401", code)
		}
	})

	t.Run("ok, SATMARK_ADMIN_PASSWORD is the password, and a second start creates no one", func(t *testing.T) {
		data := t.TempDir()
		url, printed := startServe(t, data, "SATMARK_ADMIN_PASSWORD=chosen in advance")
		if !strings.Contains(printed, "SATMARK_ADMIN_PASSWORD") || strings.Contains(printed, "one-time") {
			t.Errorf("serve printed %q; want it to name SATMARK_ADMIN_PASSWORD and no one-time password", printed)
		}
		if code, me := newClient(t).signIn(t, url, "admin", "chosen in advance"); code != http.StatusCreated || me.User.MustChangePassword {
			t.Errorf("sign in: %d %+v, want 201 without a forced change", code, me)
		}
		_, printed = startServe(t, data)
		if strings.Contains(printed, "created") || !strings.Contains(printed, "/login") {
			t.Errorf("second start printed %q; want only how to sign in", printed)
		}
	})

	t.Run("nok, a SATMARK_ADMIN_PASSWORD too short stops the start", func(t *testing.T) {
		out, err := command(t, []string{"SATMARK_ADMIN_PASSWORD=short"}, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "SATMARK_ADMIN_PASSWORD") || !strings.Contains(string(out), "at least 10") {
			t.Errorf("got %v and %q; want a failure naming the variable and the rule", err, out)
		}
	})
}

func TestSignedInAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	first := startServeProcess(t, data, "SATMARK_ADMIN_PASSWORD=chosen in advance")
	url, cmd := first.url, first.cmd
	b := newClient(t)
	if code, _ := b.signIn(t, url, "admin", "chosen in advance"); code != http.StatusCreated {
		t.Fatalf("sign in: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}

	// The browser keeps its cookie (cookies belong to the host, not the port) and the
	// restarted server knows the session; the CSRF token still goes with it.
	url, _ = startServe(t, data)
	var me meAnswer
	if code := b.call(t, http.MethodGet, url+"/api/v1/me", nil, &me); code != http.StatusOK || me.User.Name != "admin" {
		t.Fatalf("after the restart: %d %+v, want still signed in as admin", code, me)
	}
	if code := b.call(t, http.MethodPut, url+"/api/v1/me/password", map[string]string{"current_password": "chosen in advance", "new_password": "changed after the restart"}, nil); code != http.StatusOK {
		t.Errorf("a write with the session and its CSRF token after the restart: %d, want 200", code)
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	data := t.TempDir()
	sh := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", data), strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	store := func(t *testing.T) *annotations.Store {
		t.Helper()
		s, err := annotations.Open(filepath.Join(data, "satmark.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ctx := context.Background()

	if out, err := sh("", "user", "add", "Kim Ji-woo", "--role", "analyst"); err != nil || !regexp.MustCompile(`One-time password: \S{15,}`).MatchString(out) {
		t.Fatalf("user add with a generated password: %v %q", err, out)
	}
	if out, err := sh("a password typed in\n", "user", "add", "--role", "viewer", "--password-stdin", "reader"); err != nil || strings.Contains(out, "One-time") {
		t.Fatalf("user add --password-stdin (flags first): %v %q", err, out)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"nok, the same name in other case", "", []string{"user", "add", "kim ji-woo", "--role", "viewer"}, "already exists"},
		{"nok, no role", "", []string{"user", "add", "someone"}, "--role"},
		{"nok, an unknown role", "", []string{"user", "add", "someone", "--role", "superuser"}, "not a role"},
		{"nok, a short password", "short\n", []string{"user", "add", "someone", "--role", "viewer", "--password-stdin"}, "at least 10"},
		{"nok, a name with a control character", "", []string{"user", "add", "eve\x07", "--role", "viewer"}, "control"},
		{"nok, unknown user", "", []string{"user", "disable", "nobody"}, `no user named "nobody"`},
		{"nok, unknown subcommand", "", []string{"user", "frobnicate", "x"}, "unknown user command"},
		{"nok, missing name", "", []string{"user", "passwd"}, "takes 1 argument"},
		{"nok, token for nobody", "", []string{"token", "create", "nobody"}, `no user named "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sh(tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error()+out, tc.want) {
				t.Errorf("got %v and %q, want an error saying %q", err, out, tc.want)
			}
		})
	}
	if n, _ := store(t).CountUsers(ctx); n != 2 {
		t.Errorf("%d users after the refused commands, want 2", n)
	}

	out, err := sh("", "user", "list")
	if err != nil || !regexp.MustCompile(`Kim Ji-woo\s+analyst\s+must choose a password`).MatchString(out) || !regexp.MustCompile(`reader\s+viewer\s+active`).MatchString(out) {
		t.Errorf("user list: %v\n%s", err, out)
	}

	// token create prints the token alone on stdout; the store keeps only its hash.
	var tokOut, tokErr bytes.Buffer
	if err := run([]string{"token", "create", "reader", "--label", "nightly export", "--data", data}, nil, &tokOut, &tokErr); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(tokOut.String())
	if !strings.HasPrefix(token, "smk_") || strings.Contains(token, "\n") || !strings.Contains(tokErr.String(), "shown only now") {
		t.Fatalf("token create printed %q on stdout and %q on stderr", tokOut.String(), tokErr.String())
	}
	sum := sha256.Sum256([]byte(token))
	tok, u, err := store(t).TokenByHash(ctx, hex.EncodeToString(sum[:]))
	if err != nil || u.Name != "reader" || tok.Name != "nightly export" {
		t.Errorf("the token's hash: %+v %+v %v, want reader's nightly export token", tok, u, err)
	}

	if out, err := sh("", "user", "role", "reader", "analyst"); err != nil || !strings.Contains(out, "reader is now analyst") {
		t.Errorf("user role: %v %q", err, out)
	}
	if out, err := sh("another good password\n", "user", "passwd", "reader", "--password-stdin"); err != nil || !strings.Contains(out, "New password set") {
		t.Errorf("user passwd: %v %q", err, out)
	}
	if out, err := sh("", "user", "disable", "reader"); err != nil || !strings.Contains(out, "reader is disabled") {
		t.Errorf("user disable: %v %q", err, out)
	}
	got, err := store(t).UserByName(ctx, "reader")
	if err != nil || got.Role != "analyst" || !got.Disabled {
		t.Errorf("after role and disable: %+v %v", got, err)
	}
	entries, err := store(t).AuditLog(ctx, annotations.AuditFilter{Action: "user"})
	if err != nil || len(entries) < 5 {
		t.Errorf("audit log of user changes: %d entries (%v), want the adds, role, passwd and disable", len(entries), err)
	}
	if _, err := sh("", "user", "enable", "reader"); err != nil {
		t.Errorf("user enable: %v", err)
	}

	// A folder that does not exist is an error, not a new empty database.
	var o, e bytes.Buffer
	err = run([]string{"user", "list", "--data", filepath.Join(data, "missing")}, nil, &o, &e)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("user list on a missing folder: got %v, want a does-not-exist error", err)
	}
}

// token list shows a user's tokens; token revoke ends one from the shell, audited, and
// the others keep working.
func TestTokenListAndRevokeCommands(t *testing.T) {
	data := t.TempDir()
	sh := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", data), nil, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	ctx := context.Background()
	if _, err := sh("user", "add", "reader", "--role", "viewer"); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, label := range []string{"nightly export", "dashboard"} {
		var out, errOut bytes.Buffer
		if err := run([]string{"token", "create", "reader", "--label", label, "--data", data}, nil, &out, &errOut); err != nil {
			t.Fatalf("token create: %v %s", err, errOut.String())
		}
		tokens = append(tokens, strings.TrimSpace(out.String()))
	}
	s, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	reader, err := s.UserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := s.Tokens(ctx, reader.ID)
	if err != nil || len(toks) != 2 {
		t.Fatalf("reader's tokens: %+v (%v), want 2", toks, err)
	}
	used := time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC)
	if err := s.TouchToken(ctx, toks[1].ID, used); err != nil {
		t.Fatal(err)
	}

	out, err := sh("token", "list", "reader")
	created := toks[0].CreatedAt.Format("2006-01-02 15:04")
	for _, want := range []string{
		`ID\s+LABEL\s+CREATED\s+LAST USED\s+EXPIRES\s+STATE`,
		toks[0].ID + `\s+nightly export\s+` + created + `\s+never\s+never\s+active`,
		toks[1].ID + `\s+dashboard\s+\S+ \S+\s+2026-05-04 12:30\s+never\s+active`,
	} {
		if err != nil || !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("token list: %v\n%s\nwant a line matching %s", err, out, want)
		}
	}

	out, err = sh("token", "revoke", toks[0].ID)
	if err != nil || !strings.Contains(out, "Revoked reader's token "+toks[0].ID) {
		t.Fatalf("token revoke: %v %q", err, out)
	}
	sum := sha256.Sum256([]byte(tokens[0]))
	if tok, _, err := s.TokenByHash(ctx, hex.EncodeToString(sum[:])); err != nil || tok.RevokedAt == nil {
		t.Errorf("the revoked token in the store: %+v (%v), want it revoked", tok, err)
	}
	sum = sha256.Sum256([]byte(tokens[1]))
	if tok, _, err := s.TokenByHash(ctx, hex.EncodeToString(sum[:])); err != nil || tok.RevokedAt != nil {
		t.Errorf("the other token: %+v (%v), want it still active", tok, err)
	}
	entries, err := s.AuditLog(ctx, annotations.AuditFilter{Action: "token.revoke"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "(shell)" || entries[0].TargetID != toks[0].ID ||
		!strings.Contains(entries[0].Detail, "nightly export") {
		t.Errorf("audit of the revocation: %+v (%v), want one token.revoke by (shell) of %s", entries, err, toks[0].ID)
	}
	if out, err := sh("token", "list", "reader"); err != nil || !regexp.MustCompile(toks[0].ID+`\s+nightly export.*revoked \d{4}-\d\d-\d\d`).MatchString(out) {
		t.Errorf("token list after the revocation: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nok, revoked twice", []string{"token", "revoke", toks[0].ID}, "already revoked"},
		{"nok, an unknown id", []string{"token", "revoke", "tok_aaaaaaaaaaaa"}, `no token with the id "tok_aaaaaaaaaaaa"`},
		{"nok, not an id", []string{"token", "revoke", "../etc"}, "no token with the id"},
		{"nok, revoke without an id", []string{"token", "revoke"}, "satmark token revoke ID"},
		{"nok, list for nobody", []string{"token", "list", "nobody"}, `no user named "nobody"`},
		{"nok, an unknown token command", []string{"token", "rotate", "reader"}, "token list NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sh(tc.args...)
			if err == nil || !strings.Contains(err.Error()+out, tc.want) {
				t.Errorf("got %v and %q, want an error saying %q", err, out, tc.want)
			}
		})
	}
	if entries, _ := s.AuditLog(ctx, annotations.AuditFilter{Action: "token.revoke"}); len(entries) != 1 {
		t.Errorf("%d token.revoke entries after the refused commands, want 1", len(entries))
	}
}
