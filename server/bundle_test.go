package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/bundle"
)

// bundledPort is the round-trip port scene placed, with a history: an annotation edited,
// one reviewed by bob, one deleted.
func bundledPort(t *testing.T) (*testServer, annotations.Image, []byte) {
	t.Helper()
	ts, img := roundTripSource(t)
	as := ts.annotationsOf(t, img.ID)
	edit := as[0]
	rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+edit.ID, fmt.Sprintf(`{"version": %d, "properties": {"note": "moved to pier 4"}}`, edit.Version))
	wantStatus(t, rec, http.StatusOK)
	gone := as[len(as)-1]
	wantStatus(t, ts.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/annotations/%s?version=%d", gone.ID, gone.Version), nil), http.StatusNoContent)
	ts.reviewed(t, img.ID, annotations.ReviewAccepted)
	return ts, img, ts.get(t, "/api/v1/images/"+img.ID+"/bundle.zip")
}

func verifyBytes(t *testing.T, b []byte) bundle.Report {
	t.Helper()
	rep, err := bundle.Verify(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestEvidenceBundle(t *testing.T) {
	ts, img, zb := bundledPort(t)
	rep := verifyBytes(t, zb)
	if !rep.OK() {
		t.Fatalf("a fresh bundle fails its check: %v", rep.Problems)
	}
	if rep.Manifest.Image.SHA256 != img.SHA256 || rep.Manifest.CreatedBy != "tester" {
		t.Errorf("manifest: %+v", rep.Manifest)
	}
	// 5 made + 1 made and reviewed, one deleted: 5 annotations now.
	if rep.Manifest.Annotations != 5 {
		t.Errorf("the bundle holds %d annotations, want 5", rep.Manifest.Annotations)
	}
	// Revisions: 6 creates, an edit, a delete, a submission and an acceptance.
	if rep.Manifest.Revisions != 10 {
		t.Errorf("the bundle holds %d revisions, want 10", rep.Manifest.Revisions)
	}

	// Unpacked by Python's zipfile, the bundle checks with coreutils' sha256sum, and the
	// original is the uploaded file byte for byte.
	dir := t.TempDir()
	zp := filepath.Join(dir, "b.zip")
	os.WriteFile(zp, zb, 0o644)
	out := filepath.Join(dir, "out")
	if b, err := exec.Command("/usr/bin/python3", "-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", zp, out).CombinedOutput(); err != nil {
		t.Fatalf("python zipfile: %v\n%s", err, b)
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	cmd.Dir = out
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, b)
	} else if n := strings.Count(string(b), ": OK"); n != len(rep.Manifest.Files)+1 {
		t.Errorf("sha256sum checked %d files, want %d:\n%s", n, len(rep.Manifest.Files)+1, b)
	}
	orig, err := os.ReadFile(filepath.Join(out, "original", img.Filename))
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(orig); hex.EncodeToString(h[:]) != img.SHA256 {
		t.Errorf("the bundled original has SHA-256 %x, the image %s", h, img.SHA256)
	}
	for _, name := range []string{"provenance.json", "georeference.json", "annotations-wgs84.geojson", "audit.json", "README.txt"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("the bundle of a placed image lacks %s", name)
		}
	}
	// The history holds the deleted annotation and bob's decision.
	hist, _ := os.ReadFile(filepath.Join(out, "history.jsonl"))
	if !strings.Contains(string(hist), `"action":"delete"`) || !strings.Contains(string(hist), `"actor":"bob"`) {
		t.Errorf("history.jsonl lacks the delete or bob's review:\n%s", hist)
	}
	var audit []annotations.AuditEntry
	b, _ := os.ReadFile(filepath.Join(out, "audit.json"))
	if err := json.Unmarshal(b, &audit); err != nil || len(audit) == 0 || audit[0].Action != "image.upload" {
		t.Errorf("audit.json should start with the upload: %v %s", err, b)
	}

	// A viewer may download it; an unknown image is a 404.
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/bundle.zip", nil, viewer...), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/img_nosuchimage000/bundle.zip", nil), http.StatusNotFound)
}

// rezip copies a bundle, letting change alter (or drop, returning nil) each entry and
// add more.
func rezip(t *testing.T, b []byte, change func(name string, data []byte) []byte, extra map[string]string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if data = change(f.Name, data); data == nil {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	for name, data := range extra {
		w, _ := zw.Create(name)
		w.Write([]byte(data))
	}
	zw.Close()
	return out.Bytes()
}

func TestEvidenceBundleTampered(t *testing.T) {
	_, _, zb := bundledPort(t)
	same := func(_ string, d []byte) []byte { return d }
	sum := func(d []byte) string { h := sha256.Sum256(d); return hex.EncodeToString(h[:]) }
	cases := []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"a byte of the original", rezip(t, zb, func(n string, d []byte) []byte {
			if strings.HasPrefix(n, "original/") {
				d = append([]byte(nil), d...)
				d[len(d)/2] ^= 1
			}
			return d
		}, nil), "it has changed"},
		{"a note rewritten", rezip(t, zb, func(n string, d []byte) []byte {
			if n == "annotations.geojson" {
				return bytes.Replace(d, []byte("pier 4"), []byte("pier 9"), 1)
			}
			return d
		}, nil), "annotations.geojson has SHA-256"},
		{"a file added", rezip(t, zb, same, map[string]string{"extra.txt": "hi"}), "extra.txt is in the zip but not in SHA256SUMS"},
		{"a file removed", rezip(t, zb, func(n string, d []byte) []byte {
			if n == "audit.json" {
				return nil
			}
			return d
		}, nil), "audit.json is listed in SHA256SUMS but missing"},
		{"a path out of the bundle", rezip(t, zb, same, map[string]string{"../evil": "x"}), "leads out of the bundle"},
		{"no manifest", rezip(t, zb, func(n string, d []byte) []byte {
			if n == "manifest.json" {
				return nil
			}
			return d
		}, nil), "the bundle has no manifest.json"},
	}
	// An annotation dropped with every hash made again: the history still has it.
	var dropped []byte
	{
		zr, _ := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
		var fc map[string]any
		for _, f := range zr.File {
			if f.Name == "annotations.geojson" {
				rc, _ := f.Open()
				json.NewDecoder(rc).Decode(&fc)
				rc.Close()
			}
		}
		feats := fc["features"].([]any)
		fc["features"] = feats[1:]
		newGeo, _ := json.Marshal(fc)
		var manifest []byte
		dropped = rezip(t, zb, func(n string, d []byte) []byte {
			switch n {
			case "annotations.geojson":
				return newGeo
			case "manifest.json":
				var m bundle.Manifest
				json.Unmarshal(d, &m)
				for i := range m.Files {
					if m.Files[i].Path == n || m.Files[i].Path == "annotations.geojson" {
						m.Files[i].SHA256, m.Files[i].Size = sum(newGeo), int64(len(newGeo))
					}
				}
				m.Annotations--
				manifest, _ = json.Marshal(m)
				return manifest
			case "SHA256SUMS":
				var lines []string
				for _, l := range strings.Split(strings.TrimSpace(string(d)), "\n") {
					h, name, _ := strings.Cut(l, "  ")
					switch name {
					case "annotations.geojson":
						h = sum(newGeo)
					case "manifest.json":
						h = sum(manifest)
					}
					lines = append(lines, h+"  "+name)
				}
				return []byte(strings.Join(lines, "\n") + "\n")
			}
			return d
		}, nil)
	}
	cases = append(cases, struct {
		name   string
		bundle []byte
		want   string
	}{"an annotation dropped, hashes made again", dropped, "never deleted"})
	for _, c := range cases {
		rep := verifyBytes(t, c.bundle)
		if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), c.want) {
			t.Errorf("%s: problems %q, want one saying %q", c.name, rep.Problems, c.want)
		}
	}
	if _, err := bundle.Verify(bytes.NewReader([]byte("not a zip")), 9); err == nil || !strings.Contains(err.Error(), "not a zip") {
		t.Errorf("not a zip: %v", err)
	}
}
