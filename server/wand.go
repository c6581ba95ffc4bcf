package server

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/wand"
)

// The wand: a click on the displayed pixels grows a region of similar colour and answers
// its outline, for the annotator to make a polygon of.

// wandWindow is the side, in pixels of the pyramid level the view shows, of the window a
// region may grow in.
const wandWindow = 512

type wandRequest struct {
	X          *float64     `json:"x"`          // the click, in full-resolution pixels
	Y          *float64     `json:"y"`          //
	Points     [][2]float64 `json:"points"`     // or the points a drag passed over (at most 256)
	Tolerance  *float64     `json:"tolerance"`  // RGB distance, 1–441 (default 40)
	Resolution *float64     `json:"resolution"` // image pixels per screen pixel in the view (default 1)
}

func (s *Server) wandRegion(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in wandRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	invalid := func(field, msg string, args ...any) error {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field, Message: field + ": " + fmt.Sprintf(msg, args...)}
	}
	seeds := in.Points
	if in.X != nil || in.Y != nil {
		if in.X == nil || in.Y == nil || seeds != nil {
			return invalid("x", "give the click's x and y, or the points of a drag, not both")
		}
		seeds = [][2]float64{{*in.X, *in.Y}}
	}
	switch {
	case len(seeds) == 0:
		return invalid("x", "the click's x and y (or the points of a drag), in full-resolution pixels, are required")
	case len(seeds) > 256:
		return invalid("points", "%d points: a drag gives at most 256", len(seeds))
	}
	for _, p := range seeds {
		if !(p[0] >= 0 && p[0] < float64(img.Width)) || !(p[1] >= 0 && p[1] < float64(img.Height)) {
			return invalid("x", "the point (%g, %g) is outside the image (0 ≤ x < %d, 0 ≤ y < %d)", p[0], p[1], img.Width, img.Height)
		}
	}
	tol, m, k, err := s.segmentationParams(img, in.Tolerance, in.Resolution)
	if err != nil {
		return err
	}
	lv := m.Levels[k]
	scale := float64(int(1) << k)
	// The window about the points, inside the level.
	lo, hi := image.Pt(lv.Width, lv.Height), image.Pt(0, 0)
	pts := make([]image.Point, len(seeds))
	for i, p := range seeds {
		pts[i] = image.Pt(min(lv.Width-1, int(p[0]/scale)), min(lv.Height-1, int(p[1]/scale)))
		lo, hi = image.Pt(min(lo.X, pts[i].X), min(lo.Y, pts[i].Y)), image.Pt(max(hi.X, pts[i].X), max(hi.Y, pts[i].Y))
	}
	if hi.X-lo.X >= wandWindow-2 || hi.Y-lo.Y >= wandWindow-2 {
		return invalid("points", "the drag spans more than the %d-pixel window the wand works in at this zoom: zoom out, or drag over less", wandWindow)
	}
	cx, cy := (lo.X+hi.X)/2, (lo.Y+hi.Y)/2
	x0 := max(0, min(lv.Width-wandWindow, cx-wandWindow/2))
	y0 := max(0, min(lv.Height-wandWindow, cy-wandWindow/2))
	win := image.Rect(x0, y0, min(lv.Width, x0+wandWindow), min(lv.Height, y0+wandWindow))
	pix, err := s.levelWindow(img, m, k, win)
	if err != nil {
		return err
	}
	r, err := wand.Drag(pix, pts, tol, 1)
	if errors.Is(err, wand.ErrNoRegion) {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "no_region", Field: "x",
			Message: fmt.Sprintf("no distinct object at (%.0f, %.0f): the region of similar colour reaches the edge of the %d-pixel window around it at this zoom (open water, a field); lower the sensitivity or zoom in", seeds[0][0], seeds[0][1], wandWindow)}
	}
	if err != nil {
		return err
	}
	ring := make([]annotations.Position, len(r.Ring))
	for i, p := range r.Ring {
		ring[i] = annotations.Position{
			math.Min(float64(img.Width), (p[0]+float64(win.Min.X))*scale),
			math.Min(float64(img.Height), (p[1]+float64(win.Min.Y))*scale),
		}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"geometry": annotations.PolygonGeometry(ring), "area_px": float64(r.Area) * scale * scale, "level": k, "tolerance": tol,
	})
}

// levelWindow reads the rectangle win of pyramid level k of an image, from its tiles.
func (s *Server) levelWindow(img annotations.Image, m *imagery.Manifest, k int, win image.Rectangle) (*image.RGBA, error) {
	pix := image.NewRGBA(win)
	src := pyramidSource{s: s, sha: img.SHA256, info: infoOf(img), m: m}
	ts := m.TileSize
	for row := win.Min.Y / ts; row <= (win.Max.Y-1)/ts; row++ {
		for col := win.Min.X / ts; col <= (win.Max.X-1)/ts; col++ {
			t, err := src.Tile(k, row, col)
			if err != nil {
				return nil, err
			}
			b, origin := t.Bounds(), image.Pt(col*ts, row*ts)
			dst := image.Rectangle{Min: origin, Max: origin.Add(b.Size())}.Intersect(win)
			draw.Draw(pix, dst, t, b.Min.Add(dst.Min.Sub(origin)), draw.Src)
		}
	}
	return pix, nil
}

// outlineFromBox answers the outline of the object in a loose box drawn about it (box →
// outline): {"box": [x0, y0, x1, y1]} in full-resolution pixels, "tolerance",
// "resolution" (which pyramid level: the view's).
func (s *Server) outlineFromBox(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Box        *[4]float64 `json:"box"`
		Tolerance  *float64    `json:"tolerance"`
		Resolution *float64    `json:"resolution"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	invalid := func(field, msg string, args ...any) error {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field, Message: field + ": " + fmt.Sprintf(msg, args...)}
	}
	if in.Box == nil {
		return invalid("box", "the box, [x0, y0, x1, y1] in full-resolution pixels, is required")
	}
	b := *in.Box
	x0, y0, x1, y1 := math.Min(b[0], b[2]), math.Min(b[1], b[3]), math.Max(b[0], b[2]), math.Max(b[1], b[3])
	if !(x0 >= 0 && y0 >= 0 && x1 <= float64(img.Width) && y1 <= float64(img.Height)) {
		return invalid("box", "%v is not inside the image (0 ≤ x ≤ %d, 0 ≤ y ≤ %d)", b, img.Width, img.Height)
	}
	tol, m, k, err := s.segmentationParams(img, in.Tolerance, in.Resolution)
	if err != nil {
		return err
	}
	scale := float64(int(1) << k)
	lv := m.Levels[k]
	win := image.Rect(int(x0/scale), int(y0/scale), int(math.Ceil(x1/scale)), int(math.Ceil(y1/scale))).Intersect(image.Rect(0, 0, lv.Width, lv.Height))
	switch {
	case win.Dx() < 8 || win.Dy() < 8:
		return invalid("box", "the box is under 8 pixels across at this zoom: draw it larger, or zoom in")
	case win.Dx() > 2*wandWindow || win.Dy() > 2*wandWindow:
		return invalid("box", "the box is over %d pixels across at this zoom: zoom out, or draw it closer about the object", 2*wandWindow)
	}
	pix, err := s.levelWindow(img, m, k, win)
	if err != nil {
		return err
	}
	r, err := wand.FromBox(pix, win, tol, 1)
	if errors.Is(err, wand.ErrNoRegion) {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "no_region", Field: "box",
			Message: "nothing in the box differs from its edges: draw the box about an object with background all round it, or make the sensitivity finer"}
	}
	if err != nil {
		return err
	}
	ring := make([]annotations.Position, len(r.Ring))
	for i, p := range r.Ring {
		ring[i] = annotations.Position{math.Min(float64(img.Width), p[0]*scale), math.Min(float64(img.Height), p[1]*scale)}
	}
	return c.JSON(http.StatusOK, map[string]any{"geometry": annotations.PolygonGeometry(ring), "area_px": float64(r.Area) * scale * scale, "level": k})
}

// segmentationParams checks what the wand and box → outline share: the sensitivity (an
// RGB distance, 1–441, default 40) and the view's resolution (image pixels per screen
// pixel, default 1), which picks the pyramid level they work on (the coarsest no coarser
// than the view).
func (s *Server) segmentationParams(img annotations.Image, tolerance, resolution *float64) (float64, *imagery.Manifest, int, error) {
	tol := 40.0
	if tolerance != nil {
		if tol = *tolerance; !(tol >= 1 && tol <= 441) {
			return 0, nil, 0, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "tolerance",
				Message: fmt.Sprintf("tolerance: %g is not a sensitivity: give 1–441 (a distance in RGB)", tol)}
		}
	}
	res := 1.0
	if resolution != nil {
		if res = *resolution; !(res > 0 && res < 1e6) {
			return 0, nil, 0, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "resolution",
				Message: fmt.Sprintf("resolution: %g is not a view's resolution (image pixels per screen pixel, > 0)", res)}
		}
	}
	m, err := s.library.Pyramid(img.SHA256)
	if errors.Is(err, imagery.ErrNoPyramid) {
		return 0, nil, 0, notReady(img.Pyramid)
	}
	if err != nil {
		return 0, nil, 0, err
	}
	k := 0
	for k+1 < len(m.Levels) && float64(int(1)<<(k+1)) <= res {
		k++
	}
	return tol, m, k, nil
}
