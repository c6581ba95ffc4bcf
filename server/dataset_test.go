package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/satmark/satmark/imagery"
)

// TestDatasetBuilder cuts two scenes into chips, splits them by image and reads the
// zip as Ultralytics (YOLO-OBB) and pycocotools (COCO) read theirs: every box that lies
// inside a chip comes back at its place in that chip, the chips' pixels are the scene's,
// and the card names every image's release.
func TestDatasetBuilder(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	pngs := map[string][]byte{}
	var ids []string
	for seed := 1; seed <= 2; seed++ {
		b := scenePNG(t, 600, 400, seed)
		img := ts.mustUpload(t, field("publisher", fmt.Sprintf("Ministry %d", seed)), field("credit", fmt.Sprintf("© Agency %d", seed)),
			field("license", "CC BY 4.0"), filePart(fmt.Sprintf("scene-%d.png", seed), b))
		pngs[img.ID] = b
		ids = append(ids, img.ID)
	}
	ts.buildPyramids(t)
	type ship struct{ cx, cy, length, width, deg float64 }
	ships := []ship{{60, 60, 40, 12, 30}, {400, 300, 50, 16, 120}, {230, 100, 60, 14, 0}} // the third crosses chip (0,0)'s edge at x 256
	for _, id := range ids {
		for _, s := range ships {
			ts.createAnnotation(t, id, fmt.Sprintf(`{"label": "vessel/landing ship", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [%s]}}`,
				rotatedRing(s.cx, s.cy, s.length, s.width, s.deg)))
		}
	}
	query := "/api/v1/dataset.zip?image=" + ids[0] + "&image=" + ids[1] + "&chip=256&overlap=32&min_visible=0.6&empty_ratio=-1&split=0.5,0.5,0&seed=t"
	rec := ts.do(t, http.MethodGet, query+"&format=yolo-obb", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	root := unzipTo(t, rec.Body.Bytes())

	var card struct {
		Splits map[string]struct{ Images, Chips, Annotations int } `json:"splits"`
		Images []struct {
			ID, Split string
			Chips     int
			Source    struct{ Publisher, Credit, License string }
		} `json:"images"`
		Credits []string `json:"credits"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	// 600×400 in 256 chips overlapping 32: 3 across (0, 224, 344), 2 down (0, 144).
	if len(card.Images) != 2 || card.Images[0].Chips != 6 || card.Images[1].Chips != 6 {
		t.Fatalf("card images %+v, want 2 of 6 chips", card.Images)
	}
	if card.Images[0].Split == card.Images[1].Split {
		t.Errorf("a 50/50 split by image put both images in %s", card.Images[0].Split)
	}
	if card.Splits["train"].Images != 1 || card.Splits["val"].Images != 1 {
		t.Errorf("splits %+v", card.Splits)
	}
	if len(card.Credits) != 2 || !strings.Contains(strings.Join(card.Credits, "\n"), "© Agency 1 — licence: CC BY 4.0") {
		t.Errorf("credit lines %q", card.Credits)
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	for _, want := range []string{"released by Ministry 1", "released by Ministry 2", "| vessel/landing ship |", "Chips of 256×256 pixels overlapping by 32"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q:\n%s", want, readme)
		}
	}

	// Ultralytics reads train/ through the top data.yaml.
	var got struct {
		Train, Val string
		Images     []struct {
			File          string
			Width, Height int
			Labels        []struct {
				Name  string
				XYWHR []float64 `json:"xywhr"`
			}
		}
	}
	mlRead(t, &got, "yolo", root, "obb")
	if got.Train != "train/images" || got.Val != "val/images" {
		t.Errorf("data.yaml names train %q and val %q", got.Train, got.Val)
	}
	if len(got.Images) != 6 {
		t.Fatalf("Ultralytics found %d train images, want 6", len(got.Images))
	}
	trainImage := ""
	for _, ci := range card.Images {
		if ci.Split == "train" {
			trainImage = ci.ID
		}
	}
	found := 0
	for _, im := range got.Images {
		var x0, y0 int
		if _, err := fmt.Sscanf(strings.TrimPrefix(im.File, trainImage+"_"), "%d_%d.jpg", &x0, &y0); err != nil {
			t.Fatalf("chip file %q is not named <image>_<x>_<y>.jpg", im.File)
		}
		if im.Width != 256 || im.Height != 256 {
			t.Errorf("chip %s is %d×%d, want 256×256", im.File, im.Width, im.Height)
		}
		for _, l := range im.Labels {
			// Which ship is it? The one whose centre, moved into this chip, is nearest.
			best, bestD := ship{}, math.Inf(1)
			for _, s := range ships {
				if d := math.Hypot(s.cx-float64(x0)-l.XYWHR[0], s.cy-float64(y0)-l.XYWHR[1]); d < bestD {
					best, bestD = s, d
				}
			}
			inside := best.cx-best.length/2 >= float64(x0) && best.cx+best.length/2 <= float64(x0+256) &&
				best.cy-best.length/2 >= float64(y0) && best.cy+best.length/2 <= float64(y0+256)
			if !inside {
				continue // cut by the chip's edge: its box is what is left, checked in dataset's tests
			}
			found++
			long, short := math.Max(l.XYWHR[2], l.XYWHR[3]), math.Min(l.XYWHR[2], l.XYWHR[3])
			if bestD > 0.05 || math.Abs(long-best.length) > 0.05 || math.Abs(short-best.width) > 0.05 {
				t.Errorf("chip %s: box at %.2f,%.2f %.2f×%.2f, want the ship at %.2f,%.2f %g×%g", im.File, l.XYWHR[0], l.XYWHR[1], long, short,
					best.cx-float64(x0), best.cy-float64(y0), best.length, best.width)
			}
		}
	}
	if found < 2 {
		t.Errorf("Ultralytics read %d whole ships in the train chips, want at least 2", found)
	}

	// The chip at 344,144 is the scene's pixels there, as JPEG gives them back.
	chipFile := filepath.Join(root, "train", "images", trainImage+"_344_144.jpg")
	cf, err := os.Open(chipFile)
	if err != nil {
		t.Fatal(err)
	}
	chip, _, err := image.Decode(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	scene, err := png.Decode(bytes.NewReader(pngs[trainImage]))
	if err != nil {
		t.Fatal(err)
	}
	var diff float64
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			r1, g1, b1, _ := chip.At(x, y).RGBA()
			r2, g2, b2, _ := scene.At(344+x, 144+y).RGBA()
			diff += math.Abs(float64(r1)-float64(r2)) + math.Abs(float64(g1)-float64(g2)) + math.Abs(float64(b1)-float64(b2))
		}
	}
	if mean := diff / (256 * 256 * 3) / 257; mean > 6 {
		t.Errorf("chip pixels differ from the scene's by %.1f levels on average, want ≤ 6 (JPEG)", mean)
	}

	// The same request gives the same dataset; COCO is read by pycocotools' index.
	again := unzipTo(t, ts.do(t, http.MethodGet, query+"&format=yolo-obb", nil).Body.Bytes())
	if a, b := listFiles(t, root), listFiles(t, again); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("two builds of one dataset differ:\n%v\n%v", a, b)
	}
	rec = ts.do(t, http.MethodGet, query+"&format=coco", nil)
	wantStatus(t, rec, http.StatusOK)
	cocoRoot := unzipTo(t, rec.Body.Bytes())
	var coco struct {
		Images int
		Index  struct {
			Anns int `json:"anns"`
		}
	}
	mlRead(t, &coco, "coco", filepath.Join(cocoRoot, "val", "annotations", "instances.json"))
	if coco.Images != 6 || coco.Index.Anns == 0 {
		t.Errorf("pycocotools indexed %d images, %d annotations in val; want 6 images and some annotations", coco.Images, coco.Index.Anns)
	}
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Base(path) != "dataset.json" && filepath.Base(path) != "README.md" {
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(root, path)
			out = append(out, fmt.Sprintf("%s:%d", rel, len(b)))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestDatasetCardCarriesClaims: the card names each release's claims with where they
// stand and which of the dataset's annotations are evidence for them, each once however
// many chips show it.
func TestDatasetCardCarriesClaims(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.mustUpload(t, field("publisher", "Ministry 1"), field("claim", "landing ships transported troops 8–13 October"),
		filePart("scene.png", scenePNG(t, 600, 400, 1)))
	ts.buildPyramids(t)
	// One across the edge of the chips at x 0 and x 224 (it shows in both), one inside one.
	across := ts.createAnnotation(t, img.ID, fmt.Sprintf(`{"label": "vessel/landing ship", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [%s]}}`,
		rotatedRing(240, 100, 60, 14, 0)))
	inside := ts.createAnnotation(t, img.ID, fmt.Sprintf(`{"label": "vessel/landing ship", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [%s]}}`,
		rotatedRing(400, 300, 50, 16, 120)))
	rec := ts.do(t, http.MethodGet, "/api/v1/sources/"+img.Source.ID+"/claims", nil)
	wantStatus(t, rec, http.StatusOK)
	var claims []claimAnswer
	decode(t, rec, &claims)
	if len(claims) != 1 {
		t.Fatalf("the release's claims: %+v", claims)
	}
	link := func(claimID, annID, stance string) {
		wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/claims/"+claimID+"/evidence",
			fmt.Sprintf(`{"annotation_id": %q, "stance": %q, "confidence": 0.8, "assessment": "seen at the pier"}`, annID, stance)), http.StatusCreated)
	}
	link(claims[0].ID, across.ID, "supports")
	link(claims[0].ID, inside.ID, "contradicts")
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/sources/"+img.Source.ID+"/claims", `{"text": "the troops embarked at Vladivostok"}`)
	wantStatus(t, rec, http.StatusCreated)

	rec = ts.do(t, http.MethodGet, "/api/v1/dataset.zip?image="+img.ID+"&chip=256&overlap=32&min_visible=0.3&empty_ratio=-1&format=coco", nil)
	wantStatus(t, rec, http.StatusOK)
	root := unzipTo(t, rec.Body.Bytes())
	var card struct {
		Images []struct {
			Claims []struct {
				Text, State string
				Evidence    []struct {
					AnnotationID string `json:"annotation_id"`
					Stance       string
					Confidence   float64
					Assessment   string
				}
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	if len(card.Images) != 1 || len(card.Images[0].Claims) != 2 {
		t.Fatalf("the card's images and their claims: %s", raw)
	}
	first, second := card.Images[0].Claims[0], card.Images[0].Claims[1]
	if first.Text != "landing ships transported troops 8–13 October" || first.State != "contested" || len(first.Evidence) != 2 ||
		first.Evidence[0].AnnotationID != across.ID || first.Evidence[0].Stance != "supports" || first.Evidence[0].Confidence != 0.8 ||
		first.Evidence[0].Assessment != "seen at the pier" || first.Evidence[1].AnnotationID != inside.ID || first.Evidence[1].Stance != "contradicts" {
		t.Errorf("the first claim on the card: %+v; want contested, with the two annotations once each", first)
	}
	if second.Text != "the troops embarked at Vladivostok" || second.State != "unassessed" || second.Evidence == nil || len(second.Evidence) != 0 {
		t.Errorf("the second claim on the card: %+v; want unassessed, with no evidence", second)
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	for _, want := range []string{
		"the release claims: “landing ships transported troops 8–13 October” (contested; evidence in this dataset: 1 supporting, 1 contradicting)",
		"the release claims: “the troops embarked at Vladivostok” (unassessed; no annotation of this dataset is evidence for it)",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q:\n%s", want, readme)
		}
	}
}

func TestDatasetBuilderRefusals(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	base := "/api/v1/dataset.zip?format=coco&image=" + img.ID
	// Not built yet: a conflict, said before any byte of a zip.
	rec := ts.do(t, http.MethodGet, base, nil)
	wantError(t, rec, http.StatusConflict, "conflict", "", "tiles are")
	ts.buildPyramids(t)
	for _, c := range []struct{ query, field, says string }{
		{"&chip=5000", "chip", "over the limit of 4096"},
		{"&chip=256&overlap=256", "overlap", "less than the chip size"},
		{"&min_visible=2", "min_visible", "between 0 and 1"},
		{"&split=0.5,0.5", "split", "three shares"},
		{"&split=0.5,0.5,0.5", "split", "sum to 1"},
		{"&by=label", "by", "use image or site"},
		{"&chip=big", "chip", "not a whole number"},
	} {
		rec := ts.do(t, http.MethodGet, base+c.query, nil)
		wantError(t, rec, http.StatusBadRequest, "malformed", c.field, c.says)
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/dataset.zip?format=tiff", nil)
	wantError(t, rec, http.StatusBadRequest, "malformed", "format", "coco")
	rec = ts.do(t, http.MethodGet, base+"&chip=0", nil)
	wantStatus(t, rec, http.StatusOK) // a 64×48 image whole
}
