package server

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// hotTiles answers repeated tile requests without routing or parsing: once a tile has
// been served through the full IIIF handler, its response (bytes and headers) is kept
// under the exact request path, and the next request for that path is a map lookup and
// a write. Tiles are immutable, so an entry is only dropped when its image is deleted or
// rebuilt, or to stay within the byte budget. Lookups take no lock.
type hotTiles struct {
	max          int64
	cacheControl []string // private unless the image service is public
	size         atomic.Int64
	m            sync.Map // request path → *hotTile
	evict        sync.Mutex
}

type hotTile struct {
	imageID string
	host    string // the canonical link names the host the tile was asked of
	data    []byte
	// contentType is image/jpeg or, for an image with transparency, image/png.
	contentType []string
	etag        []string
	length      []string
	link        []string
	// cacheControl is the tile's own (see Server.tileCacheControl).
	cacheControl []string
}

// serve writes the response for a path it holds, reporting whether it did.
func (c *hotTiles) serve(w http.ResponseWriter, r *http.Request) bool {
	if c.max <= 0 || r.URL.RawPath != "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	v, ok := c.m.Load(r.URL.Path)
	if !ok {
		return false
	}
	t := v.(*hotTile)
	if t.host != r.Host {
		return false
	}
	h := w.Header()
	h["X-Content-Type-Options"] = hdrNosniff // the one security header that matters for a tile
	h["Access-Control-Allow-Origin"] = hdrAllowOrigin
	h["Access-Control-Expose-Headers"] = hdrExposeHeader
	h["Cache-Control"] = t.cacheControl
	h["Link"] = t.link
	h["Etag"] = t.etag
	if inm := r.Header["If-None-Match"]; len(inm) == 1 && inm[0] == t.etag[0] {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h["Content-Type"] = t.contentType
	h["Content-Length"] = t.length
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(t.data)
	}
	return true
}

// put remembers a tile response served for path.
func (c *hotTiles) put(path string, t *hotTile) {
	if c.max <= 0 || int64(len(t.data)) > c.max/16 {
		return
	}
	if _, loaded := c.m.LoadOrStore(path, t); loaded {
		return
	}
	if c.size.Add(int64(len(t.data))) > c.max {
		c.shrink()
	}
}

// shrink drops entries, in the map's own random order, until the budget holds again.
func (c *hotTiles) shrink() {
	c.evict.Lock()
	defer c.evict.Unlock()
	target := c.max * 3 / 4
	c.m.Range(func(k, v any) bool {
		if c.size.Load() <= target {
			return false
		}
		if _, ok := c.m.LoadAndDelete(k); ok {
			c.size.Add(-int64(len(v.(*hotTile).data)))
		}
		return true
	})
}

// forget drops every tile of an image.
func (c *hotTiles) forget(imageID string) {
	c.m.Range(func(k, v any) bool {
		if v.(*hotTile).imageID == imageID || strings.HasPrefix(k.(string), iiifPrefix+imageID+"/") {
			if _, ok := c.m.LoadAndDelete(k); ok {
				c.size.Add(-int64(len(v.(*hotTile).data)))
			}
		}
		return true
	})
}
