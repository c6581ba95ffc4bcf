// Command annotations measures the annotation API at scale on one image: creates per
// second on an empty image and on one that already holds -n annotations (100,000 by
// default), the time of that image's full annotation list, and of one page of it.
//
//	go run ./bench/annotations [-n 100000] [-creates 200] [-rounds 15] [-page 5000] [-cpuprofile FILE]
//
// It builds the server as `satmark serve` does, in this process, over a new data folder
// (the default taxonomy, one analyst with an API token, two 40000 × 40000 images placed
// on the earth by a grid georeference, so every answer carries ground measures), and
// serves it on a loopback port; every request goes through a real HTTP connection. The
// -n annotations are stored straight into SQLite in one transaction, with their creation
// revisions, as an import would write them; the creates are POSTs of points, one at a
// time, -creates on each image per round, which first alternating (the medians of
// -rounds are printed, and of the ratio per round, by wall time and by the process's CPU
// time, which the machine's other load disturbs less). The list is timed from the
// request to the last byte read, -lists times, in wall time and in the process's CPU time
// (the client only counts the annotations as the bytes go by). -cpuprofile writes a CPU
// profile (go tool pprof) of the lists and pages alone.
//
// It is a benchmark, not a test: the numbers are printed, nothing is asserted.
package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/server"
	"github.com/satmark/satmark/web"
)

const side = 40000 // both images' width and height, in pixels

func main() {
	n := flag.Int("n", 100000, "annotations already on the full image")
	creates := flag.Int("creates", 200, "creates per image per round")
	rounds := flag.Int("rounds", 15, "rounds of creates (medians are printed)")
	lists := flag.Int("lists", 3, "full lists of the full image (the median is printed)")
	pageSize := flag.Int("page", 5000, "annotations per page")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the lists and pages to `FILE`")
	flag.Parse()
	if err := run(*n, *creates, *rounds, *lists, *pageSize, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "bench/annotations:", err)
		os.Exit(1)
	}
}

// bench is the server under test and a client of it.
type bench struct {
	url, auth string
	client    *http.Client
	rng       *rand.Rand
}

func run(n, creates, rounds, lists, pageSize int, cpuProfile string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "satmark-bench-annotations-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := annotations.Open(filepath.Join(dir, "satmark.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := sampledata.SeedTaxonomy(ctx, store); err != nil {
		return err
	}
	auth, err := analystToken(ctx, store)
	if err != nil {
		return err
	}
	empty, err := newImage(ctx, store, "empty")
	if err != nil {
		return err
	}
	full, err := newImage(ctx, store, "full")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := seed(ctx, store, full, n); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "seeded %d annotations in %.1f s\n", n, time.Since(t0).Seconds())

	lib, err := imagery.OpenWith(dir, imagery.Options{Limits: imagery.DefaultLimits})
	if err != nil {
		return err
	}
	// Request logs are written as satmark serve writes them, to nowhere.
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
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
	b := &bench{url: "http://" + ln.Addr().String(), auth: "Bearer " + auth, client: &http.Client{},
		rng: rand.New(rand.NewPCG(1, 2))}

	// Each round creates on both images, one right after the other (in turns which
	// first), so that both see the same load of the machine; the ratio is taken per round.
	var rateEmpty, rateFull, cpuEmpty, cpuFull, ratios, cpuRatios []float64
	for r := 0; r < rounds; r++ {
		order := []string{empty, full}
		if r%2 == 1 {
			order = []string{full, empty}
		}
		for _, id := range order {
			rate, cpu, err := b.creates(id, creates)
			if err != nil {
				return err
			}
			if id == empty {
				rateEmpty, cpuEmpty = append(rateEmpty, rate), append(cpuEmpty, cpu)
			} else {
				rateFull, cpuFull = append(rateFull, rate), append(cpuFull, cpu)
			}
		}
		ratios = append(ratios, rateFull[r]/rateEmpty[r])
		cpuRatios = append(cpuRatios, cpuEmpty[r]/cpuFull[r])
		fmt.Fprintf(os.Stderr, "round %d: creates/s empty %.0f, full %.0f (CPU %.2f, %.2f ms each)\n", r+1, rateEmpty[r], rateFull[r],
			cpuEmpty[r], cpuFull[r])
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var listTimes, listCPU []float64
	var listBytes int64
	var listCount int
	var peakHeap uint64
	for i := 0; i < lists; i++ {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := watchHeap()
		cpu0 := cpuTime()
		res, err := b.get("/api/v1/images/" + full + "/annotations")
		listCPU = append(listCPU, (cpuTime() - cpu0).Seconds())
		peak := stop()
		if err != nil {
			return err
		}
		listTimes = append(listTimes, res.seconds)
		listBytes, listCount = res.bytes, res.count
		peakHeap = max(peakHeap, peak-min(peak, base.HeapInuse))
		fmt.Fprintf(os.Stderr, "full list %d: %.2f s (CPU %.2f s), %d annotations, %.1f MiB, heap +%.0f MiB\n", i+1, res.seconds,
			listCPU[i], res.count, float64(res.bytes)/(1<<20), float64(peak-min(peak, base.HeapInuse))/(1<<20))
	}
	if listCount < n {
		return fmt.Errorf("the full list has %d annotations, want at least %d", listCount, n)
	}

	// The first page, and a page from the middle through the Link of the one before.
	first, err := b.get(fmt.Sprintf("/api/v1/images/%s/annotations?limit=%d", full, pageSize))
	if err != nil {
		return err
	}
	paged := first.next != ""
	var middle result
	if paged {
		next := first.next
		for p := 1; p < n/pageSize/2 && next != ""; p++ {
			res, err := b.get(next)
			if err != nil {
				return err
			}
			next = res.next
		}
		if middle, err = b.get(next); err != nil {
			return err
		}
	}

	fmt.Printf("satmark annotations at scale, %s, %d CPUs, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.NumCPU(), runtime.Version())
	ratio := median(ratios)
	verdict := "met"
	if ratio < 0.9 {
		verdict = "MISSED"
	}
	fmt.Printf("%-44s %.0f (CPU %.2f ms each)\n", fmt.Sprintf("creates/s, empty image (median of %d)", rounds), median(rateEmpty), median(cpuEmpty))
	fmt.Printf("%-44s %.0f (CPU %.2f ms each)\n", fmt.Sprintf("creates/s, image with %d annotations", n), median(rateFull), median(cpuFull))
	fmt.Printf("%-44s %.2f, by CPU time %.2f (goal ≥ 0.9: %s)\n", "ratio full/empty (median of the rounds')", ratio, median(cpuRatios), verdict)
	fmt.Printf("%-44s %.2f s, CPU %.2f s (%d annotations, %.1f MiB; heap peak +%.0f MiB)\n", "full list (median of "+strconv.Itoa(lists)+")",
		median(listTimes), median(listCPU), listCount, float64(listBytes)/(1<<20), float64(peakHeap)/(1<<20))
	if paged {
		fmt.Printf("%-44s %.3f s (%d annotations, %.1f MiB)\n", fmt.Sprintf("first page of %d", pageSize), first.seconds, first.count, float64(first.bytes)/(1<<20))
		fmt.Printf("%-44s %.3f s (%d annotations)\n", fmt.Sprintf("page of %d in the middle", pageSize), middle.seconds, middle.count)
	} else {
		fmt.Printf("%-44s %s\n", fmt.Sprintf("page of %d", pageSize), "n/a: the list has no pages (no Link header)")
	}
	return nil
}

// analystToken adds the analyst "bench" and returns an API token of theirs.
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
	if _, err := store.CreateToken(ctx, by, u.ID, "bench", tokenHash); err != nil {
		return "", err
	}
	return token, nil
}

// newImage stores an image row (no file: the annotation API never reads it) placed in
// Vladivostok's harbour by a grid georeference of 1 µ° per pixel.
func newImage(ctx context.Context, store *annotations.Store, title string) (string, error) {
	sum := make([]byte, 32)
	crand.Read(sum)
	gt := [6]float64{131.88, 1e-6, 0, 43.12, 0, -1e-6}
	img, _, err := store.CreateImage(ctx, annotations.NewImage{
		SHA256: hex.EncodeToString(sum), Filename: title + ".jpg", MediaType: "image/jpeg", ByteSize: 1,
		Width: side, Height: side, Provenance: annotations.Provenance{Title: &title},
		CreatedBy:    annotations.Actor{Name: "bench"},
		Georeference: &annotations.Georeference{Method: annotations.GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "geotiff"},
	}, func() (func(), error) { return func() {}, nil })
	return img.ID, err
}

// seed stores n annotations on the image in one transaction: points, rectangles and
// polygons a few pixels across, spread over it, each with its creation revision.
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
	rng := rand.New(rand.NewPCG(3, 4))
	tx, err := store.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insAnn, err := tx.PrepareContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification,
			note, attributes, review_status, created_by, created_at, updated_by, updated_at, version)
		VALUES (?, ?, ?, ?, ?, 'probable', '', '', '{}', 'draft', 'bench', ?, 'bench', ?, 1)`)
	if err != nil {
		return err
	}
	insRev, err := tx.PrepareContext(ctx, `INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		VALUES (?, ?, 1, 'create', 'bench', ?, NULL, ?)`)
	if err != nil {
		return err
	}
	start := time.Now().UTC().Add(-time.Hour)
	for i := 0; i < n; i++ {
		// Ids in UUID form (as the store makes them, version 4), numbered.
		a := annotations.Annotation{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), ImageID: imageID, Label: leaves[i%len(leaves)], Confidence: annotations.Probable,
			Attributes: map[string]json.RawMessage{}, ReviewStatus: annotations.ReviewDraft, CreatedBy: "bench", UpdatedBy: "bench",
			CreatedAt: start.Add(time.Duration(i) * time.Millisecond), Version: 1}
		a.UpdatedAt = a.CreatedAt
		x, y := 10+rng.Float64()*(side-30), 10+rng.Float64()*(side-30)
		switch i % 3 {
		case 0:
			a.Shape, a.Geometry = annotations.ShapePoint, annotations.Geometry{Type: "Point", Coordinates: [][]annotations.Position{{{x, y}}}}
		case 1:
			a.Shape = annotations.ShapeRectangle
			a.Geometry = annotations.PolygonGeometry([]annotations.Position{{x, y}, {x + 12, y}, {x + 12, y + 6}, {x, y + 6}, {x, y}})
		default:
			a.Shape = annotations.ShapePolygon
			a.Geometry = annotations.PolygonGeometry([]annotations.Position{{x, y}, {x + 9, y + 2}, {x + 11, y + 10}, {x + 3, y + 8}, {x, y}})
		}
		geom, _ := json.Marshal(a.Geometry)
		after, err := json.Marshal(a)
		if err != nil {
			return err
		}
		at := a.CreatedAt.Format("2006-01-02T15:04:05.000000000Z07:00")
		if _, err := insAnn.ExecContext(ctx, a.ID, imageID, a.Label.ID, a.Shape, geom, at, at); err != nil {
			return err
		}
		if _, err := insRev.ExecContext(ctx, a.ID, imageID, at, after); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// creates POSTs count points onto the image, one at a time, and returns creates per
// second and the CPU time of this process (server and client) per create, in ms.
func (b *bench) creates(imageID string, count int) (float64, float64, error) {
	cpu0 := cpuTime()
	t0 := time.Now()
	for i := 0; i < count; i++ {
		x, y := 10+b.rng.Float64()*(side-20), 10+b.rng.Float64()*(side-20)
		body := fmt.Sprintf(`{"label": "vessel/frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [%f, %f]}}`, x, y)
		req, _ := http.NewRequest(http.MethodPost, b.url+"/api/v1/images/"+imageID+"/annotations", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", b.auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return 0, 0, fmt.Errorf("create: %s: %s", resp.Status, msg)
		}
	}
	return float64(count) / time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds() * 1000 / float64(count), nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// result is one GET of a list: how long to the last byte, how big, how many
// annotations, and the next page's path when there is one.
type result struct {
	seconds float64
	bytes   int64
	count   int
	next    string
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

func (b *bench) get(path string) (result, error) {
	req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
	req.Header.Set("Authorization", b.auth)
	t0 := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return result{}, fmt.Errorf("GET %s: %s: %s", path, resp.Status, msg)
	}
	// Count the annotations as the bytes go by, so that the client holds none of them
	// (its memory would be in the server's heap peak: they share this process) and costs
	// little of the CPU time measured. The server's tests check that the list is JSON.
	body := &arrayCounter{}
	if _, err := io.Copy(body, resp.Body); err != nil {
		return result{}, err
	}
	if body.depth != 0 || body.n == 0 {
		return result{}, fmt.Errorf("GET %s: the answer is not a whole JSON array", path)
	}
	r := result{count: body.count}
	r.seconds, r.bytes = time.Since(t0).Seconds(), body.n
	if m := nextLink.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
		r.next = m[1]
	}
	return r, nil
}

// arrayCounter counts the objects of a JSON array written to it, and its bytes.
type arrayCounter struct {
	n                int64
	depth, count     int
	inString, escape bool
}

func (a *arrayCounter) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case a.escape:
			a.escape = false
		case a.inString:
			a.escape, a.inString = c == '\\', c != '"'
		case c == '"':
			a.inString = true
		case c == '[' || c == '{':
			if a.depth++; a.depth == 2 && c == '{' {
				a.count++
			}
		case c == ']' || c == '}':
			a.depth--
		}
	}
	a.n += int64(len(p))
	return len(p), nil
}

// watchHeap samples the heap in use every 20 ms until the function it returns is called,
// which returns the highest sample.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
