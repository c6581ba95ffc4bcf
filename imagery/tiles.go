package imagery

import (
	"container/list"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"sync"
)

// ErrNoPyramid means the image's pyramid has not been built (or not finished) yet.
var ErrNoPyramid = errors.New("the tile pyramid is not built yet")

// pyramid is a built pyramid as read from disk: its manifest and tile checksums.
type pyramid struct {
	dir      string
	manifest Manifest
	tag      string     // manifest.Tag()
	mu       sync.Mutex // guards crcs and repairs
	crcs     []uint32
}

// Pyramid returns the manifest of the image's complete pyramid, or ErrNoPyramid.
func (l *Library) Pyramid(sha string) (*Manifest, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return nil, err
	}
	return &p.manifest, nil
}

// Outdated reports whether the image's pyramid, built by an earlier satmark (its manifest
// names no tile format), shows pixels without data black where this one makes them
// transparent: JPEG tiles of a raster read by GDAL whose shown bands have a nodata value,
// an alpha band or a mask. Such
// a pyramid wants building again. An image with no pyramid is not outdated (its job
// builds one).
func (l *Library) Outdated(sha string, info Info) (bool, error) {
	if !ReadByGDAL(info.MediaType) {
		return false, nil
	}
	m, err := l.Pyramid(sha)
	if errors.Is(err, ErrNoPyramid) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// A manifest that names its format was written by a satmark that chose it, and only
	// such a one is opened again in GDAL: the start-up check costs a read of each manifest.
	if !m.untyped || m.Display == nil || len(m.Display.Bands) == 0 {
		return false, nil
	}
	d, err := openGDAL(l.rasterPath(sha))
	if err != nil {
		return false, err
	}
	defer d.Close()
	return d.masked(channels(m.Display.Bands)), nil
}

func (l *Library) openPyramid(sha string) (*pyramid, error) {
	l.pyramidsMu.Lock()
	defer l.pyramidsMu.Unlock()
	if p, ok := l.pyramids[sha]; ok {
		return p, nil
	}
	dir := l.pyramidDir(sha)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoPyramid
	}
	if err != nil {
		return nil, err
	}
	p := &pyramid{dir: dir}
	err = json.Unmarshal(raw, &p.manifest)
	m := &p.manifest
	switch {
	case err != nil:
	case m.Version == manifestVersion && (m.Format == "" || m.Format == TileJPEG):
		m.untyped = m.Format == ""
		m.Format = TileJPEG
	case m.Version == manifestVersionPNG && m.Format == TilePNG:
	default:
		err = fmt.Errorf("version %d with %q tiles", m.Version, m.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("pyramid manifest of %s is unreadable (%v): %w", sha, err, ErrNoPyramid)
	}
	crcRaw, err := os.ReadFile(filepath.Join(dir, "crc32.bin"))
	if err != nil || len(crcRaw) != 4*p.manifest.Tiles {
		return nil, fmt.Errorf("pyramid checksums of %s are missing: %w", sha, ErrNoPyramid)
	}
	p.crcs = make([]uint32, p.manifest.Tiles)
	for i := range p.crcs {
		p.crcs[i] = binary.LittleEndian.Uint32(crcRaw[4*i:])
	}
	p.tag = p.manifest.Tag()
	l.pyramids[sha] = p
	return p, nil
}

// RemovePyramid deletes an image's pyramid (and any half-built one) so it can be built
// again.
func (l *Library) RemovePyramid(sha string) error {
	l.forgetPyramid(sha)
	return errors.Join(os.RemoveAll(l.pyramidDir(sha)), os.RemoveAll(l.pyramidDir(sha)+".building"))
}

// Tile returns the bytes of tile (row, col) of level k of the image's pyramid, in its
// manifest's Format (JPEG, or PNG for an image with transparency). Every
// tile read from disk is checked against the checksum recorded when it was built; a tile
// that is missing or does not match is rebuilt from the original before it is served.
func (l *Library) Tile(sha string, info Info, k, row, col int) ([]byte, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return nil, err
	}
	// The display and format are in the key: a tile read from the pyramid being replaced,
	// put after the new one is installed, is never served as the new one's.
	key := tileKey{sha: sha, display: p.tag, k: k, row: row, col: col}
	if b, ok := l.tiles.get(key); ok {
		return b, nil
	}
	m := &p.manifest
	if k < 0 || k >= len(m.Levels) || row < 0 || row >= m.Levels[k].Rows || col < 0 || col >= m.Levels[k].Cols {
		return nil, fmt.Errorf("no tile %d/%d/%d", k, row, col)
	}
	idx := m.tileIndex(k, row, col)
	path := tilePath(p.dir, k, row, col, m.Format)
	data, err := os.ReadFile(path)
	p.mu.Lock()
	want := p.crcs[idx]
	p.mu.Unlock()
	if err != nil || crc32.ChecksumIEEE(data) != want {
		if data, err = l.repairTile(p, sha, info, k, row, col); err != nil {
			return nil, err
		}
	}
	l.tiles.put(key, data)
	return data, nil
}

// repairBandBytes bounds the rows of the original a tile repair holds at once (at least
// the 2^k rows one row of a level-k tile comes from): a tile of a coarse level covers a
// large part of the image, the top one all of it.
const repairBandBytes = 1 << 20

// repairTile rebuilds one tile from the original exactly as the pyramid build made it:
// the region of the original it covers, halved k times, encoded the same way.
func (l *Library) repairTile(p *pyramid, sha string, info Info, k, row, col int) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := &p.manifest
	path := tilePath(p.dir, k, row, col, m.Format)
	idx := m.tileIndex(k, row, col)
	if data, err := os.ReadFile(path); err == nil && crc32.ChecksumIEEE(data) == p.crcs[idx] {
		return data, nil // another request repaired it meanwhile
	}
	s := m.Levels[k].Scale
	x0, y0 := col*TileSize*s, row*TileSize*s
	w, h := min(TileSize*s, info.Width-x0), min(TileSize*s, info.Height-y0)
	src, err := l.openRegion(l.rasterPath(sha), info, m.Display, m.Format == TilePNG, x0, y0, w, h)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// The region is read and halved a band of rows at a time: bands of a multiple of s
	// rows halve exactly as the whole region would.
	px := m.px()
	ow, oh := ceilDiv(w, s), ceilDiv(h, s)
	out := make([]byte, ow*oh*px)
	band := s * max(1, repairBandBytes/(w*px*s))
	rows := make([]byte, band*w*px)
	halves := make([][]byte, k) // each halving's output, reused from band to band
	for i := range halves {
		halves[i] = make([]byte, ceilDiv(w, 2<<i)*ceilDiv(band, 2<<i)*px)
	}
	for y, oy := 0, 0; y < h; {
		n := min(band, h-y)
		for got := 0; got < n; {
			read, err := src.read(rows[got*w*px:], w*px, n-got)
			if err != nil {
				return nil, err
			}
			if read == 0 {
				return nil, fmt.Errorf("the image ended early: %w", ErrCorrupt)
			}
			got += read
		}
		pix, bw, bh, stride := rows, w, n, w*px
		for i := 0; i < k; i++ {
			halve(px, halves[i], ceilDiv(bw, 2)*px, pix, stride, bw, bh)
			pix, bw, bh, stride = halves[i], ceilDiv(bw, 2), ceilDiv(bh, 2), ceilDiv(bw, 2)*px
		}
		copy(out[oy*ow*px:], pix[:bh*ow*px])
		y, oy = y+n, oy+bh
	}
	data, err := encodeTile(m.Format, out, ow, oh, ow*px)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return nil, err
	}
	if c := crc32.ChecksumIEEE(data); c != p.crcs[idx] {
		// Only a different libjpeg (or Go's PNG encoder of another release) would encode
		// the same pixels differently; record the new checksum so the repaired tile is
		// trusted from now on.
		p.crcs[idx] = c
		buf := make([]byte, 4*len(p.crcs))
		for i, v := range p.crcs {
			binary.LittleEndian.PutUint32(buf[4*i:], v)
		}
		if err := writeFileAtomic(filepath.Join(p.dir, "crc32.bin"), buf); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// openRegion opens the part [x0, x0+w) × [y0, y0+h) of the original as w-wide RGB rows
// (RGBA with alpha, for a pyramid of PNG tiles: never a JPEG's), top to bottom, holding no more of it than a read asks for (except an image decoded
// whole). A JPEG shown as stored is decoded in part (libjpeg-turbo skips rows and crops
// columns), with a margin so the colour upsampling at the edges of the part matches a
// whole decode; a raster read by GDAL is read a window at a time, shown as disp (the
// pyramid's Display) says.
func (l *Library) openRegion(path string, info Info, disp *Display, alpha bool, x0, y0, w, h int) (rowSource, error) {
	if ReadByGDAL(info.MediaType) {
		s, err := openGDALSource(path, disp)
		if err != nil {
			return nil, err
		}
		s.alpha = alpha
		return &windowSource{s: s, x: x0, y: y0, w: w, end: y0 + h}, nil
	}
	if info.MediaType == "image/jpeg" && info.Orientation <= 1 {
		if d, err := openJPEG(path); err == nil {
			const margin = 16
			cx := max(0, x0-margin)
			cw := min(info.Width, x0+w+margin) - cx
			cx, cw, err := d.crop(cx, cw)
			if err == nil {
				sy := max(0, y0-margin)
				if err = d.skip(sy); err == nil {
					return &cropSource{d: d, skip: y0 - sy, left: x0 - cx, cw: cw, w: w, remaining: h}, nil
				}
			}
			d.Close()
			return nil, err
		}
	}
	img, err := l.decodeWhole(path, info)
	if err != nil {
		return nil, err
	}
	return &imageSource{alpha: alpha, img: img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(x0, y0, x0+w, y0+h).Add(img.Bounds().Min))}, nil
}

// windowSource delivers a window of a raster read by GDAL as rows.
type windowSource struct {
	s       *gdalSource
	x, y, w int
	end     int // the row after the window
}

func (r *windowSource) read(buf []byte, stride, n int) (int, error) {
	n = min(n, r.end-r.y)
	if n <= 0 {
		return 0, nil
	}
	if err := r.s.window(r.x, r.y, r.w, n, buf, stride); err != nil {
		return 0, err
	}
	r.y += n
	return n, nil
}

func (r *windowSource) Close() { r.s.Close() }

// cropSource delivers columns [left, left+w) of a cropped JPEG decode (cw columns wide),
// after skipping its first skip rows, for remaining rows.
type cropSource struct {
	d                 *jpegDecoder
	skip, left, cw, w int
	remaining         int // rows still to deliver
	rows              []byte
}

func (r *cropSource) read(buf []byte, stride, n int) (int, error) {
	n = min(n, r.remaining)
	for n > 0 {
		want := n
		if r.skip > 0 {
			want = r.skip
		}
		if len(r.rows) < want*r.cw*3 {
			r.rows = make([]byte, want*r.cw*3)
		}
		got, err := r.d.read(r.rows, r.cw*3, want)
		if err != nil || got == 0 {
			return 0, err
		}
		if r.skip > 0 {
			r.skip -= got
			continue
		}
		for i := 0; i < got; i++ {
			copy(buf[i*stride:i*stride+r.w*3], r.rows[(i*r.cw+r.left)*3:])
		}
		r.remaining -= got
		return got, nil
	}
	return 0, nil
}

func (r *cropSource) Close() { r.d.Close() }

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// tileCache keeps recently served tiles in memory, least recently used out first.
type tileCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[tileKey]*list.Element
}

type tileKey struct {
	sha, display string
	k, row, col  int
}

type tileEntry struct {
	key  tileKey
	data []byte
}

func newTileCache(max int64) *tileCache {
	return &tileCache{max: max, ll: list.New(), items: map[tileKey]*list.Element{}}
}

func (c *tileCache) get(k tileKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*tileEntry).data, true
	}
	return nil, false
}

func (c *tileCache) put(k tileKey, data []byte) {
	if c.max <= 0 || int64(len(data)) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.ll.PushFront(&tileEntry{key: k, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		e := c.ll.Back()
		te := e.Value.(*tileEntry)
		c.ll.Remove(e)
		delete(c.items, te.key)
		c.size -= int64(len(te.data))
	}
}

// forgetAll empties the cache.
func (c *tileCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
	c.size = 0
}

// forget drops every cached tile of one image.
func (c *tileCache) forget(sha string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.items {
		if k.sha == sha {
			c.ll.Remove(e)
			delete(c.items, k)
			c.size -= int64(len(e.Value.(*tileEntry).data))
		}
	}
}
