package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Signing in with a name and password, under a throttle of failed attempts per
// account and per address.

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
	wait, err := s.throttle.blocked(ctx, s.now(), accountKey, "ip:"+ip)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
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
		if err := s.throttle.fail(ctx, s.now(), accountKey, "ip:"+ip); err != nil {
			return nil, err
		}
		s.audit(ctx, annotations.AuditEntry{Actor: shownName, Action: "signin.failed", TargetType: "user", TargetID: u.ID, Detail: why, IP: ip})
		if why == "account disabled" {
			return nil, &apiError{Status: http.StatusUnauthorized, Code: "account_disabled", Message: "this account is disabled; ask an administrator"}
		}
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "wrong_credentials", Message: "wrong user name or password"}
	}
	if err := s.throttle.succeed(ctx, accountKey); err != nil {
		return nil, err
	}
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

// throttle counts failed sign-ins per account and per address over a sliding window. The
// counts are in the store, so every process on one database sees the same ones.
type throttle struct {
	store      *annotations.Store
	window     time.Duration
	perAccount int
	perAddress int
}

func (t *throttle) limit(key string) int {
	if strings.HasPrefix(key, "ip:") {
		return t.perAddress
	}
	return t.perAccount
}

// blocked says how long until the keys may try again (0: now): a key is held until the
// oldest of its last limit failures leaves the window.
func (t *throttle) blocked(ctx context.Context, now time.Time, keys ...string) (time.Duration, error) {
	var wait time.Duration
	for _, k := range keys {
		fs, err := t.store.SignInFailures(ctx, k, now.Add(-t.window), t.limit(k))
		if err != nil {
			return 0, err
		}
		if len(fs) >= t.limit(k) {
			if w := fs[len(fs)-1].Add(t.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, nil
}

// fail records a failure of each key.
func (t *throttle) fail(ctx context.Context, now time.Time, keys ...string) error {
	for _, k := range keys {
		// Keep twice the limit of each key, as many as blocked could ever need.
		if err := t.store.RecordSignInFailure(ctx, now, 2*t.limit(k), now.Add(-t.window), k); err != nil {
			return err
		}
	}
	return nil
}

// succeed forgets key's failures.
func (t *throttle) succeed(ctx context.Context, key string) error {
	return t.store.ClearSignInFailures(ctx, key)
}
