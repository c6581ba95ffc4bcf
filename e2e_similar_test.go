package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/similar"
)

// warships takes the generator's boxes of the ships of an image (its seeded rotated
// rectangles under vessel) out of the store, but for keep, and returns them all: what a
// search should find, and nothing annotated where it should find it.
func (a *app) warships(t *testing.T, imageID string, keep func(annotations.Annotation) bool) []annotations.Annotation {
	t.Helper()
	var ships []annotations.Annotation
	for _, an := range a.annotationsOf(t, imageID) {
		if an.Shape != annotations.ShapeRotatedRectangle || !strings.HasPrefix(an.Label.PathString(), "vessel") {
			continue
		}
		ships = append(ships, an)
		if keep(an) {
			continue
		}
		v := an.Version
		if err := a.Store.DeleteAnnotation(context.Background(), annotations.Actor{Name: "tester"}, an.ID, &v); err != nil {
			t.Fatal(err)
		}
	}
	return ships
}

// ringOf is an annotation's outer ring.
func ringOf(g annotations.Geometry) [][2]float64 {
	out := make([][2]float64, len(g.Coordinates[0]))
	for i, p := range g.Coordinates[0] {
		out[i] = [2]float64(p)
	}
	return out
}

// matchShip is the ship (index into ships, or -1) a suggested box lies on: the one it
// overlaps best, with an intersection over union of at least 0.3.
func matchShip(box annotations.Geometry, ships []annotations.Annotation) int {
	best, at := 0.3, -1
	for i, s := range ships {
		if iou := similar.IoU(ringOf(box), ringOf(s.Geometry)); iou >= best {
			best, at = iou, i
		}
	}
	return at
}

// TestBrowserFindSimilar: on the port of 8 October, with only one landing ship boxed,
// Find similar suggests the other landing ships (all three, each within IoU 0.3 of the
// generator's box, and nothing else); N zooms to the best, A makes it an annotation of
// the analyst's (in the list and its history), X rejects the next; the GeoJSON export
// holds the accepted one and none of the others, and a viewer sees the suggestions but
// none of the controls.
func TestBrowserFindSimilar(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	src := a.landingShipBox(t, port.ID, func(annotations.Annotation) bool { return true })
	ships := a.warships(t, port.ID, func(an annotations.Annotation) bool { return an.ID == src.ID })
	before := a.annotationsOf(t, port.ID)

	a.addUser(t, "Similar Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Similar Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.imageReady === 'true'`)
	if !evalJS[bool](t, b, `document.getElementById('find-similar').hidden && document.getElementById('suggestion-strip').hidden`) {
		t.Error("Find similar or the strip shows with nothing selected and nothing suggested")
	}
	b.selectInList(t, src.ID)
	b.waitFor(t, "Find similar", `!document.getElementById('find-similar').hidden`)
	b.do(t, chromedp.Click(chromedp.ID("find-similar")))
	b.waitFor(t, "the suggestions", `satmark.suggestions().left > 0 && !document.getElementById('suggestion-strip').hidden`)

	pending, err := a.Store.Suggestions(ctx, port.ID, annotations.SuggestionPending)
	if err != nil {
		t.Fatal(err)
	}
	found, wrong, others := map[int]bool{}, 0, 0
	for _, s := range ships {
		if s.Label.ID == src.Label.ID && s.ID != src.ID {
			others++
		}
	}
	for _, sg := range pending {
		i := matchShip(sg.Geometry, ships)
		if i < 0 || ships[i].Label.ID != src.Label.ID || ships[i].ID == src.ID || found[i] {
			wrong++
			continue
		}
		found[i] = true
	}
	t.Logf("from one landing ship: %d suggestions, %d of the %d other landing ships found (recall %.2f), %d not one (precision %.2f)",
		len(pending), len(found), others, float64(len(found))/float64(others), wrong, float64(len(found))/float64(len(pending)))
	if len(found) < others || wrong > 0 {
		t.Errorf("found %d of the %d other landing ships with %d wrong suggestions; on this scene every one is found and nothing else", len(found), others, wrong)
	}
	if n := evalJS[int](t, b, `satmark.suggestions().left`); n != len(pending) {
		t.Errorf("the strip counts %d suggestions, the server holds %d pending", n, len(pending))
	}
	if len(pending) < 3 {
		t.Fatalf("only %d suggestions: the review needs three", len(pending))
	}

	// N: the best, zoomed to.
	b.pressKey(t, "n")
	b.waitFor(t, "the first suggestion", fmt.Sprintf(`satmark.suggestions().current === %q && !satmark.map.getView().getAnimating()`, pending[0].ID))
	c := evalJS[[]float64](t, b, `satmark.map.getView().getCenter()`)
	r := ringOf(pending[0].Geometry)
	if cx, cy := (r[0][0]+r[2][0])/2, (r[0][1]+r[2][1])/2; math.Hypot(c[0]-cx, -c[1]-cy) > 5 {
		t.Errorf("the view is centred on (%.0f, %.0f), the suggestion on (%.0f, %.0f)", c[0], -c[1], cx, cy)
	}
	if res := evalJS[float64](t, b, `satmark.map.getView().getResolution()`); res > 2 {
		t.Errorf("the view shows %.1f image pixels a screen pixel: not zoomed to the suggestion", res)
	}
	if text := evalJS[string](t, b, `document.getElementById('suggestion-current').textContent`); !strings.Contains(text, "1 of") || !strings.Contains(text, "landing ship") {
		t.Errorf("the strip says %q", text)
	}

	// A: accepted, in the list, the next shown.
	b.pressKey(t, "a")
	b.waitFor(t, "the accepted annotation", fmt.Sprintf(`satmark.suggestions().current === %q && document.querySelectorAll('#annotation-list li').length === %d`, pending[1].ID, len(before)+1))
	made := newest(t, before, a.annotationsOf(t, port.ID))
	if made.CreatedBy != "Similar Analyst" || made.Label.ID != src.Label.ID || !strings.Contains(string(made.Attributes["suggestion"]), src.ID) {
		t.Errorf("the accepted suggestion made %+v", made)
	}
	if sg, err := a.Store.Suggestion(ctx, pending[0].ID); err != nil || sg.Status != annotations.SuggestionAccepted || sg.AnnotationID != made.ID {
		t.Errorf("the accepted suggestion is stored as %+v (%v)", sg, err)
	}

	// X: rejected.
	b.pressKey(t, "x")
	b.waitFor(t, "the rejection", fmt.Sprintf(`satmark.suggestions().left === %d && satmark.suggestions().current === %q`, len(pending)-2, pending[2].ID))
	if sg, err := a.Store.Suggestion(ctx, pending[1].ID); err != nil || sg.Status != annotations.SuggestionRejected || sg.DecidedBy != "Similar Analyst" {
		t.Errorf("the rejected suggestion is stored as %+v (%v)", sg, err)
	}

	// The history of the accepted one says who made it.
	b.selectInList(t, made.ID)
	b.do(t, chromedp.Click(chromedp.ID("show-history")))
	b.waitFor(t, "the history", `!document.getElementById('history').hidden && document.querySelectorAll('#history li').length === 1`)
	if h := evalJS[string](t, b, `document.getElementById('history').textContent`); !strings.Contains(h, "Similar Analyst") {
		t.Errorf("the history says %q", h)
	}

	// The export holds the accepted one and no other suggestion.
	var fc struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				PixelGeometry annotations.Geometry `json:"pixel_geometry"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b.download(t, "#export-image"), &fc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range fc.Features {
		ids[f.ID] = true
		for _, sg := range pending[1:] {
			if g := f.Properties.PixelGeometry; g.Type == "Polygon" && similar.IoU(ringOf(g), ringOf(sg.Geometry)) > 0.9 {
				t.Errorf("the export holds feature %s where suggestion %s (%s) is", f.ID, sg.ID, sg.Status)
			}
		}
	}
	if !ids[made.ID] || len(fc.Features) != len(before)+1 {
		t.Errorf("the export holds %d features (the accepted one: %v); the image has %d annotations", len(fc.Features), ids[made.ID], len(before)+1)
	}

	// A viewer sees what is pending, and no control.
	a.addUser(t, "Similar Viewer", annotations.RoleViewer)
	v := newBrowser(t)
	v.signIn(t, a, "/images/"+port.ID, "Similar Viewer")
	v.waitFor(t, "the viewer's annotator", fmt.Sprintf(`document.getElementById('annotator').dataset.ready === 'true' && satmark.suggestions().left === %d`, len(pending)-2))
	if !evalJS[bool](t, v, `!document.getElementById('find-similar') && !document.getElementById('suggestion-strip')`) {
		t.Error("a viewer's page has Find similar or the review strip")
	}
}

// TestSimilarOnTheSampleScenes measures Find similar through the API on both sample
// ports (the JPEG of 8 October and the 16-bit GeoTIFF of 13 October, through their
// pyramids as served): from each warship in turn, boxed alone, how many of the others
// of its class come back within IoU 0.3 of the generator's box (recall) and how many
// suggestions are one of them (precision). The numbers are logged; the test holds them
// close to what was measured when it was written (all found, nothing else).
func TestSimilarOnTheSampleScenes(t *testing.T) {
	if testing.Short() {
		t.Skip("a dozen searches of 4000 × 3000 scenes")
	}
	a := startApp(t)
	ctx := context.Background()
	a.addUser(t, "Measurer", annotations.RoleAnalyst)
	c := a.apiAs(t, "Measurer")
	type tally struct{ found, wanted, suggested int }
	totals := map[string]*tally{}
	for _, file := range []string{"synthetic-port-scene.jpg", sampledata.PortGeoTIFFFileName} {
		img := a.sampleImage(t, file)
		ships := a.warships(t, img.ID, func(annotations.Annotation) bool { return false })
		for _, src := range ships {
			kind := src.Label.PathString()
			if !strings.HasSuffix(kind, "landing ship") && !strings.HasSuffix(kind, "frigate") {
				continue
			}
			label := src.Label.ID
			shape := src.Shape
			geom, _ := json.Marshal(src.Geometry)
			boxed, err := a.Store.CreateAnnotation(ctx, "Measurer", img.ID, annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: geom})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Suggestions []annotations.Suggestion `json:"suggestions"`
				Search      struct {
					Millis int64 `json:"ms"`
				} `json:"search"`
			}
			c.do(t, "POST", "/api/v1/annotations/"+boxed.ID+"/similar", nil, 200, &got)
			found, wanted := map[int]bool{}, 0
			for _, s := range ships {
				if s.Label.ID == label && s.ID != src.ID {
					wanted++
				}
			}
			for _, sg := range got.Suggestions {
				if i := matchShip(sg.Geometry, ships); i >= 0 && ships[i].Label.ID == label && ships[i].ID != src.ID {
					found[i] = true
				}
			}
			t.Logf("%s, from the %s at (%.0f, %.0f): %d of %d found, %d suggestions, %d ms",
				file, kind, src.Geometry.Coordinates[0][0][0], src.Geometry.Coordinates[0][0][1], len(found), wanted, len(got.Suggestions), got.Search.Millis)
			key := file + " " + kind
			if totals[key] == nil {
				totals[key] = &tally{}
			}
			totals[key].found += len(found)
			totals[key].wanted += wanted
			totals[key].suggested += len(got.Suggestions)
			v := boxed.Version
			if err := a.Store.DeleteAnnotation(ctx, annotations.Actor{Name: "Measurer"}, boxed.ID, &v); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Store.DB().Exec(`DELETE FROM suggestions`); err != nil {
				t.Fatal(err)
			}
		}
	}
	var all tally
	for key, n := range totals {
		t.Logf("%s: recall %.2f (%d of %d), precision %.2f (%d of %d suggestions)", key,
			float64(n.found)/float64(n.wanted), n.found, n.wanted, float64(n.found)/math.Max(1, float64(n.suggested)), n.found, n.suggested)
		all.found, all.wanted, all.suggested = all.found+n.found, all.wanted+n.wanted, all.suggested+n.suggested
	}
	// Measured when written: every one of the 32 found, and nothing else suggested.
	if recall, precision := float64(all.found)/float64(all.wanted), float64(all.found)/float64(all.suggested); recall < 0.95 || precision < 0.95 {
		t.Errorf("over both scenes: recall %.2f, precision %.2f; both were 1.00 (32 of 32) when measured", recall, precision)
	}
}
