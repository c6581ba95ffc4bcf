package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Several processes on one database (PostgreSQL): each change a process makes that the
// others must hear of — an event for an image's listeners, an image whose cached facts
// are stale, accounts changed — is also sent to them as a short notice
// (annotations.Store.Notify, LISTEN/NOTIFY), after it is committed. A notice names what
// changed, never carries it (PostgreSQL bounds a notice to 8000 bytes): the process that
// hears it reads the annotation, comment or suggestion from the store and publishes the
// event to its own listeners, exactly as the process that made the change did to its
// own. A process never hears its own notices. On SQLite (one process) nothing is sent.

// notice is one change, as sent to the other processes.
type notice struct {
	// Type is an Event's type, or noticeImageChanged, noticeImageReset or
	// noticeAccountsChanged.
	Type    string `json:"t"`
	ImageID string `json:"i,omitempty"`
	Actor   string `json:"u,omitempty"`
	ID      string `json:"a,omitempty"`
	Version int    `json:"v,omitempty"`
	// Items names what the event's data is: the comment (comment.created) or the
	// suggestions (suggestion.created).
	Items []string `json:"x,omitempty"`
}

const (
	// noticeImageChanged: forget what is kept in memory about the image (imageChanged).
	noticeImageChanged = "image.changed"
	// noticeImageReset: the image's listeners must load its annotations again.
	noticeImageReset = "image.reset"
	// noticeAccountsChanged: forget the cached sessions and tokens.
	noticeAccountsChanged = "accounts.changed"
)

// noticeOf is the notice of an event.
func noticeOf(ev Event) notice {
	n := notice{Type: ev.Type, ImageID: ev.ImageID, Actor: ev.Actor, ID: ev.ID, Version: ev.Version}
	switch d := ev.Data.(type) {
	case annotations.Comment:
		n.Items = []string{d.ID}
	case []annotations.Suggestion:
		for _, sg := range d {
			n.Items = append(n.Items, sg.ID)
		}
	}
	return n
}

// tell sends n to the other processes on the database, if any may be there. A notice
// too large (a find-similar run of hundreds of suggestions) tells them to reload the
// image instead. A failure is logged: the change itself is committed.
func (s *Server) tell(n notice) {
	if !s.store.SharesDatabase() {
		return
	}
	text, err := json.Marshal(n)
	if err == nil && len(text) > annotations.MaxNotice {
		text, err = json.Marshal(notice{Type: noticeImageReset, ImageID: n.ImageID})
	}
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.Notify(ctx, string(text)); err != nil {
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
	var n notice
	if err := json.Unmarshal([]byte(text), &n); err != nil {
		s.log.Warn("a notice that cannot be read", "err", err)
		return
	}
	switch n.Type {
	case noticeImageChanged:
		s.forgetChangedElsewhere(ctx, n.ImageID)
		return
	case noticeImageReset:
		s.events.reset(n.ImageID)
		return
	case noticeAccountsChanged:
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
func (s *Server) eventOf(ctx context.Context, n notice) (Event, error) {
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
