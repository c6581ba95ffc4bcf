// Package imports measures importing annotations: a satmark pixel GeoJSON file of
// 100,000 annotations (points, rectangles, rotated rectangles and hexagons in turn, with
// properties) imported onto a 40000 × 30000 image of a fresh data folder, through the
// same reader and store as POST …/import and satmark import (goal: ≤ 10 s). Run it with
//
//	make bench-import      (go test ./bench/imports -run '^$' -bench . -benchtime 1x)
//
// It prints the wall time, the CPU time the process used, and features per second, for
// the dry run (every feature checked, rolled back) and the real run.
package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/sampledata"
)

// features is how many annotations the file holds (-features changes it).
var features = 100_000

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeFile writes the GeoJSON of n annotations on img, as satmark exports them.
func writeFile(b *testing.B, path string, img annotations.Image, labels []annotations.Label, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	now := time.Date(2024, 10, 18, 9, 0, 0, 0, time.UTC)
	err = formats.WritePixelGeoJSON(f, []annotations.Image{img}, func(emit func(annotations.Annotation) error) error {
		for i := 0; i < n; i++ {
			x, y := 20+float64(i%1900)*20.5, 20+float64(i/1900)*500.25
			a := annotations.Annotation{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ImageID: img.ID, Label: labels[i%len(labels)],
				Confidence: annotations.Probable, Note: "seen at the pier", ReviewStatus: "draft", Version: 1,
				Attributes: map[string]json.RawMessage{"count": json.RawMessage(`2`)}, CreatedBy: "ana", CreatedAt: now, UpdatedBy: "ana", UpdatedAt: now}
			switch i % 4 {
			case 0:
				a.Shape, a.Geometry = annotations.ShapePoint, annotations.PointGeometry(annotations.Position{x, y})
			case 1:
				a.Shape, a.Geometry = annotations.ShapeRectangle, annotations.PolygonGeometry([]annotations.Position{{x, y}, {x + 12, y}, {x + 12, y + 8}, {x, y + 8}, {x, y}})
			case 2:
				c, s := math.Cos(0.5), math.Sin(0.5)
				p := func(u, v float64) annotations.Position {
					return annotations.Position{x + u*c - v*s, y + 10 + u*s + v*c}
				}
				a.Shape, a.Geometry = annotations.ShapeRotatedRectangle, annotations.PolygonGeometry([]annotations.Position{p(0, 0), p(14, 0), p(14, 4), p(0, 4), p(0, 0)})
			default:
				ring := make([]annotations.Position, 7)
				for k := range ring {
					t := float64(k%6) * math.Pi / 3
					ring[k] = annotations.Position{x + 6 + 6*math.Cos(t), y + 6 + 6*math.Sin(t)}
				}
				a.Shape, a.Geometry = annotations.ShapePolygon, annotations.PolygonGeometry(ring)
			}
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkImport100k(b *testing.B) {
	if v := os.Getenv("BENCH_IMPORT_FEATURES"); v != "" {
		fmt.Sscan(v, &features)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		store, err := annotations.Open(filepath.Join(dir, "satmark.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := sampledata.SeedTaxonomy(ctx, store); err != nil {
			b.Fatal(err)
		}
		img, _, err := store.CreateImage(ctx, annotations.NewImage{SHA256: strings.Repeat("ab", 32), Filename: "scene.tif", MediaType: "image/tiff",
			ByteSize: 1, Width: 40000, Height: 30000, CreatedBy: annotations.Actor{Name: "ana"}}, func() (func(), error) { return func() {}, nil })
		if err != nil {
			b.Fatal(err)
		}
		all, err := store.Labels(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var labels []annotations.Label
		for _, l := range all {
			if len(l.Path) > 1 {
				labels = append(labels, l)
			}
		}
		file := filepath.Join(dir, "files", "annotations.geojson")
		os.Mkdir(filepath.Dir(file), 0o755)
		writeFile(b, file, img, labels, features)
		st, _ := os.Stat(file)
		src := formats.ImportSource{Dir: filepath.Dir(file), Files: []string{"annotations.geojson"}}
		target := formats.ImportTarget{Image: img, Labels: all}
		b.ResetTimer()
		for _, dry := range []bool{true, false} {
			start, cpu := time.Now(), cpuTime()
			rep, err := formats.Import(ctx, store, annotations.Actor{Name: "ana"}, target, src, "geojson", annotations.ImportOptions{DryRun: dry, FileName: "annotations.geojson"})
			wall, used := time.Since(start), cpuTime()-cpu
			if err != nil {
				b.Fatal(err)
			}
			if rep.Create != features || len(rep.Refused) != 0 {
				b.Fatalf("report: %d to create, %d refused (first %+v)", rep.Create, len(rep.Refused), rep.Refused[:min(1, len(rep.Refused))])
			}
			what := "import"
			if dry {
				what = "dry run"
			}
			b.Logf("%s of %d features (%.1f MiB of GeoJSON): %.2f s wall, %.2f s CPU, %.0f features/s (goal ≤ 10 s)",
				what, features, float64(st.Size())/(1<<20), wall.Seconds(), used.Seconds(), float64(features)/wall.Seconds())
			b.ReportMetric(wall.Seconds(), map[bool]string{true: "dry-s", false: "import-s"}[dry])
		}
		b.StopTimer()
		var n int
		store.DB().QueryRow(`SELECT COUNT(*) FROM annotations`).Scan(&n)
		if n != features {
			b.Fatalf("%d annotations stored, want %d", n, features)
		}
		store.Close()
	}
}
