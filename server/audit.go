package server

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// The audit log from the server's side: who a request acts as, for the store to audit
// its changes, and the standalone entries of sign-in attempts.

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
