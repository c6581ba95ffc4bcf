package server

import (
	"context"
	"errors"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Several processes on one database (PostgreSQL): each change a process makes that the
// others must hear of — an event for an image's listeners, an image whose cached facts
// are stale — is sent to them as a short notice (annotations.Notice) by the store, in the
// transaction that commits the change (annotations/notices.go), so that none is lost to
// a process dying between its commit and its telling. A notice names what changed,
// never carries it (PostgreSQL bounds a notice to 8000 bytes): the process that hears
// it reads the annotation, comment or suggestion from the store and publishes the event
// to its own listeners, exactly as the process that made the change did to its own. A
// process never hears its own notices. Account changes alone are told by the server,
// after their commit (tell); a lost one is made up for by the accounts' stamp within a
// second (identity.go). On SQLite (one process) nothing is sent.

// tell sends n to the other processes on the database, if any may be there, apart from
// any transaction. A failure is logged: the change itself is committed.
func (s *Server) tell(n annotations.Notice) {
	if !s.store.SharesDatabase() {
		return
	}
	text, err := n.Text()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.Notify(ctx, text); err != nil {
		s.log.Warn("telling the other processes of a change", "type", n.Type, "image", n.ImageID, "err", err)
	}
}

// Follow hears the other processes' notices until ctx ends, and makes this server
// answer as if it had made their changes itself: their events reach its listeners, the
// caches they make stale are forgotten. Losing its connection to the database, it
// tries again; once back, since notices were missed meanwhile, it forgets every cache
// and tells every listener to reload. listening, if not nil, is called each time it
// listens. On SQLite it returns nil at once. main runs it beside the HTTP server.
func (s *Server) Follow(ctx context.Context, listening func()) error {
	return s.store.Listen(ctx, annotations.Listener{
		Notice: func(text string) { s.hear(ctx, text) },
		Listening: func(resumed bool) {
			if resumed {
				s.log.Info("listening to the other processes again: forgetting every cache, live listeners reload")
				s.forgetAllImages()
				s.library.ForgetPyramids()
				s.principals.forget()
				s.events.resetAll()
			}
			if listening != nil {
				listening()
			}
		},
		Lost: func(err error) {
			s.log.Warn("lost the connection that hears the other processes; trying again", "err", err)
		},
	})
}

// hear acts on one notice of another process.
func (s *Server) hear(ctx context.Context, text string) {
	n, err := annotations.ParseNotice(text)
	if err != nil {
		s.log.Warn("a notice that cannot be read", "err", err)
		return
	}
	switch n.Type {
	case annotations.NoticeImageChanged:
		s.forgetChangedElsewhere(ctx, n.ImageID)
		return
	case annotations.NoticeImageReset:
		s.events.reset(n.ImageID)
		return
	case annotations.NoticeAccountsChanged:
		s.principals.forget()
		return
	}
	if !s.events.listened(n.ImageID) {
		return // nobody here to tell: nothing to read
	}
	ev, err := s.eventOf(ctx, n)
	if errors.Is(err, annotations.ErrNotFound) {
		return // gone since: the notice of its deletion follows
	}
	if err != nil {
		// The listeners cannot be given the event: they reload instead.
		s.log.Warn("reading the change another process made", "type", n.Type, "id", n.ID, "err", err)
		s.events.reset(n.ImageID)
		return
	}
	s.events.publish(ev)
}

// forgetChangedElsewhere is forgetImage for an image another process changed, which
// may have built its pyramid again in the shared data folder: what the library holds of
// the pyramid is forgotten too (in this process the builder does that itself). An image
// in the trash or purged keeps the library's: its pyramid cannot change meanwhile.
func (s *Server) forgetChangedElsewhere(ctx context.Context, id string) {
	sha := ""
	if img := s.iiifCache.get(id); img != nil {
		sha = img.sha
	} else if img, err := s.store.Image(ctx, id); err == nil {
		sha = img.SHA256
	}
	s.forgetImage(id)
	if sha != "" {
		s.library.ForgetPyramid(sha)
	}
}

// eventOf is the event a notice tells of, its data read from the store.
func (s *Server) eventOf(ctx context.Context, n annotations.Notice) (Event, error) {
	ev := Event{Type: n.Type, ImageID: n.ImageID, Actor: n.Actor, ID: n.ID, Version: n.Version}
	switch n.Type {
	case "annotation.created", "annotation.updated":
		a, err := s.store.Annotation(ctx, n.ID)
		if err != nil {
			return ev, err
		}
		if err := s.withGround(ctx, &a); err != nil {
			return ev, err
		}
		// Changed again since: the data is the newer version, and its own event follows.
		ev.Version, ev.Data = a.Version, a
	case "comment.created":
		comments, err := s.store.Comments(ctx, n.ID)
		if err != nil {
			return ev, err
		}
		for _, cm := range comments {
			if len(n.Items) == 1 && cm.ID == n.Items[0] {
				ev.Data = cm
				return ev, nil
			}
		}
		return ev, annotations.ErrNotFound
	case "suggestion.created":
		all, err := s.store.Suggestions(ctx, n.ImageID, "")
		if err != nil {
			return ev, err
		}
		byID := make(map[string]annotations.Suggestion, len(all))
		for _, sg := range all {
			byID[sg.ID] = sg
		}
		found := make([]annotations.Suggestion, 0, len(n.Items))
		for _, id := range n.Items {
			if sg, ok := byID[id]; ok {
				found = append(found, sg)
			}
		}
		ev.Data = found
	case "suggestion.updated":
		sg, err := s.store.Suggestion(ctx, n.ID)
		if err != nil {
			return ev, err
		}
		ev.Data = sg
	}
	return ev, nil
}
