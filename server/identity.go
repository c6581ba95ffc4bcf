package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	s.accountsChanged()
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
