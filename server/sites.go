package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
)

// Sites: a named place with an area. The images whose footprint meets the area belong
// to it; the analysts add others by hand (an unplaced release of the same base) and leave
// out footprints that only graze it.

// Membership of an image in a site: why it is there.
const (
	memberByFootprint = "footprint" // its footprint meets the area
	memberByHand      = "added"     // an analyst added it
)

// siteImage is an image of a site as the site page shows it: on a timeline by its
// capture window (else its release date), with its annotations counted by label.
type siteImage struct {
	ID             string           `json:"id"`
	Title          string           `json:"title"`
	Membership     string           `json:"membership"` // footprint or added
	Georeferenced  bool             `json:"georeferenced"`
	CapturedFrom   string           `json:"captured_from"`
	CapturedTo     string           `json:"captured_to"`
	CapturedSource string           `json:"captured_source"`
	ReleasedAt     string           `json:"released_at"`
	Publisher      string           `json:"publisher"`
	When           string           `json:"when"` // what the timeline places it by: captured_from, else released_at, else ""
	Thumbnail      string           `json:"thumbnail"`
	Annotations    int              `json:"annotation_count"`
	Labels         []siteLabelCount `json:"labels"`
}

type siteLabelCount struct {
	LabelID string `json:"label_id"`
	Label   string `json:"label"` // its path, "vessel › landing ship"
	Color   string `json:"color"`
	Count   int    `json:"count"`
}

// siteView is a site with the images that belong to it and those left out by hand.
type siteView struct {
	annotations.Site
	Images  []siteImage `json:"images"`
	LeftOut []siteImage `json:"left_out"`
}

// footprintRing samples an image's outline in lon/lat: 16 points a side, so a fit that
// bends straight edges is followed, unwrapped so that consecutive longitudes differ by
// less than 180°.
func footprintRing(t geo.Transformer, width, height int) ([][2]float64, error) {
	const n = 16
	w, h := float64(width), float64(height)
	var pix [][2]float64
	for i := 0; i < n; i++ {
		f := float64(i) / n
		pix = append(pix, [2]float64{f * w, 0})
	}
	for i := 0; i < n; i++ {
		f := float64(i) / n
		pix = append(pix, [2]float64{w, f * h})
	}
	for i := 0; i < n; i++ {
		f := float64(i) / n
		pix = append(pix, [2]float64{w - f*w, h})
	}
	for i := 0; i < n; i++ {
		f := float64(i) / n
		pix = append(pix, [2]float64{0, h - f*h})
	}
	ring := make([][2]float64, 0, len(pix)+1)
	for _, p := range pix {
		lon, lat, err := t.Forward(p[0], p[1])
		if err != nil {
			return nil, err
		}
		if k := len(ring); k > 0 {
			for lon-ring[k-1][0] > 180 {
				lon -= 360
			}
			for lon-ring[k-1][0] < -180 {
				lon += 360
			}
		}
		ring = append(ring, [2]float64{lon, lat})
	}
	return append(ring, ring[0]), nil
}

// storeFootprint works out the image's footprint from its georeference as stored now
// and stores it (the store drops it if the georeference has changed meanwhile).
func (s *Server) storeFootprint(ctx context.Context, img annotations.Image) error {
	g, err := s.store.Georeference(ctx, img.ID)
	if err != nil {
		return err
	}
	p, err := formats.PlacementOf(img, &g)
	if err != nil {
		return err
	}
	if !p.Georeferenced() {
		return errors.New("the georeference places nothing")
	}
	r, err := footprintRing(p.Transformer, img.Width, img.Height)
	if err != nil {
		return err
	}
	return s.store.SetFootprint(ctx, img.ID, g.UpdatedAt, r)
}

// footprintMeets reports whether a footprint ring meets a site's area, trying the
// footprint a turn east and west too (an unwrapped ring may lie past ±180°).
func footprintMeets(fp [][2]float64, area annotations.Geometry) bool {
	a := make([][2]float64, len(area.Coordinates[0]))
	for i, p := range area.Coordinates[0] {
		a[i] = [2]float64(p)
	}
	return geo.RingsMeetTurned(fp, a)
}

// siteViews works out which images belong to each of the sites.
func (s *Server) siteViews(ctx context.Context, sites []annotations.Site) ([]siteView, error) {
	images, err := s.store.Images(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := s.store.Labels(ctx)
	if err != nil {
		return nil, err
	}
	labelByID := map[string]annotations.Label{}
	for _, l := range labels {
		labelByID[l.ID] = l
	}
	// The footprints are stored with the georeferences; one placed before they were (or
	// whose storing failed) is worked out and stored now.
	placed, err := s.fillFootprints(ctx, images)
	if err != nil {
		return nil, err
	}
	views := make([]siteView, len(sites))
	var ids []string
	for i, st := range sites {
		v := siteView{Site: st, Images: []siteImage{}, LeftOut: []siteImage{}}
		meets, err := s.store.FootprintsMeeting(ctx, st.Area, func(fp [][2]float64) bool { return footprintMeets(fp, st.Area) })
		if err != nil {
			return nil, err
		}
		meeting := map[string]bool{}
		for _, id := range meets {
			meeting[id] = true
		}
		for _, img := range images {
			member, said := st.Member(img.ID)
			meets := meeting[img.ID]
			si := siteImage{ID: img.ID, Title: img.Title, Georeferenced: placed[img.ID],
				CapturedFrom: img.CapturedFrom, CapturedTo: img.CapturedTo, CapturedSource: img.CapturedSource,
				ReleasedAt: img.Source.ReleasedAt, Publisher: img.Source.Publisher,
				Thumbnail: "/api/v1/images/" + img.ID + "/thumbnail", Annotations: img.AnnotationCount, Labels: []siteLabelCount{}}
			si.When = si.CapturedFrom
			if si.When == "" {
				si.When = si.ReleasedAt
			}
			switch {
			case said && member:
				si.Membership = memberByHand
				if meets {
					si.Membership = memberByFootprint
				}
				v.Images = append(v.Images, si)
			case said && !member:
				if meets {
					si.Membership = memberByFootprint
				} else {
					si.Membership = memberByHand
				}
				v.LeftOut = append(v.LeftOut, si)
			case meets:
				si.Membership = memberByFootprint
				v.Images = append(v.Images, si)
			default:
				continue
			}
			ids = append(ids, img.ID)
		}
		sort.SliceStable(v.Images, func(a, b int) bool {
			x, y := v.Images[a], v.Images[b]
			if (x.When == "") != (y.When == "") {
				return x.When != "" // undated images last
			}
			return x.When < y.When
		})
		views[i] = v
	}
	counts, err := s.store.LabelCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range views {
		for _, list := range [][]siteImage{views[i].Images, views[i].LeftOut} {
			for j := range list {
				for _, c := range counts[list[j].ID] {
					l := labelByID[c.LabelID]
					list[j].Labels = append(list[j].Labels, siteLabelCount{LabelID: c.LabelID, Label: l.PathString(), Color: l.Color, Count: c.Count})
				}
			}
		}
	}
	return views, nil
}

func (s *Server) siteView(ctx context.Context, st annotations.Site) (siteView, error) {
	views, err := s.siteViews(ctx, []annotations.Site{st})
	if err != nil {
		return siteView{}, err
	}
	return views[0], nil
}

func (s *Server) listSites(c echo.Context) error {
	ctx := c.Request().Context()
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return err
	}
	views, err := s.siteViews(ctx, sites)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, views)
}

func (s *Server) getSite(c echo.Context) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	v, err := s.siteView(c.Request().Context(), st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) siteParam(c echo.Context) (annotations.Site, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return annotations.Site{}, notFound("site")
	}
	return s.store.Site(c.Request().Context(), id)
}

// siteRequest is the body of a site's creation or change: the area is a polygon, or
// (on creation, or to redraw it) from_image names a georeferenced image whose footprint
// becomes the area.
type siteRequest struct {
	annotations.SiteInput
	FromImage *string `json:"from_image"`
	Version   *int    `json:"version"`
}

func (s *Server) decodeSite(c echo.Context) (siteRequest, error) {
	var in siteRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return in, err
	}
	if in.FromImage == nil {
		return in, nil
	}
	if in.Area != nil {
		return in, badRequest("from_image", "give area or from_image, not both")
	}
	ctx := c.Request().Context()
	img, err := s.store.Image(ctx, *in.FromImage)
	if errors.Is(err, annotations.ErrNotFound) {
		return in, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "from_image", Message: "from_image: no image " + *in.FromImage}
	}
	if err != nil {
		return in, err
	}
	p, err := s.placement(ctx, img)
	if err != nil {
		return in, err
	}
	if !p.Georeferenced() {
		return in, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "from_image",
			Message: "from_image: image " + img.ID + " is not georeferenced, so it has no footprint to take the area from"}
	}
	r, err := footprintRing(p.Transformer, img.Width, img.Height)
	if err != nil {
		return in, err
	}
	ring := make([]annotations.Position, len(r))
	for i, q := range r {
		ring[i] = annotations.Position(q)
	}
	g := annotations.PolygonGeometry(ring)
	in.Area = &g
	return in, nil
}

func (s *Server) createSite(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	in, err := s.decodeSite(c)
	if err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "a new site has no version to give")
	}
	ctx := c.Request().Context()
	st, err := s.store.CreateSite(ctx, by, in.SiteInput)
	if err != nil {
		return err
	}
	v, err := s.siteView(ctx, st)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/sites/"+st.ID)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) updateSite(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("site")
	}
	in, err := s.decodeSite(c)
	if err != nil {
		return err
	}
	version, err := basedOn(c, "version", in.Version)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	st, err := s.store.UpdateSite(ctx, by, id, version, in.SiteInput)
	if err != nil {
		return err
	}
	v, err := s.siteView(ctx, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) deleteSite(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("site")
	}
	q, err := queryVersion(c)
	if err != nil {
		return err
	}
	version, err := basedOn(c, "version", q)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSite(c.Request().Context(), by, id, version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// putSiteImage adds an image to a site by hand ({"member": true}) or leaves it out
// ({"member": false}).
func (s *Server) putSiteImage(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, image := c.Param("id"), c.Param("image")
	if !annotations.ValidID(id) {
		return notFound("site")
	}
	var in struct {
		Member *bool `json:"member"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Member == nil {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "member",
			Message: "member: say true (add the image to the site) or false (leave it out)"}
	}
	ctx := c.Request().Context()
	st, err := s.store.SetSiteImage(ctx, by, id, image, *in.Member)
	if err != nil {
		return err
	}
	v, err := s.siteView(ctx, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// deleteSiteImage forgets what the analysts said of an image and a site: its footprint
// decides again.
func (s *Server) deleteSiteImage(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("site")
	}
	ctx := c.Request().Context()
	st, err := s.store.ClearSiteImage(ctx, by, id, c.Param("image"))
	if err != nil {
		return err
	}
	v, err := s.siteView(ctx, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// siteGeoJSON answers a site's area as an RFC 7946 Feature, for the map and for GIS.
func (s *Server) siteGeoJSON(c echo.Context) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/geo+json")
	return json.NewEncoder(c.Response()).Encode(map[string]any{
		"type": "Feature", "id": st.ID, "geometry": st.Area,
		"properties": map[string]any{"name": st.Name, "notes": st.Notes, "version": st.Version},
	})
}

// footprintNow stores the footprint of the georeference just saved for img; one that
// cannot be stored now is worked out when a site next needs it.
func (s *Server) footprintNow(ctx context.Context, img annotations.Image) {
	if err := s.storeFootprint(ctx, img); err != nil {
		s.log.Warn("footprint", "image", img.ID, "err", err)
	}
}
