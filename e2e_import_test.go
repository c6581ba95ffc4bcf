package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserImportAnnotations: an analyst checks a file with one feature off the image
// and sees that feature refused, with Import held back; checks the fixed file, maps the
// label the taxonomy lacks, imports, and the three annotations appear in the list.
func TestBrowserImportAnnotations(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, _ := a.Store.Images(ctx)
	var img annotations.Image
	for _, im := range images {
		if im.Filename == "synthetic-port-scene.jpg" {
			img = im
		}
	}
	before := a.annotationsOf(t, img.ID)
	dir := t.TempDir()
	file := func(name string, farX float64) string {
		body := fmt.Sprintf(`{"type":"FeatureCollection","features":[
			{"type":"Feature","id":"s1","geometry":{"type":"Point","coordinates":[812.5,640.25]},"properties":{"label":"vessel/landing ship","note":"imported ship"}},
			{"type":"Feature","id":"s2","geometry":{"type":"Point","coordinates":[%g,200]},"properties":{"label":"vessel/frigate","note":"imported frigate"}},
			{"type":"Feature","id":"s3","geometry":{"type":"Polygon","coordinates":[[[100,100],[180,100],[180,150],[100,100]]]},"properties":{"label":"submarine","note":"imported sub"}}]}`, farX)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := file("harbour.geojson", float64(img.Width)+500)
	fixed := file("harbour-fixed.geojson", 900)

	a.addUser(t, "Import Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+img.ID, "Import Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	listed := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li[data-annotation-id]').length`)
	b.do(t, chromedp.Click(`#import-panel > summary`))

	b.do(t, chromedp.SetUploadFiles(`#import-file`, []string{bad}))
	b.do(t, chromedp.Click(`#import-check`))
	b.waitFor(t, "the check's report", `!!document.querySelector('#import-report .import-summary')`)
	report := evalJS[string](t, b, `document.getElementById('import-report').textContent`)
	for _, want := range []string{"3 features", "1 refused", "feature 1 (s2)", "outside the image", "submarine"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q: %s", want, report)
		}
	}
	if !evalJS[bool](t, b, `document.getElementById('import-run').disabled`) {
		t.Error("Import is enabled although a feature is refused")
	}

	b.do(t, chromedp.SetUploadFiles(`#import-file`, []string{fixed}))
	b.do(t, chromedp.Click(`#import-check`))
	b.waitFor(t, "the fixed file's report", `(document.querySelector('#import-report .import-summary') || {}).textContent?.includes('harbour-fixed.geojson')`)
	if n := evalJS[int](t, b, `document.querySelectorAll('#import-report .import-refused li').length`); n != 0 {
		t.Errorf("the fixed file has %d refusals", n)
	}
	if !evalJS[bool](t, b, `document.getElementById('import-run').disabled`) {
		t.Error("Import is enabled while a label is not mapped")
	}
	sub := a.label(t, "vessel/landing ship")
	b.do(t, chromedp.SetValue(`#import-report select[data-missing="submarine"]`, sub.ID))
	evalJS[bool](t, b, `document.querySelector('#import-report select[data-missing="submarine"]').dispatchEvent(new Event('change'))`)
	b.waitFor(t, "Import enabled", `!document.getElementById('import-run').disabled`)
	b.do(t, chromedp.Click(`#import-run`))
	b.waitFor(t, "the import", `(document.getElementById('flash').textContent || '').startsWith('Imported 3 annotations')`)
	b.waitFor(t, "the new annotations in the list", fmt.Sprintf(`document.querySelectorAll('#annotation-list li[data-annotation-id]').length === %d`, listed+3))

	after := a.annotationsOf(t, img.ID)
	if len(after) != len(before)+3 {
		t.Fatalf("%d annotations after the import, want %d", len(after), len(before)+3)
	}
	notes := map[string]annotations.Annotation{}
	for _, an := range after[len(before):] {
		notes[an.Note] = an
	}
	if s := notes["imported sub"]; s.Label.ID != sub.ID || s.CreatedBy != "Import Analyst" || s.Shape != annotations.ShapePolygon {
		t.Errorf("the mapped feature: %s %s by %s", s.Label.PathString(), s.Shape, s.CreatedBy)
	}
	if notes["imported frigate"].Geometry.Coordinates[0][0] != (annotations.Position{900, 200}) {
		t.Errorf("the fixed feature: %v", notes["imported frigate"].Geometry)
	}
}
