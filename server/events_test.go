package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/server"
)

// Live events: a browser with an image open hears every change made there, by anyone.

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// change is the data of an annotation or comment event.
type change struct {
	Type    string          `json:"type"`
	ImageID string          `json:"image_id"`
	Actor   string          `json:"actor"`
	ID      string          `json:"id"`
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
}

// eventStream is an open GET /api/v1/images/{id}/events.
type eventStream struct {
	resp *http.Response
	r    *bufio.Reader
}

// openEvents opens an image's event stream over real HTTP. Reads end when ctx does, so
// a missing event fails the test instead of hanging it.
func openEvents(ctx context.Context, t *testing.T, baseURL, imageID, token string) *eventStream {
	t.Helper()
	return openEventsWith(ctx, t, baseURL, imageID, "Authorization", "Bearer "+token)
}

// eventsRequest sends GET /api/v1/images/{id}/events with the given header pairs.
func eventsRequest(ctx context.Context, t *testing.T, baseURL, imageID string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/v1/images/"+imageID+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// openEventsWith is openEvents with credentials of the test's choosing (header pairs:
// a bearer token, or a browser's cookie).
func openEventsWith(ctx context.Context, t *testing.T, baseURL, imageID string, headers ...string) *eventStream {
	t.Helper()
	resp := eventsRequest(ctx, t, baseURL, imageID, headers...)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: status %d, want 200; body: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	return &eventStream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads the next event, skipping keep-alive comments; io.EOF when the stream ends.
func (s *eventStream) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" && ev.name == "" {
				return ev, io.EOF
			}
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// wantChange reads the next event and checks it is typ on annotation id at version, by
// actor; it returns the event's data.
func (s *eventStream) wantChange(t *testing.T, typ, imageID, id string, version int, actor string) change {
	t.Helper()
	ev, err := s.next()
	if err != nil {
		t.Fatalf("waiting for %s: %v", typ, err)
	}
	var c change
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
		t.Fatalf("event %s: data %q is not JSON: %v", ev.name, ev.data, err)
	}
	if ev.name != typ || c.Type != typ || c.ImageID != imageID || c.ID != id || c.Version != version || c.Actor != actor {
		t.Fatalf("got %s %+v, want %s on %s version %d by %s (image %s)", ev.name, c, typ, id, version, actor, imageID)
	}
	return c
}

func TestLiveEvents(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	other := ts.newImage(t, 2)
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("nok, only the signed in listen", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer smk_not-a-token"} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/api/v1/images/"+img.ID+"/events", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/api/v1/images/img_aaaaaaaaaaaa/events", nil)
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("events of an unknown image: status %d, want 404", resp.StatusCode)
		}
	})

	viewer := ts.userToken(t, "vera", annotations.RoleViewer)
	stream := openEvents(ctx, t, hs.URL, img.ID, viewer)
	ready, err := stream.next()
	if err != nil || ready.name != "ready" || !strings.Contains(ready.data, img.ID) {
		t.Fatalf("first event %+v (%v), want ready naming %s", ready, err, img.ID)
	}
	if cc := stream.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	otherStream := openEvents(ctx, t, hs.URL, other.ID, viewer)
	if ev, err := otherStream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("other image's first event %+v (%v), want ready", ev, err)
	}

	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")
	// A change on the other image first: were it delivered here, it would come before
	// the next one on this image.
	elsewhere := ts.createAnnotation(t, other.ID, pointBody, alice...)

	a := ts.createAnnotation(t, img.ID, boxBody, alice...)
	c := stream.wantChange(t, "annotation.created", img.ID, a.ID, 1, "alice")
	var created annotations.Annotation
	if err := json.Unmarshal(c.Data, &created); err != nil || created.ID != a.ID || !sameGeometry(created.Geometry, a.Geometry) ||
		created.Label.ID != a.Label.ID {
		t.Errorf("created data %s (%v), want the annotation as saved", c.Data, err)
	}
	otherStream.wantChange(t, "annotation.created", other.ID, elsewhere.ID, 1, "alice")

	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, `{"version": 1, "properties": {"note": "bow to the east"}}`, bob...), http.StatusOK)
	c = stream.wantChange(t, "annotation.updated", img.ID, a.ID, 2, "bob")
	var updated annotations.Annotation
	if err := json.Unmarshal(c.Data, &updated); err != nil || updated.Note != "bow to the east" || updated.Version != 2 {
		t.Errorf("updated data %s (%v), want the note and version 2", c.Data, err)
	}

	wantStatus(t, ts.review(t, a.ID, `{"decision": "submitted", "version": 2}`, bob...), http.StatusOK)
	c = stream.wantChange(t, "annotation.updated", img.ID, a.ID, 3, "bob")
	if err := json.Unmarshal(c.Data, &updated); err != nil || updated.ReviewStatus != "submitted" {
		t.Errorf("review data %s (%v), want the annotation submitted", c.Data, err)
	}

	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/comments", `{"body": "which pier?"}`, bob...), http.StatusCreated)
	c = stream.wantChange(t, "comment.created", img.ID, a.ID, 3, "bob")
	var comment annotations.Comment
	if err := json.Unmarshal(c.Data, &comment); err != nil || comment.Body != "which pier?" || comment.Author != "bob" || comment.AnnotationID != a.ID {
		t.Errorf("comment data %s (%v), want bob's comment", c.Data, err)
	}

	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+a.ID+"?version=3", nil, alice...), http.StatusNoContent)
	c = stream.wantChange(t, "annotation.deleted", img.ID, a.ID, 3, "alice")
	if len(c.Data) != 0 {
		t.Errorf("deleted data %s, want none", c.Data)
	}

	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/restore", `{"version": 3}`, bob...), http.StatusOK)
	stream.wantChange(t, "annotation.created", img.ID, a.ID, 5, "bob")

	// Nothing about this image reached the other image's listeners.
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+elsewhere.ID, `{"version": 1, "properties": {"note": "x"}}`, bob...), http.StatusOK)
	otherStream.wantChange(t, "annotation.updated", other.ID, elsewhere.ID, 2, "bob")

	// Shutting down ends every stream, so that HTTP shutdown need not wait for them.
	ts.srv.Close()
	for name, s := range map[string]*eventStream{"this image": stream, "the other image": otherStream} {
		if ev, err := s.next(); !errors.Is(err, io.EOF) {
			t.Errorf("%s's stream after Close: got %+v, %v; want it ended", name, ev, err)
		}
	}
}

// An HTTP server told to shut down finishes although browsers are listening, because it
// closes the streams first.
func TestShutdownEndsEventStreams(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	hs := httptest.NewUnstartedServer(ts.srv)
	hs.Config.RegisterOnShutdown(ts.srv.Close)
	hs.Start()
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var streams []*eventStream
	for i := 0; i < 3; i++ {
		s := openEvents(ctx, t, hs.URL, img.ID, ts.token)
		if ev, err := s.next(); err != nil || ev.name != "ready" {
			t.Fatalf("stream %d: first event %+v (%v), want ready", i, ev, err)
		}
		streams = append(streams, s)
	}
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := hs.Config.Shutdown(shutdown); err != nil {
		t.Fatalf("shutdown with listeners open: %v, want it to finish", err)
	}
	for i, s := range streams {
		if _, err := s.next(); !errors.Is(err, io.EOF) {
			t.Errorf("stream %d after shutdown: %v, want it ended", i, err)
		}
	}
}

// A stream outlives no credentials: once its caller's token is revoked, account
// disabled, sessions ended or password changed (by the server or from a shell), the
// stream's last event says so, no later change reaches it, and reconnecting is refused.
// Changes to someone else leave it open.
func TestLiveEventsEndWithTheCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clock := newTestClock()
	ts := newTestServerWith(t, server.Options{Now: clock.Now})
	img := ts.newImage(t, 1)
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	admin := []string{"Authorization", "Bearer " + ts.userToken(t, "root", annotations.RoleAdmin)}
	alice := ts.as(t, "alice")
	user := func(t *testing.T, name string) annotations.User {
		t.Helper()
		u, err := ts.store.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	bearer := func(token string) []string { return []string{"Authorization", "Bearer " + token} }
	cookie := func(b browser) []string { return []string{"Cookie", "satmark_session=" + b.cookie} }

	tests := []struct {
		name string
		// listen makes the listener and returns the credentials its stream uses and
		// those a change of its own needs.
		listen func(t *testing.T, name string) (stream, own []string)
		change func(t *testing.T, name string, own []string)
		status int
		code   string
	}{
		{
			name: "token revoked through the API",
			listen: func(t *testing.T, name string) ([]string, []string) {
				h := bearer(ts.userToken(t, name, annotations.RoleViewer))
				return h, h
			},
			change: func(t *testing.T, name string, own []string) {
				wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+ts.lastTokenID(t, name), nil, own...), http.StatusNoContent)
			},
			status: http.StatusUnauthorized, code: "token_revoked",
		},
		{
			name: "token revoked from the shell",
			listen: func(t *testing.T, name string) ([]string, []string) {
				h := bearer(ts.userToken(t, name, annotations.RoleViewer))
				return h, h
			},
			change: func(t *testing.T, name string, _ []string) {
				if err := ts.store.RevokeToken(ctx, annotations.Actor{Name: "tester"}, user(t, name).ID, ts.lastTokenID(t, name)); err != nil {
					t.Fatal(err)
				}
				clock.advance(1100 * time.Millisecond)
			},
			status: http.StatusUnauthorized, code: "token_revoked",
		},
		{
			name: "account disabled by an administrator",
			listen: func(t *testing.T, name string) ([]string, []string) {
				h := bearer(ts.userToken(t, name, annotations.RoleAnalyst))
				return h, h
			},
			change: func(t *testing.T, name string, _ []string) {
				wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/users/"+user(t, name).ID, `{"disabled": true}`, admin...), http.StatusOK)
			},
			status: http.StatusUnauthorized, code: "account_disabled",
		},
		{
			name: "account disabled from the shell, listening in a browser",
			listen: func(t *testing.T, name string) ([]string, []string) {
				ts.addUser(t, name, annotations.RoleAnalyst)
				return cookie(ts.signIn(t, name, testPassword)), nil
			},
			change: func(t *testing.T, name string, _ []string) {
				disabled := true
				if _, err := ts.store.UpdateUser(ctx, annotations.Actor{Name: "tester"}, user(t, name).ID, annotations.UserChange{Disabled: &disabled}); err != nil {
					t.Fatal(err)
				}
				clock.advance(1100 * time.Millisecond)
			},
			status: http.StatusUnauthorized, code: "session_invalid",
		},
		{
			name: "signed out everywhere",
			listen: func(t *testing.T, name string) ([]string, []string) {
				ts.addUser(t, name, annotations.RoleViewer)
				b := ts.signIn(t, name, testPassword)
				return cookie(b), b.headers()
			},
			change: func(t *testing.T, _ string, own []string) {
				wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/me/sessions", nil, own...), http.StatusOK)
			},
			status: http.StatusUnauthorized, code: "session_invalid",
		},
		{
			name: "password changed in another browser",
			listen: func(t *testing.T, name string) ([]string, []string) {
				ts.addUser(t, name, annotations.RoleViewer)
				return cookie(ts.signIn(t, name, testPassword)), ts.signIn(t, name, testPassword).headers()
			},
			change: func(t *testing.T, _ string, own []string) {
				wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/me/password",
					map[string]string{"current_password": testPassword, "new_password": "a brand new password"}, own...), http.StatusOK)
			},
			status: http.StatusUnauthorized, code: "session_invalid",
		},
		{
			name: "password reset by an administrator: the token must wait for a password of the owner's own",
			listen: func(t *testing.T, name string) ([]string, []string) {
				h := bearer(ts.userToken(t, name, annotations.RoleViewer))
				return h, h
			},
			change: func(t *testing.T, name string, _ []string) {
				wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/users/"+user(t, name).ID, `{"reset_password": true}`, admin...), http.StatusOK)
			},
			status: http.StatusForbidden, code: "password_change_required",
		},
	}
	for i, tc := range tests {
		t.Run("nok, "+tc.name, func(t *testing.T) {
			name := fmt.Sprintf("listener%d", i)
			creds, own := tc.listen(t, name)
			stream := openEventsWith(ctx, t, hs.URL, img.ID, creds...)
			if ev, err := stream.next(); err != nil || ev.name != "ready" {
				t.Fatalf("first event %+v (%v), want ready", ev, err)
			}
			before := ts.createAnnotation(t, img.ID, pointBody, alice...)
			stream.wantChange(t, "annotation.created", img.ID, before.ID, 1, "alice")

			tc.change(t, name, own)
			after := ts.createAnnotation(t, img.ID, pointBody, alice...)
			ev, err := stream.next()
			if err != nil || ev.name != "auth.ended" {
				t.Fatalf("after the change: %+v (%v), want auth.ended before anything else (annotation %s was made after)", ev, err, after.ID)
			}
			var ended struct {
				Status        int
				Code, Message string
			}
			if err := json.Unmarshal([]byte(ev.data), &ended); err != nil || ended.Status != tc.status || ended.Code != tc.code || ended.Message == "" {
				t.Errorf("auth.ended data %s (%v), want status %d, code %s and a message", ev.data, err, tc.status, tc.code)
			}
			if ev, err := stream.next(); !errors.Is(err, io.EOF) {
				t.Errorf("after auth.ended: %+v (%v), want the stream closed", ev, err)
			}
			if resp := eventsRequest(ctx, t, hs.URL, img.ID, creds...); resp.StatusCode != tc.status {
				t.Errorf("reconnecting: status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}

	// With no request to bring the news, the stream's own check, each second, does.
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, name string)
		code   string
	}{
		{"nok, token revoked from the shell while nobody writes", func(t *testing.T, name string) {
			if err := ts.store.RevokeToken(ctx, annotations.Actor{Name: "tester"}, user(t, name).ID, ts.lastTokenID(t, name)); err != nil {
				t.Fatal(err)
			}
			clock.advance(1100 * time.Millisecond)
		}, "token_revoked"},
		{"nok, the session idles out while the page only listens", nil, "session_expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.code, "_", "-")
			var creds []string
			if tc.change != nil {
				creds = bearer(ts.userToken(t, name, annotations.RoleViewer))
			} else {
				ts.addUser(t, name, annotations.RoleViewer)
				creds = cookie(ts.signIn(t, name, testPassword))
			}
			stream := openEventsWith(ctx, t, hs.URL, img.ID, creds...)
			if ev, err := stream.next(); err != nil || ev.name != "ready" {
				t.Fatalf("first event %+v (%v), want ready", ev, err)
			}
			if tc.change != nil {
				tc.change(t, name)
			} else {
				clock.advance(7*24*time.Hour + time.Minute) // the default SessionIdle, and then some
			}
			ev, err := stream.next()
			if err != nil || ev.name != "auth.ended" || !strings.Contains(ev.data, `"code":"`+tc.code+`"`) {
				t.Fatalf("got %+v (%v), want auth.ended with code %s", ev, err, tc.code)
			}
			if resp := eventsRequest(ctx, t, hs.URL, img.ID, creds...); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("reconnecting: status %d, want 401", resp.StatusCode)
			}
		})
	}

	t.Run("ok, changes to another account, or a lower role that still reads, keep the stream", func(t *testing.T) {
		token := ts.userToken(t, "stays", annotations.RoleAnalyst)
		stream := openEvents(ctx, t, hs.URL, img.ID, token)
		if ev, err := stream.next(); err != nil || ev.name != "ready" {
			t.Fatalf("first event %+v (%v), want ready", ev, err)
		}
		other := ts.userToken(t, "other", annotations.RoleViewer)
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/me/tokens/"+ts.lastTokenID(t, "other"), nil, bearer(other)...), http.StatusNoContent)
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/users/"+user(t, "stays").ID, `{"role": "viewer"}`, admin...), http.StatusOK)
		viewer := annotations.RoleViewer
		if _, err := ts.store.UpdateUser(ctx, annotations.Actor{Name: "tester"}, user(t, "alice").ID, annotations.UserChange{Role: &viewer}); err != nil {
			t.Fatal(err)
		}
		clock.advance(1100 * time.Millisecond)
		a := ts.createAnnotation(t, img.ID, pointBody, ts.as(t, "bob")...)
		stream.wantChange(t, "annotation.created", img.ID, a.ID, 1, "bob")
	})
}
