package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// Middleware every request passes: who it is from (identify), what its route needs
// (need: a role, a CSRF token on cookie writes, a chosen password), security headers.

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

// allowedBeforePasswordChange lists what a user with a generated password may do before
// choosing their own: see the account page, change the password, sign out.
func allowedBeforePasswordChange(r *http.Request) bool {
	switch r.URL.Path {
	case "/account", "/logout", "/api/v1/me", "/api/v1/me/password", "/api/v1/session", "/api/v1/me/sessions":
		return true
	}
	return strings.HasPrefix(r.URL.Path, "/static/")
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
