// Command exports measures the streaming exports end to end: -n annotations (100,000 by
// default) on one image, read from SQLite and written out in every export format, from
// the HTTP request to the last byte read (and, with -satmark, through `satmark export`).
// Goal (issue 13): ≤ 1.0 s and ≤ 50 MiB extra RSS per format.
//
//	make bench-export      (go run ./bench/exports [-n 100000] [-runs 3] [-satmark bin/satmark] [-cpuprofile DIR] [-keep DIR])
//
// It builds a data folder once: the default taxonomy, an analyst with an API token, a
// 40000 × 30000 image placed in Vladivostok's harbour by a grid georeference (so KML and
// lon/lat GeoJSON have coordinates and every annotation its ground measures) and an empty
// one. The annotations are points, lines, rectangles, rotated rectangles and hexagons in
// turn, every other one with a note, an identification and free attributes, one in five
// accepted through a review decision; they are stored straight into SQLite in one
// transaction.
//
// Each HTTP export runs -runs times, each in a new process (this program run again with
// -child) that opens the data folder as `satmark serve` does and serves it on a loopback
// port, with the client in the same process counting the bytes as they go by. Memory is
// measured two ways, both printed:
//   - extra RSS: the peak resident set during the export less the resident set just
//     before it. The kernel's peak (VmHWM in /proc/self/status) is reset to the current
//     RSS by writing 5 to /proc/self/clear_refs right before the request, after a GC that
//     returns freed memory to the system. This is what the goal is about.
//   - allocated: the Go heap's bytes allocated during the export (runtime.MemStats
//     TotalAlloc), which says how much garbage a format makes, not how much it holds.
//
// A CLI row runs `satmark export` on the whole data folder as its own process and takes
// its peak RSS (getrusage's ru_maxrss) less that of the same command exporting the empty
// image only (which opens the same folder and writes the same headers), and likewise for
// the wall time. The medians of the runs are printed for the times, the highest run for
// memory.
//
// It is a benchmark, not a test: the numbers are printed, nothing is asserted.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/server"
	"github.com/satmark/satmark/web"
)

// export is one export the benchmark runs: its name in the table and its API path
// (IMAGE stands for the image's id), or the `satmark export` format and output file.
type export struct {
	name, path     string
	cliFormat, out string
}

var exports = []export{
	{name: "geojson pixel", path: "/api/v1/images/IMAGE/annotations.geojson?crs=pixel"},
	{name: "geojson wgs84", path: "/api/v1/images/IMAGE/annotations.geojson"},
	{name: "kml", path: "/api/v1/images/IMAGE/annotations.kml"},
	{name: "coco", path: "/api/v1/images/IMAGE/annotations.coco.json"},
	{name: "csv", path: "/api/v1/images/IMAGE/annotations.csv"},
	{name: "cvat", path: "/api/v1/images/IMAGE/annotations.cvat.xml"},
	{name: "yolo zip", path: "/api/v1/images/IMAGE/export?format=yolo"},
	{name: "yolo-obb zip", path: "/api/v1/images/IMAGE/export?format=yolo-obb"},
	{name: "dota zip", path: "/api/v1/images/IMAGE/export?format=dota"},
	{name: "voc zip", path: "/api/v1/images/IMAGE/export?format=voc"},
	{name: "iiif annotation page", path: "/api/v1/images/IMAGE/iiif/annotations.json"},
	{name: "cli geojson", cliFormat: "geojson", out: "out.geojson"},
	{name: "cli coco zip", cliFormat: "coco", out: "out.zip"},
	{name: "cli csv zip", cliFormat: "csv", out: "out.zip"},
	{name: "cli cvat zip", cliFormat: "cvat", out: "out.zip"},
	{name: "cli yolo-obb zip", cliFormat: "yolo-obb", out: "out.zip"},
}

// measure is what one run of an export measured.
type measure struct {
	Wall      float64 `json:"wall_s"`
	CPU       float64 `json:"cpu_s"`
	Bytes     int64   `json:"bytes"`
	ExtraRSS  int64   `json:"extra_rss"` // bytes
	Allocated uint64  `json:"allocated"` // bytes
}

func main() {
	n := flag.Int("n", 100000, "annotations on the image")
	runs := flag.Int("runs", 3, "runs of each export, each in a new process")
	only := flag.String("only", "", "run only the exports whose name contains this")
	satmark := flag.String("satmark", "", "the satmark binary for the CLI rows (none: CLI rows left out)")
	profiles := flag.String("cpuprofile", "", "write a CPU profile of each HTTP export's first run into `DIR`")
	keep := flag.String("keep", "", "build the data folder in `DIR` and keep it, or reuse the one a run with -keep built there (same -n)")
	child := flag.String("child", "", "internal: run one export of -data in this process")
	data := flag.String("data", "", "internal: the data folder")
	token := flag.String("token", "", "internal: the API token")
	flag.Parse()
	var err error
	if *child != "" {
		err = runChild(*data, *token, *child, *profiles)
	} else {
		err = run(*n, *runs, *only, *satmark, *profiles, *keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/exports:", err)
		os.Exit(1)
	}
}

func run(n, runs int, only, satmark, profiles, keep string) error {
	ctx := context.Background()
	dir, full, empty, token, err := folder(ctx, n, keep)
	if err != nil {
		return err
	}
	if keep == "" {
		defer os.RemoveAll(dir)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return err
		}
	}

	fmt.Printf("satmark streaming exports of %d annotations, %s, %d CPUs, %s\n", n, time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.NumCPU(), runtime.Version())
	fmt.Printf("goal: ≤ 1.0 s and ≤ 50 MiB extra RSS each; wall and CPU are medians of %d runs, memory the highest run\n", runs)
	fmt.Printf("%-22s %8s %8s %9s %10s %11s  %s\n", "export", "wall s", "CPU s", "out MiB", "extra RSS", "allocated", "goal")
	for _, e := range exports {
		if only != "" && !strings.Contains(e.name, only) {
			continue
		}
		if e.cliFormat != "" && satmark == "" {
			continue
		}
		var ms []measure
		for r := 0; r < runs; r++ {
			var m measure
			if e.cliFormat != "" {
				m, err = runCLI(satmark, dir, e, full, empty)
			} else {
				prof := ""
				if profiles != "" && r == 0 {
					prof = filepath.Join(profiles, strings.ReplaceAll(e.name, " ", "-")+".pprof")
				}
				m, err = runHTTP(self, dir, token, strings.ReplaceAll(e.path, "IMAGE", full), prof)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", e.name, err)
			}
			ms = append(ms, m)
		}
		wall := median(ms, func(m measure) float64 { return m.Wall })
		cpu := median(ms, func(m measure) float64 { return m.CPU })
		rss := slices.MaxFunc(ms, func(a, b measure) int { return int(a.ExtraRSS - b.ExtraRSS) }).ExtraRSS
		alloc := "n/a"
		if e.cliFormat == "" {
			alloc = fmt.Sprintf("%.0f MiB", float64(slices.MaxFunc(ms, func(a, b measure) int { return int(a.Allocated) - int(b.Allocated) }).Allocated)/(1<<20))
		}
		verdict := "met"
		if wall > 1.0 || rss > 50<<20 {
			verdict = "MISSED"
		}
		fmt.Printf("%-22s %8.2f %8.2f %9.1f %6.1f MiB %11s  %s\n", e.name, wall, cpu, float64(ms[0].Bytes)/(1<<20), float64(rss)/(1<<20), alloc, verdict)
	}
	return nil
}

func median(ms []measure, f func(measure) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// runHTTP runs one export in a new process and reads what it measured.
func runHTTP(self, dir, token, path, profile string) (measure, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(self, "-child", path, "-data", dir, "-token", token, "-cpuprofile", profile)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return measure{}, fmt.Errorf("%v: %s", err, errOut.String())
	}
	var m measure
	err := json.Unmarshal(out.Bytes(), &m)
	return m, err
}

// runCLI runs `satmark export` of the whole folder and of the empty image alone, and
// gives the difference of their wall times and peak RSS.
func runCLI(satmark, dir string, e export, full, empty string) (measure, error) {
	one := func(image string) (measure, error) {
		outDir, err := os.MkdirTemp(dir, "cli-")
		if err != nil {
			return measure{}, err
		}
		defer os.RemoveAll(outDir)
		out := filepath.Join(outDir, e.out)
		args := []string{"export", "--data", dir, "--format", e.cliFormat}
		if image != "" {
			args = append(args, "--image", image)
		}
		var errOut bytes.Buffer
		cmd := exec.Command(satmark, append(args, out)...)
		cmd.Stderr = &errOut
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return measure{}, fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, errOut.String())
		}
		wall := time.Since(t0).Seconds()
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		st, err := os.Stat(out)
		if err != nil {
			return measure{}, err
		}
		return measure{Wall: wall, CPU: float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, Bytes: st.Size(), ExtraRSS: ru.Maxrss << 10}, nil
	}
	all, err := one("")
	if err != nil {
		return measure{}, err
	}
	base, err := one(empty)
	if err != nil {
		return measure{}, err
	}
	return measure{Wall: all.Wall - base.Wall, CPU: all.CPU - base.CPU, Bytes: all.Bytes, ExtraRSS: all.ExtraRSS - base.ExtraRSS}, nil
}

// runChild serves the data folder on a loopback port as satmark serve does, and GETs
// path once, measuring it (see the package comment); it prints the measure as JSON.
func runChild(dir, token, path, profile string) error {
	store, err := annotations.Open(filepath.Join(dir, "satmark.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	lib, err := imagery.OpenWith(dir, imagery.Options{Limits: imagery.DefaultLimits})
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(store, lib, web.Assets, server.Options{Logger: logger, PasswordCost: bcrypt.MinCost})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	client := &http.Client{}
	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)

	runtime.GC()
	debug.FreeOSMemory()
	before, err := procStatus("VmRSS")
	if err != nil {
		return err
	}
	// From here the kernel's peak RSS starts again from the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the peak RSS: %w", err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0, t0 := cpuTime(), time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	peak, err := procStatus("VmHWM")
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&m1)
	return json.NewEncoder(os.Stdout).Encode(measure{Wall: wall.Seconds(), CPU: cpu.Seconds(), Bytes: n,
		ExtraRSS: peak - before, Allocated: m1.TotalAlloc - m0.TotalAlloc})
}

// procStatus reads a size in /proc/self/status, in bytes.
func procStatus(key string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", key)
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kept is what a kept data folder's bench.json says of it.
type kept struct {
	N                  int
	Full, Empty, Token string
}

// folder builds the data folder (see build) in a new temporary folder, or in keep, or
// reuses the one in keep.
func folder(ctx context.Context, n int, keep string) (dir, full, empty, token string, err error) {
	if keep != "" {
		var k kept
		if b, err := os.ReadFile(filepath.Join(keep, "bench.json")); err == nil {
			if err := json.Unmarshal(b, &k); err != nil {
				return "", "", "", "", err
			}
			if k.N != n {
				return "", "", "", "", fmt.Errorf("%s holds %d annotations, not %d", keep, k.N, n)
			}
			return keep, k.Full, k.Empty, k.Token, nil
		}
		dir = keep
		err = os.MkdirAll(dir, 0o755)
	} else {
		dir, err = os.MkdirTemp("", "satmark-bench-exports-")
	}
	if err != nil {
		return "", "", "", "", err
	}
	t0 := time.Now()
	if full, empty, token, err = build(ctx, dir, n); err != nil {
		return "", "", "", "", err
	}
	fmt.Fprintf(os.Stderr, "seeded %d annotations in %.1f s\n", n, time.Since(t0).Seconds())
	if keep != "" {
		b, err := json.Marshal(kept{N: n, Full: full, Empty: empty, Token: token})
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "bench.json"), b, 0o644)
		}
		if err != nil {
			return "", "", "", "", err
		}
	}
	return dir, full, empty, token, nil
}

// build makes the data folder (see the package comment) and returns the full and the
// empty image's ids and the analyst's API token.
func build(ctx context.Context, dir string, n int) (full, empty, token string, err error) {
	store, err := annotations.Open(filepath.Join(dir, "satmark.db"))
	if err != nil {
		return "", "", "", err
	}
	defer store.Close()
	if _, err := imagery.OpenWith(dir, imagery.Options{Limits: imagery.DefaultLimits}); err != nil {
		return "", "", "", err
	}
	if err := sampledata.SeedTaxonomy(ctx, store); err != nil {
		return "", "", "", err
	}
	if token, err = analystToken(ctx, store); err != nil {
		return "", "", "", err
	}
	if full, err = newImage(ctx, store, "harbour", "aa"); err != nil {
		return "", "", "", err
	}
	if empty, err = newImage(ctx, store, "empty", "bb"); err != nil {
		return "", "", "", err
	}
	return full, empty, token, seed(ctx, store, full, n)
}

func analystToken(ctx context.Context, store *annotations.Store) (string, error) {
	hash, err := annotations.HashPassword("bench password", bcrypt.MinCost)
	if err != nil {
		return "", err
	}
	by := annotations.Actor{Name: "bench"}
	u, err := store.CreateUser(ctx, by, annotations.NewUser{Name: "bench", Role: annotations.RoleAnalyst, PasswordHash: hash})
	if err != nil {
		return "", err
	}
	token, tokenHash := annotations.NewAPIToken()
	_, err = store.CreateToken(ctx, by, u.ID, "bench", tokenHash)
	return token, err
}

// newImage stores an image row (no file: no export here reads it) placed by a grid
// georeference of 1 µ° per pixel.
func newImage(ctx context.Context, store *annotations.Store, title, hash string) (string, error) {
	gt := [6]float64{131.88, 1e-6, 0, 43.12, 0, -1e-6}
	img, _, err := store.CreateImage(ctx, annotations.NewImage{
		SHA256: strings.Repeat(hash, 32), Filename: title + ".tif", MediaType: "image/tiff", ByteSize: 1,
		Width: 40000, Height: 30000, Provenance: annotations.Provenance{Title: &title},
		CreatedBy:    annotations.Actor{Name: "bench"},
		Georeference: &annotations.Georeference{Method: annotations.GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "geotiff"},
	}, func() (func(), error) { return func() {}, nil })
	return img.ID, err
}

// seed stores n annotations on the image in one transaction (see the package comment).
func seed(ctx context.Context, store *annotations.Store, imageID string, n int) error {
	labels, err := store.Labels(ctx)
	if err != nil {
		return err
	}
	var leaves []annotations.Label
	for _, l := range labels {
		if len(l.Path) > 1 {
			leaves = append(leaves, l)
		}
	}
	tx, err := store.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insAnn, err := tx.PrepareContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification,
			note, attributes, review_status, created_by, created_at, updated_by, updated_at, version)
		VALUES (?, ?, ?, ?, ?, 'probable', ?, ?, ?, ?, 'bench', ?, 'bench', ?, 1)`)
	if err != nil {
		return err
	}
	insReview, err := tx.PrepareContext(ctx, `INSERT INTO reviews (annotation_id, version, reviewer, decision, reason, at)
		VALUES (?, 1, 'reviewer', 'accepted', 'matches the pier log', ?)`)
	if err != nil {
		return err
	}
	start := time.Date(2024, 10, 18, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		x, y := 20+float64(i%1900)*20.5, 20+float64(i/1900%58)*500.25+float64(i/(1900*58))*7
		var shape annotations.Shape
		var g annotations.Geometry
		switch i % 5 {
		case 0:
			shape, g = annotations.ShapePoint, annotations.PointGeometry(annotations.Position{x, y})
		case 1:
			shape, g = annotations.ShapeLine, annotations.LineGeometry([]annotations.Position{{x, y}, {x + 9, y + 3}, {x + 15, y + 11}})
		case 2:
			shape, g = annotations.ShapeRectangle, annotations.PolygonGeometry([]annotations.Position{{x, y}, {x + 12, y}, {x + 12, y + 8}, {x, y + 8}, {x, y}})
		case 3:
			c, s := math.Cos(0.5), math.Sin(0.5)
			p := func(u, v float64) annotations.Position {
				return annotations.Position{x + u*c - v*s, y + 10 + u*s + v*c}
			}
			shape, g = annotations.ShapeRotatedRectangle, annotations.PolygonGeometry([]annotations.Position{p(0, 0), p(14, 0), p(14, 4), p(0, 4), p(0, 0)})
		default:
			ring := make([]annotations.Position, 7)
			for k := range ring {
				t := float64(k%6) * math.Pi / 3
				ring[k] = annotations.Position{x + 6 + 6*math.Cos(t), y + 6 + 6*math.Sin(t)}
			}
			shape, g = annotations.ShapePolygon, annotations.PolygonGeometry(ring)
		}
		geom, err := json.Marshal(g)
		if err != nil {
			return err
		}
		ident, note, attrs := "", "", "{}"
		if i%2 == 0 {
			ident, note, attrs = "Ropucha-class landing ship", "seen at the pier, bow to the north", `{"count":2,"hull":"grey"}`
		}
		status := annotations.ReviewDraft
		if i/5%5 == 0 {
			status = "accepted"
		}
		at := start.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000000000Z07:00")
		if _, err := insAnn.ExecContext(ctx, id, imageID, leaves[i%len(leaves)].ID, shape, geom, ident, note, attrs, status, at, at); err != nil {
			return err
		}
		if status == "accepted" {
			if _, err := insReview.ExecContext(ctx, id, at); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
