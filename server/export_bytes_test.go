package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

var updateExportBytes = flag.Bool("update-export-bytes", false, "rewrite testdata/export-bytes.sha256 from this server's exports")

// The exports' bytes, pinned: every export route on a varied fixture (every shape,
// polygons with holes, big and tiny shapes, images placed by a WGS 84 grid, a UTM grid and
// a fitted polynomial, images with only a ground sample distance or nothing, attributes
// and text that need escaping, review decisions, a track, evidence for a claim, an image in
// the trash) gives the bytes that the writers before the speed work gave, recorded in
// testdata/export-bytes.sha256. A speed change that moves one byte fails here.
func TestExportBytesAreUnchanged(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	ids := exportFixture(t, ts)
	dump := os.Getenv("SATMARK_EXPORT_BYTES_DUMP") // a folder to write the exports into, to compare two runs
	var got bytes.Buffer
	for i, target := range exportTargets(ids) {
		rec := ts.do(t, http.MethodGet, target, nil)
		sum := "status " + fmt.Sprint(rec.Code)
		if rec.Code == http.StatusOK {
			sum = digestExport(t, target, rec.Body.Bytes())
			if dump != "" {
				if err := os.WriteFile(filepath.Join(dump, fmt.Sprintf("%02d", i)), rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		fmt.Fprintf(&got, "%s  %s\n", sum, target)
	}
	path := filepath.Join("testdata", "export-bytes.sha256")
	if *updateExportBytes {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (go test ./server -run TestExportBytesAreUnchanged -update-export-bytes writes it): %v", path, err)
	}
	wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(got.String(), "\n")
	if len(wantLines) != len(gotLines) {
		t.Fatalf("%d exports, want %d:\n%s", len(gotLines), len(wantLines), got.String())
	}
	for i := range wantLines {
		if wantLines[i] != gotLines[i] {
			t.Errorf("export bytes changed:\n got %s\nwant %s", gotLines[i], wantLines[i])
		}
	}
}

// digestExport is the SHA-256 of an export; a zip's is that of its members' names,
// methods, times and contents in order (a zip's own bytes would pin its compressor too).
func digestExport(t *testing.T, target string, body []byte) string {
	t.Helper()
	h := sha256.New()
	if !bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		h.Write(body)
		return hex.EncodeToString(h.Sum(nil))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %s: %v", target, f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", target, f.Name, err)
		}
		fmt.Fprintf(h, "%s %d %s %d\n", f.Name, f.Method, f.Modified.UTC().Format(time.RFC3339), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// exportTargets are every export route over the fixture's images.
func exportTargets(ids map[string]string) []string {
	var out []string
	for _, img := range []string{"image-wgs84-grid", "image-utm-grid", "image-polynomial", "image-gsd", "image-unplaced"} {
		base := "/api/v1/images/" + ids[img]
		for _, p := range []string{"/annotations.geojson?crs=pixel", "/annotations.geojson", "/annotations.kml",
			"/annotations.coco.json", "/annotations.csv", "/annotations.cvat.xml", "/iiif/annotations.json"} {
			out = append(out, base+p)
		}
		for _, f := range []string{"coco", "yolo", "yolo-obb", "dota", "voc", "cvat", "csv"} {
			out = append(out, base+"/export?format="+f)
		}
	}
	base := "/api/v1/images/" + ids["image-wgs84-grid"]
	out = append(out, base+"/annotations.geojson?status=accepted", base+"/annotations.kml?status=draft,rejected",
		base+"/annotations.csv?status=accepted", base+"/iiif/annotations.json?status=accepted",
		"/api/v1/export.geojson?crs=wgs84", "/api/v1/export.geojson?crs=pixel", "/api/v1/export.geojson?status=accepted,disputed")
	for _, f := range []string{"coco", "yolo", "yolo-obb", "dota", "voc", "cvat", "csv"} {
		out = append(out, "/api/v1/export?format="+f)
	}
	return out
}

// exportFixture stores the images and annotations TestExportBytesAreUnchanged exports,
// the annotations straight into SQLite with fixed ids and times; it returns the ids the
// store generated, by name.
func exportFixture(t *testing.T, ts *testServer) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	text := func(s string) *string { return &s }
	gsd := 0.5
	images := []struct {
		name   string
		w, h   int
		georef *annotations.Georeference
		gsd    *float64
		prov   annotations.Provenance
	}{
		{"image-wgs84-grid", 4000, 3000, &annotations.Georeference{Method: annotations.GeorefGrid, Origin: "geotiff", CRS: 4326,
			GeoTransform: &[6]float64{131.88, 1e-6, 0, 43.12, 0, -1e-6}}, nil,
			annotations.Provenance{Title: text("Harbour <north> & \"pier\""), Publisher: text("Ministry of Defence"),
				SourceURL: text("https://example.org/release?id=7&lang=en"), ReleasedAt: text("2024-10-19"), Credit: text("© Maxar Technologies"),
				License: text("CC BY 4.0"), CapturedFrom: text("2024-10-18T09:00:00Z"), CapturedTo: text("2024-10-18T09:30:00Z"),
				LocationName: text("Vladivostok › Zolotoy Rog"), Claim: text("landing ships at the pier")}},
		{"image-utm-grid", 2000, 2000, &annotations.Georeference{Method: annotations.GeorefGrid, Origin: "worldfile", CRS: 32652,
			GeoTransform: &[6]float64{370000, 0.3, 0, 4775000, 0, -0.3}}, nil,
			annotations.Provenance{Title: text("UTM 52N scene"), Publisher: text("Planet")}},
		{"image-polynomial", 3000, 2000, &annotations.Georeference{Method: annotations.GeorefControlPoints, Origin: "editor",
			Transform: "polynomial2", ControlPoints: []annotations.ControlPoint{
				{Pixel: [2]float64{0, 0}, LonLat: [2]float64{30.5, 50.5}}, {Pixel: [2]float64{3000, 0}, LonLat: [2]float64{30.53, 50.501}},
				{Pixel: [2]float64{0, 2000}, LonLat: [2]float64{30.501, 50.48}}, {Pixel: [2]float64{3000, 2000}, LonLat: [2]float64{30.532, 50.4805}},
				{Pixel: [2]float64{1500, 1000}, LonLat: [2]float64{30.5153, 50.4907}}, {Pixel: [2]float64{700, 1600}, LonLat: [2]float64{30.5075, 50.4843}},
				{Pixel: [2]float64{2400, 300}, LonLat: [2]float64{30.5241, 50.4971}}}}, nil,
			annotations.Provenance{Title: text("Fitted by hand")}},
		{"image-gsd", 1000, 800, nil, &gsd, annotations.Provenance{Title: text("Only a ground sample distance")}},
		{"image-unplaced", 1000, 800, nil, nil, annotations.Provenance{}},
		{"image-in-the-trash", 1000, 800, nil, nil, annotations.Provenance{Title: text("Thrown away")}},
	}
	for i, in := range images {
		img, _, err := ts.store.CreateImage(ctx, annotations.NewImage{
			SHA256: strings.Repeat(fmt.Sprintf("%02x", i+1), 32), Filename: in.name + ".tif", MediaType: "image/tiff", ByteSize: 1,
			Width: in.w, Height: in.h, Provenance: in.prov, CreatedBy: annotations.Actor{Name: "tester"}, Georeference: in.georef,
		}, func() (func(), error) { return func() {}, nil })
		if err != nil {
			t.Fatalf("CreateImage %s: %v", in.name, err)
		}
		if in.gsd != nil {
			if _, err := ts.store.DB().ExecContext(ctx, `UPDATE images SET gsd_m = ? WHERE id = ?`, *in.gsd, img.ID); err != nil {
				t.Fatal(err)
			}
		}
		ids[in.name] = fmt.Sprintf("00000000-0000-4000-8000-%012x", 0xa0+i)
		ids["release-of-"+in.name] = fmt.Sprintf("00000000-0000-4000-8000-%012x", 0xb0+i)
		pinImage(t, ts, img.ID, ids[in.name], img.Source.ID, ids["release-of-"+in.name])
	}
	pinLabels(t, ts)
	labels, err := ts.store.Labels(ctx)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Date(2024, 10, 18, 9, 0, 0, 123456789, time.UTC)
	n := 0
	for _, in := range images {
		for k, s := range fixtureShapes(in.w, in.h) {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
			geom, err := json.Marshal(s.geometry)
			if err != nil {
				t.Fatal(err)
			}
			attrs := []string{`{}`, `{"count":2,"hull":"grey"}`, `{"a<b":"x&y","nested":{"z":[1,2.5,-3e-7,true,null]},"unicode":"Ропуха ›"}`,
				`{"big":12345678901234567890,"empty":"","quote":"say \"hi\"\n"}`}[k%4]
			note := []string{"", "seen at the pier, bow to the north", "=SUM(A1) <b>bold</b> & 'quoted' \"double\"\ttab", "line one\nline two ✓"}[k%4]
			ident := []string{"", "Ropucha-class landing ship", "", "Buyan-M <corvette>"}[k%4]
			status := []string{"draft", "accepted", "rejected", "disputed", "submitted"}[k%5]
			created := start.Add(time.Duration(n) * 1500 * time.Millisecond)
			updated := created.Add(time.Duration(k%3) * time.Hour)
			label := labels[(n*7)%len(labels)].ID
			confidence := []string{"confirmed", "probable", "possible"}[k%3]
			version := 1 + k%3
			_, err = ts.store.DB().ExecContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification,
					note, attributes, review_status, created_by, created_at, updated_by, updated_at, version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'tester', ?, ?, ?, ?)`,
				id, ids[in.name], label, s.shape, string(geom), confidence, ident, note, attrs, status,
				created.Format(time.RFC3339Nano), []string{"tester", "analyst ā"}[k%2], updated.Format(time.RFC3339Nano), version)
			if err != nil {
				t.Fatalf("annotation %d: %v", n, err)
			}
			if status != "draft" {
				// The latest decision on the current version, except every third one, which
				// was on an earlier version.
				v := version
				if k%3 == 2 && version > 1 {
					v = version - 1
				}
				reason := []string{"", "matches the pier log", "too blurry <to tell>"}[k%3]
				_, err = ts.store.DB().ExecContext(ctx, `INSERT INTO reviews (annotation_id, version, reviewer, decision, reason, at)
					VALUES (?, ?, 'reviewer', ?, ?, ?)`, id, v, status, reason, updated.Add(time.Minute).Format(time.RFC3339Nano))
				if err != nil {
					t.Fatalf("review %d: %v", n, err)
				}
			}
			n++
		}
	}
	if _, err := ts.store.TrashImage(ctx, annotations.Actor{Name: "tester"}, ids["image-in-the-trash"]); err != nil {
		t.Fatal(err)
	}
	// A track across two images and a claim with evidence.
	at := start.Format(time.RFC3339Nano)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tracks (id, name, notes, created_by, created_at, updated_by, updated_at) VALUES ('track-1', 'Ship "A" <1>', '', 'tester', ?, 'tester', ?)`, []any{at, at}},
		{`INSERT INTO track_links (track_id, annotation_id, image_id, confidence, by, at) VALUES ('track-1', ?, ?, 'probable', 'tester', ?)`,
			[]any{fmt.Sprintf("%08x-0000-4000-8000-%012x", 3, 3), ids["image-wgs84-grid"], at}},
		{`INSERT INTO track_links (track_id, annotation_id, image_id, confidence, by, at) VALUES ('track-1', ?, ?, 'confirmed', 'tester', ?)`,
			[]any{fmt.Sprintf("%08x-0000-4000-8000-%012x", len(fixtureShapes(1, 1))+3, len(fixtureShapes(1, 1))+3), ids["image-utm-grid"], at}},
		{`INSERT INTO claims (id, source_id, text, place_name, lon, lat, created_by, created_at, updated_by, updated_at)
			VALUES ('claim-1', ?, 'Two landing ships & a corvette', 'Zolotoy Rog', 131.9, 43.1, 'tester', ?, 'tester', ?)`,
			[]any{ids["release-of-image-wgs84-grid"], at, at}},
		{`INSERT INTO evidence (id, claim_id, annotation_id, image_id, stance, assessment, confidence, created_by, created_at, updated_by, updated_at)
			VALUES ('evidence-1', 'claim-1', ?, ?, 'supports', 'the bow <is> visible', 0.75, 'tester', ?, 'tester', ?)`,
			[]any{fmt.Sprintf("%08x-0000-4000-8000-%012x", 1, 1), ids["image-wgs84-grid"], at, at}},
	} {
		if _, err := ts.store.DB().ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return ids
}

// fixtureConn is a connection of the store's with foreign keys off (ids are rewritten in
// every table that names them), exec on it failing the test, and done, which turns them
// on again and gives the connection back.
func fixtureConn(t *testing.T, ts *testServer) (conn *sql.Conn, exec func(q string, args ...any), done func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := ts.store.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`PRAGMA foreign_keys = OFF`)
	return conn, exec, func() {
		exec(`PRAGMA foreign_keys = ON`)
		conn.Close()
	}
}

// pinImage gives a new image the id and its release the id the fixture names them by (in
// every table that names them: the store's ids are random, and the exports of several
// images are in id order), and fixed times.
func pinImage(t *testing.T, ts *testServer, oldID, newID, oldSource, newSource string) {
	t.Helper()
	ctx := context.Background()
	conn, exec, done := fixtureConn(t, ts)
	defer done()
	rows, err := conn.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND p.name IN ('image_id', 'source_id')`)
	if err != nil {
		t.Fatal(err)
	}
	var columns [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		columns = append(columns, c)
	}
	rows.Close()
	for _, c := range columns {
		old, id := oldID, newID
		if c[1] == "source_id" {
			old, id = oldSource, newSource
		}
		exec(`UPDATE `+c[0]+` SET `+c[1]+` = ? WHERE `+c[1]+` = ?`, id, old)
	}
	at := "2024-10-19T08:00:00Z"
	exec(`UPDATE images SET id = ?, created_at = ?, updated_at = ? WHERE id = ?`, newID, at, at, oldID)
	exec(`UPDATE sources SET id = ?, created_at = ? WHERE id = ?`, newSource, at, oldSource)
	exec(`UPDATE georeferences SET updated_at = ? WHERE image_id = ?`, at, newID)
	// The release's first claim, made from its provenance.
	exec(`UPDATE claims SET id = ?, created_at = ?, updated_at = ? WHERE source_id = ?`, "claim-of-"+newSource, at, at, newSource)
}

// pinLabels gives the taxonomy's labels fixed ids, in the taxonomy's order.
func pinLabels(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	labels, err := ts.store.Labels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, exec, done := fixtureConn(t, ts)
	defer done()
	for i, l := range labels {
		id := fmt.Sprintf("lbl_fixture%04d", i)
		exec(`UPDATE labels SET id = ? WHERE id = ?`, id, l.ID)
		exec(`UPDATE labels SET parent_id = ? WHERE parent_id = ?`, id, l.ID)
	}
}

type fixtureShape struct {
	shape    annotations.Shape
	geometry annotations.Geometry
}

// fixtureShapes are the shapes the fixture draws on an image of w × h pixels: every
// kind, at the corners and in the middle, tiny and large, polygons with holes.
func fixtureShapes(w, h int) []fixtureShape {
	fw, fh := float64(w), float64(h)
	rect := func(x, y, rw, rh float64) []annotations.Position {
		return []annotations.Position{{x, y}, {x + rw, y}, {x + rw, y + rh}, {x, y + rh}, {x, y}}
	}
	rotated := func(x, y, l, wd, theta float64) []annotations.Position {
		c, s := math.Cos(theta), math.Sin(theta)
		p := func(u, v float64) annotations.Position { return annotations.Position{x + u*c - v*s, y + u*s + v*c} }
		return []annotations.Position{p(0, 0), p(l, 0), p(l, wd), p(0, wd), p(0, 0)}
	}
	hexagon := func(cx, cy, r float64, clockwise bool) []annotations.Position {
		ring := make([]annotations.Position, 7)
		for k := range ring {
			a := float64(k%6) * math.Pi / 3
			if clockwise {
				a = -a
			}
			ring[k] = annotations.Position{cx + r*math.Cos(a), cy + r*math.Sin(a)}
		}
		return ring
	}
	poly := func(rings ...[]annotations.Position) annotations.Geometry {
		g := annotations.PolygonGeometry(rings[0])
		g.Coordinates = append(g.Coordinates, rings[1:]...)
		return g
	}
	return []fixtureShape{
		{annotations.ShapePoint, annotations.PointGeometry(annotations.Position{0, 0})},
		{annotations.ShapePoint, annotations.PointGeometry(annotations.Position{fw / 3, fh / 7})},
		{annotations.ShapePoint, annotations.PointGeometry(annotations.Position{fw, fh})},
		{annotations.ShapeLine, annotations.LineGeometry([]annotations.Position{{10, 10}, {19.25, 13}, {25, 21.125}})},
		{annotations.ShapeLine, annotations.LineGeometry([]annotations.Position{{0, fh / 2}, {fw, fh / 2}})},
		{annotations.ShapeLine, annotations.LineGeometry([]annotations.Position{{fw * 0.1, fh * 0.9}, {fw * 0.9, fh * 0.1}, {fw * 0.95, fh * 0.95}, {fw * 0.1, fh * 0.9}})},
		{annotations.ShapeRectangle, annotations.PolygonGeometry(rect(100, 120, 12, 8))},
		{annotations.ShapeRectangle, annotations.PolygonGeometry(rect(0, 0, fw, fh))},
		{annotations.ShapeRectangle, annotations.PolygonGeometry(rect(fw/2, fh/3, 0.75, 0.5))},
		{annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(rotated(300, 310, 14, 4, 0.5))},
		{annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(rotated(fw/2, fh/2, fw/3, fh/9, -2.3))},
		{annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(rotated(400, 200, 3, 30, math.Pi/2))},
		{annotations.ShapePolygon, annotations.PolygonGeometry(hexagon(500, 400, 6, false))},
		{annotations.ShapePolygon, annotations.PolygonGeometry(hexagon(fw/2, fh/2, fh/3, true))},
		{annotations.ShapePolygon, poly(rect(50, 50, 200, 150), rect(80, 80, 40, 30), hexagon(180, 140, 15, true))},
		{annotations.ShapePolygon, poly(hexagon(fw*0.7, fh*0.6, fh/4, false), rect(fw*0.7-20, fh*0.6-20, 40, 40))},
		{annotations.ShapePolygon, annotations.PolygonGeometry([]annotations.Position{{1, 1}, {fw - 1, 2}, {fw / 2, fh - 1}, {1, 1}})},
	}
}
