package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/sampledata"
)

// uploadAnswer is the upload's answer with what it says of near copies.
type uploadAnswer struct {
	annotations.Image
	Reuse reuseAnswer `json:"reuse"`
}

type reuseAnswer struct {
	State          string        `json:"state"`
	Reason         string        `json:"reason"`
	Message        string        `json:"message"`
	ReleasedBefore []matchAnswer `json:"released_before"`
	Matches        []matchAnswer `json:"matches"`
}

type matchAnswer struct {
	ImageID    string `json:"image_id"`
	Title      string `json:"title"`
	Publisher  string `json:"publisher"`
	ReleasedAt string `json:"released_at"`
	URL        string `json:"url"`
	How        string `json:"how"`
	Message    string `json:"message"`
	Earlier    bool   `json:"earlier"`
	Distance   int    `json:"distance"`
	Checked    int    `json:"checked"`
}

func (ts *testServer) uploadNew(t *testing.T, parts ...part) uploadAnswer {
	t.Helper()
	rec := ts.upload(t, parts...)
	wantStatus(t, rec, http.StatusCreated)
	var a uploadAnswer
	decode(t, rec, &a)
	return a
}

// recompressedCrop is the fractions (x, y, w, h) of a JPEG, encoded again at quality q.
func recompressedCrop(t *testing.T, jpg []byte, x, y, w, h float64, q int) []byte {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	c := imaging.Crop(img, image.Rect(int(x*float64(b.Dx())), int(y*float64(b.Dy())), int((x+w)*float64(b.Dx())), int((y+h)*float64(b.Dy()))))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegScenes(t *testing.T) []sampledata.Scene {
	t.Helper()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	return scenes
}

func TestUploadOfARecompressedCropSaysReleasedBefore(t *testing.T) {
	ts := newTestServer(t, rasterLimits)
	scenes := jpegScenes(t)
	port, base := scenes[0], scenes[1]
	orig := ts.uploadNew(t, field("title", "Landing ships at the pier"), field("publisher", "National Intelligence Service"),
		field("released_at", "2024-10-18"), filePart(port.FileName, port.JPEG))
	if orig.Reuse.State != "hashed" || len(orig.Reuse.ReleasedBefore) != 0 {
		t.Fatalf("the first upload: got reuse %+v, want hashed with nothing released before", orig.Reuse)
	}
	other := ts.uploadNew(t, field("title", "Troops at a base"), filePart(base.FileName, base.JPEG))
	if len(other.Reuse.Matches) != 0 {
		t.Errorf("another scene: got matches %+v, want none", other.Reuse.Matches)
	}
	crop := ts.uploadNew(t, field("title", "Ships in port"), field("publisher", "A newspaper"), field("released_at", "2024-10-20"),
		filePart("newspaper.jpg", recompressedCrop(t, port.JPEG, 0.1, 0.05, 0.84, 0.84, 60)))
	if len(crop.Reuse.ReleasedBefore) != 1 {
		t.Fatalf("the crop: got released before %+v, want the port", crop.Reuse.ReleasedBefore)
	}
	m := crop.Reuse.ReleasedBefore[0]
	const want = `released before as "Landing ships at the pier" by National Intelligence Service on 2024-10-18`
	if m.ImageID != orig.ID || m.URL != "/images/"+orig.ID || m.Message != want || crop.Reuse.Message != want || m.How != "crop" {
		t.Errorf("got %+v (message %q), want image %s, a crop, saying %q", m, crop.Reuse.Message, orig.ID, want)
	}

	// A viewer reads the list both ways: the crop's earlier release, the original's later copy.
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "reader2", annotations.RoleViewer)}
	var got reuseAnswer
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+orig.ID+"/matches", nil, viewer...)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if len(got.Matches) != 1 || got.Matches[0].ImageID != crop.ID || got.Matches[0].Earlier || len(got.ReleasedBefore) != 0 || got.Matches[0].How != "contains" {
		t.Errorf("the original's matches: got %+v, want the crop, later, as containing it", got)
	}

	// The upload compared the crop with the port; the views after it look that up and
	// say the same as the upload did.
	for view := 1; view <= 2; view++ {
		var again reuseAnswer
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+crop.ID+"/matches", nil, viewer...)
		wantStatus(t, rec, http.StatusOK)
		decode(t, rec, &again)
		if !reflect.DeepEqual(again, crop.Reuse) {
			t.Errorf("view %d of the crop's matches: got %+v, want the upload's %+v", view, again, crop.Reuse)
		}
	}

	page := ts.do(t, http.MethodGet, "/images/"+crop.ID, nil, viewer...)
	wantStatus(t, page, http.StatusOK)
	body := page.Body.String()
	for _, s := range []string{`href="/images/` + orig.ID + `"`, "released before as &#34;Landing ships at the pier&#34; by National Intelligence Service on 2024-10-18"} {
		if !strings.Contains(body, s) {
			t.Errorf("the crop's page does not hold %q", s)
		}
	}
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/nosuchimage/matches", nil), http.StatusNotFound, "not_found", "")
}

func TestUploadTooSmallToHashSaysSo(t *testing.T) {
	ts := newTestServer(t, rasterLimits)
	small := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range small.Pix {
		small.Pix[i] = byte(i * 7)
	}
	small.Set(3, 3, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, small); err != nil {
		t.Fatal(err)
	}
	a := ts.uploadNew(t, filePart("icon.png", buf.Bytes()))
	if a.Reuse.State != "not_hashed" || !strings.Contains(a.Reuse.Reason, "too small to hash") || !strings.Contains(a.Reuse.Reason, "40 × 30") {
		t.Errorf("got %+v, want not_hashed saying the 40 × 30 image is too small to hash", a.Reuse)
	}
	var got reuseAnswer
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+a.ID+"/matches", nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.State != "not_hashed" {
		t.Errorf("matches: got %+v, want not_hashed", got)
	}
	if page := ts.do(t, http.MethodGet, "/images/"+a.ID, nil).Body.String(); !strings.Contains(page, "too small to hash") {
		t.Error("the page does not say the image is too small to hash")
	}
}

// The 16-bit, 4-band GeoTIFF is hashed as it is shown (its 2–98 % stretch): a JPEG of a
// crop of it, as the image service renders it, matches it; the port's JPEG of five days
// before, the same place with ships moved, does not.
func TestA16BitGeoTIFFIsHashedAsShown(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	tiffs, err := sampledata.GeoTIFFScenes()
	if err != nil {
		t.Fatal(err)
	}
	tif := ts.uploadNew(t, field("title", "Port, 13 October"), filePart(tiffs[0].FileName, tiffs[0].GeoTIFF))
	if tif.Reuse.State != "hashed" {
		t.Fatalf("the GeoTIFF: got %+v, want hashed", tif.Reuse)
	}
	port := ts.uploadNew(t, field("title", "Port, 8 October"), filePart(jpegScenes(t)[0].FileName, jpegScenes(t)[0].JPEG))
	if len(port.Reuse.Matches) != 0 {
		t.Errorf("the port of 8 October: got matches %+v, want none (another capture of the place)", port.Reuse.Matches)
	}
	ts.buildPyramids(t)
	rec := ts.do(t, http.MethodGet, "/iiif/3/"+tif.ID+"/pct:8,8,84,84/max/0/default.jpg", nil)
	wantStatus(t, rec, http.StatusOK)
	crop := ts.uploadNew(t, field("title", "Port, reposted"), filePart("repost.jpg", rec.Body.Bytes()))
	if len(crop.Reuse.ReleasedBefore) != 1 || crop.Reuse.ReleasedBefore[0].ImageID != tif.ID {
		t.Errorf("a rendered crop of the GeoTIFF: got %+v, want it released before as the GeoTIFF", crop.Reuse)
	}
}
