package server

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // pyramid tiles
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/webtiles"
)

// Map tiles: every georeferenced image as web-Mercator XYZ tiles, warped from its
// pyramid through its stored transform, transparent outside it: for the map page and for
// any XYZ client (QGIS, Leaflet, OpenLayers):
// /tiles/{image}/{z}/{x}/{y}.png.

// mapTileCacheBytes bounds the rendered tiles kept in memory.
const mapTileCacheBytes = 64 << 20

// mapTiles keeps rendered map tiles, least recently used out first; an image's go when
// it changes (its georeference, display or pyramid), and its generation moves on, so a
// tile rendered from what it was before is not kept. A tile held is served without
// reading the image again: it was rendered after every check a request must pass.
type mapTiles struct {
	mu    sync.Mutex
	size  int64
	order *list.List // of *mapTile, most recent first
	m     map[string]*list.Element
	gen   map[string]uint64 // by image: how many times it changed
	slots chan struct{}     // renders at once
	empty []byte            // the transparent tile
}

type mapTile struct {
	key, imageID string
	data         []byte
	etag         string
}

func newMapTiles(workers int) *mapTiles {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, webtiles.Size, webtiles.Size))); err != nil {
		panic(err)
	}
	return &mapTiles{order: list.New(), m: map[string]*list.Element{}, gen: map[string]uint64{}, slots: make(chan struct{}, max(1, workers)), empty: buf.Bytes()}
}

func (c *mapTiles) get(key string) (*mapTile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*mapTile), true
}

// generation is how many times an image changed: a render notes it before it reads
// anything, and put keeps its tile only if the image has not changed since.
func (c *mapTiles) generation(imageID string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[imageID]
}

func (c *mapTiles) put(t *mapTile, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[t.key]; ok || c.gen[t.imageID] != gen {
		return
	}
	c.m[t.key] = c.order.PushFront(t)
	c.size += int64(len(t.data))
	for c.size > mapTileCacheBytes && c.order.Len() > 1 {
		last := c.order.Back()
		old := last.Value.(*mapTile)
		c.order.Remove(last)
		delete(c.m, old.key)
		c.size -= int64(len(old.data))
	}
}

func (c *mapTiles) forget(imageID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[imageID]++
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		if t := e.Value.(*mapTile); t.imageID == imageID {
			c.order.Remove(e)
			delete(c.m, t.key)
			c.size -= int64(len(t.data))
		}
		e = next
	}
}

// pyramidSource reads an image's pyramid tiles for webtiles.
type pyramidSource struct {
	s    *Server
	sha  string
	info imagery.Info
	m    *imagery.Manifest
}

func (p pyramidSource) Size() (int, int) { return p.m.Width, p.m.Height }
func (p pyramidSource) Levels() int      { return len(p.m.Levels) }
func (p pyramidSource) TileSize() int    { return p.m.TileSize }
func (p pyramidSource) Tile(k, row, col int) (image.Image, error) {
	data, err := p.s.library.Tile(p.sha, p.info, k, row, col)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// metresPerPixel is the size of one pixel on the ground at the image's centre (the mean
// of one step across and one down), and the latitude there.
func metresPerPixel(t geo.Transformer, width, height int) (mpp, lat float64, err error) {
	cx, cy := float64(width)/2, float64(height)/2
	_, lat, err = t.Forward(cx, cy)
	if err != nil {
		return 0, 0, err
	}
	across, err := geo.LineLength(t, [][2]float64{{cx - 0.5, cy}, {cx + 0.5, cy}})
	if err != nil {
		return 0, 0, err
	}
	down, err := geo.LineLength(t, [][2]float64{{cx, cy - 0.5}, {cx, cy + 0.5}})
	if err != nil {
		return 0, 0, err
	}
	return (across + down) / 2, lat, nil
}

// noTile is the 404 of a tile the map does not have.
func noTile(msg string) error {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: msg}
}

func (s *Server) mapTile(c echo.Context) error {
	id := c.Param("id")
	last, ok := strings.CutSuffix(c.Param("y"), ".png")
	if !ok {
		return noTile("map tiles are PNG: /tiles/{image}/{z}/{x}/{y}.png")
	}
	z, errZ := strconv.Atoi(c.Param("z"))
	x, errX := strconv.Atoi(c.Param("x"))
	y, errY := strconv.Atoi(last)
	if errZ != nil || errX != nil || errY != nil {
		return noTile(fmt.Sprintf("%q/%q/%q is not a tile: z, x and y are whole numbers", c.Param("z"), c.Param("x"), last))
	}
	if !annotations.ValidID(id) {
		return notFound("image")
	}
	// A tile held is answered at once: reading the image counts its annotations.
	key := fmt.Sprintf("%s/%d/%d/%d", id, z, x, y)
	t, ok := s.maps.get(key)
	if !ok {
		var err error
		if t, err = s.newMapTile(c, id, key, z, x, y); err != nil {
			return err
		}
	}
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set(echo.HeaderContentType, "image/png")
	// A georeference or a display can change: revalidate, cheaply, by ETag.
	h.Set("Cache-Control", "private, no-cache")
	if s.opts.PublicIIIF {
		h.Set("Cache-Control", "public, no-cache")
	}
	h.Set("ETag", t.etag)
	if c.Request().Header.Get("If-None-Match") == t.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/png", t.data)
}

// newMapTile checks a tile request the cache could not answer, renders the tile and
// keeps it.
func (s *Server) newMapTile(c echo.Context, id, key string, z, x, y int) (*mapTile, error) {
	gen := s.maps.generation(id)
	ctx := c.Request().Context()
	img, err := s.store.Image(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.placement(ctx, img)
	if err != nil {
		return nil, err
	}
	if !p.Georeferenced() {
		return nil, noTile("image " + id + " is not georeferenced: it has no place on the map to draw it at")
	}
	mpp, lat, err := metresPerPixel(p.Transformer, img.Width, img.Height)
	if err != nil {
		return nil, err
	}
	if err := webtiles.Check(z, x, y, webtiles.MaxZoom(mpp, lat)); err != nil {
		return nil, noTile(err.Error())
	}
	m, err := s.library.Pyramid(img.SHA256)
	if errors.Is(err, imagery.ErrNoPyramid) {
		return nil, notReady(img.Pyramid)
	}
	if err != nil {
		return nil, err
	}
	select {
	case s.maps.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t, err := s.renderMapTile(img, p.Transformer, m, key, z, x, y)
	<-s.maps.slots
	if err != nil {
		return nil, err
	}
	s.maps.put(t, gen)
	return t, nil
}

func (s *Server) renderMapTile(img annotations.Image, t geo.Transformer, m *imagery.Manifest, key string, z, x, y int) (*mapTile, error) {
	out, empty, err := webtiles.Render(pyramidSource{s: s, sha: img.SHA256, info: infoOf(img), m: m}, t, z, x, y)
	if err != nil {
		return nil, err
	}
	data := s.maps.empty
	if !empty {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, out); err != nil {
			return nil, err
		}
		data = buf.Bytes()
	}
	sum := sha256.Sum256(data)
	return &mapTile{key: key, imageID: img.ID, data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}, nil
}
