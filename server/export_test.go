package server_test

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/sampledata"
)

// featureCollection is what a pixel-space export holds, as a client reads it.
type featureCollection struct {
	Type            string `json:"type"`
	CoordinateSpace struct {
		Type   string     `json:"type"`
		Units  string     `json:"units"`
		Origin string     `json:"origin"`
		YAxis  string     `json:"y_axis"`
		Note   string     `json:"note"`
		Image  *imageRef  `json:"image"`
		Images []imageRef `json:"images"`
	} `json:"coordinate_space"`
	Features []struct {
		Type       string               `json:"type"`
		ID         string               `json:"id"`
		Geometry   annotations.Geometry `json:"geometry"`
		Properties struct {
			ObjectType     string `json:"objectType"`
			Name           string `json:"name"`
			Classification struct {
				Name  string   `json:"name"`
				Names []string `json:"names"`
				Color []int    `json:"color"`
			} `json:"classification"`
			Measurements   map[string]any             `json:"measurements"`
			LabelPath      []string                   `json:"label_path"`
			Shape          string                     `json:"shape"`
			Confidence     string                     `json:"confidence"`
			Identification string                     `json:"identification"`
			Note           string                     `json:"note"`
			Attributes     map[string]json.RawMessage `json:"attributes"`
			ReviewStatus   string                     `json:"review_status"`
			Review         *struct {
				Decision, By, Reason string
				At                   time.Time
				Version              int
			} `json:"review"`
			Version    int            `json:"version"`
			CreatedBy  string         `json:"created_by"`
			Image      imageRef       `json:"image"`
			Provenance map[string]any `json:"provenance"`
		} `json:"properties"`
	} `json:"features"`
}

type imageRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Title  string `json:"title"`
}

// export fetches a GeoJSON export and checks that it downloads as a pixel-space file.
func (ts *testServer) export(t *testing.T, target string) featureCollection {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	disp, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.Contains(params["filename"], "pixel") || !strings.HasSuffix(params["filename"], ".geojson") {
		t.Errorf("Content-Disposition = %q, want an attachment named *pixel*.geojson", rec.Header().Get("Content-Disposition"))
	}
	if ct := rec.Header().Get("Content-Type"); strings.Contains(ct, "geo+json") {
		t.Errorf("Content-Type = %q: pixel coordinates are not RFC 7946 GeoJSON", ct)
	}
	var fc featureCollection
	decode(t, rec, &fc)
	if fc.Type != "FeatureCollection" || fc.CoordinateSpace.Type != "image-pixels" || fc.CoordinateSpace.YAxis != "down" ||
		!strings.Contains(fc.CoordinateSpace.Note, "not WGS 84") {
		t.Errorf("export header: type %q, coordinate_space %+v; want a FeatureCollection in image pixels, y down, saying it is not WGS 84",
			fc.Type, fc.CoordinateSpace)
	}
	return fc
}

// featureIDs returns the sorted ids of the features.
func (fc featureCollection) featureIDs() []string {
	ids := []string{}
	for _, f := range fc.Features {
		ids = append(ids, f.ID)
	}
	sort.Strings(ids)
	return ids
}

func sortedIDs(anns ...annotations.Annotation) []string {
	ids := []string{}
	for _, a := range anns {
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return ids
}

func TestExportGeoJSON(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	a := ts.newImage(t, 200, field("title", "Vladivostok"), field("publisher", "National Intelligence Service, Republic of Korea"),
		field("released_at", "2024-10-18"), field("license", "all rights reserved"), field("claim", "landing ships"),
		field("captured_from", "2024-10-08"), field("captured_to", "2024-10-13"), field("publisher_markup", "yes"))
	b := ts.newImage(t, 201, field("title", "Ussuriysk"))

	landing := ts.createAnnotation(t, a.ID, `{"label": "vessel/landing ship", "shape": "rotated_rectangle",
		"geometry": {"type": "Polygon", "coordinates": [[[10, 20], [20, 10], [30, 20], [20, 30], [10, 20]]]},
		"properties": {"confidence": "probable", "identification": "Ropucha-class", "note": "bow north-east", "hull": "027"}}`)
	frigate := ts.createAnnotation(t, a.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [40.5, 30.25]}}`)
	base := ts.createAnnotation(t, a.ID, `{"label": "facility/naval base", "shape": "polygon",
		"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [64, 0], [64, 48], [0, 48], [0, 0]]]}}`)
	landingB := ts.createAnnotation(t, b.ID, `{"label": "landing ship", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)
	troops := ts.createAnnotation(t, b.ID, `{"label": "troop formation", "shape": "rectangle",
		"geometry": {"type": "Polygon", "coordinates": [[[1, 1], [9, 1], [9, 5], [1, 5], [1, 1]]]}}`)

	t.Run("ok, one image", func(t *testing.T) {
		fc := ts.export(t, "/api/v1/images/"+a.ID+"/annotations.geojson")
		img := fc.CoordinateSpace.Image
		if img == nil || img.ID != a.ID || img.SHA256 != a.SHA256 || img.Width != 64 || img.Height != 48 {
			t.Fatalf("coordinate_space.image = %+v, want %s %s 64×48", img, a.ID, a.SHA256)
		}
		if got, want := fc.featureIDs(), sortedIDs(landing, frigate, base); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("feature ids = %v, want %v", got, want)
		}
		f := fc.Features[0]
		for _, cand := range fc.Features {
			if cand.ID == landing.ID {
				f = cand
			}
		}
		p := f.Properties
		if f.Type != "Feature" || p.ObjectType != "annotation" || strings.Join(p.Classification.Names, "/") != "vessel/landing ship" || p.Classification.Name != "" ||
			len(p.Classification.Color) != 3 || p.Classification.Color[0] != 0xe6 || p.Classification.Color[1] != 0x19 || p.Classification.Color[2] != 0x4b {
			t.Errorf("feature = %s %q, classification %+v; want an annotation classified vessel/landing ship (QuPath's derived class) [230 25 75]", f.Type, p.ObjectType, p.Classification)
		}
		if strings.Join(p.LabelPath, "/") != "vessel/landing ship" || p.Shape != "rotated_rectangle" || p.Confidence != "probable" ||
			p.Identification != "Ropucha-class" || p.Name != "Ropucha-class" || p.Note != "bow north-east" || string(p.Attributes["hull"]) != `"027"` ||
			p.Version != 1 || p.CreatedBy != "tester" {
			t.Errorf("properties = %+v", p)
		}
		if p.Image.ID != a.ID || p.Provenance["publisher"] != "National Intelligence Service, Republic of Korea" ||
			p.Provenance["released_at"] != "2024-10-18" || p.Provenance["license"] != "all rights reserved" ||
			p.Provenance["captured_from"] != "2024-10-08" || p.Provenance["captured_to"] != "2024-10-13" || p.Provenance["publisher_markup"] != true {
			t.Errorf("image %+v, provenance %v", p.Image, p.Provenance)
		}
		if f.Geometry.Type != "Polygon" || f.Geometry.Coordinates[0][1] != (annotations.Position{20, 10}) {
			t.Errorf("geometry = %+v, want the stored ring in pixels", f.Geometry)
		}
		if p.Measurements["length_px"] == nil || p.Measurements["width_px"] == nil {
			t.Errorf("measurements = %v, want length and width of the rotated rectangle", p.Measurements)
		}
	})

	t.Run("ok, image without annotations has an empty feature list", func(t *testing.T) {
		c := ts.newImage(t, 202)
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+c.ID+"/annotations.geojson", nil)
		wantStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), `"features":[`) || strings.Contains(rec.Body.String(), `"features":null`) {
			t.Errorf("body = %s, want an empty features array", rec.Body)
		}
		if _, err := ts.store.TrashImage(context.Background(), annotations.Actor{Name: "tester"}, c.ID); err != nil {
			t.Fatal(err)
		}
	})

	tests := []struct {
		name   string
		target string
		want   []annotations.Annotation
		images []string // the images coordinate_space names
	}{
		{"ok, every image", "/api/v1/export.geojson", []annotations.Annotation{landing, frigate, base, landingB, troops}, []string{a.ID, b.ID}},
		{"ok, label includes its children", "/api/v1/export.geojson?label=vessel", []annotations.Annotation{landing, frigate, landingB}, []string{a.ID, b.ID}},
		{"ok, label by path", "/api/v1/export.geojson?label=vessel/landing%20ship", []annotations.Annotation{landing, landingB}, []string{a.ID, b.ID}},
		{"ok, label by id", "/api/v1/export.geojson?label=" + ts.labelByPath(t, "facility").ID, []annotations.Annotation{base}, []string{a.ID, b.ID}},
		{"ok, two labels", "/api/v1/export.geojson?label=frigate&label=personnel", []annotations.Annotation{frigate, troops}, []string{a.ID, b.ID}},
		{"ok, one image", "/api/v1/export.geojson?image=" + b.ID, []annotations.Annotation{landingB, troops}, []string{b.ID}},
		{"ok, one image and a label", "/api/v1/export.geojson?image=" + a.ID + "&label=vessel", []annotations.Annotation{landing, frigate}, []string{a.ID}},
		{"ok, images comma-separated", "/api/v1/export.geojson?image=" + a.ID + "," + b.ID + "&label=landing%20ship", []annotations.Annotation{landing, landingB}, []string{a.ID, b.ID}},
		{"ok, images repeated", "/api/v1/export.geojson?image=" + a.ID + "&image=" + b.ID + "&label=vehicle", nil, []string{a.ID, b.ID}},
		{"ok, the same image named twice is one image", "/api/v1/export.geojson?image=" + b.ID + "&image=" + b.ID + "," + b.ID, []annotations.Annotation{landingB, troops}, []string{b.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := ts.export(t, tc.target)
			if got, want := fc.featureIDs(), sortedIDs(tc.want...); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("feature ids = %v, want %v", got, want)
			}
			if len(tc.images) == 1 && (fc.CoordinateSpace.Image == nil || len(fc.CoordinateSpace.Images) != 0) {
				t.Errorf("an export of one image must name it in coordinate_space.image, got %+v", fc.CoordinateSpace)
			}
			var named []string
			if fc.CoordinateSpace.Image != nil {
				named = append(named, fc.CoordinateSpace.Image.ID)
			}
			for _, img := range fc.CoordinateSpace.Images {
				named = append(named, img.ID)
			}
			sort.Strings(named)
			want := append([]string{}, tc.images...)
			sort.Strings(want)
			if strings.Join(named, ",") != strings.Join(want, ",") {
				t.Errorf("coordinate_space names images %v, want %v", named, want)
			}
			for _, f := range fc.Features {
				if f.Properties.Image.ID == "" || f.Properties.ObjectType != "annotation" {
					t.Errorf("feature %s does not name its image", f.ID)
				}
			}
		})
	}

	badTests := []struct {
		name   string
		target string
		status int
		code   string
		field  string
	}{
		{"nok, unknown label", "/api/v1/export.geojson?label=submarine", 422, "invalid", "label"},
		{"nok, unknown label path", "/api/v1/export.geojson?label=vessel/submarine", 422, "invalid", "label"},
		{"nok, unknown image", "/api/v1/export.geojson?image=img_aaaaaaaaaaaa", 404, "not_found", ""},
		{"nok, one known and one unknown image", "/api/v1/export.geojson?image=" + a.ID + ",img_aaaaaaaaaaaa", 404, "not_found", ""},
		{"nok, image id that is a path", "/api/v1/export.geojson?image=../../etc/passwd", 404, "not_found", ""},
		{"nok, unknown image's export", "/api/v1/images/img_aaaaaaaaaaaa/annotations.geojson", 404, "not_found", ""},
		{"nok, image id that is an annotation id", "/api/v1/images/" + landing.ID + "/annotations.geojson", 404, "not_found", ""},
	}
	for _, tc := range badTests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil)
			wantError(t, rec, tc.status, tc.code, tc.field)
			if cd := rec.Header().Get("Content-Disposition"); cd != "" {
				t.Errorf("an error is offered as a download: Content-Disposition %q", cd)
			}
		})
	}

	t.Run("ok, deleted annotation is not exported", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+frigate.ID, nil, "If-Match", `"1"`), http.StatusNoContent)
		fc := ts.export(t, "/api/v1/export.geojson?image="+a.ID)
		if got, want := fc.featureIDs(), sortedIDs(landing, base); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("feature ids = %v, want %v", got, want)
		}
	})
}

// TestSampleDataThroughTheAPI seeds the two synthetic sample scenes (the one test that
// does: it takes a couple of seconds) and reads them back as a user would.
func TestSampleDataThroughTheAPI(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	added, err := sampledata.Seed(context.Background(), ts.store, ts.lib)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if added != 3 {
		t.Fatalf("Seed added %d images, want 3", added)
	}
	ts.buildPyramids(t)
	var total, vessels int
	if err := ts.store.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(l.name IN ('vessel', 'landing ship', 'frigate', 'cargo ship')), 0)
		FROM annotations a JOIN labels l ON l.id = a.label_id`).Scan(&total, &vessels); err != nil {
		t.Fatal(err)
	}
	if total == 0 || vessels == 0 {
		t.Fatalf("sample data has %d annotations, %d of vessels", total, vessels)
	}

	fc := ts.export(t, "/api/v1/export.geojson")
	if len(fc.Features) != total || len(fc.CoordinateSpace.Images) != 3 {
		t.Errorf("export has %d features over %d images, want %d over 3", len(fc.Features), len(fc.CoordinateSpace.Images), total)
	}
	sizes := map[string]imageRef{}
	for _, img := range fc.CoordinateSpace.Images {
		sizes[img.ID] = img
	}
	for _, f := range fc.Features {
		img := sizes[f.Properties.Image.ID]
		for _, ring := range f.Geometry.Coordinates {
			for _, p := range ring {
				if p[0] < 0 || p[1] < 0 || p[0] > float64(img.Width) || p[1] > float64(img.Height) {
					t.Errorf("feature %s has %v outside its %d×%d image", f.ID, p, img.Width, img.Height)
				}
			}
		}
	}
	if fc := ts.export(t, "/api/v1/export.geojson?label=vessel"); len(fc.Features) != vessels {
		t.Errorf("?label=vessel exported %d features, want %d", len(fc.Features), vessels)
	}

	rec := ts.do(t, http.MethodGet, "/", nil, "Accept", "text/html")
	wantStatus(t, rec, http.StatusOK)
	for _, img := range fc.CoordinateSpace.Images {
		if !strings.Contains(rec.Body.String(), `/images/`+img.ID) {
			t.Errorf("gallery does not link to sample image %s", img.ID)
		}
		thumb := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
		wantStatus(t, thumb, http.StatusOK)
		if cfg := decodeJPEGConfig(t, thumb); max(cfg.Width, cfg.Height) != 512 {
			t.Errorf("thumbnail of the %d×%d sample is %d×%d, want longest side 512", img.Width, img.Height, cfg.Width, cfg.Height)
		}
	}
}
