package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

var seeded struct {
	once sync.Once
	dir  string
	err  error
}

// seededData returns a fresh copy of a data folder seeded with the sample images (their
// pyramids built); the seeding is done once for the package's tests.
func seededData(t *testing.T) string {
	t.Helper()
	seeded.once.Do(func() {
		seeded.dir, seeded.err = os.MkdirTemp("", "satmark-seeded-")
		if seeded.err != nil {
			return
		}
		out, err := command(t, nil, "seed", "--data", seeded.dir).CombinedOutput()
		if err != nil {
			seeded.err = fmt.Errorf("seed: %v\n%s", err, out)
		}
	})
	if seeded.err != nil {
		t.Fatal(seeded.err)
	}
	data := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("cp", "-a", seeded.dir, data).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return data
}

// satmark runs a satmark command and returns what it printed and whether it succeeded.
func satmark(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := command(t, nil, args...).CombinedOutput()
	return string(out), err
}

// snapshot is what a user would compare between a data folder and its restored copy:
// every image with its original's SHA-256, and every annotation with its version.
func snapshot(t *testing.T, data string) (images []string, anns []string) {
	t.Helper()
	s, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	stored, err := s.StoredImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lib := imagery.At(data)
	for _, img := range stored {
		sum, _, err := imagery.HashFile(lib.OriginalPath(img.SHA256))
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img.ID+" "+img.SHA256+" "+sum)
	}
	list, err := s.Annotations(ctx, annotations.AnnotationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		g, _ := json.Marshal(a.Geometry)
		anns = append(anns, fmt.Sprintf("%s %s v%d %s %s", a.ID, a.ImageID, a.Version, a.Label.ID+" "+a.ReviewStatus+" "+a.Note, g))
	}
	slices.Sort(anns)
	return images, anns
}

// TestBackupWhileServingRestoreVerify backs up a data folder while its server takes
// writes, restores the backup into an empty folder, verifies it, and serves it: the
// restored folder holds every image byte for byte and the annotations as of the backup.
func TestBackupWhileServingRestoreVerify(t *testing.T) {
	data := seededData(t)
	token := cliToken(t, data, "ana", "analyst")
	srv := startServeProcess(t, data)
	res, err := get(t, srv.url+"/api/v1/images", token)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []annotations.Image
	json.NewDecoder(res.Body).Decode(&imgs)
	res.Body.Close()
	if len(imgs) == 0 {
		t.Fatal("the seeded folder serves no images")
	}
	// Writes go on while the backup runs.
	stop := make(chan struct{})
	writes := make(chan int, 1)
	go func() {
		n := 0
		defer func() { writes <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := fmt.Sprintf(`{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [%d, 20]}}`, 10+i%100)
			req, _ := http.NewRequest(http.MethodPost, srv.url+"/api/v1/images/"+imgs[0].ID+"/annotations", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			res.Body.Close()
			if res.StatusCode == http.StatusCreated {
				n++
			}
		}
	}()
	backup := filepath.Join(t.TempDir(), "backup")
	out, err := satmark(t, "backup", backup, "--data", data)
	close(stop)
	if n := <-writes; n == 0 {
		t.Error("no annotation was created while the backup ran; the test shows nothing about backing up while serving")
	}
	if err != nil {
		t.Fatalf("satmark backup: %v\n%s", err, out)
	}
	t.Logf("backup while serving:\n%s", out)
	if !strings.Contains(out, "Backed up") || !strings.Contains(out, fmt.Sprintf("%d originals", len(imgs))) {
		t.Errorf("backup said %q", out)
	}
	if _, err := os.Stat(filepath.Join(backup, "derived")); err == nil {
		t.Error("the backup holds derived files; they are rebuilt, not backed up")
	}
	// What the backup holds is what its own database names, byte for byte.
	wantImages, wantAnns := snapshot(t, backup)

	restored := filepath.Join(t.TempDir(), "restored")
	out, err = satmark(t, "restore", backup, "--data", restored)
	if err != nil {
		t.Fatalf("satmark restore: %v\n%s", err, out)
	}
	t.Logf("restore:\n%s", out)
	if !strings.Contains(out, "Built") {
		t.Errorf("restore said %q; want the pyramids built", out)
	}
	gotImages, gotAnns := snapshot(t, restored)
	if !slices.Equal(gotImages, wantImages) {
		t.Errorf("restored images\n%v\nwant\n%v", gotImages, wantImages)
	}
	if !slices.Equal(gotAnns, wantAnns) {
		t.Errorf("restored %d annotations, backup held %d (or they differ)", len(gotAnns), len(wantAnns))
	}
	for _, img := range gotImages {
		f := strings.Fields(img)
		if f[1] != f[2] {
			t.Errorf("restored original of image %s hashes to %s, stored as %s", f[0], f[2], f[1])
		}
	}
	out, err = satmark(t, "verify", "--data", restored)
	if err != nil || !strings.Contains(out, "0 problems") {
		t.Fatalf("verify of the restored folder: %v\n%s", err, out)
	}
	// Served, the restored folder shows the images with their tiles.
	srv2 := startServeProcess(t, restored)
	token2 := cliToken(t, restored, "ben", "viewer")
	res, err = get(t, srv2.url+"/api/v1/images/"+imgs[0].ID, token2)
	if err != nil {
		t.Fatal(err)
	}
	var img annotations.Image
	json.NewDecoder(res.Body).Decode(&img)
	res.Body.Close()
	if img.Pyramid.State != "done" {
		t.Errorf("restored image's pyramid is %q, want done", img.Pyramid.State)
	}
	res, err = get(t, srv2.url+"/iiif/3/"+imgs[0].ID+"/0,0,256,256/256,/0/default.jpg", token2)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a tile of the restored image answers %d", res.StatusCode)
	}
}

// TestVerifyReportsDamage damages a data folder in every way verify checks and reads
// its report.
func TestVerifyReportsDamage(t *testing.T) {
	data := seededData(t)
	if out, err := satmark(t, "verify", "--data", data); err != nil || !strings.Contains(out, "0 problems, 0 unnamed files") {
		t.Fatalf("verify of an undamaged folder: %v\n%s", err, out)
	}
	s, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.StoredImages(context.Background())
	s.Close()
	if err != nil || len(stored) < 2 {
		t.Fatalf("stored images: %v %d", err, len(stored))
	}
	lib := imagery.At(data)
	// One original changed by a byte, another image's tile changed and one removed, and a
	// file no row names.
	orig := lib.OriginalPath(stored[0].SHA256)
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(orig, b, 0o644); err != nil {
		t.Fatal(err)
	}
	pyr := filepath.Join(data, "derived", stored[1].SHA256[:2], stored[1].SHA256, "pyramid")
	tiles, _ := filepath.Glob(filepath.Join(pyr, "0", "*_*.*"))
	if len(tiles) < 2 {
		t.Fatalf("found %d tiles in %s", len(tiles), pyr)
	}
	if err := os.WriteFile(tiles[0], []byte("not a tile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tiles[1]); err != nil {
		t.Fatal(err)
	}
	stray := lib.OriginalPath(strings.Repeat("ab", 32))
	os.MkdirAll(filepath.Dir(stray), 0o755)
	os.WriteFile(stray, []byte("left over"), 0o644)

	out, err := satmark(t, "verify", "--data", data)
	if err == nil {
		t.Fatalf("verify of a damaged folder succeeded:\n%s", out)
	}
	for _, want := range []string{
		"image " + stored[0].ID + ` ("` + stored[0].Title + `"): its original has SHA-256`,
		"does not match its checksum",
		"is missing",
		"3 problems, 1 unnamed files",
		stray + " is an original no image names",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify's report lacks %q:\n%s", want, out)
		}
	}
	// And a backup refuses to copy the changed original, writing no backup.json.
	backup := filepath.Join(t.TempDir(), "b")
	out, err = satmark(t, "backup", backup, "--data", data)
	if err == nil || !strings.Contains(out, "the file has changed on disk") || !strings.Contains(out, "incomplete") {
		t.Errorf("backup of a changed original: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(backup, "backup.json")); err == nil {
		t.Error("an incomplete backup has a backup.json")
	}
	out, err = satmark(t, "restore", backup, "--data", filepath.Join(t.TempDir(), "r"))
	if err == nil || !strings.Contains(out, "not a complete satmark backup") {
		t.Errorf("restore of an incomplete backup: %v\n%s", err, out)
	}
}

// TestBackupAndRestoreRefuseBadInput: wrong folders are refused with a clear message and
// nothing is written or changed.
func TestBackupAndRestoreRefuseBadInput(t *testing.T) {
	data := seededData(t)
	tmp := t.TempDir()
	full := filepath.Join(tmp, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644)
	empty := filepath.Join(tmp, "nodata")
	os.MkdirAll(empty, 0o755)
	backup := filepath.Join(tmp, "backup")
	if out, err := satmark(t, "backup", backup, "--data", data); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	dbBytes := func(dir string) []byte {
		b, _ := os.ReadFile(filepath.Join(dir, "satmark.db"))
		return b
	}
	before := dbBytes(data)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"backup into a folder that holds files", []string{"backup", full, "--data", data}, "is not empty"},
		{"backup of a folder with no database", []string{"backup", filepath.Join(tmp, "b2"), "--data", empty}, "holds no satmark database"},
		{"backup with no folder", []string{"backup", "--data", data}, "wants one folder"},
		{"restore over a data folder", []string{"restore", backup, "--data", data}, "already holds a database"},
		{"restore of a folder that is no backup", []string{"restore", full, "--data", filepath.Join(tmp, "r1")}, "not a complete satmark backup"},
		{"verify of a folder with no database", []string{"verify", "--data", empty}, "holds no satmark database"},
		{"verify with an argument", []string{"verify", "extra", "--data", data}, "takes no arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := satmark(t, c.args...)
			if err == nil || !strings.Contains(out, c.want) {
				t.Errorf("satmark %v: %v\n%s\nwant an error saying %q", c.args, err, out, c.want)
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(got) != "mine" {
		t.Error("a refused backup changed the folder it was pointed at")
	}
	if _, err := os.Stat(filepath.Join(empty, "satmark.db")); err == nil {
		t.Error("a refused backup or verify made a database in a folder that had none")
	}
	if !bytes.Equal(dbBytes(data), before) {
		t.Error("a refused restore changed the data folder's database")
	}

	// A backup whose original was changed after it was written restores nothing.
	s, err := annotations.Open(filepath.Join(backup, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.StoredImages(context.Background())
	s.Close()
	orig := imagery.At(backup).OriginalPath(stored[0].SHA256)
	os.WriteFile(orig, []byte("changed"), 0o644)
	target := filepath.Join(tmp, "target")
	out, err := satmark(t, "restore", backup, "--data", target)
	if err == nil || !strings.Contains(out, "nothing was restored") {
		t.Errorf("restore of a damaged backup: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(target)
	if len(entries) > 0 {
		t.Errorf("a refused restore left %d entries in the data folder: %v", len(entries), entries)
	}
}
