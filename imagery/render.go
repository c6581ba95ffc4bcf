package imagery

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/png"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/disintegration/imaging"
	"golang.org/x/image/tiff"
)

// ErrBusy means every render slot and every place in the queue is taken: the client
// should try again shortly (503 with Retry-After).
var ErrBusy = &IIIFError{Status: http.StatusServiceUnavailable, Message: "the image service is busy rendering; try again in a moment"}

// Rendered is a finished IIIF image: its cached file, open for reading (the caller
// closes it; eviction cannot pull it away while it is open).
type Rendered struct {
	File      *os.File
	MediaType string
	ETag      string
}

// Render produces the image a (non-tile) IIIF request asks for, from the nearest level of
// the image's pyramid, never from the original. An image with transparency keeps it in a
// .png or .tif; a .jpg or .gif of it is composited over white. Results are kept in a bounded on-disk
// cache. Renders run a few at a time; when all slots and the queue are taken it returns
// ErrBusy at once instead of piling up work and memory.
func (l *Library) Render(ctx context.Context, sha string, info Info, r IIIFRequest) (Rendered, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return Rendered{}, err
	}
	// A new display (or format) makes new pixels: its renders are not the old one's.
	key := renderKey(sha+p.manifest.Tag(), r)
	out := Rendered{MediaType: IIIFFormats[r.Format], ETag: `"` + key[:32] + `"`}
	if f, ok := l.renders.open(key); ok {
		out.File = f
		return out, nil
	}
	select {
	case l.waiting <- struct{}{}:
	default:
		return out, ErrBusy
	}
	select {
	case l.renderSem <- struct{}{}:
		<-l.waiting
	case <-ctx.Done():
		<-l.waiting
		return out, ctx.Err()
	}
	defer func() { <-l.renderSem }()
	if f, ok := l.renders.open(key); ok { // rendered while we waited
		out.File = f
		return out, nil
	}
	data, err := l.render(p, sha, info, r)
	if err != nil {
		return out, err
	}
	path, err := l.renders.put(key, r.Format, data)
	if err != nil {
		return out, err
	}
	out.File, err = os.Open(path)
	return out, err
}

func renderKey(sha string, r IIIFRequest) string {
	sum := sha256.Sum256([]byte(sha + "/" + r.Canonical()))
	return hex.EncodeToString(sum[:])
}

func (l *Library) render(p *pyramid, sha string, info Info, r IIIFRequest) ([]byte, error) {
	img, err := l.pixels(p, sha, info, r)
	if err != nil {
		return nil, err
	}
	alpha := p.manifest.Format == TilePNG
	if alpha && (r.Format == "jpg" || r.Format == "gif") {
		// JPEG has no transparency and GIF only all or nothing: white, as on a page.
		n := imaging.Clone(img)
		overWhite(n)
		img, alpha = n, false
	}
	switch r.Quality {
	case "gray":
		img = grayOf(img, false, alpha)
	case "bitonal":
		img = grayOf(img, true, alpha)
	}
	return encodeAs(img, r.Format)
}

// pixels reads the request's region from the nearest level of the pyramid, resampled to
// its size, mirrored and turned; in colour, with alpha when the tiles have it.
func (l *Library) pixels(p *pyramid, sha string, info Info, r IIIFRequest) (image.Image, error) {
	m := &p.manifest
	// The coarsest level that still has at least as many pixels as the output.
	k := 0
	for k+1 < len(m.Levels) {
		s := float64(m.Levels[k+1].Scale)
		if float64(r.W)/s < float64(r.Width) || float64(r.H)/s < float64(r.Height) {
			break
		}
		k++
	}
	lv := m.Levels[k]
	s := float64(lv.Scale)
	// The region in level pixels, rounded to whole pixels (at most half a level pixel,
	// so at most half an output pixel, off).
	x0, y0 := int(float64(r.X)/s+0.5), int(float64(r.Y)/s+0.5)
	x1, y1 := min(lv.Width, max(x0+1, int(float64(r.X+r.W)/s+0.5))), min(lv.Height, max(y0+1, int(float64(r.Y+r.H)/s+0.5)))
	src := image.NewNRGBA(image.Rect(0, 0, x1-x0, y1-y0))
	tile := make([]byte, TileSize*TileSize*3)
	for row := y0 / TileSize; row <= (y1-1)/TileSize; row++ {
		for col := x0 / TileSize; col <= (x1-1)/TileSize; col++ {
			data, err := l.Tile(sha, info, k, row, col)
			if err != nil {
				return nil, err
			}
			tx0, ty0 := col*TileSize, row*TileSize
			if m.Format == TilePNG {
				if err := copyPNGTile(src, data, x0-tx0, y0-ty0); err != nil {
					return nil, err
				}
				continue
			}
			tw, th, err := decodeJPEGInto(data, tile, TileSize*3, TileSize, TileSize)
			if err != nil {
				return nil, err
			}
			// Copy the part of this tile inside [x0,x1)×[y0,y1).
			for y := max(y0, ty0); y < min(y1, ty0+th); y++ {
				srow := tile[(y-ty0)*TileSize*3:]
				drow := src.Pix[(y-y0)*src.Stride:]
				for x := max(x0, tx0); x < min(x1, tx0+tw); x++ {
					si, di := (x-tx0)*3, (x-x0)*4
					drow[di], drow[di+1], drow[di+2], drow[di+3] = srow[si], srow[si+1], srow[si+2], 255
				}
			}
		}
	}
	var img image.Image = src
	if src.Rect.Dx() != r.Width || src.Rect.Dy() != r.Height {
		img = imaging.Resize(src, r.Width, r.Height, imaging.Linear)
	}
	if r.Mirror {
		img = imaging.FlipH(img)
	}
	switch r.Rotation { // imaging turns counter-clockwise; IIIF clockwise
	case 90:
		img = imaging.Rotate270(img)
	case 180:
		img = imaging.Rotate180(img)
	case 270:
		img = imaging.Rotate90(img)
	}
	return img, nil
}

// copyPNGTile decodes a PNG tile into dst, the tile's pixel (x, y) at dst's (x-dx, y-dy),
// as much of it as falls inside dst.
func copyPNGTile(dst *image.NRGBA, data []byte, dx, dy int) error {
	t, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("a PNG tile: %w", err)
	}
	r := t.Bounds().Intersect(dst.Rect.Add(image.Pt(dx, dy)))
	var pix []byte
	var stride int
	switch t := t.(type) {
	case *image.NRGBA:
		pix, stride = t.Pix, t.Stride
	case *image.RGBA: // an opaque tile, which the encoder wrote without alpha
		pix, stride = t.Pix, t.Stride
	default:
		draw.Draw(dst, r.Sub(image.Pt(dx, dy)), t, r.Min, draw.Src)
		return nil
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(dst.Pix[(y-dy)*dst.Stride+4*(r.Min.X-dx):], pix[y*stride+4*r.Min.X:y*stride+4*r.Max.X])
	}
	return nil
}

// grayOf turns an image into luminance (ITU-R BT.601), or into black and white at the
// middle grey when bitonal; with alpha, the grey keeps the image's alpha.
func grayOf(img image.Image, bitonal, alpha bool) image.Image {
	n := imaging.Clone(img)
	g := image.NewGray(n.Rect)
	for i, j := 0, 0; j < len(n.Pix); i, j = i+1, j+4 {
		y := (299*uint32(n.Pix[j]) + 587*uint32(n.Pix[j+1]) + 114*uint32(n.Pix[j+2]) + 500) / 1000
		if bitonal {
			if y >= 128 {
				y = 255
			} else {
				y = 0
			}
		}
		if alpha {
			n.Pix[j], n.Pix[j+1], n.Pix[j+2] = byte(y), byte(y), byte(y)
		} else {
			g.Pix[i] = byte(y)
		}
	}
	if alpha {
		return n
	}
	return g
}

func encodeAs(img image.Image, format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "jpg":
		switch m := img.(type) {
		case *image.Gray:
			return encodeJPEG(m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, TileQuality, true)
		default:
			n := imaging.Clone(img)
			rgb := make([]byte, n.Rect.Dx()*n.Rect.Dy()*3)
			for i, j := 0, 0; j < len(n.Pix); i, j = i+3, j+4 {
				rgb[i], rgb[i+1], rgb[i+2] = n.Pix[j], n.Pix[j+1], n.Pix[j+2]
			}
			return encodeJPEG(rgb, n.Rect.Dx(), n.Rect.Dy(), n.Rect.Dx()*3, TileQuality, false)
		}
	case "png":
		err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
		return buf.Bytes(), err
	case "gif":
		err := gif.Encode(&buf, img, nil)
		return buf.Bytes(), err
	case "tif":
		err := tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate})
		return buf.Bytes(), err
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// renderCache keeps rendered images on disk up to a byte budget, dropping the least
// recently used first. What is on disk at start is taken in, oldest first.
type renderCache struct {
	dir   string
	max   int64
	mu    sync.Mutex
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type renderEntry struct {
	key, path string
	size      int64
}

func openRenderCache(dir string, max int64) (*renderCache, error) {
	c := &renderCache{dir: dir, max: max, ll: list.New(), items: map[string]*list.Element{}}
	type found struct {
		e   renderEntry
		mod time.Time
	}
	var all []found
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		name := d.Name()
		if filepath.Ext(name) == "" || name[0] == '.' {
			os.Remove(path) // a render that was being written when we stopped
			return nil
		}
		all = append(all, found{renderEntry{key: name[:len(name)-len(filepath.Ext(name))], path: path, size: info.Size()}, info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.Before(all[j].mod) })
	for _, f := range all {
		e := f.e
		c.items[e.key] = c.ll.PushFront(&e)
		c.size += e.size
	}
	c.mu.Lock()
	c.evict()
	c.mu.Unlock()
	return c, nil
}

// open returns the cached render for key, open, and marks it recently used.
func (c *renderCache) open(key string) (*os.File, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	re := e.Value.(*renderEntry)
	f, err := os.Open(re.path)
	if err != nil { // removed behind our back: forget it, render again
		c.ll.Remove(e)
		delete(c.items, key)
		c.size -= re.size
		return nil, false
	}
	c.ll.MoveToFront(e)
	return f, true
}

func (c *renderCache) put(key, format string, data []byte) (string, error) {
	sub := filepath.Join(c.dir, key[:2])
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(sub, key+"."+format)
	if err := writeFileAtomic(path, data); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return path, nil
	}
	c.items[key] = c.ll.PushFront(&renderEntry{key: key, path: path, size: int64(len(data))})
	c.size += int64(len(data))
	c.evict()
	return path, nil
}

// evict removes the least recently used renders until the cache fits its budget. A
// render just written always stays, even if it alone is over the budget.
func (c *renderCache) evict() {
	for c.size > c.max && c.ll.Len() > 1 {
		e := c.ll.Back()
		re := e.Value.(*renderEntry)
		if err := os.Remove(re.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return
		}
		c.ll.Remove(e)
		delete(c.items, re.key)
		c.size -= re.size
	}
}
