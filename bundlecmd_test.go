package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/imagery"
)

// TestBundleCommands bundles a seeded image with `satmark bundle`, checks it with
// `satmark verify-bundle`, then damages a copy and sees the check fail, naming the file.
func TestBundleCommands(t *testing.T) {
	data := seededData(t)
	img, anns := placedImage(t, storeOf(t, data))
	zp := filepath.Join(t.TempDir(), "evidence.zip")
	out, err := satmark(t, "bundle", "--data", data, "--image", img.ID, zp)
	if err != nil {
		t.Fatalf("bundle: %v\n%s", err, out)
	}
	out, err = satmark(t, "verify-bundle", zp)
	if err != nil {
		t.Fatalf("verify-bundle of a fresh bundle: %v\n%s", err, out)
	}
	if !strings.Contains(out, "The bundle is intact") || !strings.Contains(out, img.ID) ||
		!strings.Contains(out, "annotations.geojson holds the last version of each of the "+strconv.Itoa(len(anns))+" annotations") {
		t.Errorf("verify-bundle said:\n%s", out)
	}

	// One byte of the original flipped, in the zip's stored (uncompressed) copy.
	b, _ := os.ReadFile(zp)
	orig, err := os.ReadFile(imagery.At(data).OriginalPath(img.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), string(orig[:64]))
	if i < 0 {
		t.Fatal("the original is not stored uncompressed in the bundle")
	}
	b[i+40] ^= 0xff
	bad := filepath.Join(t.TempDir(), "damaged.zip")
	os.WriteFile(bad, b, 0o644)
	out, err = satmark(t, "verify-bundle", "-q", bad)
	if err == nil || !strings.Contains(out, "PROBLEM original/") {
		t.Errorf("verify-bundle of a damaged bundle: %v\n%s", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bundle", "--data", data, zp}, "needs --image"},
		{[]string{"bundle", "--data", data, "--image", "img_aaaaaaaaaaaa", zp}, "not found"},
		{[]string{"verify-bundle", filepath.Join(data, "satmark.db")}, "not a zip"},
		{[]string{"verify-bundle"}, "wants one bundle zip"},
	} {
		out, err := satmark(t, c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("satmark %v: %v, want an error saying %q:\n%s", c.args, err, c.want, out)
		}
	}
}
