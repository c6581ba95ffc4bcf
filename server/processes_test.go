package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/pgtest"
)

// Several satmark processes on one PostgreSQL database and one data folder: what one
// process changes, the others' listeners hear and their caches forget.

// TestMain shares one PostgreSQL cluster between the package's tests that ask for one.
func TestMain(m *testing.M) { pgtest.Main(m) }

// twoProcesses is two servers, as two `satmark serve` processes would be, over one new
// PostgreSQL database and one data folder, each following the other's notices (Follow)
// until the test ends. Skipped without PostgreSQL (failed with SATMARK_REQUIRE_ORACLES=1).
func twoProcesses(t *testing.T) (a, b *testServer) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, b, _ = twoProcessesOn(t, dsn, dsn)
	return a, b
}

// twoProcessesOn is twoProcesses with A connecting to the database by dsnA and B by
// dsnB (one database, as two roles, say). bListening receives each time B listens again
// after it started.
func twoProcessesOn(t *testing.T, dsnA, dsnB string) (a, b *testServer, bListening <-chan struct{}) {
	t.Helper()
	dir := t.TempDir()
	a = newTestServerAt(t, dir, dsnA, imagery.Options{Limits: smallLimits}, os.DirFS("../web"))
	b = newTestServerAt(t, dir, dsnB, imagery.Options{Limits: smallLimits}, os.DirFS("../web"))
	b.token = a.token // one database: the same accounts and tokens
	for _, ts := range []*testServer{a, b} {
		ctx, cancel := context.WithCancel(context.Background())
		listening := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() {
			done <- ts.srv.Follow(ctx, func() {
				select {
				case listening <- struct{}{}:
				default:
				}
			})
		}()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Follow: %v", err)
			}
		})
		select {
		case <-listening:
		case err := <-done:
			t.Fatalf("Follow ended before listening: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("Follow did not listen within 20 s")
		}
		bListening = listening // B's, the last
	}
	return a, b, bListening
}

func TestEventsReachEveryProcess(t *testing.T) {
	a, b := twoProcesses(t)
	hsA, hsB := httptest.NewServer(a.srv), httptest.NewServer(b.srv)
	t.Cleanup(hsA.Close)
	t.Cleanup(hsB.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img := a.newImage(t, 1)
	streams := map[string]*eventStream{}
	for name, url := range map[string]string{"A": hsA.URL, "B": hsB.URL} {
		streams[name] = openEvents(ctx, t, url, img.ID, a.token)
		if ev, err := streams[name].next(); err != nil || ev.name != "ready" {
			t.Fatalf("%s's first event %+v (%v), want ready", name, ev, err)
		}
	}
	alice := a.as(t, "alice")

	// Each process's listener hears each change once: the origin's from itself, the
	// other's through the database (were A to hear its own notices too, its next event
	// would repeat the last). Each change is heard before the next is made, since B reads
	// what a notice names when it hears it.
	each := func(t *testing.T, check func(t *testing.T, stream *eventStream)) {
		t.Helper()
		for _, name := range []string{"A", "B"} {
			t.Run(name, func(t *testing.T) { check(t, streams[name]) })
		}
	}
	made := a.createAnnotation(t, img.ID, boxBody, alice...)
	each(t, func(t *testing.T, stream *eventStream) {
		c := stream.wantChange(t, "annotation.created", img.ID, made.ID, 1, "alice")
		var created annotations.Annotation
		if err := json.Unmarshal(c.Data, &created); err != nil || created.ID != made.ID || !sameGeometry(created.Geometry, made.Geometry) || created.Label.ID != made.Label.ID {
			t.Errorf("created data %s (%v), want the annotation as saved", c.Data, err)
		}
	})
	wantStatus(t, a.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+made.ID, `{"version": 1, "properties": {"note": "bow to the east"}}`, alice...), http.StatusOK)
	each(t, func(t *testing.T, stream *eventStream) {
		c := stream.wantChange(t, "annotation.updated", img.ID, made.ID, 2, "alice")
		var updated annotations.Annotation
		if err := json.Unmarshal(c.Data, &updated); err != nil || updated.Note != "bow to the east" {
			t.Errorf("updated data %s (%v), want the note", c.Data, err)
		}
	})
	rec := a.doJSON(t, http.MethodPost, "/api/v1/annotations/"+made.ID+"/comments", `{"body": "seen from the pier"}`, alice...)
	wantStatus(t, rec, http.StatusCreated)
	var comment annotations.Comment
	decode(t, rec, &comment)
	each(t, func(t *testing.T, stream *eventStream) {
		c := stream.wantChange(t, "comment.created", img.ID, made.ID, 2, "alice")
		var cm annotations.Comment
		if err := json.Unmarshal(c.Data, &cm); err != nil || cm.ID != comment.ID || cm.Body != "seen from the pier" {
			t.Errorf("comment data %s (%v), want the comment %s", c.Data, err, comment.ID)
		}
	})
	wantStatus(t, a.do(t, http.MethodDelete, "/api/v1/annotations/"+made.ID+"?version=2", nil, alice...), http.StatusNoContent)
	each(t, func(t *testing.T, stream *eventStream) {
		stream.wantChange(t, "annotation.deleted", img.ID, made.ID, 2, "alice")
	})
}

// TestCachesForgetOtherProcessesChanges: what B keeps in memory about an image (its IIIF
// description, its placement on the earth) is forgotten when A changes the image.
func TestCachesForgetOtherProcessesChanges(t *testing.T) {
	a, b := twoProcesses(t)
	img, ann := cachedOnB(t, a, b)
	wantStatus(t, a.doJSON(t, http.MethodPatch, "/api/v1/images/"+img.ID, `{"license": "`+cc0+`"}`), http.StatusOK)
	wantStatus(t, a.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 2}`), http.StatusOK)
	waitHeard(t, a, b, img.ID)
	wantChangesSeen(t, b, img.ID, ann.ID)
}

// TestChangesOfAProcessThatDiesAfterCommitAreHeard: A commits changes and does nothing
// after (a process killed, or cut from the database, right after its commit: the
// changes are made through A's store alone, so nothing of A's request handling runs
// after the commit); B still forgets what it kept and its listeners hear the new
// annotation, since the notices went out with the commits.
func TestChangesOfAProcessThatDiesAfterCommitAreHeard(t *testing.T) {
	a, b := twoProcesses(t)
	img, ann := cachedOnB(t, a, b)
	hs := httptest.NewServer(b.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := openEvents(ctx, t, hs.URL, img.ID, a.token)
	defer stream.resp.Body.Close()
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("B's first event %+v (%v), want ready", ev, err)
	}
	by := annotations.Actor{Name: "tester"}
	if _, err := a.store.UpdateImage(ctx, by, img.ID, annotations.Provenance{License: ptr(cc0)}); err != nil {
		t.Fatal(err)
	}
	gsd := 2.0
	if _, err := a.store.SetGroundSampleDistance(ctx, by, img.ID, &gsd); err != nil {
		t.Fatal(err)
	}
	made, err := a.store.CreateAnnotation(ctx, "tester", img.ID, annotations.AnnotationInput{Label: ptr("vessel"), Shape: ptr(annotations.ShapePoint),
		Geometry: json.RawMessage(`{"type": "Point", "coordinates": [5, 5]}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Notices arrive in the order committed: once B's listener hears of the annotation,
	// B has heard of the image's changes.
	for {
		ev, err := stream.next()
		if err != nil {
			t.Fatalf("B's listener did not hear of annotation %s, which A's store committed: %v", made.ID, err)
		}
		var c change
		if json.Unmarshal([]byte(ev.data), &c) == nil && ev.name == "annotation.created" && c.ID == made.ID {
			break
		}
	}
	wantChangesSeen(t, b, img.ID, ann.ID)
}

const (
	ccBy = "https://creativecommons.org/licenses/by/4.0/"
	cc0  = "https://creativecommons.org/publicdomain/zero/1.0/"
)

// cachedOnB uploads through A an image under the CC BY licence, without a georeference,
// with a line 10 px long on it, and has B answer its licence and the line's length
// (none), so that B keeps the image's description and placement in memory.
func cachedOnB(t *testing.T, a, b *testServer) (annotations.Image, annotations.Annotation) {
	t.Helper()
	img := a.mustUpload(t, filePart("scene.png", pngBytes(t, 64, 48, 1)), field("license", ccBy))
	a.buildPyramids(t)
	ann := a.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[0, 0], [10, 0]]}}`)
	if got := rightsOn(t, b, img.ID); got != ccBy {
		t.Fatalf("B: rights before = %q, want the CC BY licence", got)
	}
	if got := lengthOn(t, b, ann.ID); got != nil {
		t.Fatalf("B: length before any georeference = %v, want none", got)
	}
	return img, ann
}

// wantChangesSeen checks that ts answers the image's CC0 licence, and the line's length
// at 2 m a pixel.
func wantChangesSeen(t *testing.T, ts *testServer, imageID, annID string) {
	t.Helper()
	if got := rightsOn(t, ts, imageID); got != cc0 {
		t.Errorf("B: rights after A's change = %q, want %q", got, cc0)
	}
	if got := lengthOn(t, ts, annID); got != 20.0 {
		t.Errorf("B: length after A's georeference = %v, want 20 (10 px at 2 m)", got)
	}
}

// rightsOn is the licence ts's IIIF description of the image gives.
func rightsOn(t *testing.T, ts *testServer, imageID string) string {
	t.Helper()
	var doc struct {
		Rights string `json:"rights"`
	}
	rec := ts.do(t, http.MethodGet, "/iiif/3/"+imageID+"/info.json", nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &doc)
	return doc.Rights
}

// lengthOn is the annotation's length on the ground as ts measures it (nil: none).
func lengthOn(t *testing.T, ts *testServer, annID string) any {
	t.Helper()
	var got struct {
		Measures map[string]any `json:"measures"`
	}
	decode(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+annID, nil), &got)
	return got.Measures["length_m"]
}

// waitHeard returns once b has heard every notice a sent before it was called: notices
// travel apart from the requests that cause them, in the order sent, so b has heard the
// earlier ones once its listener hears of an annotation a creates now.
func waitHeard(t *testing.T, a, b *testServer, imageID string) {
	t.Helper()
	hs := httptest.NewServer(b.srv)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := openEvents(ctx, t, hs.URL, imageID, a.token)
	defer stream.resp.Body.Close()
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("B's first event %+v (%v), want ready", ev, err)
	}
	marker := a.createAnnotation(t, imageID, boxBody)
	// B may hear a's earlier changes after its stream opened (its feed polls the store
	// apart from the listener), so events before the marker's are read past.
	for {
		ev, err := stream.next()
		if err != nil {
			t.Fatalf("B: waiting for the marker %s: %v", marker.ID, err)
		}
		var c change
		if json.Unmarshal([]byte(ev.data), &c) == nil && ev.name == "annotation.created" && c.ID == marker.ID {
			return
		}
	}
}

// TestPyramidBuiltElsewhereIsServed: A chooses another display for an image and builds
// its pyramid again in the shared data folder; B, which had served the old pyramid,
// serves the new one.
func TestPyramidBuiltElsewhereIsServed(t *testing.T) {
	rastertest.Require(t)
	a, b := twoProcesses(t)
	spec := rastertest.Spec{Width: 300, Height: 200, Bands: 1, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64(100 + 13*x + 7*y) }}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "depth.png", spec, "-of", "PNG"))
	if err != nil {
		t.Fatal(err)
	}
	img := a.mustUpload(t, filePart("depth.png", data))
	a.buildPyramids(t)
	const full = "/full/max/0/default.jpg"
	before, _ := b.tileImage(t, "/iiif/3/"+img.ID+full)
	wantStatus(t, a.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/display", `{"ramp": "viridis"}`), http.StatusAccepted)
	a.buildPyramids(t)
	waitHeard(t, a, b, img.ID)
	want, _ := a.tileImage(t, "/iiif/3/"+img.ID+full)
	got, _ := b.tileImage(t, "/iiif/3/"+img.ID+full)
	if d := rastertest.MeanAbsDiff(before, want, 300, 200); d < 10 {
		t.Fatalf("A: through the viridis ramp the image differs from grey by only %.2f on average", d)
	}
	if d := rastertest.MeanAbsDiff(got, want, 300, 200); d > 1 {
		t.Errorf("B serves an image %.2f away on average from A's after A built the viridis pyramid, want the same", d)
	}
}
