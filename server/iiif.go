package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/imagery"
)

// The IIIF Image API 3.0 service, level 2, at /iiif/3/{image id}: info.json, the base URI
// redirect, tiles straight from the pyramid and every other request rendered from the
// nearest pyramid level (see imagery.ParseIIIF and imagery.Library.Render).

const (
	iiifPrefix     = "/iiif/3/"
	iiifContext    = "http://iiif.io/api/image/3/context.json"
	iiifProfileURI = "http://iiif.io/api/image/3/level2.json"
	iiifLDType     = `application/ld+json;profile="http://iiif.io/api/image/3/context.json"`
	// Content-addressed responses never change. They are private (no shared cache may
	// keep them for others) unless the image service is public.
	immutable       = "private, max-age=31536000, immutable"
	publicImmutable = "public, max-age=31536000, immutable"
)

var (
	hdrAllowOrigin      = []string{"*"}
	hdrNosniff          = []string{"nosniff"}
	hdrImmutable        = []string{immutable}
	hdrPublicImmutable  = []string{publicImmutable}
	hdrRevalidate       = []string{"private, no-cache"}
	hdrPublicRevalidate = []string{"public, no-cache"}
	hdrProfileLink      = `<` + iiifProfileURI + `>;rel="profile"`
	// hdrContextLink goes with info.json sent as plain JSON: its JSON-LD context, as JSON-LD 1.1 links one to plain JSON.
	hdrContextLink  = `<` + iiifContext + `>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`
	hdrExposeHeader = []string{"Link, ETag"}
)

// iiifImage is what the IIIF service needs to know of an image whose pyramid is built.
// Those facts never change, so they are kept in memory (and dropped when the image is
// deleted).
type iiifImage struct {
	id      string
	sha     string
	info    imagery.Info
	license string
}

type iiifImages struct {
	mu sync.RWMutex
	m  map[string]*iiifImage
}

func (c *iiifImages) get(id string) *iiifImage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

func (c *iiifImages) put(img *iiifImage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*iiifImage{}
	}
	c.m[img.id] = img
}

func (c *iiifImages) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// iiifLookup finds the image; ready is false while its pyramid is not built, and then
// pending says how far the build has come.
func (s *Server) iiifLookup(c echo.Context, id string) (img *iiifImage, ready bool, pending annotations.Progress, err error) {
	if img := s.iiifCache.get(id); img != nil {
		return img, true, annotations.Progress{}, nil
	}
	if !annotations.ValidID(id) {
		return nil, false, pending, &imagery.IIIFError{Status: http.StatusNotFound, Message: "no image with identifier " + strconv.Quote(id)}
	}
	row, err := s.store.Image(c.Request().Context(), id)
	if errors.Is(err, annotations.ErrNotFound) {
		return nil, false, pending, &imagery.IIIFError{Status: http.StatusNotFound, Message: "no image with identifier " + strconv.Quote(id)}
	}
	if err != nil {
		return nil, false, pending, err
	}
	img = &iiifImage{id: row.ID, sha: row.SHA256, license: row.Source.License,
		info: imagery.Info{MediaType: row.MediaType, Width: row.Width, Height: row.Height, Orientation: row.Orientation}}
	if !row.Pyramid.Ready() {
		// While a pyramid is built again, the one it replaces is served until then.
		_, err := s.library.Pyramid(row.SHA256)
		return img, err == nil, row.Pyramid, nil
	}
	s.iiifCache.put(img)
	return img, true, row.Pyramid, nil
}

// tileCacheControl is how long a browser may keep a tile: for ever, as tiles never change,
// except the tiles of a raster read through GDAL, which change with its display and are
// revalidated (their ETag names the display).
func (s *Server) tileCacheControl(info imagery.Info) []string {
	if imagery.ReadByGDAL(info.MediaType) {
		if s.opts.PublicIIIF {
			return hdrPublicRevalidate
		}
		return hdrRevalidate
	}
	return s.hot.cacheControl
}

// notReady is the answer to an image request while the pyramid is being built.
// A failed build is not temporary (nothing will change until someone builds again), so
// it is a 500 with its cause rather than a 503 that invites retries.
func notReady(p annotations.Progress) error {
	if p.State == annotations.JobFailed {
		return &pyramidFailed{cause: p.Error}
	}
	msg := fmt.Sprintf("the image's tiles are being prepared (%s, %.0f%%); try again shortly", p.State, 100*p.Progress)
	return &retryLater{IIIFError: imagery.IIIFError{Status: http.StatusServiceUnavailable, Message: msg}, seconds: 3}
}

// pyramidFailed is the answer for an image whose pyramid could not be built.
type pyramidFailed struct{ cause string }

func (e *pyramidFailed) Error() string {
	return "the image's tiles could not be prepared: " + e.cause + " (POST /api/v1/images/{id}/pyramid builds them again)"
}

// lostPyramid handles a pyramid the database calls built but the disk no longer has:
// it is queued to be built again, and meanwhile the image is not ready.
func (s *Server) lostPyramid(c echo.Context, imageID, sha string) error {
	s.log.Warn("pyramid files missing; building again", "image", imageID, "sha256", sha)
	s.imageChanged(imageID)
	job, err := s.store.RequeueJob(c.Request().Context(), imageID, annotations.JobPyramid)
	if err != nil {
		return err
	}
	s.wakeBuilder()
	return notReady(annotations.Progress{State: job.State})
}

// retryLater is a 503 with a Retry-After header.
type retryLater struct {
	imagery.IIIFError
	seconds int
}

func (s *Server) baseURL(c echo.Context) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// iiif routes every request under /iiif/3/ by its path segments.
func (s *Server) iiif(c echo.Context) error {
	h := c.Response().Header()
	h["Access-Control-Allow-Origin"] = hdrAllowOrigin
	h["Access-Control-Expose-Headers"] = hdrExposeHeader
	req := c.Request()
	switch req.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		if want := req.Header.Get("Access-Control-Request-Headers"); want != "" {
			h.Set("Access-Control-Allow-Headers", want)
		}
		h.Set("Access-Control-Max-Age", "86400")
		return c.NoContent(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		return &imagery.IIIFError{Status: http.StatusMethodNotAllowed, Message: "the image service answers GET, HEAD and OPTIONS"}
	}
	// Split the path as it was sent, then decode each segment: an encoded slash (%2F)
	// belongs to the identifier, as the specification says, and never separates segments.
	var parts []string
	for _, p := range strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), iiifPrefix), "/") {
		seg, err := url.PathUnescape(p)
		if err != nil {
			return &imagery.IIIFError{Status: http.StatusBadRequest, Message: "the path is not percent-encoded correctly"}
		}
		parts = append(parts, seg)
	}
	img, ready, pending, err := s.iiifLookup(c, parts[0])
	if err != nil {
		return err
	}
	base := s.baseURL(c) + iiifPrefix + img.id
	switch {
	case len(parts) == 1:
		return c.Redirect(http.StatusSeeOther, base+"/info.json")
	case len(parts) == 2 && parts[1] == "info.json":
		if !ready {
			return notReady(pending)
		}
		m, err := s.library.Pyramid(img.sha)
		if errors.Is(err, imagery.ErrNoPyramid) {
			return s.lostPyramid(c, img.id, img.sha)
		}
		if err != nil {
			return err
		}
		return s.iiifInfo(c, img, m, base)
	case len(parts) != 5:
		return &imagery.IIIFError{Status: http.StatusBadRequest,
			Message: "not an image request: use " + base + "/{region}/{size}/{rotation}/{quality}.{format} or " + base + "/info.json"}
	}
	r, err := imagery.ParseIIIF(parts[1], parts[2], parts[3], parts[4], img.info.Width, img.info.Height)
	if err != nil {
		return err
	}
	if !ready {
		return notReady(pending)
	}
	h.Set("Link", hdrProfileLink+`, <`+base+"/"+r.Canonical()+`>;rel="canonical"`)
	h["Cache-Control"] = s.tileCacheControl(img.info)
	m, err := s.library.Pyramid(img.sha)
	if errors.Is(err, imagery.ErrNoPyramid) {
		return s.lostPyramid(c, img.id, img.sha)
	}
	if err != nil {
		return err
	}
	if k, row, col, ok := r.Tile(m); ok {
		etag := `"` + img.sha[:16] + "-" + strconv.Itoa(k) + "-" + strconv.Itoa(row) + "-" + strconv.Itoa(col) + m.Tag() + `"`
		h["Etag"] = []string{etag}
		if req.Header.Get("If-None-Match") == etag {
			return c.NoContent(http.StatusNotModified)
		}
		data, err := s.library.Tile(img.sha, img.info, k, row, col)
		if err != nil {
			return err
		}
		length := []string{strconv.Itoa(len(data))}
		contentType := hdrJPEG
		if m.Format == imagery.TilePNG {
			contentType = hdrPNG
		}
		// A tile of a pyramid about to be replaced is not kept as hot.
		if req.URL.RawPath == "" && (pending.State == "" || pending.Ready()) {
			s.hot.put(req.URL.Path, &hotTile{imageID: img.id, host: req.Host, data: data, contentType: contentType,
				etag: h["Etag"], length: length, link: h["Link"], cacheControl: h["Cache-Control"]})
		}
		h["Content-Type"] = contentType
		h["Content-Length"] = length
		c.Response().WriteHeader(http.StatusOK)
		if req.Method != http.MethodHead {
			c.Response().Write(data)
		}
		return nil
	}
	out, err := s.library.Render(req.Context(), img.sha, img.info, r)
	if err != nil {
		return err
	}
	defer out.File.Close()
	h.Set("ETag", out.ETag)
	h.Set("Content-Type", out.MediaType)
	st, err := out.File.Stat()
	if err != nil {
		return err
	}
	http.ServeContent(c.Response(), req, "", st.ModTime(), out.File)
	return nil
}

var (
	hdrJPEG = []string{"image/jpeg"}
	hdrPNG  = []string{"image/png"}
)

type iiifSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

type iiifTiles struct {
	Width        int   `json:"width"`
	Height       int   `json:"height"`
	ScaleFactors []int `json:"scaleFactors"`
}

// iiifInfoDoc is info.json; the order of the fields is the order in the document, with
// @context first as the specification asks.
type iiifInfoDoc struct {
	Context          string      `json:"@context"`
	ID               string      `json:"id"`
	Type             string      `json:"type"`
	Protocol         string      `json:"protocol"`
	Profile          string      `json:"profile"`
	Width            int         `json:"width"`
	Height           int         `json:"height"`
	MaxWidth         int         `json:"maxWidth"`
	MaxHeight        int         `json:"maxHeight"`
	MaxArea          int         `json:"maxArea"`
	Sizes            []iiifSize  `json:"sizes"`
	Tiles            []iiifTiles `json:"tiles"`
	PreferredFormats []string    `json:"preferredFormats"`
	ExtraQualities   []string    `json:"extraQualities"`
	ExtraFormats     []string    `json:"extraFormats"`
	ExtraFeatures    []string    `json:"extraFeatures"`
	Rights           string      `json:"rights,omitempty"`
}

// iiifInfo answers info.json. Its preferred format is the format of the pyramid's tiles:
// png for an image with transparency, which a viewer then asks its tiles in.
func (s *Server) iiifInfo(c echo.Context, img *iiifImage, m *imagery.Manifest, base string) error {
	levels := imagery.Levels(img.info.Width, img.info.Height)
	doc := iiifInfoDoc{
		Context: iiifContext, ID: base, Type: "ImageService3", Protocol: "http://iiif.io/api/image", Profile: "level2",
		Width: img.info.Width, Height: img.info.Height,
		MaxWidth: imagery.IIIFMaxWidth, MaxHeight: imagery.IIIFMaxHeight, MaxArea: imagery.IIIFMaxArea,
		Tiles:            []iiifTiles{{Width: imagery.TileSize, Height: imagery.TileSize}},
		PreferredFormats: []string{m.Format},
		ExtraQualities:   []string{"color", "gray", "bitonal"},
		ExtraFormats:     []string{"gif", "tif"},
		ExtraFeatures:    []string{"mirroring", "sizeUpscaling", "profileLinkHeader", "canonicalLinkHeader"},
		Rights:           formats.RightsURI(img.license),
	}
	for i := len(levels) - 1; i >= 0; i-- {
		lv := levels[i]
		doc.Tiles[0].ScaleFactors = append([]int{lv.Scale}, doc.Tiles[0].ScaleFactors...)
		if lv.Width <= imagery.IIIFMaxWidth && lv.Height <= imagery.IIIFMaxHeight && lv.Width*lv.Height <= imagery.IIIFMaxArea {
			doc.Sizes = append(doc.Sizes, iiifSize{lv.Width, lv.Height})
		}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	contentType := iiifLDType
	if wantsJSONLD(c.Request().Header.Values("Accept")) {
		h.Set("Link", hdrProfileLink)
	} else {
		contentType = echo.MIMEApplicationJSON
		h.Set("Link", hdrProfileLink+", "+hdrContextLink)
	}
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "no-cache")
	// The two representations differ in their headers, so they have different tags.
	sum := fnv.New64a()
	sum.Write(body)
	sum.Write([]byte(contentType))
	etag := `"` + strconv.FormatUint(sum.Sum64(), 36) + `"`
	h.Set("ETag", etag)
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType, body)
}

// wantsJSONLD negotiates info.json's media type (Image API 3.0 §5.1): JSON-LD when the
// request has no Accept header, or names application/ld+json (bare or with the Image
// API 3 context as profile) at a quality above zero and at least that of plain JSON.
// Anything else, wildcards (a browser's */*) included, gets plain JSON, which the caller
// links to its context.
func wantsJSONLD(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	qLD, qJSON := 0.0, 0.0
	for _, field := range accept {
		for _, r := range strings.Split(field, ",") {
			mediaType, q, profile := parseMediaRange(r)
			switch mediaType {
			case "application/ld+json":
				if profile == "" || profile == iiifContext {
					qLD = max(qLD, q)
				}
			case "application/json", "application/*", "*/*":
				qJSON = max(qJSON, q)
			}
		}
	}
	return qLD > 0 && qLD >= qJSON
}

// parseMediaRange reads one media range of an Accept header: its type in lower case,
// its quality (1 unless a valid q says otherwise) and its profile parameter.
func parseMediaRange(r string) (mediaType string, q float64, profile string) {
	parts := strings.Split(r, ";")
	mediaType, q = strings.ToLower(strings.TrimSpace(parts[0])), 1
	for _, p := range parts[1:] {
		name, value, _ := strings.Cut(p, "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.Trim(strings.TrimSpace(value), `"`)
		switch name {
		case "q":
			if v, err := strconv.ParseFloat(value, 64); err == nil && v >= 0 && v <= 1 {
				q = v
			}
		case "profile":
			profile = value
		}
	}
	return mediaType, q, profile
}
