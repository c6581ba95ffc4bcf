// Command iiifurls makes the URL lists bench/run.sh feeds to wrk, and checks them.
//
//	iiifurls tiles -width W -height H -vips DIR -satmark URL -nginx URL -out FILE
//	iiifurls renders -width W -height H -n 20000 -out FILE
//
// tiles lists every IIIF tile of a W×H image in canonical form,
// {x},{y},{w},{h}/{ws},{hs}/0/default.jpg, computed with the tile arithmetic of the IIIF
// Image API 3.0 implementation notes for scale factors 1, 2, 4, … (independently of
// satmark's code), keeps those vips dzsave --layout iiif3 wrote under DIR, fetches each
// once from satmark and from nginx (which warms both) and writes the paths both answered
// 200 for. It compares a sample of tiles byte for byte and pixel for pixel, and prints
// key=value lines for run.sh.
//
// renders writes n distinct non-tile image requests (odd output widths, varied regions,
// pixel and percent regions), distinct in the canonical form satmark keys its render cache
// by, so that none can be answered from the cache.
package main

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: iiifurls tiles|renders [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "tiles":
		err = tiles(os.Args[2:])
	case "renders":
		err = renders(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "iiifurls:", err)
		os.Exit(1)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// tilePaths lists the tiles of a width×height image, coarsest scale factor last: the
// implementation notes' region x = n·tw·s, y = m·th·s, w = min(tw·s, width−x),
// h = min(th·s, height−y) and size ceil(w/s), ceil(h/s), for s = 1, 2, 4, … up to the
// first scale factor at which one tile holds the whole image.
func tilePaths(width, height, tile int) []string {
	var paths []string
	for s := 1; ; s *= 2 {
		span := tile * s
		for y := 0; y < height; y += span {
			for x := 0; x < width; x += span {
				w, h := min(span, width-x), min(span, height-y)
				paths = append(paths, fmt.Sprintf("%d,%d,%d,%d/%d,%d/0/default.jpg", x, y, w, h, ceilDiv(w, s), ceilDiv(h, s)))
			}
		}
		if ceilDiv(width, s) <= tile && ceilDiv(height, s) <= tile {
			return paths
		}
	}
}

func tiles(args []string) error {
	fs := flag.NewFlagSet("tiles", flag.ExitOnError)
	width := fs.Int("width", 0, "image width")
	height := fs.Int("height", 0, "image height")
	tile := fs.Int("tile", 256, "tile size")
	vipsDir := fs.String("vips", "", "vips dzsave --layout iiif3 output folder")
	satmark := fs.String("satmark", "", "satmark's image base URL, ending in /")
	nginx := fs.String("nginx", "", "nginx's base URL over the vips folder, ending in /")
	out := fs.String("out", "", "file to write the paths to")
	compare := fs.Int("compare", 20, "tiles to compare between satmark and vips")
	fs.Parse(args)
	if *width <= 0 || *height <= 0 || *vipsDir == "" || *satmark == "" || *nginx == "" || *out == "" {
		return fmt.Errorf("tiles needs -width, -height, -vips, -satmark, -nginx and -out")
	}
	all := tilePaths(*width, *height, *tile)
	var inVips []string
	for _, p := range all {
		if _, err := os.Stat(filepath.Join(*vipsDir, filepath.FromSlash(p))); err == nil {
			inVips = append(inVips, p)
		}
	}
	if len(inVips) == 0 {
		return fmt.Errorf("none of the %d tile paths is in %s: is it a vips --layout iiif3 folder?", len(all), *vipsDir)
	}

	// The warm pass: every path from both servers, a few at a time.
	type result struct{ satmark, nginx int }
	results := make([]result, len(inVips))
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i].satmark, _ = fetch(client, *satmark+inVips[i], nil)
				results[i].nginx, _ = fetch(client, *nginx+inVips[i], nil)
			}
		}()
	}
	for i := range inVips {
		next <- i
	}
	close(next)
	wg.Wait()
	warm := time.Since(start)

	var both []string
	satmarkBad, nginxBad := 0, 0
	for i, p := range inVips {
		r := results[i]
		if r.satmark != http.StatusOK {
			satmarkBad++
			if satmarkBad <= 5 {
				fmt.Fprintf(os.Stderr, "satmark answered %d for %s\n", r.satmark, p)
			}
		}
		if r.nginx != http.StatusOK {
			nginxBad++
			if nginxBad <= 5 {
				fmt.Fprintf(os.Stderr, "nginx answered %d for %s\n", r.nginx, p)
			}
		}
		if r.satmark == http.StatusOK && r.nginx == http.StatusOK {
			both = append(both, p)
		}
	}
	var buf bytes.Buffer
	for _, p := range both {
		buf.WriteString(p + "\n")
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}

	// Compare a sample spread over every level, evenly within each.
	identical, sameNoAPP, samePixels, compared, maxDiff := 0, 0, 0, 0, 0
	var meanDiff float64
	for _, p := range sample(both, *compare) {
		var a, b []byte
		if _, err := fetch(client, *satmark+p, &a); err != nil {
			return err
		}
		if _, err := fetch(client, *nginx+p, &b); err != nil {
			return err
		}
		compared++
		if md5.Sum(a) == md5.Sum(b) {
			identical++
			sameNoAPP++
			samePixels++
			continue
		}
		if bytes.Equal(withoutAPP(a), withoutAPP(b)) {
			sameNoAPP++
		}
		d, mean, err := pixelDiff(a, b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if d == 0 {
			samePixels++
		}
		maxDiff = max(maxDiff, d)
		meanDiff += mean
	}
	if compared > identical {
		meanDiff /= float64(compared - identical)
	}
	fmt.Printf("tiles_generated=%d\n", len(all))
	fmt.Printf("tiles_in_vips=%d\n", len(inVips))
	fmt.Printf("tiles_satmark_not_200=%d\n", satmarkBad)
	fmt.Printf("tiles_nginx_not_200=%d\n", nginxBad)
	fmt.Printf("tiles_listed=%d\n", len(both))
	fmt.Printf("warm_seconds=%.1f\n", warm.Seconds())
	fmt.Printf("compared=%d\n", compared)
	fmt.Printf("md5_identical=%d\n", identical)
	fmt.Printf("identical_without_app_markers=%d\n", sameNoAPP)
	fmt.Printf("pixel_identical=%d\n", samePixels)
	fmt.Printf("max_pixel_diff=%d\n", maxDiff)
	fmt.Printf("mean_abs_diff_of_differing=%.2f\n", meanDiff)
	return nil
}

// sample picks about n paths: as many from each scale factor (the size part of a tile
// path is its region divided by the scale factor), spread evenly within it.
func sample(paths []string, n int) []string {
	var scales []int
	byScale := map[int][]string{}
	for _, p := range paths {
		var x, y, w, h, ws, hs int
		if _, err := fmt.Sscanf(p, "%d,%d,%d,%d/%d,%d/", &x, &y, &w, &h, &ws, &hs); err != nil {
			continue
		}
		s := ceilDiv(w, ws)
		if byScale[s] == nil {
			scales = append(scales, s)
		}
		byScale[s] = append(byScale[s], p)
	}
	// Hand out the n places one scale at a time, skipping scales with no tile left.
	quota := map[int]int{}
	for total, grew := 0, true; total < n && grew; {
		grew = false
		for _, s := range scales {
			if total < n && quota[s] < len(byScale[s]) {
				quota[s]++
				total++
				grew = true
			}
		}
	}
	var out []string
	for _, s := range scales {
		list, k := byScale[s], quota[s]
		for j := 0; j < k; j++ {
			out = append(out, list[j*len(list)/k])
		}
	}
	return out
}

// withoutAPP returns a JPEG without its APPn segments (JFIF, EXIF, ICC, …): the same
// image, coded the same way, whatever metadata the encoder wrote.
func withoutAPP(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return b
	}
	out := []byte{0xFF, 0xD8}
	i := 2
	for i+4 <= len(b) && b[i] == 0xFF {
		m := b[i+1]
		if m == 0xDA { // start of scan: the rest is entropy-coded data
			break
		}
		n := 2 + (int(b[i+2])<<8 | int(b[i+3]))
		if i+n > len(b) {
			return b
		}
		if m < 0xE0 || m > 0xEF {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return append(out, b[i:]...)
}

// fetch GETs url and returns the status; the body is kept in *body when body is not nil.
// The request carries $BENCH_AUTH as its Authorization header (satmark's image service
// wants a signed-in user; nginx ignores it).
func fetch(c *http.Client, url string, body *[]byte) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if auth := os.Getenv("BENCH_AUTH"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if body != nil {
		*body = b
	}
	return resp.StatusCode, err
}

// pixelDiff decodes two JPEGs (with the same decoder) and returns the largest and the
// mean absolute difference of their R, G, B samples.
func pixelDiff(a, b []byte) (int, float64, error) {
	ia, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, 0, fmt.Errorf("satmark's tile: %w", err)
	}
	ib, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, 0, fmt.Errorf("vips' tile: %w", err)
	}
	if ia.Bounds().Size() != ib.Bounds().Size() {
		return 0, 0, fmt.Errorf("sizes differ: satmark %v, vips %v", ia.Bounds().Size(), ib.Bounds().Size())
	}
	maxd, sum, n := 0, 0, 0
	ra, rb := ia.Bounds(), ib.Bounds()
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			pa := rgb(ia, ra.Min.X+x, ra.Min.Y+y)
			pb := rgb(ib, rb.Min.X+x, rb.Min.Y+y)
			for c := range 3 {
				d := pa[c] - pb[c]
				if d < 0 {
					d = -d
				}
				maxd = max(maxd, d)
				sum += d
				n++
			}
		}
	}
	return maxd, float64(sum) / float64(n), nil
}

func rgb(img image.Image, x, y int) [3]int {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

func renders(args []string) error {
	fs := flag.NewFlagSet("renders", flag.ExitOnError)
	width := fs.Int("width", 0, "image width")
	height := fs.Int("height", 0, "image height")
	n := fs.Int("n", 20000, "distinct requests to write")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "file to write the paths to")
	fs.Parse(args)
	if *width <= 0 || *height <= 0 || *out == "" {
		return fmt.Errorf("renders needs -width, -height and -out")
	}
	W, H := float64(*width), float64(*height)
	rng := rand.New(rand.NewPCG(*seed, 333))
	seen := map[string]bool{}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for tries := 0; len(seen) < *n; tries++ {
		if tries > 100**n {
			return fmt.Errorf("only %d distinct requests after %d tries", len(seen), tries)
		}
		// A region of 3–40 % of each side, in hundredths of a percent or in pixels.
		pw, ph := 3+rng.Float64()*37, 3+rng.Float64()*37
		px, py := rng.Float64()*(100-pw), rng.Float64()*(100-ph)
		pw, ph, px, py = math.Round(pw*100)/100, math.Round(ph*100)/100, math.Round(px*100)/100, math.Round(py*100)/100
		// The pixels satmark resolves a percent region to (it rounds each edge).
		x0, y0 := int(math.Round(px*W/100)), int(math.Round(py*H/100))
		x1, y1 := min(*width, int(math.Round((px+pw)*W/100))), min(*height, int(math.Round((py+ph)*H/100)))
		var region string
		if rng.IntN(2) == 0 {
			region = fmt.Sprintf("pct:%g,%g,%g,%g", px, py, pw, ph)
		} else {
			region = fmt.Sprintf("%d,%d,%d,%d", x0, y0, x1-x0, y1-y0)
		}
		rw, rh := x1-x0, y1-y0
		// An odd width from 101 to 799 (never a tile's 256), height by aspect; or the
		// same as ,h.
		ow := 101 + 2*rng.IntN(350)
		if ow > rw {
			continue
		}
		oh := max(1, int(math.Round(float64(rh)*float64(ow)/float64(rw))))
		size := fmt.Sprintf("%d,", ow)
		if rng.IntN(4) == 0 {
			oh = 101 + 2*rng.IntN(350)
			if oh > rh {
				continue
			}
			ow = max(1, int(math.Round(float64(rw)*float64(oh)/float64(rh))))
			size = fmt.Sprintf(",%d", oh)
		}
		canonical := fmt.Sprintf("%d,%d,%d,%d/%d,%d", x0, y0, rw, rh, ow, oh)
		if seen[canonical] {
			continue
		}
		seen[canonical] = true
		fmt.Fprintf(w, "%s/%s/0/default.jpg\n", region, size)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
