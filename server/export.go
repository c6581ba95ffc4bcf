package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/imagery"
)

// exportImageGeoJSON downloads one image's annotations as GeoJSON: RFC 7946 lon/lat when
// the image is georeferenced (or ?crs=wgs84 asks), pixel space otherwise (or with
// ?crs=pixel).
func (s *Server) exportImageGeoJSON(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	statuses, err := statusFilter(c)
	if err != nil {
		return err
	}
	f := annotations.AnnotationFilter{ImageIDs: []string{img.ID}, Statuses: statuses}
	return s.writeGeoJSON(c, []annotations.Image{img}, f, "satmark-"+img.ID)
}

// statusFilter reads ?status= (repeatable or comma-separated): the review states an
// export keeps, e.g. ?status=accepted for checked work only.
func statusFilter(c echo.Context) ([]string, error) {
	statuses := queryList(c, "status")
	for _, st := range statuses {
		if !slices.Contains(annotations.ReviewStatuses, st) {
			return nil, badRequest("status", "%q is not a review state: use %s", st, strings.Join(annotations.ReviewStatuses, ", "))
		}
	}
	return statuses, nil
}

// exportGeoJSON downloads the annotations of every image, or of the images named by
// ?image= (repeatable, or comma-separated), limited to ?label= (repeatable; an id, path
// or name; each label includes the labels below it). ?crs=wgs84 gives lon/lat for the
// georeferenced images and lists the others as left out; ?crs=pixel gives pixels for
// all; without it, lon/lat when every image is georeferenced, else pixels.
func (s *Server) exportGeoJSON(c echo.Context) error {
	images, f, err := s.exportSelection(c)
	if err != nil {
		return err
	}
	return s.writeGeoJSON(c, images, f, "satmark-export")
}

// exportSelection reads what an export of many images covers: ?image= (repeatable, or
// comma-separated; every image when absent), ?label= (repeatable; an id, path or name;
// each label includes the labels below it) and ?status= (see statusFilter).
func (s *Server) exportSelection(c echo.Context) ([]annotations.Image, annotations.AnnotationFilter, error) {
	statuses, err := statusFilter(c)
	if err != nil {
		return nil, annotations.AnnotationFilter{}, err
	}
	return s.Selection(c.Request().Context(), queryList(c, "image"), c.QueryParams()["label"], statuses)
}

// Selection is what an export of many images covers: the images named (every image when
// none is), and the filter of their annotations by label (an id, path or name; each
// label includes the labels below it) and review state. An image or label that does not
// exist is ErrNotFound.
func (s *Server) Selection(ctx context.Context, imageIDs, labelRefs, statuses []string) ([]annotations.Image, annotations.AnnotationFilter, error) {
	f := annotations.AnnotationFilter{Statuses: statuses}
	var images []annotations.Image
	seen := map[string]bool{}
	for _, id := range imageIDs {
		if !annotations.ValidID(id) {
			return nil, f, notFound("image " + id)
		}
		if seen[id] {
			continue // an image named twice is still one image in the export
		}
		seen[id] = true
		img, err := s.store.Image(ctx, id)
		if err != nil {
			return nil, f, err
		}
		images = append(images, img)
		f.ImageIDs = append(f.ImageIDs, id)
	}
	var err error
	if f.LabelIDs, err = s.labelIDs(ctx, labelRefs); err != nil {
		return nil, f, err
	}
	if len(f.ImageIDs) == 0 {
		if images, err = s.store.Images(ctx); err != nil {
			return nil, f, err
		}
	}
	return images, f, nil
}

// labelIDs resolves labels named by id, path or name to their ids; an export filtered
// by a label includes the labels below it.
func (s *Server) labelIDs(ctx context.Context, refs []string) ([]string, error) {
	var ids []string
	for _, ref := range refs {
		if ref = strings.TrimSpace(ref); ref == "" {
			continue
		}
		l, err := s.store.ResolveLabel(ctx, ref)
		if err != nil {
			return nil, err
		}
		ids = append(ids, l.ID)
	}
	return ids, nil
}

// writeGeoJSON chooses the coordinates (see exportGeoJSON) and streams the file, each
// annotation with its size on the ground.
func (s *Server) writeGeoJSON(c echo.Context, images []annotations.Image, f annotations.AnnotationFilter, name string) error {
	ctx := c.Request().Context()
	// Before the choice of coordinates, which copies the images it keeps.
	evidence, err := s.withClaims(ctx, images)
	if err != nil {
		return err
	}
	places := make(map[string]formats.Placement, len(images))
	for _, img := range images {
		p, err := s.placement(ctx, img)
		if err != nil {
			return err
		}
		places[img.ID] = p
	}
	requested := strings.ToLower(c.QueryParam("crs"))
	crs, georef, omitted, ok := formats.GeoJSONCoordinates(requested, images, places)
	if !ok {
		return badRequest("crs", "%q is not a coordinate system this export knows: use wgs84 or pixel", requested)
	}
	if crs == "wgs84" && len(images) == 1 && len(georef) == 0 {
		return &apiError{Status: http.StatusConflict, Code: "not_georeferenced", Field: "crs",
			Message: "this image is not georeferenced, so its annotations have no longitude and latitude; georeference it, or export with crs=pixel"}
	}
	decisions, err := s.decisionsOf(ctx, images)
	if err != nil {
		return err
	}
	tracks, err := s.trackRefsOf(ctx, images)
	if err != nil {
		return err
	}
	// On the goroutine that reads the annotations, beside the encoding.
	prepare := func(a *annotations.Annotation) {
		a.Ground = places[a.ImageID].Measure(*a)
		a.Decision = found(decisions, a.ID)
		a.Track = found(tracks, a.ID)
		a.Evidence = evidence[a.ID]
	}
	h := c.Response().Header()
	if crs == "wgs84" {
		h.Set(echo.HeaderContentType, formats.LonLatGeoJSONMediaType)
		h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name + "-wgs84.geojson"}))
		lf := f
		lf.ImageIDs = nil
		for _, img := range georef {
			lf.ImageIDs = append(lf.ImageIDs, img.ID)
		}
		err = formats.WriteLonLatGeoJSON(c.Response(), georef, places, omitted, func(emit func(annotations.Annotation) error) error {
			if len(lf.ImageIDs) == 0 {
				return nil
			}
			return s.store.EachPreparedAnnotation(ctx, lf, prepare, emit)
		})
	} else {
		h.Set(echo.HeaderContentType, formats.PixelGeoJSONMediaType)
		h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name + "-pixel-coordinates.geojson"}))
		err = formats.WritePixelGeoJSON(c.Response(), images, func(emit func(annotations.Annotation) error) error {
			return s.store.EachPreparedAnnotation(ctx, f, prepare, emit)
		})
	}
	return s.streamed(c, name, err)
}

// found is a copy of m's value for key, or nil when it has none: allocated only when
// found (an export asks for each of its 100,000 annotations, and most have none).
func found[T any](m map[string]T, key string) *T {
	v, ok := m[key]
	if !ok {
		return nil
	}
	p := new(T)
	*p = v
	return p
}

// kmlInputs reads what a KML export of a georeferenced image covers: the image, its
// placement and the filter of its annotations by ?status=.
func (s *Server) kmlInputs(c echo.Context) (annotations.Image, formats.Placement, annotations.AnnotationFilter, error) {
	img, err := s.imageParam(c)
	if err != nil {
		return img, formats.Placement{}, annotations.AnnotationFilter{}, err
	}
	p, err := s.placement(c.Request().Context(), img)
	if err != nil {
		return img, p, annotations.AnnotationFilter{}, err
	}
	if !p.Georeferenced() {
		return img, p, annotations.AnnotationFilter{}, &apiError{Status: http.StatusConflict, Code: "not_georeferenced",
			Message: "KML places annotations on the earth: georeference this image first"}
	}
	statuses, err := statusFilter(c)
	return img, p, annotations.AnnotationFilter{ImageIDs: []string{img.ID}, Statuses: statuses}, err
}

// eachKMLAnnotation walks the annotations f selects with their ground measures and the
// decisions behind their review states.
func (s *Server) eachKMLAnnotation(ctx context.Context, img annotations.Image, p formats.Placement, f annotations.AnnotationFilter) (func(emit func(annotations.Annotation) error) error, error) {
	decisions, err := s.decisionsOf(ctx, []annotations.Image{img})
	if err != nil {
		return nil, err
	}
	return func(emit func(annotations.Annotation) error) error {
		return s.store.EachPreparedAnnotation(ctx, f, func(a *annotations.Annotation) {
			a.Ground = p.Measure(*a)
			a.Decision = found(decisions, a.ID)
		}, emit)
	}, nil
}

// withClaims gives each image its release's claims, for the export's provenance, and
// returns the claims each annotation on them is evidence for.
func (s *Server) withClaims(ctx context.Context, images []annotations.Image) (map[string][]annotations.EvidenceRef, error) {
	claims := map[string][]annotations.ClaimRef{}
	ids := make([]string, len(images))
	for i := range images {
		src := images[i].Source.ID
		if _, ok := claims[src]; !ok {
			refs, err := s.store.ClaimRefs(ctx, src)
			if err != nil {
				return nil, err
			}
			claims[src] = refs
		}
		images[i].Source.Claims, ids[i] = claims[src], images[i].ID
	}
	return s.store.EvidenceOf(ctx, ids)
}

// trackRefsOf loads the tracks the images' annotations follow, which exports name.
func (s *Server) trackRefsOf(ctx context.Context, images []annotations.Image) (map[string]annotations.TrackRef, error) {
	tracks, err := s.store.Tracks(ctx)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, img := range images {
		in[img.ID] = true
	}
	out := map[string]annotations.TrackRef{}
	for _, t := range tracks {
		for _, l := range t.Links {
			if in[l.ImageID] {
				out[l.AnnotationID] = annotations.TrackRef{ID: t.ID, Name: t.Name, Confidence: l.Confidence}
			}
		}
	}
	return out, nil
}

// decisionsOf loads the review decisions behind the states of the images' annotations,
// which exports name beside each state.
func (s *Server) decisionsOf(ctx context.Context, images []annotations.Image) (map[string]annotations.Review, error) {
	ids := make([]string, len(images))
	for i, img := range images {
		ids[i] = img.ID
	}
	return s.store.LatestDecisions(ctx, ids)
}

// overlayRequest is the rendition of the image a KML ground overlay shows.
var overlayRequest = [4]string{"full", "!4096,4096", "0", "default.jpg"}

// exportImageKML downloads KML for Google Earth whose ground overlay is the image served
// by the IIIF service.
func (s *Server) exportImageKML(c echo.Context) error {
	img, p, f, err := s.kmlInputs(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	labels, err := s.store.AnnotationLabels(ctx, f)
	if err != nil {
		return err
	}
	each, err := s.eachKMLAnnotation(ctx, img, p, f)
	if err != nil {
		return err
	}
	href := s.baseURL(c) + iiifPrefix + img.ID + "/" + strings.Join(overlayRequest[:], "/")
	c.Response().Header().Set(echo.HeaderContentType, formats.KMLMediaType)
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "satmark-" + img.ID + ".kml"}))
	return s.streamed(c, "satmark-"+img.ID, formats.WriteKML(c.Response(), img, p, labels, each, href))
}

// exportImageKMZ downloads a KMZ holding the KML and the overlay image, for offline use.
// Its entries are dated by the latest change, so the annotations are read first.
func (s *Server) exportImageKMZ(c echo.Context) error {
	img, p, f, err := s.kmlInputs(c)
	if err != nil {
		return err
	}
	if !img.Pyramid.Ready() {
		return notReady(img.Pyramid)
	}
	ctx := c.Request().Context()
	each, err := s.eachKMLAnnotation(ctx, img, p, f)
	if err != nil {
		return err
	}
	var anns []annotations.Annotation
	if err := each(func(a annotations.Annotation) error { anns = append(anns, a); return nil }); err != nil {
		return err
	}
	r, err := imagery.ParseIIIF(overlayRequest[0], overlayRequest[1], overlayRequest[2], overlayRequest[3], img.Width, img.Height)
	if err != nil {
		return err
	}
	out, err := s.library.Render(ctx, img.SHA256, infoOf(img), r)
	if err != nil {
		return err
	}
	defer out.File.Close()
	overlay, err := io.ReadAll(out.File)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, formats.KMZMediaType)
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "satmark-" + img.ID + ".kmz"}))
	return formats.WriteKMZ(c.Response(), img, p, anns, overlay)
}

// geoFeature and featureCollection are the RFC 7946 GeoJSON the map's answers are made of
// (footprints, tracks).
type geoFeature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type featureCollection struct {
	Type     string       `json:"type"`
	Features []geoFeature `json:"features"`
}

func newFeatureCollection() featureCollection {
	return featureCollection{Type: "FeatureCollection", Features: []geoFeature{}}
}

// queryList returns the values of a repeatable query parameter, also split at commas.
func queryList(c echo.Context, name string) []string {
	var out []string
	for _, v := range c.QueryParams()[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
