package server_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// Deleting an image moves it to the trash, where administrators restore or purge it.

// trash lists the trash through the API.
func (ts *testServer) trash(t *testing.T) []annotations.TrashedImage {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/trash", nil)
	wantStatus(t, rec, http.StatusOK)
	var trash []annotations.TrashedImage
	decode(t, rec, &trash)
	return trash
}

func TestTrash(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	original := pngBytes(t, 64, 48, 1)
	img := ts.mustUpload(t, filePart("scene.png", original), field("title", "Pier 3, Vladivostok"))
	ts.buildPyramids(t)
	a := ts.createAnnotation(t, img.ID, pointBody, ts.as(t, "alice")...)
	keep := ts.newImage(t, 2)
	georef := "/api/v1/images/" + img.ID + "/georeference"
	wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": 0.5}`, ts.as(t, "alice")...), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodDelete, georef, nil, ts.as(t, "alice")...), http.StatusNoContent)
	wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": 0.5}`, ts.as(t, "alice")...), http.StatusOK)
	tile := tilePath(img.ID)
	wantStatus(t, ts.do(t, http.MethodGet, tile, nil), http.StatusOK) // now also held in memory
	analyst := ts.as(t, "alice")
	path := "/api/v1/images/" + img.ID

	t.Run("nok, an analyst cannot move an image to the trash", func(t *testing.T) {
		wantError(t, ts.do(t, http.MethodDelete, path, nil, analyst...), http.StatusForbidden, "forbidden", "", "admin")
		wantStatus(t, ts.do(t, http.MethodGet, path, nil), http.StatusOK)
	})

	wantStatus(t, ts.do(t, http.MethodDelete, path, nil), http.StatusNoContent)

	t.Run("nok, no annotation is created on an image in the trash, whatever the body", func(t *testing.T) {
		for _, body := range []string{pointBody, `{"label": 7}`, `not json`} {
			wantError(t, ts.doJSON(t, http.MethodPost, path+"/annotations", body, analyst...), http.StatusNotFound, "not_found", "", "image", "not found")
			wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/img_nosuchimage2/annotations", body, analyst...),
				http.StatusNotFound, "not_found", "", "image", "not found")
		}
	})

	t.Run("ok, in the trash the image is gone everywhere but the trash", func(t *testing.T) {
		for _, target := range []string{path, path + "/original", path + "/thumbnail", path + "/annotations", path + "/annotations.geojson",
			path + "/georeference", "/api/v1/annotations/" + a.ID, "/api/v1/annotations/" + a.ID + "/comments"} {
			wantError(t, ts.do(t, http.MethodGet, target, nil), http.StatusNotFound, "not_found", "")
		}
		for _, target := range []string{"/iiif/3/" + img.ID + "/info.json", tile} {
			wantIIIFError(t, ts.do(t, http.MethodGet, target, nil), http.StatusNotFound)
		}
		wantStatus(t, ts.do(t, http.MethodGet, "/images/"+img.ID, nil, "Accept", "text/html"), http.StatusNotFound)
		rec := ts.do(t, http.MethodGet, "/api/v1/images", nil)
		var images []annotations.Image
		decode(t, rec, &images)
		if len(images) != 1 || images[0].ID != keep.ID {
			t.Errorf("images listed: %d, want only %s", len(images), keep.ID)
		}
		if fc := ts.export(t, "/api/v1/export.geojson"); len(fc.Features) != 0 {
			t.Errorf("the export holds %d features of a trashed image", len(fc.Features))
		}
		if page := wantHTML(t, ts, "/"); strings.Contains(page, "/images/"+img.ID) || !strings.Contains(page, "/images/"+keep.ID) {
			t.Errorf("the gallery shows the trashed image, or not the other one")
		}
		if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); err != nil {
			t.Errorf("the original is gone while the image is in the trash: %v", err)
		}
		trash := ts.trash(t)
		if len(trash) != 1 || trash[0].ID != img.ID || trash[0].DeletedBy != "tester" || trash[0].DeletedAt.IsZero() || trash[0].AnnotationCount != 1 {
			t.Fatalf("trash %+v, want %s with its annotation, deleted by tester", trash, img.ID)
		}
		if page := wantHTML(t, ts, "/trash"); !strings.Contains(page, "Pier 3, Vladivostok") {
			t.Errorf("the trash page does not show the image")
		}
	})

	t.Run("nok, analysts cannot see, restore or purge the trash", func(t *testing.T) {
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/trash", nil, analyst...), http.StatusForbidden, "forbidden", "")
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/trash/"+img.ID+"/restore", nil, analyst...), http.StatusForbidden, "forbidden", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil, analyst...), http.StatusForbidden, "forbidden", "")
		wantStatus(t, ts.do(t, http.MethodGet, "/trash", nil, append([]string{"Accept", "text/html"}, analyst...)...), http.StatusForbidden)
		if trash := ts.trash(t); len(trash) != 1 {
			t.Errorf("trash holds %d images, want the one still", len(trash))
		}
	})

	t.Run("nok, the same bytes uploaded again point at the trash", func(t *testing.T) {
		body, ct := multipartBody(t, filePart("again.png", original))
		rec := ts.do(t, http.MethodPost, "/api/v1/images", body, append([]string{"Content-Type", ct}, analyst...)...)
		wantError(t, rec, http.StatusConflict, "conflict", "", "trash", img.ID)
		if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); err != nil {
			t.Errorf("the refused upload removed the trashed original: %v", err)
		}
	})

	t.Run("ok, restored with its annotations", func(t *testing.T) {
		rec := ts.do(t, http.MethodPost, "/api/v1/trash/"+img.ID+"/restore", nil)
		wantStatus(t, rec, http.StatusOK)
		var back annotations.Image
		decode(t, rec, &back)
		if back.ID != img.ID || back.AnnotationCount != 1 || back.GSD == nil {
			t.Errorf("restored %+v, want the image with its annotation and scale", back)
		}
		wantStatus(t, ts.do(t, http.MethodGet, path, nil, analyst...), http.StatusOK)
		if got := ts.annotation(t, a.ID); got.Version != 1 {
			t.Errorf("annotation after the restore: version %d, want 1, untouched", got.Version)
		}
		wantStatus(t, ts.do(t, http.MethodGet, tile, nil), http.StatusOK)
		if trash := ts.trash(t); len(trash) != 0 {
			t.Errorf("trash holds %d after the restore, want 0", len(trash))
		}
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/trash/"+img.ID+"/restore", nil), http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil), http.StatusNotFound, "not_found", "")
	})

	t.Run("ok, purged: gone for good, files and all", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodDelete, path, nil), http.StatusNoContent)
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil), http.StatusNoContent)
		if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); !os.IsNotExist(err) {
			t.Errorf("the original after the purge: %v, want it removed", err)
		}
		if trash := ts.trash(t); len(trash) != 0 {
			t.Errorf("trash holds %d after the purge, want 0", len(trash))
		}
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/trash/"+img.ID+"/restore", nil), http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil), http.StatusNotFound, "not_found", "")
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/history", nil)
		wantStatus(t, rec, http.StatusOK)
		var revs []annotations.Revision
		decode(t, rec, &revs)
		if last := revs[len(revs)-1]; last.Action != "delete" || last.Actor != "tester" {
			t.Errorf("the annotation's last revision %s by %s, want its deletion by tester", last.Action, last.Actor)
		}
		// The bytes may now come in again, as a new image.
		again := ts.mustUpload(t, filePart("again.png", original))
		if again.ID == img.ID {
			t.Errorf("the new upload took the purged image's id")
		}
	})

	t.Run("ok, the audit log tells the story", func(t *testing.T) {
		for _, e := range []struct{ action, actor string }{
			{"image.upload", "tester"}, {"georeference.set", "alice"}, {"georeference.delete", "alice"},
			{"image.trash", "tester"}, {"image.restore", "tester"}, {"image.purge", "tester"},
		} {
			ts.wantAudited(t, e.action, e.actor, img.ID)
		}
		var actions []string
		for _, e := range ts.auditLog(t, "?action=image&limit=1000") {
			if e.TargetID == img.ID {
				actions = append(actions, e.Action)
			}
		}
		slices.Reverse(actions)
		if want := []string{"image.upload", "image.trash", "image.restore", "image.trash", "image.purge"}; !slices.Equal(actions, want) {
			t.Errorf("image entries %v, want %v", actions, want)
		}
		if page := wantHTML(t, ts, "/audit?action=image"); !strings.Contains(page, "image.purge") || !strings.Contains(page, img.ID) {
			t.Errorf("the audit page does not show the purge of %s", img.ID)
		}
	})
}
