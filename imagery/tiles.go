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
	tag      string     // manifest.Display.Tag()
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
	if err := json.Unmarshal(raw, &p.manifest); err != nil || p.manifest.Version != manifestVersion {
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
	p.tag = p.manifest.Display.Tag()
	l.pyramids[sha] = p
	return p, nil
}

// RemovePyramid deletes an image's pyramid (and any half-built one) so it can be built
// again.
func (l *Library) RemovePyramid(sha string) error {
	l.forgetPyramid(sha)
	return errors.Join(os.RemoveAll(l.pyramidDir(sha)), os.RemoveAll(l.pyramidDir(sha)+".building"))
}

// Tile returns the JPEG bytes of tile (row, col) of level k of the image's pyramid. Every
// tile read from disk is checked against the checksum recorded when it was built; a tile
// that is missing or does not match is rebuilt from the original before it is served.
func (l *Library) Tile(sha string, info Info, k, row, col int) ([]byte, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return nil, err
	}
	// The display is in the key: a tile read from the pyramid being replaced, put after
	// the new one is installed, is never served as the new one's.
	key := tileKey{sha: sha, display: p.tag, k: k, row: row, col: col}
	if b, ok := l.tiles.get(key); ok {
		return b, nil
	}
	m := &p.manifest
	if k < 0 || k >= len(m.Levels) || row < 0 || row >= m.Levels[k].Rows || col < 0 || col >= m.Levels[k].Cols {
		return nil, fmt.Errorf("no tile %d/%d/%d", k, row, col)
	}
	idx := m.tileIndex(k, row, col)
	path := tilePath(p.dir, k, row, col)
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

// repairTile rebuilds one tile from the original exactly as the pyramid build made it:
// the region of the original it covers, halved k times, encoded the same way.
func (l *Library) repairTile(p *pyramid, sha string, info Info, k, row, col int) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	path := tilePath(p.dir, k, row, col)
	idx := p.manifest.tileIndex(k, row, col)
	if data, err := os.ReadFile(path); err == nil && crc32.ChecksumIEEE(data) == p.crcs[idx] {
		return data, nil // another request repaired it meanwhile
	}
	s := p.manifest.Levels[k].Scale
	x0, y0 := col*TileSize*s, row*TileSize*s
	w, h := min(TileSize*s, info.Width-x0), min(TileSize*s, info.Height-y0)
	pix, err := l.region(l.OriginalPath(sha), info, p.manifest.Display, x0, y0, w, h)
	if err != nil {
		return nil, err
	}
	stride := w * 3
	for i := 0; i < k; i++ {
		dst := make([]byte, ceilDiv(w, 2)*ceilDiv(h, 2)*3)
		downsample(dst, ceilDiv(w, 2)*3, pix, stride, w, h)
		pix, w, h, stride = dst, ceilDiv(w, 2), ceilDiv(h, 2), ceilDiv(w, 2)*3
	}
	data, err := encodeJPEG(pix, w, h, stride, TileQuality, false)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return nil, err
	}
	if c := crc32.ChecksumIEEE(data); c != p.crcs[idx] {
		// Only a different libjpeg would encode the same pixels differently; record the
		// new checksum so the repaired tile is trusted from now on.
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

// region decodes the RGB pixels of the original in [x0, x0+w) × [y0, y0+h). A JPEG shown
// as stored is decoded in part (libjpeg-turbo skips rows and crops columns), with a
// margin so the colour upsampling at the edges of the part matches a whole decode; a
// raster read by GDAL is read as a window, shown as disp (the pyramid's Display) says.
func (l *Library) region(path string, info Info, disp *Display, x0, y0, w, h int) ([]byte, error) {
	out := make([]byte, w*h*3)
	if ReadByGDAL(info.MediaType) {
		s, err := openGDALSource(path, disp)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if err := s.window(x0, y0, w, h, out, w*3); err != nil {
			return nil, err
		}
		return out, nil
	}
	if info.MediaType == "image/jpeg" && info.Orientation <= 1 {
		if d, err := openJPEG(path); err == nil {
			defer d.Close()
			const margin = 16
			cx := max(0, x0-margin)
			cw := min(info.Width, x0+w+margin) - cx
			cx, cw, err := d.crop(cx, cw)
			if err != nil {
				return nil, err
			}
			sy := max(0, y0-margin)
			if err := d.skip(sy); err != nil {
				return nil, err
			}
			rows := make([]byte, (y0+h-sy)*cw*3)
			for got := 0; got < y0+h-sy; {
				n, err := d.read(rows[got*cw*3:], cw*3, y0+h-sy-got)
				if err != nil {
					return nil, err
				}
				if n == 0 {
					return nil, fmt.Errorf("the image ended early: %w", ErrCorrupt)
				}
				got += n
			}
			for r := 0; r < h; r++ {
				copy(out[r*w*3:(r+1)*w*3], rows[((y0-sy+r)*cw+(x0-cx))*3:])
			}
			return out, nil
		}
	}
	img, err := l.decodeWhole(path, info)
	if err != nil {
		return nil, err
	}
	src := &imageSource{img: img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(x0, y0, x0+w, y0+h).Add(img.Bounds().Min))}
	if _, err := src.read(out, w*3, h); err != nil {
		return nil, err
	}
	return out, nil
}

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
