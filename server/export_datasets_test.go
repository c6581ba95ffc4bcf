package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// zipEntries reads a zip answer: its files by name.
func zipEntries(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("zip entry %s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

func sortedNames(m map[string][]byte) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// exportManifest is satmark-export.json, as a dataset builder reads it.
type exportManifest struct {
	Format string
	Images []struct {
		FileName   string `json:"file_name"`
		ID         string
		SHA256     string
		Provenance map[string]any
	}
	Annotations int
	Omitted     []struct {
		AnnotationID string `json:"annotation_id"`
		Shape        string
		Reason       string
	}
}

// TestDatasetZipsHoldEachFormatsLayout downloads one image and the library in every
// format: each zip holds the format's files where its tools look for them, the manifest
// with the images' provenance and what the format left out, and with images=1 the
// originals byte for byte.
func TestDatasetZipsHoldEachFormatsLayout(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	first := ts.newImage(t, 901, field("title", "First"), field("credit", "NIS"), field("license", "public release"))
	second := ts.newImage(t, 902, field("title", "Second"))
	ts.createAnnotation(t, first.ID, `{"label": "vessel", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [20, 1], [20, 10], [1, 10], [1, 1]]]}}`)
	point := ts.createAnnotation(t, first.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)
	ts.createAnnotation(t, second.ID, `{"label": "facility", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [20, 1], [20, 10], [1, 1]]]}}`)
	a, b := "scene-901", "scene-902"
	layouts := map[string][]string{
		"coco":     {"annotations/instances.json"},
		"yolo":     {"classes.txt", "data.yaml", "labels/" + a + ".txt", "labels/" + b + ".txt"},
		"yolo-obb": {"classes.txt", "data.yaml", "labels/" + a + ".txt", "labels/" + b + ".txt"},
		"dota":     {"classes.txt", "labelTxt/" + a + ".txt", "labelTxt/" + b + ".txt"},
		"voc":      {"Annotations/" + a + ".xml", "Annotations/" + b + ".xml", "ImageSets/Main/default.txt"},
		"cvat":     {"annotations.xml"},
		"csv":      {"annotations.csv"},
	}
	imagesDir := map[string]string{"voc": "JPEGImages/"}
	for format, files := range layouts {
		t.Run("ok, "+format, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, "/api/v1/export?format="+format, nil)
			wantStatus(t, rec, http.StatusOK)
			if ct := rec.Header().Get("Content-Type"); ct != "application/zip" {
				t.Errorf("Content-Type %q, want application/zip", ct)
			}
			if _, p, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); p["filename"] != "satmark-export-"+format+".zip" {
				t.Errorf("Content-Disposition %q", rec.Header().Get("Content-Disposition"))
			}
			entries := zipEntries(t, rec.Body.Bytes())
			want := append(append([]string(nil), files...), "satmark-export.json")
			sort.Strings(want)
			if got := sortedNames(entries); !slices.Equal(got, want) {
				t.Errorf("zip holds %v, want %v", got, want)
			}
			var m exportManifest
			if err := json.Unmarshal(entries["satmark-export.json"], &m); err != nil {
				t.Fatal(err)
			}
			credits := map[string]any{}
			for _, img := range m.Images {
				credits[img.FileName] = img.Provenance["credit"]
			}
			if m.Format != format || len(m.Images) != 2 || credits[a+".png"] != "NIS" {
				t.Errorf("manifest %+v: want the format and both images with their provenance", m)
			}
			// The point has no place in the box formats; CVAT and CSV keep it.
			wantLeft := format != "cvat" && format != "csv"
			if (len(m.Omitted) == 1 && m.Omitted[0].AnnotationID == point.ID) != wantLeft || m.Annotations != 3-len(m.Omitted) {
				t.Errorf("manifest says %d written and %+v left out (point %s left out: %v)", m.Annotations, m.Omitted, point.ID, wantLeft)
			}

			withImages := zipEntries(t, ts.download(t, "/api/v1/export?format="+format+"&images=1"))
			dir := imagesDir[format]
			if dir == "" {
				dir = "images/"
			}
			for _, img := range []annotations.Image{first, second} {
				got := withImages[dir+strings.TrimSuffix(img.Filename, ".png")+".png"]
				sum := sha256.Sum256(got)
				if hex.EncodeToString(sum[:]) != img.SHA256 {
					t.Errorf("%s%s: %d bytes that are not the original (sha256 %x)", dir, img.Filename, len(got), sum)
				}
			}
		})
	}

	t.Run("ok, one image", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+second.ID+"/export?format=yolo", nil)
		wantStatus(t, rec, http.StatusOK)
		if _, p, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); p["filename"] != "satmark-"+second.ID+"-yolo.zip" {
			t.Errorf("Content-Disposition %q", rec.Header().Get("Content-Disposition"))
		}
		entries := zipEntries(t, rec.Body.Bytes())
		if got := sortedNames(entries); !slices.Equal(got, []string{"classes.txt", "data.yaml", "labels/" + b + ".txt", "satmark-export.json"}) {
			t.Errorf("zip holds %v", got)
		}
		if lines := strings.Split(strings.TrimSpace(string(entries["labels/"+b+".txt"])), "\n"); len(lines) != 1 {
			t.Errorf("label file %q, want the one polygon's box", lines)
		}
	})
}

// TestDatasetExportsFilter keeps what ?status=, ?label= and ?image= ask for, and names
// two images uploaded with one file name apart.
func TestDatasetExportsFilter(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	one := ts.mustUpload(t, field("title", "One"), filePart("nis.png", pngBytes(t, 64, 48, 903)))
	two := ts.mustUpload(t, field("title", "Two"), filePart("nis.png", pngBytes(t, 64, 48, 904)))
	box := `{"label": "vessel/landing ship", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [20, 1], [20, 10], [1, 10], [1, 1]]]}}`
	accepted := ts.createAnnotation(t, one.ID, box, ts.as(t, "alice")...)
	wantStatus(t, ts.review(t, accepted.ID, map[string]any{"decision": "submitted", "version": accepted.Version}, ts.as(t, "alice")...), http.StatusOK)
	wantStatus(t, ts.review(t, accepted.ID, map[string]any{"decision": "accepted", "version": accepted.Version + 1}, ts.as(t, "bob")...), http.StatusOK)
	draft := ts.createAnnotation(t, one.ID, box)
	base := ts.createAnnotation(t, two.ID, `{"label": "facility/naval base", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)

	csvIDs := func(target string) []string {
		t.Helper()
		entries := zipEntries(t, ts.download(t, target))
		rows, err := csv.NewReader(bytes.NewReader(entries["annotations.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
		sort.Strings(ids)
		return ids
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"ok, everything", "", sortedIDs(accepted, draft, base)},
		{"ok, accepted only", "&status=accepted", []string{accepted.ID}},
		{"ok, a label and what is below it", "&label=vessel", sortedIDs(accepted, draft)},
		{"ok, one image named", "&image=" + two.ID, []string{base.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := csvIDs("/api/v1/export?format=csv" + tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("ok, one image's CSV accepted only", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+one.ID+"/annotations.csv?status=accepted", nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][0] != accepted.ID || rows[1][8] != "accepted" {
			t.Errorf("rows %q (%v), want the header and the accepted box", rows, err)
		}
	})

	t.Run("ok, one file name twice", func(t *testing.T) {
		entries := zipEntries(t, ts.download(t, "/api/v1/export?format=yolo&images=1"))
		ids := []string{one.ID, two.ID}
		sort.Strings(ids)
		later := "nis-" + ids[1]
		for _, name := range []string{"images/nis.png", "images/" + later + ".png", "labels/nis.txt", "labels/" + later + ".txt"} {
			if _, ok := entries[name]; !ok {
				t.Errorf("no %s in %v", name, sortedNames(entries))
			}
		}
	})
}

// TestDatasetExportsRefuseBadRequests answers a format it does not know, a missing
// format, a bad images= or status= and an unknown image with an error saying what to
// send instead.
func TestDatasetExportsRefuseBadRequests(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 905)
	known := []string{"coco", "yolo", "yolo-obb", "dota", "voc", "cvat", "csv"}
	for _, tc := range []struct {
		name, target, field string
		status              int
		words               []string
	}{
		{"nok, an unknown format", "/api/v1/export?format=tfrecord", "format", http.StatusBadRequest, append([]string{`"tfrecord"`}, known...)},
		{"nok, no format", "/api/v1/export", "format", http.StatusBadRequest, known},
		{"nok, an unknown format for one image", "/api/v1/images/" + img.ID + "/export?format=geojson", "format", http.StatusBadRequest, known},
		{"nok, images is not yes or no", "/api/v1/export?format=coco&images=maybe", "images", http.StatusBadRequest, []string{"images=1"}},
		{"nok, a status that is not a review state", "/api/v1/images/" + img.ID + "/annotations.coco.json?status=done", "status", http.StatusBadRequest, []string{"accepted"}},
		{"nok, an unknown image", "/api/v1/images/img_aaaaaaaaaaaa/annotations.cvat.xml", "", http.StatusNotFound, nil},
		{"nok, an unknown image's zip", "/api/v1/images/img_aaaaaaaaaaaa/export?format=dota", "", http.StatusNotFound, nil},
		{"nok, an unknown image named", "/api/v1/export?format=voc&image=img_aaaaaaaaaaaa", "", http.StatusNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := "malformed"
			if tc.status == http.StatusNotFound {
				code = "not_found"
			}
			wantError(t, ts.do(t, http.MethodGet, tc.target, nil), tc.status, code, tc.field, tc.words...)
		})
	}
}

// TestCOCOAndCVATDownloadsOfAnImage are files a viewer downloads, with their media type
// and name, holding the image under its file name.
func TestCOCOAndCVATDownloadsOfAnImage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 906)
	ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[1, 1], [20, 30]]}}`)
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	for _, tc := range []struct{ path, mediaType, name, holds string }{
		{"annotations.coco.json", "application/json", "satmark-" + img.ID + ".coco.json", `"file_name":"scene-906.png"`},
		{"annotations.cvat.xml", "application/xml", "satmark-" + img.ID + ".cvat.xml", `<polyline label="vessel"`},
	} {
		t.Run("ok, "+tc.path, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/"+tc.path, nil, viewer...)
			wantStatus(t, rec, http.StatusOK)
			if ct := rec.Header().Get("Content-Type"); ct != tc.mediaType {
				t.Errorf("Content-Type %q, want %q", ct, tc.mediaType)
			}
			if _, p, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); p["filename"] != tc.name {
				t.Errorf("Content-Disposition %q, want %s", rec.Header().Get("Content-Disposition"), tc.name)
			}
			if !strings.Contains(rec.Body.String(), tc.holds) {
				t.Errorf("body does not hold %s:\n%s", tc.holds, truncate(rec.Body.String(), 800))
			}
		})
	}
}

// TestAnnotatorPageOffersTheDatasetExports: the annotator's export menu links every
// dataset format, and each link downloads.
func TestAnnotatorPageOffersTheDatasetExports(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 907)
	page := ts.do(t, http.MethodGet, "/images/"+img.ID, nil)
	wantStatus(t, page, http.StatusOK)
	for id, mediaType := range map[string]string{"export-coco": "application/json", "export-cvat": "application/xml", "export-csv": "text/csv; charset=utf-8",
		"export-yolo": "application/zip", "export-yolo-obb": "application/zip", "export-dota": "application/zip", "export-voc": "application/zip",
		"export-bundle": "application/zip"} {
		m := regexp.MustCompile(`<a id="` + id + `" href="([^"]+)" download>`).FindStringSubmatch(page.Body.String())
		if m == nil {
			t.Errorf("no #%s link in the export menu", id)
			continue
		}
		rec := ts.do(t, http.MethodGet, html.UnescapeString(m[1]), nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != mediaType {
			t.Errorf("#%s %s: %d %s, want 200 %s", id, m[1], rec.Code, rec.Header().Get("Content-Type"), mediaType)
		}
	}
}
