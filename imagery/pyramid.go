package imagery

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/disintegration/imaging"
)

// Pyramid layout. Level k holds the image scaled by 1/2^k (IIIF scale factor 2^k), cut into
// TileSize-pixel tiles, JPEG or, for an image with transparency, PNG: tile (column n, row m) of level k is exactly the IIIF tile
// {n·256·2^k},{m·256·2^k},{w},{h}/{ws},{hs} of the image API's implementation notes, so
// serving a tile is reading a file. Levels go on until one tile holds the whole image.
const (
	TileSize    = 256
	TileQuality = 85
)

// Level is one resolution of a pyramid.
type Level struct {
	Scale  int `json:"scale"`  // IIIF scale factor, 2^k
	Width  int `json:"width"`  // ceil(image width / Scale)
	Height int `json:"height"` // ceil(image height / Scale)
	Cols   int `json:"cols"`
	Rows   int `json:"rows"`
}

// Levels returns the pyramid levels of a width×height image, full resolution first.
func Levels(width, height int) []Level {
	var levels []Level
	for s := 1; ; s *= 2 {
		w, h := ceilDiv(width, s), ceilDiv(height, s)
		levels = append(levels, Level{Scale: s, Width: w, Height: h, Cols: ceilDiv(w, TileSize), Rows: ceilDiv(h, TileSize)})
		if w <= TileSize && h <= TileSize {
			return levels
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Manifest describes a complete pyramid. Its presence is what makes a pyramid complete:
// it is written last, into a folder that is renamed into place.
type Manifest struct {
	Version  int     `json:"version"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	TileSize int     `json:"tile_size"`
	Quality  int     `json:"quality"`
	Levels   []Level `json:"levels"`
	Tiles    int     `json:"tiles"`
	// Display is how a raster read through GDAL was shown (its bands and stretch); nil
	// for the formats satmark decodes itself, whose pixels are shown as stored. Its Tag
	// tells tiles of one display from another's.
	Display *Display `json:"display,omitempty"`
	// Format is the tiles' IIIF format: TilePNG, RGBA, when some of the image's pixels
	// may be "no data" (see transparent), else TileJPEG.
	Format string `json:"format"`
	// untyped is set on reading a manifest that names no format: one written before
	// satmark made pixels without data transparent (see Library.Outdated).
	untyped bool
}

// Tile formats, as IIIF names them.
const (
	TileJPEG = "jpg"
	TilePNG  = "png"
)

// Manifest versions: 1 has JPEG tiles (Format came later: absent, it is TileJPEG); 2 has
// PNG tiles. A JPEG pyramid is still written as version 1, which a satmark from before PNG
// tiles serves; a PNG pyramid, which it could not, it takes as unbuilt.
const (
	manifestVersion    = 1
	manifestVersionPNG = 2
)

// Tag tells apart the tiles of pyramids that may look different: the display's tag, and
// whether the tiles have transparency. A JPEG pyramid's is its display's.
func (m *Manifest) Tag() string {
	if m.Format == TilePNG {
		return m.Display.Tag() + "-png"
	}
	return m.Display.Tag()
}

// px is the bytes per pixel of the pyramid's rows: RGBA for PNG tiles, else RGB.
func (m *Manifest) px() int {
	if m.Format == TilePNG {
		return 4
	}
	return 3
}

// tileIndex numbers tiles level by level, row by row.
func (m *Manifest) tileIndex(k, row, col int) int {
	i := 0
	for j := 0; j < k; j++ {
		i += m.Levels[j].Cols * m.Levels[j].Rows
	}
	return i + row*m.Levels[k].Cols + col
}

func (l *Library) pyramidDir(sha string) string {
	return filepath.Join(l.derivedDir(sha), "pyramid")
}

func tilePath(dir string, k, row, col int, format string) string {
	return filepath.Join(dir, strconv.Itoa(k), strconv.Itoa(row)+"_"+strconv.Itoa(col)+"."+format)
}

// rowSource delivers an image as RGB rows, top to bottom, or as RGBA rows (alpha not
// premultiplied; a transparent pixel is 0, 0, 0, 0) when it was opened with alpha.
type rowSource interface {
	read(buf []byte, stride, n int) (int, error)
	Close()
}

// openSource opens the original for streaming. A JPEG shown as stored is streamed by
// libjpeg-turbo, a strip at a time; PNG, TIFF, JPEG 2000, NITF and ERDAS IMG are read by
// GDAL a window at a time, shown as their Display says; anything else (GIF, BMP, WebP,
// EXIF-rotated or CMYK JPEGs) is decoded whole by Go and oriented first.
func (l *Library) openSource(path string, info Info) (rowSource, error) {
	if ReadByGDAL(info.MediaType) {
		s, err := openGDALSource(path, info.Display)
		if err != nil {
			return nil, err
		}
		if s.d.width != info.Width || s.d.height != info.Height {
			s.Close()
			return nil, fmt.Errorf("the raster is %d×%d pixels but was recorded as %d×%d: %w", s.d.width, s.d.height, info.Width, info.Height, ErrCorrupt)
		}
		return s, nil
	}
	if info.MediaType == "image/jpeg" && info.Orientation <= 1 {
		d, err := openJPEG(path)
		if err == nil && d.width == info.Width && d.height == info.Height {
			return d, nil
		}
		if d != nil {
			d.Close()
		}
	}
	img, err := l.decodeWhole(path, info)
	if err != nil {
		return nil, err
	}
	return &imageSource{img: img}, nil
}

func (l *Library) decodeWhole(path string, info Info) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the image's pixels (%v): %w", err, ErrCorrupt)
	}
	img = orient(img, info.Orientation)
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return nil, fmt.Errorf("decoded %d×%d pixels but the header says %d×%d: %w", b.Dx(), b.Dy(), info.Width, info.Height, ErrCorrupt)
	}
	return img, nil
}

// imageSource delivers a decoded image as RGB rows, or RGBA rows with alpha.
type imageSource struct {
	img   image.Image
	alpha bool
	y     int
	rgba  *image.RGBA
}

// opaque reports whether every pixel of a decoded image is opaque (a scan of the pixels
// for the types that can hold transparency).
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return true
}

func (s *imageSource) read(buf []byte, stride, n int) (int, error) {
	b := s.img.Bounds()
	w := b.Dx()
	if n > b.Dy()-s.y {
		n = b.Dy() - s.y
	}
	if n <= 0 {
		return 0, nil
	}
	if s.rgba == nil || s.rgba.Rect.Dy() < n {
		s.rgba = image.NewRGBA(image.Rect(0, 0, w, n))
	}
	draw.Draw(s.rgba, image.Rect(0, 0, w, n), s.img, image.Pt(b.Min.X, b.Min.Y+s.y), draw.Src)
	for r := 0; r < n; r++ {
		src := s.rgba.Pix[r*s.rgba.Stride:]
		dst := buf[r*stride:]
		if s.alpha {
			unpremultiply(dst[:4*w], src[:4*w])
			continue
		}
		for x := 0; x < w; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
	s.y += n
	return n, nil
}

func (s *imageSource) Close() {}

// unpremultiply copies premultiplied RGBA pixels as RGBA with straight alpha, a transparent
// pixel as 0, 0, 0, 0.
func unpremultiply(dst, src []byte) {
	for i := 0; i < len(src); i += 4 {
		switch a := uint(src[i+3]); a {
		case 255:
			copy(dst[i:i+4], src[i:i+4])
		case 0:
			dst[i], dst[i+1], dst[i+2], dst[i+3] = 0, 0, 0, 0
		default:
			dst[i] = byte((uint(src[i])*255 + a/2) / a)
			dst[i+1] = byte((uint(src[i+1])*255 + a/2) / a)
			dst[i+2] = byte((uint(src[i+2])*255 + a/2) / a)
			dst[i+3] = byte(a)
		}
	}
}

// downsample halves src (w×h RGB, rows srcStride apart) into dst (rows dstStride apart)
// by averaging 2×2 blocks; an odd last row or column is averaged with itself.
func downsample(dst []byte, dstStride int, src []byte, srcStride, w, h int) {
	dw, dh := ceilDiv(w, 2), ceilDiv(h, 2)
	for j := 0; j < dh; j++ {
		r0 := src[2*j*srcStride:]
		r1 := r0
		if 2*j+1 < h {
			r1 = src[(2*j+1)*srcStride:]
		}
		d := dst[j*dstStride:]
		full := w / 2
		for i := 0; i < full; i++ {
			a := 6 * i
			d[3*i] = byte((uint(r0[a]) + uint(r0[a+3]) + uint(r1[a]) + uint(r1[a+3]) + 2) >> 2)
			d[3*i+1] = byte((uint(r0[a+1]) + uint(r0[a+4]) + uint(r1[a+1]) + uint(r1[a+4]) + 2) >> 2)
			d[3*i+2] = byte((uint(r0[a+2]) + uint(r0[a+5]) + uint(r1[a+2]) + uint(r1[a+5]) + 2) >> 2)
		}
		if dw > full { // odd width: the last column pairs with itself
			a := 6 * full
			for c := 0; c < 3; c++ {
				d[3*full+c] = byte((2*uint(r0[a+c]) + 2*uint(r1[a+c]) + 2) >> 2)
			}
		}
	}
}

// downsampleRGBA halves RGBA pixels as downsample does RGB, weighting each colour by its
// alpha, so the edge of the image's data does not darken towards its transparent pixels:
// a pixel is transparent only when all four it comes from are (its alpha rounds up).
func downsampleRGBA(dst []byte, dstStride int, src []byte, srcStride, w, h int) {
	dw, dh := ceilDiv(w, 2), ceilDiv(h, 2)
	for j := 0; j < dh; j++ {
		r0 := src[2*j*srcStride:]
		r1 := r0
		if 2*j+1 < h {
			r1 = src[(2*j+1)*srcStride:]
		}
		d := dst[j*dstStride:]
		for i := 0; i < dw; i++ {
			a, b := 8*i, 8*i+4
			if 2*i+1 == w { // odd width: the last column pairs with itself
				b = a
			}
			mix4(d[4*i:4*i+4], r0[a:a+4], r0[b:b+4], r1[a:a+4], r1[b:b+4])
		}
	}
}

// mix4 sets d to the alpha-weighted mean of four RGBA pixels.
func mix4(d, p, q, r, s []byte) {
	sa := uint(p[3]) + uint(q[3]) + uint(r[3]) + uint(s[3])
	switch sa {
	case 0:
		d[0], d[1], d[2], d[3] = 0, 0, 0, 0
	case 4 * 255:
		for c := 0; c < 3; c++ {
			d[c] = byte((uint(p[c]) + uint(q[c]) + uint(r[c]) + uint(s[c]) + 2) >> 2)
		}
		d[3] = 255
	default:
		for c := 0; c < 3; c++ {
			d[c] = byte((uint(p[c])*uint(p[3]) + uint(q[c])*uint(q[3]) + uint(r[c])*uint(r[3]) + uint(s[c])*uint(s[3]) + sa/2) / sa)
		}
		d[3] = byte((sa + 3) >> 2)
	}
}

// halve is downsample for px bytes per pixel, 3 (RGB) or 4 (RGBA).
func halve(px int, dst []byte, dstStride int, src []byte, srcStride, w, h int) {
	if px == 4 {
		downsampleRGBA(dst, dstStride, src, srcStride, w, h)
	} else {
		downsample(dst, dstStride, src, srcStride, w, h)
	}
}

// encodeTile encodes a tile of w×h pixels, rows stride bytes apart, in the pyramid's
// format: JPEG from RGB, PNG (fastest compression) from RGBA.
func encodeTile(format string, pix []byte, w, h, stride int) ([]byte, error) {
	if format != TilePNG {
		return encodeJPEG(pix, w, h, stride, TileQuality, false)
	}
	var buf bytes.Buffer
	img := &image.NRGBA{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}
	err := pngEncoder.Encode(&buf, img)
	return buf.Bytes(), err
}

var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers lets the PNG encoders of concurrent tiles reuse their buffers.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// strip is one tile-row of a level: TileSize rows of RGB (or RGBA), shared by the tile encoders
// until they are done with it.
type strip struct {
	pix     []byte
	pending sync.WaitGroup
}

type levelBuild struct {
	Level
	k     int
	px    int // bytes per pixel
	cur   *strip
	rows  int // rows filled in cur
	row   int // tile row that cur holds
	whole []byte
	// pool keeps this level's strips for reuse once their tiles are encoded: one pool per
	// level, so a full-width strip is never taken for a small level's and held there.
	pool sync.Pool
}

type tileJob struct {
	k, row, col int
	st          *strip
	off, w, h   int
	stride      int
}

// pyramidBuild cuts a stream of rows into tiles, level after level.
type pyramidBuild struct {
	dir      string
	manifest *Manifest
	levels   []*levelBuild
	crcs     []uint32
	jobs     chan tileJob
	errOnce  sync.Once
	err      error
	done     chan struct{}
	tiles    int
	progress func(done, total int)
	mu       sync.Mutex
	thumbK   int
	workers  sync.WaitGroup
}

func (b *pyramidBuild) fail(err error) {
	b.errOnce.Do(func() {
		b.err = err
		close(b.done)
	})
}

func (lv *levelBuild) newStrip() *strip {
	if v := lv.pool.Get(); v != nil {
		return v.(*strip)
	}
	return &strip{pix: make([]byte, TileSize*lv.Width*lv.px)}
}

func (b *pyramidBuild) encoder() {
	defer b.workers.Done()
	for j := range b.jobs {
		b.encodeTile(j)
		j.st.pending.Done()
	}
}

func (b *pyramidBuild) encodeTile(j tileJob) {
	select {
	case <-b.done:
		return
	default:
	}
	data, err := encodeTile(b.manifest.Format, j.st.pix[j.off:], j.w, j.h, j.stride)
	if err == nil {
		err = os.WriteFile(tilePath(b.dir, j.k, j.row, j.col, b.manifest.Format), data, 0o644)
	}
	if err != nil {
		b.fail(fmt.Errorf("tile %d/%d/%d: %w", j.k, j.row, j.col, err))
		return
	}
	b.mu.Lock()
	b.crcs[b.manifest.tileIndex(j.k, j.row, j.col)] = crc32.ChecksumIEEE(data)
	b.tiles++
	done := b.tiles
	b.mu.Unlock()
	if b.progress != nil {
		b.progress(done, b.manifest.Tiles)
	}
}

// emit hands the full (or final) strip of level k to the encoders and halves it into
// level k+1.
func (b *pyramidBuild) emit(k int) {
	lv := b.levels[k]
	st, rows := lv.cur, lv.rows
	stride := lv.Width * lv.px
	for col := 0; col < lv.Cols; col++ {
		w := min(TileSize, lv.Width-col*TileSize)
		st.pending.Add(1)
		select {
		case b.jobs <- tileJob{k: k, row: lv.row, col: col, st: st, off: col * TileSize * lv.px, w: w, h: rows, stride: stride}:
		case <-b.done:
			st.pending.Done()
		}
	}
	if lv.whole != nil {
		copy(lv.whole[lv.row*TileSize*stride:], st.pix[:rows*stride])
	}
	if k+1 < len(b.levels) {
		next := b.levels[k+1]
		halve(lv.px, next.cur.pix[next.rows*next.Width*lv.px:], next.Width*lv.px, st.pix, stride, lv.Width, rows)
		next.rows += ceilDiv(rows, 2)
		if next.rows == TileSize {
			b.emit(k + 1)
		}
	}
	go func() { // the strip goes back to the pool once its tiles are encoded
		st.pending.Wait()
		lv.pool.Put(st)
	}()
	lv.row++
	lv.rows = 0
	lv.cur = lv.newStrip()
}

// BuildPyramid cuts the stored original into its tile pyramid and writes its thumbnail,
// a raster read through GDAL shown as info.Display says. It works into a temporary folder
// that is renamed into place only when every tile and the manifest are written, so a
// pyramid that exists is complete, and the one it replaces is served until then. progress is called as
// tiles are written. On error or cancellation nothing of the new pyramid remains.
func (l *Library) BuildPyramid(ctx context.Context, sha string, info Info, progress func(done, total int)) error {
	building := l.pyramidDir(sha) + ".building"
	os.RemoveAll(building)
	err := l.buildInto(ctx, building, l.rasterPath(sha), info, progress)
	if err == nil {
		err = l.install(sha, building)
	}
	if err != nil {
		os.RemoveAll(building)
	}
	return err
}

func (l *Library) install(sha, building string) error {
	final := l.pyramidDir(sha)
	old := final + ".old"
	os.RemoveAll(old)
	if err := os.Rename(final, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(building, final); err != nil {
		return err
	}
	os.RemoveAll(old)
	l.forgetPyramid(sha)
	return syncFile(filepath.Dir(final))
}

func (l *Library) buildInto(ctx context.Context, dir, original string, info Info, progress func(done, total int)) error {
	src, err := l.openSource(original, info)
	if err != nil {
		return err
	}
	defer src.Close()
	levels := Levels(info.Width, info.Height)
	m := &Manifest{Version: manifestVersion, Width: info.Width, Height: info.Height, TileSize: TileSize, Quality: TileQuality,
		Levels: levels, Format: TileJPEG}
	switch s := src.(type) {
	case *gdalSource:
		m.Display = s.disp
		s.alpha = s.d.masked(channels(s.disp.Bands))
		if s.alpha {
			m.Version, m.Format = manifestVersionPNG, TilePNG
		}
	case *imageSource:
		if s.alpha = !opaque(s.img); s.alpha {
			m.Version, m.Format = manifestVersionPNG, TilePNG
		}
	}
	px := m.px()
	for _, lv := range levels {
		m.Tiles += lv.Cols * lv.Rows
	}
	b := &pyramidBuild{dir: dir, manifest: m, crcs: make([]uint32, m.Tiles), jobs: make(chan tileJob, 128),
		done: make(chan struct{}), progress: progress}
	// The thumbnail comes from the smallest level at least ThumbnailSize across.
	b.thumbK = 0
	for k, lv := range levels {
		if max(lv.Width, lv.Height) >= ThumbnailSize {
			b.thumbK = k
		}
	}
	for k, lv := range levels {
		if err := os.MkdirAll(filepath.Join(dir, strconv.Itoa(k)), 0o755); err != nil {
			return err
		}
		lb := &levelBuild{Level: lv, k: k, px: px}
		lb.cur = lb.newStrip()
		if k == b.thumbK {
			lb.whole = make([]byte, lv.Rows*TileSize*lv.Width*px)
		}
		b.levels = append(b.levels, lb)
	}
	workers := runtime.GOMAXPROCS(0)
	for i := 0; i < workers; i++ {
		b.workers.Add(1)
		go b.encoder()
	}
	// The reader can finish well before the encoders (128 tiles wait in b.jobs): a stop
	// must reach them too, not only the reader's loop.
	defer context.AfterFunc(ctx, func() { b.fail(ctx.Err()) })()
	err = b.run(ctx, src)
	close(b.jobs)
	b.workers.Wait()
	if err == nil {
		err = b.err
	}
	if err != nil {
		return err
	}
	if err := b.writeThumbnail(filepath.Join(dir, "thumb.jpg")); err != nil {
		return err
	}
	return writeManifest(dir, m, b.crcs)
}

func (b *pyramidBuild) run(ctx context.Context, src rowSource) error {
	l0 := b.levels[0]
	stride := l0.Width * l0.px
	for {
		if err := ctx.Err(); err != nil {
			b.fail(err)
			return err
		}
		select {
		case <-b.done:
			return b.err
		default:
		}
		n, err := src.read(l0.cur.pix[l0.rows*stride:], stride, TileSize-l0.rows)
		if err != nil {
			b.fail(err)
			return err
		}
		l0.rows += n
		if l0.rows == TileSize || (n == 0 && l0.rows > 0) {
			b.emit(0)
		}
		if n == 0 {
			break
		}
	}
	if got := l0.row * TileSize; got < l0.Height {
		err := fmt.Errorf("the image ended after %d of %d rows: %w", got, l0.Height, ErrCorrupt)
		b.fail(err)
		return err
	}
	for k := 1; k < len(b.levels); k++ {
		if b.levels[k].rows > 0 {
			b.emit(k)
		}
	}
	return nil
}

// writeThumbnail writes the thumbnail as a JPEG, an image with transparency composited
// over white (as a .jpg of it is rendered).
func (b *pyramidBuild) writeThumbnail(path string) error {
	lv := b.levels[b.thumbK]
	img := &image.NRGBA{Pix: make([]byte, lv.Width*lv.Height*4), Stride: lv.Width * 4, Rect: image.Rect(0, 0, lv.Width, lv.Height)}
	if lv.px == 4 {
		copy(img.Pix, lv.whole)
		overWhite(img)
	} else {
		for i, j := 0, 0; i < lv.Width*lv.Height; i, j = i+1, j+3 {
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = lv.whole[j], lv.whole[j+1], lv.whole[j+2], 255
		}
	}
	return writeJPEG(path, imaging.Fit(img, ThumbnailSize, ThumbnailSize, imaging.Lanczos), 85)
}

// overWhite composites an image with straight alpha over white, in place: every pixel
// ends opaque.
func overWhite(img *image.NRGBA) {
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*img.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			if a := uint(row[i+3]); a != 255 {
				for c := 0; c < 3; c++ {
					row[i+c] = byte((uint(row[i+c])*a + 255*(255-a) + 127) / 255)
				}
				row[i+3] = 255
			}
		}
	}
}

func writeManifest(dir string, m *Manifest, crcs []uint32) error {
	buf := make([]byte, 4*len(crcs))
	for i, c := range crcs {
		binary.LittleEndian.PutUint32(buf[4*i:], c)
	}
	if err := os.WriteFile(filepath.Join(dir, "crc32.bin"), buf, 0o644); err != nil {
		return err
	}
	j, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), j, 0o644)
}
