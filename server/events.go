package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Live updates: every browser with an image open listens on
// /api/v1/images/{id}/events (server-sent events) and hears each annotation created,
// changed, reviewed, commented on or deleted there, by anyone, as it is saved.

// Event is one change on an image, as sent to its listeners.
type Event struct {
	Type    string `json:"type"` // annotation.created, annotation.updated, annotation.deleted, comment.created, image.trashed, suggestion.created, suggestion.updated
	ImageID string `json:"image_id"`
	Actor   string `json:"actor"`
	// ID and Version name the annotation and its version after the change (for a
	// deletion, the version deleted).
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	// Data is the annotation (or comment) as saved; absent for a deletion.
	Data any `json:"data,omitempty"`
}

// listenerBuffer is how many events a slow listener may fall behind before it is cut
// off; its browser reconnects and reloads the list.
const listenerBuffer = 256

type listener chan []byte

// broker fans events out to an image's listeners. Publishing never blocks on a listener.
type broker struct {
	mu     sync.Mutex
	subs   map[string]map[listener]struct{}
	closed bool
}

// subscribe adds a listener to an image's events; the channel closes when the broker
// closes or drops the listener for falling behind.
func (b *broker) subscribe(imageID string) (listener, func()) {
	ch := make(listener, listenerBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[string]map[listener]struct{}{}
	}
	if b.subs[imageID] == nil {
		b.subs[imageID] = map[listener]struct{}{}
	}
	b.subs[imageID][ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[imageID][ch]; ok {
			delete(b.subs[imageID], ch)
			close(ch)
			if len(b.subs[imageID]) == 0 {
				delete(b.subs, imageID)
			}
		}
	}
}

// publish sends an event to every listener of its image. With none (most writes) it
// does not encode the event at all; a listener arriving meanwhile reloads on "ready".
func (b *broker) publish(ev Event) {
	b.mu.Lock()
	n := len(b.subs[ev.ImageID])
	b.mu.Unlock()
	if n == 0 {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	msg := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", ev.Type, data))
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[ev.ImageID] {
		select {
		case ch <- msg:
		default:
			delete(b.subs[ev.ImageID], ch)
			close(ch)
		}
	}
}

// reset ends the streams of an image's listeners, whose browsers reconnect and load its
// annotations again: for a change of more annotations than a listener holds events.
func (b *broker) reset(imageID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[imageID] {
		close(ch)
	}
	delete(b.subs, imageID)
}

// listened reports whether the image has listeners.
func (b *broker) listened(imageID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[imageID]) > 0
}

// resetAll is reset for every image: after events may have been missed (another
// process's, while the connection that hears them was lost).
func (b *broker) resetAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, subs := range b.subs {
		for ch := range subs {
			close(ch)
		}
	}
	b.subs = nil
}

// close ends every stream, for shutdown.
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, subs := range b.subs {
		for ch := range subs {
			close(ch)
		}
	}
	b.subs = nil
}

// keepAlive is how often an idle stream sends a comment, so proxies keep it open.
const keepAlive = 25 * time.Second

// recheckEvery is how often an open stream checks its caller's credentials again; it
// also checks at once whenever this server forgets its cached principals (a sign-out,
// revocation or account change) and before each event after one.
const recheckEvery = time.Second

// listenerRefusal says why the caller of an open stream may no longer listen (what
// need(viewer) would answer them now), or nil. A failure of the store to answer is
// logged and the stream kept, to be checked again.
func (s *Server) listenerRefusal(r *http.Request) *apiError {
	p, err := s.authenticate(r, false)
	var refusal *apiError
	switch {
	case errors.As(err, &refusal):
		return refusal
	case err != nil:
		s.log.Warn("checking a listener's credentials", "err", err)
		return nil
	case p == nil:
		return errSignInRequired
	case p.user.MustChangePassword:
		return errPasswordChangeRequired
	}
	return lacksRole(p, annotations.RoleViewer)
}

// endStream sends the stream's last event, auth.ended, with the status, code and message
// a new request would get.
func endStream(w *echo.Response, refusal *apiError) {
	data, _ := json.Marshal(map[string]any{"status": refusal.Status, "code": refusal.Code, "message": refusal.Message})
	fmt.Fprintf(w, "event: auth.ended\ndata: %s\n\n", data)
	w.Flush()
}

func (s *Server) imageEvents(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	ch, cancel := s.events.subscribe(img.ID)
	defer cancel()
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	w.WriteHeader(http.StatusOK)
	// The browser retries after 2 s if the stream breaks; "ready" tells it the stream is
	// open, so it can reload what it may have missed in between.
	fmt.Fprintf(w, "retry: 2000\nevent: ready\ndata: {\"image_id\":%q}\n\n", img.ID)
	w.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	recheck := time.NewTicker(recheckEvery)
	defer recheck.Stop()
	r := c.Request()
	ctx := r.Context()
	changed := s.principals.changes()
	// stillAllowed checks the caller again; when they may no longer listen, it ends the
	// stream with why.
	stillAllowed := func() bool {
		if refusal := s.listenerRefusal(r); refusal != nil {
			endStream(w, refusal)
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			changed = s.principals.changes()
			if !stillAllowed() {
				return nil
			}
		case <-recheck.C:
			if !stillAllowed() {
				return nil
			}
		case msg, ok := <-ch:
			if !ok {
				return nil
			}
			// An event published after a sign-out or revocation reaches only those
			// still allowed to hear it.
			select {
			case <-changed:
				changed = s.principals.changes()
				if !stillAllowed() {
					return nil
				}
			default:
			}
			if _, err := w.Write(msg); err != nil {
				return nil
			}
			w.Flush()
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}
