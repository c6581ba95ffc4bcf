package server

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Who is asking: browsers carry a session cookie, scripts an API token
// (Authorization: Bearer smk_…). Each route in routes.go names the least role it needs;
// cookie-authenticated writes must also carry the session's CSRF token.

const (
	sessionCookie = "satmark_session"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"

	// A principal found once is trusted this long before the store is asked again; sign
	// out, revocation and account changes made through the server take effect at once,
	// those made from the shell within a second (noticeAccountChanges).
	principalTTL = 10 * time.Second
	// Sessions and tokens record their last use at most this often.
	touchEvery = time.Minute
)

// principal is the signed-in user of a request and how they signed in.
type principal struct {
	user        annotations.User
	sessionHash string // for a session
	csrf        string // for a session
	tokenID     string // for an API token
	seen        time.Time
	expires     time.Time // a session's absolute expiry
}

func (p *principal) viaCookie() bool { return p.sessionHash != "" }

// Errors of authentication, each a 401 the client can act on.
var (
	errSignInRequired = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "sign in first, or send an API token (Authorization: Bearer …)"}
	errBadCookie      = &apiError{Status: http.StatusUnauthorized, Code: "session_invalid", Message: "the session cookie is not one satmark issued or has ended; sign in again"}
	errSessionExpired = &apiError{Status: http.StatusUnauthorized, Code: "session_expired", Message: "your session has expired; sign in again"}
	errBadToken       = &apiError{Status: http.StatusUnauthorized, Code: "token_invalid", Message: "the API token is not valid"}
	errTokenRevoked   = &apiError{Status: http.StatusUnauthorized, Code: "token_revoked", Message: "the API token was revoked"}
	errDisabled       = &apiError{Status: http.StatusUnauthorized, Code: "account_disabled", Message: "the account is disabled"}
	errMalformedAuth  = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "the Authorization header must be \"Bearer smk_…\""}
)

// noticeAccountChanges forgets every cached principal when accounts changed outside
// this server (`satmark user disable`, `passwd`, `role`, `token revoke` run from a
// shell), so such a change takes effect within a second. It looks at most once a second.
func (s *Server) noticeAccountChanges(ctx context.Context, now time.Time) {
	last := s.stampCheckedAt.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < time.Second || !s.stampCheckedAt.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	stamp, err := s.store.UsersStamp(ctx)
	if err != nil {
		s.log.Warn("checking for account changes", "err", err)
		return
	}
	if old := s.usersStamp.Swap(&stamp); old != nil && *old != stamp {
		s.principals.forget()
	}
}

// principals caches who a session or token is, for a short while.
type principals struct {
	mu      sync.RWMutex
	m       map[string]*principal
	gen     uint64        // counts forgets
	changed chan struct{} // closed by the next forget
}

// get is the cached principal of key, or nil, and the generation to put a fresh one
// under.
func (c *principals) get(key string, now time.Time) (*principal, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.m[key]
	if p == nil || now.Sub(p.seen) > principalTTL {
		return nil, c.gen
	}
	return p, c.gen
}

// put caches p, unless a forget came since get said gen: p may have been read before
// the change that forget was for.
func (c *principals) put(key string, p *principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]*principal{}
	}
	c.m[key] = p
}

// forget drops everything: after a sign-out, revocation or account change nobody is
// trusted from memory. Whoever waits on changes hears of it.
func (c *principals) forget() {
	c.mu.Lock()
	c.m = nil
	c.gen++
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	c.mu.Unlock()
}

// changes is closed at the next forget, so open event streams check their caller
// again at once.
func (c *principals) changes() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

func validCookieValue(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// authenticate finds who a request comes from: nil with no credentials, an error (401)
// with bad ones. recordUse says whether this counts as a use of the session or token
// (a stream checking its caller again does not keep an idle session alive).
func (s *Server) authenticate(r *http.Request, recordUse bool) (*principal, error) {
	ctx := r.Context()
	now := s.now()
	s.noticeAccountChanges(ctx, now)
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || !strings.HasPrefix(token, annotations.TokenPrefix) || len(token) > 100 {
			return nil, errMalformedAuth
		}
		hash := annotations.SecretHash(token)
		p, gen := s.principals.get("t"+hash, now)
		if p != nil {
			return p, nil
		}
		tok, u, err := s.store.TokenByHash(ctx, hash)
		switch {
		case errors.Is(err, annotations.ErrNotFound):
			return nil, errBadToken
		case err != nil:
			return nil, err
		case tok.RevokedAt != nil:
			return nil, errTokenRevoked
		case u.Disabled:
			return nil, errDisabled
		}
		if recordUse && (tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > touchEvery) {
			if err := s.store.TouchToken(ctx, tok.ID, now); err != nil {
				s.log.Warn("recording a token's use", "err", err)
			}
		}
		p = &principal{user: u, tokenID: tok.ID, seen: now}
		s.principals.put("t"+hash, p, gen)
		return p, nil
	}
	cookie, err := r.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil, nil
	}
	if !validCookieValue(cookie.Value) {
		return nil, errBadCookie
	}
	hash := annotations.SecretHash(cookie.Value)
	p, gen := s.principals.get("s"+hash, now)
	if p != nil && now.Before(p.expires) {
		return p, nil
	}
	se, u, err := s.store.SessionByHash(ctx, hash)
	switch {
	case errors.Is(err, annotations.ErrNotFound):
		return nil, errBadCookie
	case err != nil:
		return nil, err
	case now.After(se.ExpiresAt) || now.Sub(se.LastSeenAt) > s.opts.SessionIdle:
		if err := s.store.DeleteSession(ctx, hash); err != nil {
			s.log.Warn("ending an expired session", "err", err)
		}
		return nil, errSessionExpired
	case u.Disabled:
		return nil, errDisabled
	}
	if recordUse && now.Sub(se.LastSeenAt) > touchEvery {
		if err := s.store.TouchSession(ctx, hash, now); err != nil {
			s.log.Warn("recording a session's use", "err", err)
		}
	}
	p = &principal{user: u, sessionHash: hash, csrf: se.CSRFToken, seen: now, expires: se.ExpiresAt}
	s.principals.put("s"+hash, p, gen)
	return p, nil
}

const (
	ctxPrincipal = "satmark.principal"
	ctxAuthErr   = "satmark.authErr"
)

// identify finds the request's principal once, for every route; routes decide what
// they need of it.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authenticate(c.Request(), true)
		if p != nil {
			c.Set(ctxPrincipal, p)
		}
		if err != nil {
			c.Set(ctxAuthErr, err)
		}
		return next(c)
	}
}

// principalOf is the request's signed-in user, or nil.
func principalOf(c echo.Context) *principal {
	p, _ := c.Get(ctxPrincipal).(*principal)
	return p
}

// actor is the name changes made by this request are recorded under.
func (s *Server) actor(c echo.Context) (string, error) {
	p := principalOf(c)
	if p == nil {
		return "", errSignInRequired
	}
	return p.user.Name, nil
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// wantsPage says whether a refusal should be a page (a redirect to sign in) rather than
// JSON: a browser navigating to anything outside the API and the image service.
func wantsPage(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodGet && !strings.HasPrefix(p, "/api/") && !strings.HasPrefix(p, iiifPrefix) &&
		!strings.HasPrefix(p, "/static/")
}

// need lets a request through when its principal holds at least role (and, for a
// cookie-authenticated write, carries the CSRF token). Anonymous page visits are sent to
// the sign-in page.
func (s *Server) need(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			p := principalOf(c)
			if p == nil {
				authErr, _ := c.Get(ctxAuthErr).(error)
				if authErr == nil {
					authErr = errSignInRequired
				}
				if errors.Is(authErr, errBadCookie) || errors.Is(authErr, errSessionExpired) || errors.Is(authErr, errDisabled) {
					s.clearSessionCookie(c)
				}
				if wantsPage(r) {
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
				}
				if r.Header.Get("Authorization") != "" || strings.HasPrefix(r.URL.Path, "/api/") {
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="satmark"`)
				}
				return authErr
			}
			if p.viaCookie() && !isSafeMethod(r.Method) {
				given := r.Header.Get(csrfHeader)
				if given == "" && strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
					given = c.FormValue(csrfField)
				}
				if subtle.ConstantTimeCompare([]byte(given), []byte(p.csrf)) != 1 {
					return &apiError{Status: http.StatusForbidden, Code: "csrf",
						Message: "this change lacks the page's CSRF token; reload the page and try again"}
				}
			}
			if p.user.MustChangePassword && !allowedBeforePasswordChange(r) {
				if wantsPage(r) {
					return c.Redirect(http.StatusSeeOther, "/account?choose-password=1")
				}
				return errPasswordChangeRequired
			}
			if err := lacksRole(p, role); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// errPasswordChangeRequired refuses a user with a generated password anything but choosing their own.
var errPasswordChangeRequired = &apiError{Status: http.StatusForbidden, Code: "password_change_required",
	Message: "choose your own password first (PUT /api/v1/me/password, or the account page)"}

// lacksRole is the 403 for a principal below role, or nil.
func lacksRole(p *principal, role string) *apiError {
	if annotations.RoleRank(p.user.Role) < annotations.RoleRank(role) {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden",
			Message: fmt.Sprintf("this needs the %s role; %s is %s", role, p.user.Name, article(p.user.Role))}
	}
	return nil
}

func article(role string) string {
	if role == annotations.RoleAdmin || role == annotations.RoleAnalyst {
		return "an " + role
	}
	return "a " + role
}

// allowedBeforePasswordChange lists what a user with a generated password may do before
// choosing their own: see the account page, change the password, sign out.
func allowedBeforePasswordChange(r *http.Request) bool {
	switch r.URL.Path {
	case "/account", "/logout", "/api/v1/me", "/api/v1/me/password", "/api/v1/session", "/api/v1/me/sessions":
		return true
	}
	return strings.HasPrefix(r.URL.Path, "/static/")
}

// clientIP is the address a request came from: the peer's, or the one a trusted proxy
// names in X-Forwarded-For.
func (s *Server) clientIP(c echo.Context) string { return c.RealIP() }

// isHTTPS says whether the client reached us over TLS, directly or through a trusted
// proxy that says so.
func (s *Server) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.opts.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// startSession signs a user in on this browser: a new session (any old one on the same
// browser ends, so a planted session id is never promoted) and its cookie.
func (s *Server) startSession(c echo.Context, u annotations.User) (*principal, error) {
	ctx := c.Request().Context()
	if old, err := c.Cookie(sessionCookie); err == nil && validCookieValue(old.Value) {
		if err := s.store.DeleteSession(ctx, annotations.SecretHash(old.Value)); err != nil {
			return nil, err
		}
	}
	now := s.now()
	value := annotations.NewSecret(32)
	se := annotations.Session{
		IDHash: annotations.SecretHash(value), UserID: u.ID, CSRFToken: annotations.NewSecret(32),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionMax),
		IP: s.clientIP(c), UserAgent: truncateRunes(c.Request().UserAgent(), 200),
	}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	s.principals.forget()
	s.sweepSessions(ctx, now)
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.isHTTPS(c.Request()), MaxAge: int(s.opts.SessionMax / time.Second),
	})
	return &principal{user: u, sessionHash: se.IDHash, csrf: se.CSRFToken, seen: now, expires: se.ExpiresAt}, nil
}

// sweepSessions removes expired sessions, at most once an hour, on sign-in.
func (s *Server) sweepSessions(ctx context.Context, now time.Time) {
	last := s.lastSweep.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < time.Hour || !s.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.opts.SessionIdle)); err != nil {
		s.log.Warn("removing expired sessions", "err", err)
	}
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.isHTTPS(c.Request()), MaxAge: -1})
}

func truncateRunes(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// throttled is the 429 answer for a throttled attempt: why, and in how many minutes to try again.
func throttled(why string, wait time.Duration) *apiError {
	minutes := int(math.Ceil(wait.Minutes()))
	return &apiError{Status: http.StatusTooManyRequests, Code: "throttled", RetryAfter: int(math.Ceil(wait.Seconds())),
		Message: fmt.Sprintf("%s; try again in %d %s", why, minutes, pluralWord(minutes, "minute", "minutes"))}
}

// dummyHash is compared against when the name is unknown, so a wrong name takes about as
// long as a wrong password and names cannot be found by timing.
func (s *Server) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = annotations.HashPassword("satmark-no-such-user", s.opts.PasswordCost)
	})
	return s.dummy
}

// signIn checks a name and password under the throttle, audits the attempt and, when it
// succeeds, starts a session.
func (s *Server) signIn(c echo.Context, name, password string) (*principal, error) {
	ctx := c.Request().Context()
	ip := s.clientIP(c)
	name = strings.TrimSpace(name)
	shownName := truncateRunes(name, 64)
	accountKey := "account:" + strings.ToLower(shownName)
	if wait := s.throttle.blocked(s.now(), accountKey, "ip:"+ip); wait > 0 {
		s.audit(ctx, annotations.AuditEntry{Actor: shownName, Action: "signin.throttled", TargetType: "user", Detail: "refused without checking the password", IP: ip})
		return nil, throttled("too many failed sign-ins for this account or address", wait)
	}
	if name == "" || password == "" {
		return nil, &apiError{Status: http.StatusBadRequest, Code: "malformed", Field: "name", Message: "give a user name and a password"}
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil && !errors.Is(err, annotations.ErrNotFound) {
		return nil, err
	}
	hash := u.PasswordHash
	if err != nil {
		hash = s.dummyHash()
	}
	match := annotations.PasswordMatches(hash, password)
	if err != nil || !match || u.Disabled {
		why := "wrong password"
		switch {
		case err != nil:
			why = "no such user"
		case u.Disabled && match:
			why = "account disabled"
		}
		s.throttle.fail(s.now(), accountKey, "ip:"+ip)
		s.audit(ctx, annotations.AuditEntry{Actor: shownName, Action: "signin.failed", TargetType: "user", TargetID: u.ID, Detail: why, IP: ip})
		if why == "account disabled" {
			return nil, &apiError{Status: http.StatusUnauthorized, Code: "account_disabled", Message: "this account is disabled; ask an administrator"}
		}
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "wrong_credentials", Message: "wrong user name or password"}
	}
	s.throttle.succeed(accountKey)
	p, err := s.startSession(c, u)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, annotations.AuditEntry{Actor: u.Name, Action: "signin.ok", TargetType: "user", TargetID: u.ID, IP: ip})
	return p, nil
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// audit appends an entry that goes with no change (a sign-in attempt, a wrong password);
// a failure to do so is logged, not shown.
func (s *Server) audit(ctx context.Context, e annotations.AuditEntry) {
	if err := s.store.Audit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("writing the audit log", "action", e.Action, "err", err)
	}
}

// actorOf is who p is and where the request comes from, for the store's audit log.
func (s *Server) actorOf(c echo.Context, p *principal) annotations.Actor {
	return annotations.Actor{Name: p.user.Name, IP: s.clientIP(c)}
}

// by is who makes the request's changes and from where, for the store to audit them as
// theirs; errSignInRequired for nobody.
func (s *Server) by(c echo.Context) (annotations.Actor, error) {
	p := principalOf(c)
	if p == nil {
		return annotations.Actor{}, errSignInRequired
	}
	return s.actorOf(c, p), nil
}

// throttle counts failed sign-ins per account and per address over a sliding window.
type throttle struct {
	mu         sync.Mutex
	window     time.Duration
	perAccount int
	perAddress int
	failures   map[string][]time.Time
}

func (t *throttle) limit(key string) int {
	if strings.HasPrefix(key, "ip:") {
		return t.perAddress
	}
	return t.perAccount
}

// blocked says how long until the keys may try again (0: now).
func (t *throttle) blocked(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		fs := t.recent(k, now)
		if len(fs) >= t.limit(k) {
			if w := fs[len(fs)-t.limit(k)].Add(t.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait
}

// recent prunes and returns a key's failures inside the window. t.mu is held.
func (t *throttle) recent(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.window {
		i++
	}
	if i > 0 {
		fs = fs[i:]
		if len(fs) == 0 {
			delete(t.failures, key)
		} else {
			t.failures[key] = fs
		}
	}
	return fs
}

func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	if len(t.failures) > 100000 {
		// Under a flood of distinct names, forget the oldest state rather than grow.
		for k := range t.failures {
			t.recent(k, now)
		}
	}
	for _, k := range keys {
		fs := append(t.recent(k, now), now)
		if len(fs) > 2*t.limit(k) {
			fs = fs[len(fs)-2*t.limit(k):]
		}
		t.failures[k] = fs
	}
}

func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.failures, key)
	t.mu.Unlock()
}

// securityHeaders go on every response: no sniffing, no framing, no inline script, and
// referrers only to our own origin's level of detail.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// contentSecurityPolicy allows our own scripts only; images also from OpenStreetMap for
// the map backgrounds (the browser asks it directly; satmark never proxies it).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob: https://tile.openstreetmap.org; connect-src 'self'; font-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
