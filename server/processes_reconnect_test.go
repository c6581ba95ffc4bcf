package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/pgtest"
)

// TestListenerReconnectedForgetsWhatItMayHaveMissed: B's connection that hears the other
// processes is cut (pg_terminate_backend) and cannot come back while A changes an
// image's licence, georeference and display and builds its pyramid again: B hears none
// of it. Once B listens again it must answer as A does (its caches, the library's
// pyramid and tiles included, forgotten), and its live listeners must be told to reload.
func TestListenerReconnectedForgetsWhatItMayHaveMissed(t *testing.T) {
	rastertest.Require(t)
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// B connects as a role of its own, so that it alone can be kept out meanwhile.
	suffix := make([]byte, 4)
	rand.Read(suffix)
	role := "satmark_b_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, `CREATE ROLE `+role+` LOGIN SUPERUSER`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	a, b, bListening := twoProcessesOn(t, dsn, u.String())

	spec := rastertest.Spec{Width: 300, Height: 200, Bands: 1, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64(100 + 13*x + 7*y) }}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "depth.png", spec, "-of", "PNG"))
	if err != nil {
		t.Fatal(err)
	}
	img := a.mustUpload(t, filePart("depth.png", data), field("license", ccBy))
	a.buildPyramids(t)
	ann := a.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[0, 0], [10, 0]]}}`)
	const full = "/full/max/0/default.jpg"
	before, _ := b.tileImage(t, "/iiif/3/"+img.ID+full)
	if got := rightsOn(t, b, img.ID); got != ccBy {
		t.Fatalf("B: rights before = %q, want the CC BY licence", got)
	}
	if got := lengthOn(t, b, ann.ID); got != nil {
		t.Fatalf("B: length before any georeference = %v, want none", got)
	}
	hs := httptest.NewServer(b.srv)
	t.Cleanup(hs.Close)
	stream := openEvents(ctx, t, hs.URL, img.ID, a.token)
	defer stream.resp.Body.Close()
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("B's first event %+v (%v), want ready", ev, err)
	}

	// B is kept out, and its listener cut.
	if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` NOLOGIN`); err != nil {
		t.Fatal(err)
	}
	var cut int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		b.store.ListenerName()).Scan(&cut); err != nil || cut != 1 {
		t.Fatalf("cutting B's listener: %d connections (%v), want 1", cut, err)
	}
	wantStatus(t, a.doJSON(t, http.MethodPatch, "/api/v1/images/"+img.ID, `{"license": "`+cc0+`"}`), http.StatusOK)
	wantStatus(t, a.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 2}`), http.StatusOK)
	wantStatus(t, a.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/display", `{"ramp": "viridis"}`), http.StatusAccepted)
	a.buildPyramids(t)

	// B may come back.
	if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bListening:
	case <-ctx.Done():
		t.Fatal("B did not listen again")
	}
	// The stream opened before is ended, its browser to reconnect and reload.
	for {
		ev, err := stream.next()
		if err != nil {
			break
		}
		if ev.name != "" && ev.name != "ready" {
			t.Logf("B's stream: %s before it ended", ev.name)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("B's live stream was not ended when B listened again")
	}
	wantChangesSeen(t, b, img.ID, ann.ID)
	want, _ := a.tileImage(t, "/iiif/3/"+img.ID+full)
	got, _ := b.tileImage(t, "/iiif/3/"+img.ID+full)
	if d := rastertest.MeanAbsDiff(before, want, 300, 200); d < 10 {
		t.Fatalf("A: through the viridis ramp the image differs from grey by only %.2f on average", d)
	}
	if d := rastertest.MeanAbsDiff(got, want, 300, 200); d > 1 {
		t.Errorf("B serves an image %.2f away on average from A's after A built the viridis pyramid while B was not listening, want the same", d)
	}
}
