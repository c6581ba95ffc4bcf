// Command shapes measures the annotator with many annotations on one image, in headless
// Chromium: how long the page takes to open with the shapes drawn, and the frame times
// while the view pans and zooms.
//
//	go run ./bench/shapes -n 1000,10000,100000 [-satmark bin/satmark] [-duration 10s] [-loads 3]
//
// For each count it seeds a new data folder (satmark seed: the synthetic sample images),
// stores that many annotations on the first 4000 × 3000 sample image straight through the
// annotations package (points, rectangles and polygons mixed, a few pixels across, spread
// over the image; the sample's own few annotations stay), adds an analyst with the CLI,
// serves the folder with `satmark serve` on a free port, signs in and opens
// /images/{id} (a first visit warms the browser's cache; -loads visits are timed). Two
// load times run from the navigation's start (performance.timeOrigin): "first" to the
// first rendercomplete of the map after the annotator says data-ready=true (the first
// annotations fetched and on the map, the image's tiles and the shapes drawn; an
// annotator that loads page by page says so after its first page), and "all" to the
// first rendercomplete with every annotation on the page. Then a script in
// the page animates the view for -duration (pans, and zooms between the whole image and
// 8× in, 400 ms each) and records every requestAnimationFrame interval; frame times are
// the p50, p95, p99 and max of those intervals. Last it times one edit: one annotation is
// selected from the list, and once the map has zoomed to it and shows it, its label is
// changed through the editor, timed from the change until the save is answered and the
// map has drawn it (and how long the save's requests took of that).
//
// The machine's load average is printed beside the numbers: other work on it slows
// the server and Chromium alike.
//
// It is a benchmark, not a test: the numbers are printed, nothing is asserted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

func main() {
	counts := flag.String("n", "1000,10000,100000", "annotation counts to measure, comma-separated")
	bin := flag.String("satmark", "bin/satmark", "the satmark binary (make build)")
	duration := flag.Duration("duration", 10*time.Second, "how long to pan and zoom")
	loads := flag.Int("loads", 3, "timed page loads per count (after one that warms the cache)")
	keep := flag.Bool("keep", false, "keep the data folders (printed)")
	flag.StringVar(&profileFile, "profile", "", "write a V8 CPU profile of the last timed load to this file (.cpuprofile), and one of the pans and zooms beside it (-pan.cpuprofile), and of the edit (-edit.cpuprofile), and print summaries")
	flag.Parse()
	var ns []int
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			fatalf("-n: %q is not a count", s)
		}
		ns = append(ns, n)
	}
	chromium, err := findChromium()
	if err != nil {
		fatalf("%v", err)
	}
	var rows []result
	for _, n := range ns {
		before := loadAverage()
		r, err := run(*bin, chromium, n, *duration, *loads, *keep)
		if err != nil {
			fatalf("n=%d: %v", n, err)
		}
		r.load = before + " → " + loadAverage()
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "n=%d done\n", n)
	}
	fmt.Printf("%-8s %-9s %-24s %-24s %-7s %-9s %-9s %-9s %-9s %-9s %-14s %s\n", "shapes", "seed", "first (median; each)", "all (median; each)", "frames", "p50", "p95", "p99", "max", "edit", "load average", "goal")
	defer fmt.Println("CPU: Chromium's CPU time (all its processes, user + system) for each timed load, to all shapes drawn, and for the pans and zooms")
	for _, r := range rows {
		fmt.Printf("%-8d %-9s %-24s %-24s %-7d %-9s %-9s %-9s %-9s %-9s %-14s first ≤ 2 s, p95 ≤ 33 ms; CPU %s, pan %s\n", r.n, r.seed.Round(100*time.Millisecond),
			loadTimes(r.loads), loadTimes(r.all), r.frames, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), ms(r.edit), r.load, cpuTimes(r.cpu), r.panCPU.Round(10*time.Millisecond))
	}
}

type result struct {
	n                  int
	seed               time.Duration
	loads, all         []time.Duration // to the first shapes drawn, to all of them
	cpu                []time.Duration // Chromium's CPU time (every process) for each timed load
	panCPU             time.Duration   // and for the pans and zooms
	frames             int
	p50, p95, p99, max float64 // milliseconds
	edit               float64 // milliseconds
	load               string  // the load average (1 min) before and after
}

func loadTimes(ds []time.Duration) string {
	var each []string
	for _, l := range ds {
		each = append(each, fmt.Sprintf("%.1f", l.Seconds()))
	}
	return fmt.Sprintf("%.2f s; %s", median(ds).Seconds(), strings.Join(each, " "))
}

func cpuTimes(ds []time.Duration) string {
	var each []string
	for _, d := range ds {
		each = append(each, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return strings.Join(each, " ") + " s"
}

// loadAverage is the machine's load average over the last minute, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func ms(v float64) string { return fmt.Sprintf("%.1f ms", v) }

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "shapes: "+format+"\n", args...)
	os.Exit(1)
}

const (
	benchUser     = "bench"
	benchPassword = "bench password"
)

var profileFile string

func run(bin, chromium string, n int, duration time.Duration, loads int, keep bool) (result, error) {
	r := result{n: n}
	data, err := os.MkdirTemp("", fmt.Sprintf("satmark-shapes-%d-", n))
	if err != nil {
		return r, err
	}
	if keep {
		fmt.Fprintf(os.Stderr, "n=%d: data folder %s\n", n, data)
	} else {
		defer os.RemoveAll(data)
	}
	if out, err := exec.Command(bin, "seed", "--data", data).CombinedOutput(); err != nil {
		return r, fmt.Errorf("satmark seed: %v\n%s", err, out)
	}
	add := exec.Command(bin, "user", "add", benchUser, "--role", "analyst", "--password-stdin", "--data", data)
	add.Stdin = strings.NewReader(benchPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return r, fmt.Errorf("satmark user add: %v\n%s", err, out)
	}
	start := time.Now()
	imageID, err := seedShapes(filepath.Join(data, "satmark.db"), n)
	if err != nil {
		return r, fmt.Errorf("seed annotations: %w", err)
	}
	r.seed = time.Since(start)
	fmt.Fprintf(os.Stderr, "n=%d: %d annotations stored on %s in %s\n", n, n, imageID, r.seed.Round(time.Millisecond))

	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	serve := exec.Command(bin, "serve", "--addr", addr, "--data", data)
	logf, err := os.Create(filepath.Join(data, "serve.log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	serve.Stdout, serve.Stderr = logf, logf
	if err := serve.Start(); err != nil {
		return r, err
	}
	defer func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	}()
	base := "http://" + addr
	if err := waitHealthy(base + "/api/v1/health"); err != nil {
		return r, err
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(filepath.Join(data, "chromium")),
		chromedp.WindowSize(1400, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 10*time.Minute)
	defer cancelTime()

	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return r, fmt.Errorf("start Chromium: %w", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				fmt.Fprintf(os.Stderr, "n=%d: the page: %s\n", n, m.Text)
			}
		}
	}()
	// Before any script of the page: note when the annotator turns ready and when the map
	// next finishes rendering after that.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(probe, n)}); err != nil {
		return r, fmt.Errorf("add the probe: %w", err)
	}
	path := "/images/" + imageID
	if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
		return r, fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := poll[bool](ctx, `!!document.querySelector('#login-form input[name=name]')`); err != nil {
		return r, fmt.Errorf("the sign-in form: %w", err)
	}
	signIn := fmt.Sprintf(`(() => {
  const f = document.getElementById('login-form');
  f.elements.name.value = %q;
  f.elements.password.value = %q;
  f.requestSubmit();
  return true;
})()`, benchUser, benchPassword)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](signIn)); err != nil {
		return r, fmt.Errorf("sign in: %w", err)
	}
	for i := 0; i <= loads; i++ {
		profiling := profileFile != "" && i == loads && i > 0
		cpu0 := chromiumCPU(ctx)
		if i > 0 {
			if profiling {
				if err := startProfile(ctx); err != nil {
					return r, fmt.Errorf("start the profiler: %w", err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
				return r, fmt.Errorf("open %s: %w", path, err)
			}
		}
		shown, err := poll[float64](ctx, `location.pathname.startsWith('/images/') && window.__bench && window.__bench.shown`)
		var all float64
		if err == nil {
			all, err = poll[float64](ctx, `window.__bench.all`)
		}
		if err != nil {
			diag, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({path: location.pathname, bench: window.__bench, ready: document.getElementById('annotator')?.dataset.ready, flash: document.getElementById('flash')?.textContent})`))
			return r, fmt.Errorf("wait for the shapes: %w (page: %s)", err, diag)
		}
		cpu := chromiumCPU(ctx) - cpu0
		if profiling {
			if err := stopProfile(ctx, profileFile); err != nil {
				return r, fmt.Errorf("the profile: %w", err)
			}
		}
		count, err := chromedp.Run(ctx, chromedp.Evaluate[int](`satmark.annotations().length`))
		if err != nil {
			return r, err
		}
		if count < n {
			return r, fmt.Errorf("the page shows %d annotations, want at least %d", count, n)
		}
		if i > 0 {
			r.loads = append(r.loads, time.Duration(shown*float64(time.Millisecond)))
			r.all = append(r.all, time.Duration(all*float64(time.Millisecond)))
			r.cpu = append(r.cpu, cpu)
		}
		steps, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
  const pages = performance.getEntriesByType('resource').filter((e) => /\/api\/v1\/images\/[^/]+\/annotations(\/shapes)?(\?|$)/.test(e.name));
  return pages.map((f, i) => 'page ' + (i + 1) + ' asked for at ' + Math.round(f.startTime) + ' ms, answer began ' + Math.round(f.responseStart) + ', ended ' + Math.round(f.responseEnd)).join('; ') + '; data-ready ' + Math.round(window.__bench.ready) + ' ms';
})()`))
		fmt.Fprintf(os.Stderr, "n=%d: load %d: first shapes drawn %.0f ms after the navigation began, all %d at %.0f ms; Chromium CPU %s; %s\n", n, i, shown, count, all, cpu, steps)
	}

	if profileFile != "" {
		if err := startProfile(ctx); err != nil {
			return r, fmt.Errorf("start the profiler: %w", err)
		}
	}
	cpu0 := chromiumCPU(ctx)
	frames, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(panZoom, duration.Milliseconds()), chromedp.EvalAwaitPromise))
	if err != nil {
		return r, fmt.Errorf("pan and zoom: %w", err)
	}
	if len(frames) == 0 {
		return r, errors.New("no animation frames were recorded")
	}
	r.panCPU = chromiumCPU(ctx) - cpu0
	if profileFile != "" {
		fmt.Fprintln(os.Stderr, "the pans and zooms:")
		if err := stopProfile(ctx, strings.TrimSuffix(profileFile, ".cpuprofile")+"-pan.cpuprofile"); err != nil {
			return r, fmt.Errorf("the profile: %w", err)
		}
	}
	slices.Sort(frames)
	r.frames = len(frames)
	r.p50, r.p95, r.p99, r.max = percentile(frames, 0.50), percentile(frames, 0.95), percentile(frames, 0.99), frames[len(frames)-1]

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](editPick, chromedp.EvalAwaitPromise)); err != nil {
		return r, fmt.Errorf("select one to edit: %w", err)
	}
	if profileFile != "" {
		if err := startProfile(ctx); err != nil {
			return r, fmt.Errorf("start the profiler: %w", err)
		}
	}
	edit, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](editOne, chromedp.EvalAwaitPromise))
	if err != nil {
		return r, fmt.Errorf("edit one: %w", err)
	}
	r.edit = edit[0]
	fmt.Fprintf(os.Stderr, "n=%d: the edit took %.0f ms, its save's request %.0f ms of it\n", n, edit[0], edit[1])
	if profileFile != "" {
		fmt.Fprintln(os.Stderr, "the edit:")
		if err := stopProfile(ctx, strings.TrimSuffix(profileFile, ".cpuprofile")+"-edit.cpuprofile"); err != nil {
			return r, fmt.Errorf("the profile: %w", err)
		}
	}
	return r, nil
}

// probe records, in window.__bench, when (ms after the navigation began) the annotator's
// data-ready turned true, when the map then finished rendering, and when it first
// finished rendering with at least %d annotations on the page (once data-loaded is true).
const probe = `(() => {
  window.__bench = {};
  const want = %d;
  const watch = () => {
    const root = document.getElementById('annotator');
    if (!root) return;
    const done = () => {
      window.__bench.ready = performance.now();
      window.satmark.map.once('rendercomplete', () => (window.__bench.shown = performance.now()));
      const all = () => {
        // Counted once the annotator says every page is in: counting 100,000 at each
        // rendercomplete was half a second of the load.
        if (root.dataset.loaded === 'true' && window.satmark.annotations().length >= want) window.__bench.all = performance.now();
        else window.satmark.map.once('rendercomplete', all);
      };
      window.satmark.map.once('rendercomplete', all);
    };
    if (root.dataset.ready === 'true') return done();
    const mo = new MutationObserver(() => {
      if (root.dataset.ready === 'true') {
        mo.disconnect();
        done();
      }
    });
    mo.observe(root, {attributes: true, attributeFilter: ['data-ready']});
  };
  document.addEventListener('DOMContentLoaded', watch);
})()`

// panZoom animates the view for %d ms, alternating pans at the current zoom with zooms
// to a random resolution between the whole image and 8× in, and returns every
// requestAnimationFrame interval (ms) seen meanwhile.
const panZoom = `(async () => {
  const view = satmark.map.getView();
  const size = satmark.map.getSize();
  const [minx, miny, maxx, maxy] = view.calculateExtent(size);
  const whole = view.getResolution();
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) %% 2147483647) / 2147483647);
  const frames = [];
  let last = performance.now(), running = true;
  const tick = (t) => {
    frames.push(t - last);
    last = t;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
  const end = performance.now() + %d;
  let i = 0;
  while (performance.now() < end) {
    const center = [minx + rnd() * (maxx - minx), miny + rnd() * (maxy - miny)];
    const to = i++ %% 2 === 0 ? {center, duration: 400} : {center, resolution: whole / Math.pow(2, rnd() * 3), duration: 400};
    await new Promise((resolve) => view.animate(to, resolve));
  }
  running = false;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return frames.slice(1);
})()`

// editPick selects an annotation from the list (the map zooms to it) and waits until the
// view has stopped and the map shows it all; editOne then gives it another label through
// the editor and waits until the save is answered and the map has rendered since; it
// returns the ms from the change to then, and the ms the save's requests took of them.
const editPick = `(async () => {
  const li = document.querySelector('#annotation-list li[data-annotation-id]');
  if (!li) throw new Error('no annotation in the list');
  li.click();
  const view = satmark.map.getView();
  do await new Promise((resolve) => setTimeout(resolve, 300));
  while (view.getAnimating());
  // A frame asked for: once() returns its listener's key, so an "|| render()" after it never ran.
  await new Promise((resolve) => {
    satmark.map.once('rendercomplete', resolve);
    satmark.map.render();
  });
  return true;
})()`

const editOne = `(async () => {
  const sel = document.getElementById('edit-label');
  const other = [...sel.options].find((o) => o.value && o.value !== sel.value);
  const t0 = performance.now();
  sel.value = other.value;
  sel.dispatchEvent(new Event('change', {bubbles: true}));
  const state = document.getElementById('save-state');
  while (!state.classList.contains('ok') || state.textContent !== 'All changes saved') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => {
    satmark.map.once('rendercomplete', resolve);
    satmark.map.render();
  });
  const t1 = performance.now();
  const saves = performance.getEntriesByType('resource').filter((e) => e.startTime >= t0 && /\/api\/v1\/annotations\//.test(e.name));
  return [t1 - t0, saves.reduce((sum, e) => sum + e.duration, 0)];
})()`

// seedShapes stores n annotations on the sample port scene: points, rectangles and
// hexagons in turn, 4–14 px across, at random places (the same for every run). The first
// of each shape and label goes through Store.CreateAnnotation; the rest, copies of those
// with their own id and geometry (checked with Geometry.Validate), are inserted with their
// creation revisions in one transaction through Store.DB(), since one CreateAnnotation
// each takes longer the more the image holds (100,000 would take most of an hour).
func seedShapes(db string, n int) (string, error) {
	ctx := context.Background()
	s, err := annotations.Open(db)
	if err != nil {
		return "", err
	}
	defer s.Close()
	images, err := s.Images(ctx)
	if err != nil {
		return "", err
	}
	if len(images) == 0 {
		return "", errors.New("the seeded data folder holds no image")
	}
	img := images[0]
	for _, im := range images {
		if strings.Contains(im.Title, "port scene modelled") {
			img = im
		}
	}
	labels, err := s.Labels(ctx)
	if err != nil {
		return "", err
	}
	var leaves []string
	for _, l := range labels {
		if len(l.Path) > 1 {
			leaves = append(leaves, l.ID)
		}
	}
	if len(leaves) == 0 {
		return "", errors.New("the taxonomy has no leaf labels")
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	w, h := float64(img.Width), float64(img.Height)
	shapes := []annotations.Shape{annotations.ShapePoint, annotations.ShapeRectangle, annotations.ShapePolygon}
	templates := map[string]annotations.Annotation{} // shape|label → the one created through the API
	// The first of each shape and label, through the API (before the batch's transaction,
	// which holds SQLite's one writer).
	first := min(n, len(shapes)*len(leaves))
	for i := 0; i < first; i++ {
		shape := shapes[i%len(shapes)]
		label := leaves[(i/len(shapes))%len(leaves)]
		raw, _ := json.Marshal(randomGeometry(rng, shape, w, h))
		a, err := s.CreateAnnotation(ctx, benchUser, img.ID, annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: raw})
		if err != nil {
			return "", fmt.Errorf("annotation %d: %w", i, err)
		}
		templates[string(shape)+"|"+label] = a
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	insAnn, err := tx.PrepareContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification, note,
			attributes, review_status, created_by, created_at, updated_by, updated_at, version)
		VALUES (?, ?, ?, ?, ?, '', '', '', '{}', 'draft', ?, ?, ?, ?, 1)`)
	if err != nil {
		return "", err
	}
	insRev, err := tx.PrepareContext(ctx, `INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		VALUES (?, ?, 1, 'create', ?, ?, NULL, ?)`)
	if err != nil {
		return "", err
	}
	for i := first; i < n; i++ {
		shape := shapes[i%len(shapes)]
		label := leaves[(i/len(shapes))%len(leaves)]
		g := randomGeometry(rng, shape, w, h)
		t := templates[string(shape)+"|"+label]
		if err := g.Validate(shape, img.Width, img.Height); err != nil {
			return "", fmt.Errorf("annotation %d: %w", i, err)
		}
		t.ID, t.Geometry = uuid(rng), g
		geom, _ := json.Marshal(g)
		after, err := json.Marshal(t)
		if err != nil {
			return "", err
		}
		at := t.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		if _, err := insAnn.ExecContext(ctx, t.ID, img.ID, t.Label.ID, shape, geom, benchUser, at, benchUser, at); err != nil {
			return "", fmt.Errorf("insert annotation %d: %w", i, err)
		}
		if _, err := insRev.ExecContext(ctx, t.ID, img.ID, benchUser, at, after); err != nil {
			return "", fmt.Errorf("insert revision %d: %w", i, err)
		}
	}
	return img.ID, tx.Commit()
}

func randomGeometry(rng *rand.Rand, shape annotations.Shape, w, h float64) annotations.Geometry {
	size := 4 + rng.Float64()*10
	x := size + rng.Float64()*(w-2*size)
	y := size + rng.Float64()*(h-2*size)
	var geom any
	switch shape {
	case annotations.ShapePoint:
		geom = map[string]any{"type": "Point", "coordinates": []float64{x, y}}
	case annotations.ShapeRectangle:
		geom = map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{x, y}, {x + size, y}, {x + size, y + size}, {x, y + size}, {x, y}}}}
	default:
		ring := [][]float64{}
		for k := 0; k < 6; k++ {
			a := float64(k) * math.Pi / 3
			r := size / 2 * (0.6 + 0.4*rng.Float64())
			ring = append(ring, []float64{x + r*math.Cos(a), y + r*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		geom = map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}}
	}
	raw, _ := json.Marshal(geom)
	var g annotations.Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		panic(err) // made above, always valid JSON
	}
	return g
}

// uuid makes a random version 4 UUID, as the store's ids are.
func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// poll waits until a JavaScript expression is truthy and returns its value, polling
// again when a navigation replaced the page under it.
var pollTimeout = 2 * time.Minute

func poll[T any](ctx context.Context, js string) (T, error) {
	for {
		v, err := chromedp.Run(ctx, chromedp.Poll[T](js, chromedp.WithPollingTimeout(pollTimeout), chromedp.WithPollingInterval(10*time.Millisecond)))
		if err != nil && ctx.Err() == nil && (strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "navigated or closed")) {
			continue
		}
		return v, err
	}
}

func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHealthy(url string) error {
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within 30 s", url)
}

func findChromium() (string, error) {
	for _, c := range []string{os.Getenv("SATMARK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (apt-get install -y chromium, or set SATMARK_CHROMIUM)")
}
