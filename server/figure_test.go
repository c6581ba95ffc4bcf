package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/figure/figuretest"
	"github.com/satmark/satmark/imagery"
)

// figureImage uploads a 600×400 image with its provenance and builds its pyramid.
func figureImage(t *testing.T, ts *testServer, seed int, fields ...part) annotations.Image {
	t.Helper()
	img := ts.mustUpload(t, append([]part{
		filePart(fmt.Sprintf("figure-%d.png", seed), pngBytes(t, 600, 400, seed)),
		field("title", "Landing ships at Vladivostok"),
		field("publisher", "National Intelligence Service, Republic of Korea"),
		field("credit", "NIS via Yonhap"),
		field("released_at", "2024-10-18"),
		field("captured_from", "2024-10-08"),
		field("captured_to", "2024-10-13"),
	}, fields...)...)
	ts.buildPyramids(t)
	return img
}

// scaleBarHeader reads Satmark-Scale-Bar: "<metres> m; <pixels> px".
func scaleBarHeader(t *testing.T, rec interface{ Header() http.Header }) (metres float64, px int) {
	t.Helper()
	h := rec.Header().Get("Satmark-Scale-Bar")
	if _, err := fmt.Sscanf(h, "%g m; %d px", &metres, &px); err != nil {
		t.Fatalf("Satmark-Scale-Bar %q: %v", h, err)
	}
	return metres, px
}

// wantRoundLength checks a scale bar's length is 1, 2 or 5 × 10ⁿ metres.
func wantRoundLength(t *testing.T, m float64) {
	t.Helper()
	e := math.Pow(10, math.Floor(math.Log10(m)+1e-9))
	if r := m / e; math.Abs(r-1) > 1e-9 && math.Abs(r-2) > 1e-9 && math.Abs(r-5) > 1e-9 {
		t.Errorf("scale bar of %g m, want 1, 2 or 5 × 10ⁿ m", m)
	}
}

func TestFigurePNGScaleBarFromGSD(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := figureImage(t, ts, 31)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	label := ts.labelByPath(t, "vessel/landing ship")
	box := ts.createAnnotation(t, img.ID, map[string]any{"label": label.ID, "shape": "rectangle",
		"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{150, 100}, {350, 100}, {350, 250}, {150, 250}, {150, 100}}}}})

	// The region 100,50 400×300 at 800 px wide: 2 figure pixels an image pixel.
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/figure?format=png&region=100,50,400,300&width=800&dpi=150&annotations="+box.ID, nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}
	raw := rec.Body.Bytes()
	fig, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decoding the figure: %v", err)
	}
	const picW, picH = 800, 600
	if b := fig.Bounds(); b.Dx() != picW || b.Dy() <= picH {
		t.Fatalf("figure %v, want 800 px wide and taller than its 600-px picture (the caption)", b)
	}
	if dpi := pngDPI(t, raw); math.Abs(dpi-150) > 0.1 {
		t.Errorf("pHYs says %.2f dpi, want 150", dpi)
	}

	metres, px := scaleBarHeader(t, rec)
	wantRoundLength(t, metres)
	const metresPerFigurePixel = 0.5 * 400 / 800
	want := metres / metresPerFigurePixel
	got, row := figuretest.LongestDarkRun(fig, image.Rect(0, picH*3/4, picW/2, picH))
	if math.Abs(float64(got)-want) > 2 || math.Abs(float64(px)-want) > 1 {
		t.Errorf("scale bar drawn %d px long (row %d), header %d px, want %.1f px for %g m at %g m a pixel", got, row, px, want, metres, metresPerFigurePixel)
	}
	if want < picW/10 || want > picW/4+1 {
		t.Errorf("scale bar %.0f px of an %d-px picture, want between a tenth and a quarter", want, picW)
	}

	light, dark := figuretest.Band(fig, image.Rect(0, picH, picW, fig.Bounds().Dy()))
	if light < 0.8 || dark < 0.005 {
		t.Errorf("caption band %.1f %% light, %.2f %% dark, want a light band (≥ 80 %%) with dark text (≥ 0.5 %%)", 100*light, 100*dark)
	}

	// The box's top edge, image y = 100, is figure y = 100; its left edge x = 150 is 100.
	lc := labelNRGBA(t, label.Color)
	if c := color.NRGBAModel.Convert(fig.At(400, 100)).(color.NRGBA); !nearColour(c, lc, 8) {
		t.Errorf("figure (400, 100), on the box's top edge, is %v, want the label's colour %v", c, lc)
	}
	if c := color.NRGBAModel.Convert(fig.At(100, 300)).(color.NRGBA); !nearColour(c, lc, 8) {
		t.Errorf("figure (100, 300), on the box's left edge, is %v, want the label's colour %v", c, lc)
	}
}

func TestFigurePDFCaptionAndArrowOfAPlacedImage(t *testing.T) {
	pdftotext, pdffonts := popplerTool(t, "pdftotext"), popplerTool(t, "pdffonts")
	ts := newTestServer(t, imagery.DefaultLimits)
	// 2-m pixels, north up, on UTM 52N's central meridian (grid north is true north).
	img := figureImage(t, ts, 32, field("worldfile", "2\n0\n0\n-2\n499001\n4800001\n"), field("crs", "EPSG:32652"))
	ts.createAnnotation(t, img.ID, map[string]any{"label": ts.labelByPath(t, "vessel/landing ship").ID, "shape": "point",
		"geometry": map[string]any{"type": "Point", "coordinates": [2]float64{300, 200}}}, ts.as(t, "kim")...)

	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/figure?format=png&width=600", nil)
	wantStatus(t, rec, http.StatusOK)
	fig, err := png.Decode(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	metres, _ := scaleBarHeader(t, rec)
	want := metres / 2
	if got, _ := figuretest.LongestDarkRun(fig, image.Rect(0, 300, 300, 400)); math.Abs(float64(got)-want) > 2 {
		t.Errorf("scale bar %d px, want %.1f px for %g m at 2 m a pixel", got, want, metres)
	}
	if n, _ := figuretest.LongestDarkRun(fig, image.Rect(500, 0, 600, 100)); n < 4 {
		t.Errorf("no north arrow in the top-right corner (longest dark run %d px)", n)
	}

	rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/figure", map[string]any{"format": "pdf", "region": []float64{0, 0, 600, 400}, "width": 1200, "dpi": 300})
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("Content-Type %q, want application/pdf", ct)
	}
	path := filepath.Join(t.TempDir(), "figure.pdf")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, w := range []string{"Landing ships at Vladivostok", "National Intelligence Service, Republic of Korea", "Credit: NIS via Yonhap", "Captured 2024-10-08 – 2024-10-13", "Annotations by kim"} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext gives %q, want it to hold %q", text, w)
		}
	}
	if strings.Contains(text, "No north arrow") {
		t.Errorf("the caption of a placed image says %q", text)
	}
	out, err = exec.Command(pdffonts, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, out)
	}
	embedded := false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 && strings.Contains(strings.ToLower(f[0]), "go") && f[len(f)-5] == "yes" {
			embedded = true
		}
	}
	if !embedded {
		t.Errorf("pdffonts lists no embedded Go font:\n%s", out)
	}
	// 1200 px at 300 dpi is 4 inches, 288 pt wide.
	info, err := exec.Command(strings.TrimSuffix(pdftotext, "pdftotext")+"pdfinfo", path).CombinedOutput()
	if err == nil && !strings.Contains(string(info), "288 x") {
		t.Errorf("pdfinfo: %s, want a page 288 pt wide", info)
	}
}

func TestFigureOfAnUnplacedImageSaysSo(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := figureImage(t, ts, 33)
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/figure?annotations=none", nil, "Authorization", "Bearer "+ts.userToken(t, "reader", annotations.RoleViewer))
	wantStatus(t, rec, http.StatusOK) // a viewer may make figures
	if h := rec.Header().Get("Satmark-Scale-Bar"); h != "" {
		t.Errorf("Satmark-Scale-Bar %q for an image with no scale", h)
	}
	if p := rec.Header().Get("Satmark-Figure-Picture"); p != "600x400" {
		t.Errorf("picture %q, want the whole image, 600x400", p)
	}
}

func TestFigureRefusesBadRequests(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := figureImage(t, ts, 34)
	other := figureImage(t, ts, 35)
	foreign := ts.createAnnotation(t, other.ID, map[string]any{"label": ts.labelByPath(t, "vessel/landing ship").ID, "shape": "point",
		"geometry": map[string]any{"type": "Point", "coordinates": [2]float64{10, 10}}})
	base := "/api/v1/images/" + img.ID + "/figure?"
	for _, tc := range []struct {
		name, query, field string
		words              []string
	}{
		{"nok, region off the image", "region=500,300,200,200", "region", []string{"not inside the 600×400 image"}},
		{"nok, region negative", "region=-1,0,10,10", "region", nil},
		{"nok, region of three numbers", "region=1,2,3", "region", nil},
		{"nok, too wide", "width=5000", "width", []string{"at most 4096"}},
		{"nok, too tall a picture", "region=0,0,10,400&width=400", "width", []string{"at most 4096"}},
		{"nok, resolution", "dpi=5000", "dpi", nil},
		{"nok, format", "format=svg", "format", nil},
		{"nok, unknown annotations", "annotations=nope1,nope2", "annotations", []string{"nope1", "nope2"}},
		{"nok, another image's annotation", "annotations=" + foreign.ID, "annotations", []string{foreign.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodGet, base+tc.query, nil), http.StatusBadRequest, "malformed", tc.field, tc.words...)
		})
	}
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/nosuchimage/figure", nil), http.StatusNotFound, "not_found", "")
}

// popplerTool finds one of poppler-utils' tools, skipping without it unless
// SATMARK_REQUIRE_ORACLES=1.
func popplerTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("%s not found and SATMARK_REQUIRE_ORACLES=1: %v", name, err)
		}
		t.Skipf("%s (poppler-utils) not installed", name)
	}
	return p
}

// pngDPI reads a PNG's pHYs chunk as dots per inch.
func pngDPI(t *testing.T, b []byte) float64 {
	t.Helper()
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		if string(b[i+4:i+8]) == "pHYs" && n == 9 && b[i+16] == 1 {
			return float64(binary.BigEndian.Uint32(b[i+8:])) * 0.0254
		}
		i += 12 + n
	}
	t.Fatal("no pHYs chunk in metres")
	return 0
}

func labelNRGBA(t *testing.T, hex string) color.NRGBA {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		t.Fatalf("label colour %q: %v", hex, err)
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

func nearColour(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}
