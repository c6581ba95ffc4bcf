package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/v1/images/"+imageID+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
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
