package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/ingest"
)

// Georeferencing: where an image lies on the earth (control points and a fitted
// transform, or a geotransform from a GeoTIFF or world file), the ground sample distance
// for measuring without one, and measuring in metres.

// placements caches each image's placement; it changes only through the routes below
// (and image deletion), which drop the entry, and with it the ground measures made under it.
type placements struct {
	mu sync.Mutex
	m  map[string]placed
}

// placed is an image's placement and the ground measures of its annotations under it.
type placed struct {
	p       formats.Placement
	ground  *groundMemo
	encoded *encodedMemo // the changes answers' annotations as JSON (annotationlist.go)
}

// groundMemo remembers annotations' ground measures under one placement, by annotation
// id and version (a version's geometry and shape never change): measuring on the
// ellipsoid was a tenth of the server's time when every list measured every annotation
// again. It forgets everything past maxGroundMemo annotations.
type groundMemo struct {
	mu sync.RWMutex
	m  map[string]measured
}

type measured struct {
	version int
	ground  annotations.Ground
}

const maxGroundMemo = 1 << 17

// measure returns a's ground measures under p, the placement the memo belongs to.
func (g *groundMemo) measure(p formats.Placement, a *annotations.Annotation) annotations.Ground {
	g.mu.RLock()
	m, ok := g.m[a.ID]
	g.mu.RUnlock()
	if ok && m.version == a.Version {
		return m.ground
	}
	ground := p.Measure(*a)
	g.mu.Lock()
	if g.m == nil || len(g.m) >= maxGroundMemo {
		g.m = map[string]measured{}
	}
	g.m[a.ID] = measured{version: a.Version, ground: ground}
	g.mu.Unlock()
	return ground
}

// cachedPlacement is the placement of an image when it is cached.
func (s *Server) cachedPlacement(imageID string) (placed, bool) {
	s.places.mu.Lock()
	defer s.places.mu.Unlock()
	p, ok := s.places.m[imageID]
	return p, ok
}

func (s *Server) placement(ctx context.Context, img annotations.Image) (formats.Placement, error) {
	p, err := s.placedOf(ctx, img)
	return p.p, err
}

// placedOf is the image's placement with its memo of ground measures.
func (s *Server) placedOf(ctx context.Context, img annotations.Image) (placed, error) {
	if p, ok := s.cachedPlacement(img.ID); ok {
		return p, nil
	}
	var gp *annotations.Georeference
	if g, err := s.store.Georeference(ctx, img.ID); err == nil {
		gp = &g
	} else if !errors.Is(err, annotations.ErrNotFound) {
		return placed{}, err
	}
	p, err := formats.PlacementOf(img, gp)
	if err != nil {
		return placed{p: p}, err
	}
	pl := placed{p: p, ground: &groundMemo{}, encoded: &encodedMemo{}}
	s.places.mu.Lock()
	if s.places.m == nil {
		s.places.m = map[string]placed{}
	}
	s.places.m[img.ID] = pl
	s.places.mu.Unlock()
	return pl, nil
}

// withGround fills in each annotation's size on the ground from its image's placement.
// The image is read only when its placement is not cached yet.
func (s *Server) withGround(ctx context.Context, anns ...*annotations.Annotation) error {
	for _, a := range anns {
		p, err := s.placedOfID(ctx, a.ImageID)
		if err != nil {
			return err
		}
		a.Ground = p.ground.measure(p.p, a)
	}
	return nil
}

// placementOf is the placement of the image with that id; the image is read only when
// its placement is not cached yet.
func (s *Server) placementOf(ctx context.Context, imageID string) (formats.Placement, error) {
	p, err := s.placedOfID(ctx, imageID)
	return p.p, err
}

// placedOfID is placedOf the image with that id, read only when its placement is not
// cached yet.
func (s *Server) placedOfID(ctx context.Context, imageID string) (placed, error) {
	if p, ok := s.cachedPlacement(imageID); ok {
		return p, nil
	}
	img, err := s.store.Image(ctx, imageID)
	if err != nil {
		return placed{}, err
	}
	return s.placedOf(ctx, img)
}

// georefView is the API representation of an image's georeference.
type georefView struct {
	Method       string                     `json:"method"` // gcps, grid, gsd (a ground sample distance only)
	Transform    string                     `json:"transform,omitempty"`
	GCPs         []annotations.ControlPoint `json:"gcps,omitempty"`
	GeoTransform *[6]float64                `json:"geotransform,omitempty"`
	CRS          string                     `json:"crs,omitempty"`     // EPSG:<code>, or the name a WKT-only CRS's WKT gives
	CRSWKT       string                     `json:"crs_wkt,omitempty"` // WKT 2 of a CRS with no EPSG code
	Origin       string                     `json:"origin,omitempty"`
	Fit          *fitView                   `json:"fit,omitempty"`
	Footprint    any                        `json:"footprint,omitempty"` // GeoJSON Polygon in lon/lat
	Samples      []groundSample             `json:"samples,omitempty"`   // where a grid of its points lies
	GSD          *float64                   `json:"gsd_m,omitempty"`
	UpdatedBy    string                     `json:"updated_by,omitempty"`
	UpdatedAt    any                        `json:"updated_at,omitempty"`
}

// groundSample is a point of an image and where it lies on the earth, by the image's
// placement: what a client fits a transform to when it relates two images through the
// ground (the compare page), whatever the method and CRS of each.
type groundSample struct {
	Pixel  [2]float64 `json:"pixel"`
	LonLat [2]float64 `json:"lonlat"`
}

// sampleGrid is the side of the grid of samples: corners, edges and inside.
const sampleGrid = 5

// groundSamples places a sampleGrid × sampleGrid grid of the image's points, from its
// top-left corner (0, 0) to its bottom-right corner (width, height); a point the
// transform cannot place is left out.
func groundSamples(t geo.Transformer, width, height int) []groundSample {
	var out []groundSample
	for j := 0; j < sampleGrid; j++ {
		for i := 0; i < sampleGrid; i++ {
			x := float64(width) * float64(i) / (sampleGrid - 1)
			y := float64(height) * float64(j) / (sampleGrid - 1)
			lon, lat, err := t.Forward(x, y)
			if err != nil || math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
				continue
			}
			out = append(out, groundSample{Pixel: [2]float64{x, y}, LonLat: [2]float64{lon, lat}})
		}
	}
	return out
}

type fitView struct {
	Transform       geo.TransformKind `json:"transform"`
	MinimumPoints   int               `json:"minimum_points"`
	Residuals       []geo.Residual    `json:"residuals"`
	RMSPixels       float64           `json:"rms_px"`
	RMSMetres       float64           `json:"rms_m"`
	MeanErrorPixels float64           `json:"mean_error_px"`
	MeanErrorMetres float64           `json:"mean_error_m"`
}

func viewOfFit(f *geo.Fit) *fitView {
	return &fitView{Transform: f.Kind, MinimumPoints: f.Kind.MinimumPoints(), Residuals: f.Residuals,
		RMSPixels: f.RMSPixels, RMSMetres: f.RMSMetres, MeanErrorPixels: f.MeanErrorPixels, MeanErrorMetres: f.MeanErrorMetres}
}

func (s *Server) georefView(ctx context.Context, img annotations.Image) (georefView, error) {
	v := georefView{GSD: img.GSD}
	g, err := s.store.Georeference(ctx, img.ID)
	if errors.Is(err, annotations.ErrNotFound) {
		if img.GSD == nil {
			return v, notFound("georeference")
		}
		v.Method = "gsd"
		return v, nil
	}
	if err != nil {
		return v, err
	}
	p, err := s.placement(ctx, img)
	if err != nil {
		return v, err
	}
	v.Method, v.Transform, v.GCPs, v.GeoTransform, v.Origin = g.Method, g.Transform, g.ControlPoints, g.GeoTransform, g.Origin
	v.UpdatedBy, v.UpdatedAt = g.UpdatedBy, g.UpdatedAt
	if p.Grid != nil {
		v.CRS, v.CRSWKT = p.Grid.CRS.String(), p.Grid.CRS.WKT
	}
	if p.Fit != nil {
		v.Fit = viewOfFit(p.Fit)
		v.CRS = geo.WGS84.String()
	}
	if fp, _, err := formats.Footprint(p.Transformer, img.Width, img.Height); err == nil {
		v.Footprint = fp
	}
	v.Samples = groundSamples(p.Transformer, img.Width, img.Height)
	return v, nil
}

func (s *Server) getGeoreference(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	v, err := s.georefView(c.Request().Context(), img)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// georefInput is a PUT body: a transform and its control points, or a ground sample
// distance alone.
type georefInput struct {
	Transform *geo.TransformKind `json:"transform"`
	GCPs      []geo.ControlPoint `json:"gcps"`
	GSD       json.RawMessage    `json:"gsd_m"`
}

func decodeGeorefInput(c echo.Context) (georefInput, error) {
	var in georefInput
	nonFinite, err := decodeJSON(c, &in)
	if err != nil {
		return in, err
	}
	if nonFinite && len(in.GSD) == 0 {
		return in, &geo.Error{Kind: geo.ErrOutOfRange, Field: "gcps", Message: "coordinates must be finite numbers (NaN and Infinity are not)"}
	}
	return in, nil
}

// parseGSD reads a ground sample distance: a positive, finite number of metres per pixel.
func parseGSD(raw json.RawMessage) (float64, error) {
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, &annotations.ValidationError{Field: "gsd_m", Message: fmt.Sprintf("the ground sample distance must be a positive number of metres per pixel, not %s", raw)}
	}
	return v, nil
}

func (s *Server) fitFromInput(in georefInput) (*geo.Fit, error) {
	if in.Transform == nil {
		return nil, &annotations.ValidationError{Field: "transform", Message: "say which transform to fit: " + kindList()}
	}
	return geo.FitControlPoints(*in.Transform, in.GCPs)
}

func kindList() string {
	names := make([]string, len(geo.Kinds))
	for i, k := range geo.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// putGeoreference stores control points with their transform (answering with the fit),
// or a ground sample distance alone.
func (s *Server) putGeoreference(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	in, err := decodeGeorefInput(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch {
	case len(in.GSD) > 0 && in.Transform == nil && len(in.GCPs) == 0:
		gsd, err := parseGSD(in.GSD)
		if err != nil {
			return err
		}
		if img, err = s.store.SetGroundSampleDistance(ctx, by, img.ID, &gsd); err != nil {
			return err
		}
	case len(in.GSD) > 0:
		return &annotations.ValidationError{Field: "gsd_m", Message: "send either control points with a transform or a ground sample distance, not both"}
	default:
		fit, err := s.fitFromInput(in)
		if err != nil {
			return err
		}
		if err := s.checkInside(img, in.GCPs); err != nil {
			return err
		}
		if _, err := s.store.SetGeoreference(ctx, by, annotations.Georeference{ImageID: img.ID, Method: annotations.GeorefControlPoints,
			Transform: string(fit.Kind), ControlPoints: formats.StoredControlPoints(in.GCPs), Origin: "editor"}); err != nil {
			return err
		}
		s.footprintNow(ctx, img)
	}
	s.imageChanged(img.ID)
	if img, err = s.store.Image(ctx, img.ID); err != nil {
		return err
	}
	v, err := s.georefView(ctx, img)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// checkInside refuses control points placed outside the image.
func (s *Server) checkInside(img annotations.Image, pts []geo.ControlPoint) error {
	for i, p := range pts {
		if p.Pixel[0] < 0 || p.Pixel[1] < 0 || p.Pixel[0] > float64(img.Width) || p.Pixel[1] > float64(img.Height) {
			return &annotations.ValidationError{Field: fmt.Sprintf("gcps[%d].pixel", i),
				Message: fmt.Sprintf("control point %d is outside the %d×%d image", i+1, img.Width, img.Height)}
		}
	}
	return nil
}

// fitGeoreference fits control points without storing anything: the editor's preview.
func (s *Server) fitGeoreference(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	in, err := decodeGeorefInput(c)
	if err != nil {
		return err
	}
	fit, err := s.fitFromInput(in)
	if err != nil {
		return err
	}
	if err := s.checkInside(img, in.GCPs); err != nil {
		return err
	}
	v := georefView{Method: annotations.GeorefControlPoints, Transform: string(fit.Kind), Fit: viewOfFit(fit), CRS: geo.WGS84.String(),
		GCPs: formats.StoredControlPoints(in.GCPs)}
	if fp, _, err := formats.Footprint(fit, img.Width, img.Height); err == nil {
		v.Footprint = fp
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) deleteGeoreference(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGeoreference(c.Request().Context(), by, img.ID); err != nil {
		return err
	}
	s.imageChanged(img.ID)
	return c.NoContent(http.StatusNoContent)
}

// worldFileFormBytes bounds a world file form: a world file and a .prj, 64 KiB each at
// most, and the form around them.
const worldFileFormBytes = 256 << 10

// postWorldFile georeferences an image from a world file: the body as text (with
// ?crs=EPSG:… when it is not in degrees), or a form with "worldfile" and "prj" parts.
func (s *Server) postWorldFile(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var worldfile, prj string
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// Two small texts: a body no larger than what is parsed in memory, so nothing is
		// spooled to disk.
		req.Body = http.MaxBytesReader(c.Response(), req.Body, worldFileFormBytes)
		if err := req.ParseMultipartForm(worldFileFormBytes); err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "worldfile",
					Message: fmt.Sprintf("a world file form is at most %d bytes", worldFileFormBytes)}
			}
			return badRequest("worldfile", "the form cannot be read: %v", err)
		}
		worldfile, prj = formText(req, "worldfile"), formText(req, "prj")
	} else {
		b, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, 64<<10))
		if err != nil {
			return err
		}
		worldfile = string(b)
	}
	g, err := ingest.Sidecar{WorldFile: worldfile, PRJ: prj, CRS: c.QueryParam("crs")}.Georeference()
	if err != nil {
		return err
	}
	g.ImageID = img.ID
	ctx := req.Context()
	if _, err := s.store.SetGeoreference(ctx, by, g); err != nil {
		return err
	}
	s.footprintNow(ctx, img)
	s.imageChanged(img.ID)
	v, err := s.georefView(ctx, img)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// formText reads a form field or a file part of that name as text.
func formText(req *http.Request, name string) string {
	if v := req.FormValue(name); v != "" {
		return v
	}
	if f, _, err := req.FormFile(name); err == nil {
		defer f.Close()
		b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
		return string(b)
	}
	return ""
}

// getWorldFile answers the image's georeference as a world file, at full precision, for a
// grid or an affine fit; ?prj=1 answers its CRS as a .prj instead.
func (s *Server) getWorldFile(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	p, err := s.placement(c.Request().Context(), img)
	if err != nil {
		return err
	}
	var gt geo.GeoTransform
	crs := geo.WGS84
	switch {
	case p.Grid != nil:
		gt, crs = p.Grid.GeoTransform, p.Grid.CRS
	case p.Fit != nil:
		var ok bool
		if gt, ok = p.Fit.GeoTransform(); !ok {
			return &apiError{Status: http.StatusConflict, Code: "conflict",
				Message: "a " + string(p.Fit.Kind) + " transform is not affine, so no world file can hold it: choose similarity or affine"}
		}
	default:
		return notFound("georeference")
	}
	base := strings.TrimSuffix(downloadName(img), extOf(downloadName(img)))
	body, name := gt.WorldFile(), base+".wld"
	if c.QueryParam("prj") != "" {
		body, name = crs.PRJ(), base+".prj"
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Response().Header().Set("X-Satmark-CRS", crs.String())
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(body))
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[i:]
	}
	return ""
}

// measureShape measures a shape drawn on the image without storing it: the ruler.
func (s *Server) measureShape(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Shape    annotations.Shape `json:"shape"`
		Geometry json.RawMessage   `json:"geometry"`
	}
	nonFinite, err := decodeJSON(c, &in)
	if err != nil {
		return err
	}
	if err := nonFiniteOutside(nonFinite, in.Geometry); err != nil {
		return err
	}
	var g annotations.Geometry
	if err := g.UnmarshalJSON(in.Geometry); err != nil {
		return err
	}
	if err := g.Validate(in.Shape, img.Width, img.Height); err != nil {
		return err
	}
	p, err := s.placement(c.Request().Context(), img)
	if err != nil {
		return err
	}
	m := g.Measure(in.Shape)
	m.Ground = p.Measure(annotations.Annotation{ImageID: img.ID, Shape: in.Shape, Geometry: g})
	return c.JSON(http.StatusOK, m)
}
