package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Signing in and out, one's own account and tokens, and (for admins) users and the
// audit log.

// refuseCrossSite stops a sign-in posted from another site (login CSRF): browsers say
// where a request comes from in Sec-Fetch-Site.
func refuseCrossSite(c echo.Context) error {
	if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
		return &apiError{Status: http.StatusForbidden, Code: "cross_site", Message: "sign in from satmark's own page"}
	}
	return nil
}

// safeNext is where to go after signing in: a path on this site, never elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

func (s *Server) loginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if p := principalOf(c); p != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	data := map[string]any{"Title": "Sign in", "Next": next}
	if c.QueryParam("signed-out") != "" {
		data["Notice"] = "You are signed out."
	}
	return s.page(c, "login.html", data)
}

func (s *Server) loginForm(c echo.Context) error {
	if err := refuseCrossSite(c); err != nil {
		return err
	}
	name, next := c.FormValue("name"), safeNext(c.FormValue("next"))
	if _, err := s.signIn(c, name, c.FormValue("password")); err != nil {
		ae := classify(err)
		if ae.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
		}
		return s.pageStatus(c, ae.Status, "login.html", map[string]any{"Title": "Sign in", "Next": next, "Name": name, "Error": ae.Message})
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// logoutForm ends this browser's session. The form carries the CSRF token, so another
// site cannot sign people out.
func (s *Server) logoutForm(c echo.Context) error {
	if p := principalOf(c); p != nil && p.viaCookie() {
		given := c.FormValue(csrfField)
		if given == "" {
			given = c.Request().Header.Get(csrfHeader)
		}
		if subtle.ConstantTimeCompare([]byte(given), []byte(p.csrf)) != 1 {
			return &apiError{Status: http.StatusForbidden, Code: "csrf", Message: "this sign-out lacks the page's CSRF token; reload the page and try again"}
		}
		if err := s.store.SignOut(c.Request().Context(), s.actorOf(c, p), p.sessionHash); err != nil {
			return err
		}
		s.accountsChanged()
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?signed-out=1")
}

// me is what the API says about the signed-in user.
type me struct {
	User      annotations.User `json:"user"`
	Via       string           `json:"via"` // "session" or "token"
	CSRFToken string           `json:"csrf_token,omitempty"`
}

func meOf(p *principal) me {
	if p.viaCookie() {
		return me{User: p.user, Via: "session", CSRFToken: p.csrf}
	}
	return me{User: p.user, Via: "token"}
}

// createSession signs in from a script or the page: {"name", "password"} → the session
// cookie, and the CSRF token its writes must carry.
func (s *Server) createSession(c echo.Context) error {
	if err := refuseCrossSite(c); err != nil {
		return err
	}
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	p, err := s.signIn(c, in.Name, in.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, meOf(p))
}

func (s *Server) deleteSession(c echo.Context) error {
	p := principalOf(c)
	if !p.viaCookie() {
		return badRequest("", "an API token is not a session: revoke the token instead")
	}
	if err := s.store.SignOut(c.Request().Context(), s.actorOf(c, p), p.sessionHash); err != nil {
		return err
	}
	s.accountsChanged()
	s.clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) getMe(c echo.Context) error { return c.JSON(http.StatusOK, meOf(principalOf(c))) }

// checkPassword compares a password with a user's, under the sign-in throttle.
func (s *Server) checkPassword(c echo.Context, u annotations.User, password string) error {
	key := "account:" + strings.ToLower(u.Name)
	ip := s.clientIP(c)
	ctx := c.Request().Context()
	wait, err := s.throttle.blocked(ctx, s.now(), key, "ip:"+ip)
	if err != nil {
		return err
	}
	if wait > 0 {
		return throttled("too many wrong passwords", wait)
	}
	if !annotations.PasswordMatches(u.PasswordHash, password) {
		if err := s.throttle.fail(ctx, s.now(), key, "ip:"+ip); err != nil {
			return err
		}
		s.audit(c.Request().Context(), annotations.AuditEntry{Actor: u.Name, Action: "password.failed", TargetType: "user", TargetID: u.ID,
			Detail: "wrong current password", IP: ip})
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "wrong_password", Field: "current_password", Message: "the current password is wrong"}
	}
	return nil
}

// changePassword sets one's own password, given the current one. Every session of the
// account ends; this browser gets a new one.
func (s *Server) changePassword(c echo.Context) error {
	p := principalOf(c)
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if err := s.checkPassword(c, p.user, in.Current); err != nil {
		return err
	}
	if in.New == in.Current {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "new_password", Message: "choose a password different from the current one"}
	}
	hash, err := annotations.HashPassword(in.New, s.opts.PasswordCost)
	if err != nil {
		var ve *annotations.ValidationError
		if errors.As(err, &ve) {
			ve.Field = "new_password"
		}
		return err
	}
	u, err := s.store.UpdateUser(c.Request().Context(), s.actorOf(c, p), p.user.ID, annotations.UserChange{PasswordHash: &hash})
	if err != nil {
		return err
	}
	s.accountsChanged()
	out := me{User: u, Via: "token"}
	if p.viaCookie() {
		np, err := s.startSession(c, u)
		if err != nil {
			return err
		}
		out = meOf(np)
	}
	return c.JSON(http.StatusOK, out)
}

// signOutEverywhere ends every session of the signed-in user, this one included. API
// tokens are not sessions: they stay until revoked.
func (s *Server) signOutEverywhere(c echo.Context) error {
	p := principalOf(c)
	n, err := s.store.DeleteUserSessions(c.Request().Context(), s.actorOf(c, p), p.user.ID)
	if err != nil {
		return err
	}
	s.accountsChanged()
	if p.viaCookie() {
		s.clearSessionCookie(c)
	}
	return c.JSON(http.StatusOK, map[string]int{"ended": n})
}

func (s *Server) listTokens(c echo.Context) error {
	toks, err := s.store.Tokens(c.Request().Context(), principalOf(c).user.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toks)
}

// newToken is a token as created: the only time the token itself is shown.
type newToken struct {
	annotations.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(c echo.Context) error {
	p := principalOf(c)
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	secret, hash := annotations.NewAPIToken()
	tok, err := s.store.CreateToken(c.Request().Context(), s.actorOf(c, p), p.user.ID, strings.TrimSpace(in.Name), hash)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, newToken{Token: tok, Secret: secret})
}

func (s *Server) revokeToken(c echo.Context) error {
	p := principalOf(c)
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("token")
	}
	if err := s.store.RevokeToken(c.Request().Context(), s.actorOf(c, p), p.user.ID, id); err != nil {
		return err
	}
	s.accountsChanged()
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listUsers(c echo.Context) error {
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, users)
}

// createdUser is a new account, with its generated password when the admin gave none:
// shown this once, to be changed at first sign-in.
type createdUser struct {
	User     annotations.User `json:"user"`
	Password string           `json:"password,omitempty"`
}

func (s *Server) createUser(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	var in struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	generated := in.Password == ""
	if generated {
		in.Password = annotations.GeneratePassword()
	}
	if err := annotations.CheckUserName(in.Name); err != nil {
		return err
	}
	hash, err := annotations.HashPassword(in.Password, s.opts.PasswordCost)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.Request().Context(), by, annotations.NewUser{Name: in.Name, Role: in.Role, PasswordHash: hash, MustChangePassword: generated})
	if err != nil {
		return err
	}
	out := createdUser{User: u}
	if generated {
		out.Password = in.Password
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/users/"+u.ID)
	return c.JSON(http.StatusCreated, out)
}

// updateUser changes an account's role, disables or enables it, or resets its password
// (to a generated one, shown once, or to one given).
func (s *Server) updateUser(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("user")
	}
	var in struct {
		Role          *string `json:"role"`
		Disabled      *bool   `json:"disabled"`
		ResetPassword bool    `json:"reset_password"`
		Password      string  `json:"password"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	ch := annotations.UserChange{Role: in.Role, Disabled: in.Disabled}
	password := in.Password
	if in.ResetPassword || password != "" {
		if password == "" {
			password = annotations.GeneratePassword()
			ch.MustChangePassword = true
		}
		hash, err := annotations.HashPassword(password, s.opts.PasswordCost)
		if err != nil {
			return err
		}
		ch.PasswordHash = &hash
	}
	u, err := s.store.UpdateUser(c.Request().Context(), by, id, ch)
	if err != nil {
		return err
	}
	s.accountsChanged()
	out := createdUser{User: u}
	if ch.MustChangePassword {
		out.Password = password
	}
	return c.JSON(http.StatusOK, out)
}

// auditFilter reads ?action=&actor=&before=&limit=.
func auditFilter(c echo.Context) (annotations.AuditFilter, error) {
	f := annotations.AuditFilter{Action: strings.TrimSpace(c.QueryParam("action")), Actor: strings.TrimSpace(c.QueryParam("actor"))}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, badRequest("before", "%q is not an audit entry number", v)
		}
		f.Before = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, badRequest("limit", "limit is a number from 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Server) auditLog(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	entries, err := s.store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entries)
}

func (s *Server) accountPage(c echo.Context) error {
	p := principalOf(c)
	toks, err := s.store.Tokens(c.Request().Context(), p.user.ID)
	if err != nil {
		return err
	}
	return s.page(c, "account.html", map[string]any{"Title": "Your account", "Tokens": toks,
		"ChoosePassword": p.user.MustChangePassword})
}

func (s *Server) usersPage(c echo.Context) error {
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, "users.html", map[string]any{"Title": "Users", "Users": users, "Roles": []string{annotations.RoleViewer, annotations.RoleAnalyst, annotations.RoleAdmin}})
}

func (s *Server) auditPage(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	entries, err := s.store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	data := map[string]any{"Title": "Audit log", "Entries": entries, "Filter": f}
	if len(entries) == f.Limit {
		data["Older"] = entries[len(entries)-1].ID
	}
	return s.page(c, "audit.html", data)
}
