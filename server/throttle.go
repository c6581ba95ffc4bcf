package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
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
