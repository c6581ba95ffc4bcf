package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Site is a named place with an area: a polygon in WGS 84 longitude, latitude. The
// images whose footprint meets the area belong to it (the server, which knows where each
// image lies, works that out); Members are the images the analysts added by hand or left
// out.
type Site struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Area      Geometry     `json:"area"` // GeoJSON Polygon, one ring, counter-clockwise (RFC 7946)
	Notes     string       `json:"notes"`
	Version   int          `json:"version"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedBy string       `json:"updated_by"`
	UpdatedAt time.Time    `json:"updated_at"`
	Members   []SiteMember `json:"members"`
}

// SiteMember is an image an analyst added to a site by hand (Member) or left out of it
// (not Member) though its footprint meets the site's area.
type SiteMember struct {
	ImageID string    `json:"image_id"`
	Member  bool      `json:"member"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Member says whether the site's analysts added (true) or left out (false) an image by
// hand; ok is false when they did neither, and the image's footprint decides.
func (s Site) Member(imageID string) (member, ok bool) {
	for _, m := range s.Members {
		if m.ImageID == imageID {
			return m.Member, true
		}
	}
	return false, false
}

// SiteInput creates or changes a site; in an update, nil fields stay as they are.
type SiteInput struct {
	Name  *string   `json:"name"`
	Area  *Geometry `json:"area"`
	Notes *string   `json:"notes"`
}

// maxAreaPositions bounds a site's ring (the self-intersection check is quadratic).
const maxAreaPositions = 2000

func (in SiteInput) validate() error {
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		switch n := *in.Name; {
		case n == "":
			return invalid("name", "is required")
		case !utf8.ValidString(n) || utf8.RuneCountInString(n) > 200:
			return invalid("name", "must be valid text of at most 200 characters")
		}
	}
	if in.Notes != nil && (!utf8.ValidString(*in.Notes) || len(*in.Notes) > 20000) {
		return invalid("notes", "must be valid text of at most 20000 bytes")
	}
	if in.Area != nil {
		a, err := checkArea(*in.Area)
		if err != nil {
			return err
		}
		*in.Area = a
	}
	return nil
}

// checkArea checks a site's area: a Polygon of one closed ring of at least 4 and at most
// maxAreaPositions positions, longitudes in [-180, 180] and latitudes in [-90, 90], that
// encloses some area, does not cross itself, and spans less than 180° of longitude (an
// area across the antimeridian is two sites). It returns the ring counter-clockwise.
func checkArea(g Geometry) (Geometry, error) {
	if g.Type != "Polygon" {
		return g, invalid("area", "a site's area must be a GeoJSON Polygon in longitude, latitude, not a %s", g.Type)
	}
	if len(g.Coordinates) != 1 {
		return g, invalid("area", "a site's area is one ring (no holes); this polygon has %d", len(g.Coordinates))
	}
	r := g.Coordinates[0]
	switch {
	case len(r) < 4:
		return g, invalid("area", "the ring has %d positions; it needs at least 4 (closed, first = last)", len(r))
	case len(r) > maxAreaPositions:
		return g, invalid("area", "the ring has %d positions; at most %d", len(r), maxAreaPositions)
	case r[0] != r[len(r)-1]:
		return g, invalid("area", "the ring is not closed: its last position must equal its first")
	}
	west, east := math.Inf(1), math.Inf(-1)
	for _, p := range r {
		if !finite(p[0]) || !finite(p[1]) {
			return g, invalid("area", "coordinates must be finite numbers")
		}
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			return g, invalid("area", "position [%g, %g] is not a longitude, latitude in degrees (−180…180, −90…90)", p[0], p[1])
		}
		west, east = math.Min(west, p[0]), math.Max(east, p[0])
	}
	if east-west >= 180 {
		return g, invalid("area", "the area spans %.1f° of longitude: a site must span less than 180° (one across the antimeridian is two sites, one on each side)", east-west)
	}
	if shoelace(r) == 0 {
		return g, invalid("area", "the ring encloses no area")
	}
	if i, j, ok := selfIntersection(r); ok {
		return g, invalid("area", "the ring crosses itself: side %d (from [%g, %g]) meets side %d (from [%g, %g])",
			i+1, r[i][0], r[i][1], j+1, r[j][0], r[j][1])
	}
	if shoelace(r) < 0 { // clockwise with y up (lat grows upwards): reverse
		rev := make([]Position, len(r))
		for i, p := range r {
			rev[len(r)-1-i] = p
		}
		r = rev
	}
	return PolygonGeometry(r), nil
}

// selfIntersection finds two sides of a closed ring that touch or cross, other than
// neighbours meeting at their shared corner.
func selfIntersection(r []Position) (int, int, bool) {
	n := len(r) - 1
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if j == i+1 || (i == 0 && j == n-1) {
				if collinearOverlap(r[i], r[i+1], r[j], r[j+1]) {
					return i, j, true
				}
				continue
			}
			if segmentsMeet(r[i], r[i+1], r[j], r[j+1]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func orient(a, b, c Position) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, p Position) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsMeet reports whether segments ab and cd share a point.
func segmentsMeet(a, b, c, d Position) bool {
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

// collinearOverlap reports whether neighbouring sides ab and cd (sharing one corner) run
// back over each other: a spike that folds the ring onto itself.
func collinearOverlap(a, b, c, d Position) bool {
	if orient(a, b, c) != 0 || orient(a, b, d) != 0 {
		return false
	}
	// They share a corner; they overlap when the two far ends lie on the same side of it.
	var shared, p, q Position
	switch {
	case b == c:
		shared, p, q = b, a, d
	case a == d:
		shared, p, q = a, b, c
	default:
		return false
	}
	return (p[0]-shared[0])*(q[0]-shared[0])+(p[1]-shared[1])*(q[1]-shared[1]) > 0
}

const siteColumns = `id, name, area, notes, version, created_by, created_at, updated_by, updated_at`

func scanSite(row scanner) (Site, error) {
	var st Site
	var area, created, updated string
	if err := row.Scan(&st.ID, &st.Name, &area, &st.Notes, &st.Version, &st.CreatedBy, &created, &st.UpdatedBy, &updated); err != nil {
		return Site{}, err
	}
	if err := json.Unmarshal([]byte(area), &st.Area); err != nil {
		return Site{}, fmt.Errorf("site %s: stored area: %w", st.ID, err)
	}
	st.CreatedAt, st.UpdatedAt = parseTime(created), parseTime(updated)
	st.Members = []SiteMember{}
	return st, nil
}

// Sites returns every site by name, with its hand-made memberships.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	return s.sites(ctx, s.db, "")
}

// Site returns one site, or ErrNotFound.
func (s *Store) Site(ctx context.Context, id string) (Site, error) {
	return s.siteTx(ctx, s.db, id)
}

func (s *Store) siteTx(ctx context.Context, q querier, id string) (Site, error) {
	sites, err := s.sites(ctx, q, id)
	if err != nil {
		return Site{}, err
	}
	if len(sites) == 0 {
		return Site{}, fmt.Errorf("site %q: %w", id, ErrNotFound)
	}
	return sites[0], nil
}

func (s *Store) sites(ctx context.Context, q querier, id string) ([]Site, error) {
	where, args := "", []any{}
	if id != "" {
		where, args = " WHERE id = ?", append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+siteColumns+` FROM sites`+where+` ORDER BY `+s.d.nocase("name")+`, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sites := []Site{}
	index := map[string]int{}
	for rows.Next() {
		st, err := scanSite(rows)
		if err != nil {
			return nil, err
		}
		index[st.ID] = len(sites)
		sites = append(sites, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	mwhere := ""
	if id != "" {
		mwhere = " AND m.site_id = ?"
	}
	mrows, err := q.QueryContext(ctx, `SELECT m.site_id, m.image_id, m.member, m.by, m.at FROM site_images m
		JOIN images i ON i.id = m.image_id WHERE i.deleted_at = ''`+mwhere+` ORDER BY m.at, m.image_id`, args...)
	if err != nil {
		return nil, err
	}
	defer mrows.Close()
	for mrows.Next() {
		var siteID, at string
		var m SiteMember
		if err := mrows.Scan(&siteID, &m.ImageID, &m.Member, &m.By, &at); err != nil {
			return nil, err
		}
		m.At = parseTime(at)
		if i, ok := index[siteID]; ok {
			sites[i].Members = append(sites[i].Members, m)
		}
	}
	return sites, mrows.Err()
}

func (s *Store) siteWriteError(err error, name string) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("a site named %q already exists: %w", name, ErrConflict)
	}
	return err
}

// CreateSite adds a site, audited as by's. Its name is required and unique (ignoring
// case), its area required; a name another site has is ErrConflict.
func (s *Store) CreateSite(ctx context.Context, by Actor, in SiteInput) (Site, error) {
	if in.Name == nil {
		return Site{}, invalid("name", "is required")
	}
	if in.Area == nil {
		return Site{}, invalid("area", "is required: a polygon in longitude, latitude (or from_image, an image's footprint)")
	}
	if err := in.validate(); err != nil {
		return Site{}, err
	}
	area, err := json.Marshal(in.Area)
	if err != nil {
		return Site{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Site{}, err
	}
	defer tx.Rollback()
	id, now := newID("sit"), formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO sites (id, name, area, notes, version, created_by, created_at, updated_by, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`, id, *in.Name, string(area), str(in.Notes), by.Name, now, by.Name, now); err != nil {
		return Site{}, s.siteWriteError(err, *in.Name)
	}
	return s.commitSite(ctx, tx, by, "site.create", id, *in.Name)
}

func (s *Store) commitSite(ctx context.Context, tx *sql.Tx, by Actor, action, id, detail string) (Site, error) {
	if err := s.audit(ctx, tx, by, action, "site", id, detail); err != nil {
		return Site{}, err
	}
	st, err := s.siteTx(ctx, tx, id)
	if err != nil {
		return Site{}, err
	}
	return st, tx.Commit()
}

// checkVersion refuses a change of a site or a track (kind) not based on its current
// version: ErrVersionRequired when it names none, a *StaleVersionError for an old one.
func checkVersion(kind, id string, current int, given *int) error {
	if given == nil {
		return ErrVersionRequired
	}
	if *given != current {
		return &StaleVersionError{Kind: kind, ID: id, Given: *given, Current: current}
	}
	return nil
}

// UpdateSite renames a site, redraws its area or changes its notes, audited as by's. It
// must be based on the current version (ErrVersionRequired, *StaleVersionError).
func (s *Store) UpdateSite(ctx context.Context, by Actor, id string, version *int, in SiteInput) (Site, error) {
	if err := in.validate(); err != nil {
		return Site{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Site{}, err
	}
	defer tx.Rollback()
	st, err := s.siteTx(ctx, tx, id)
	if err != nil {
		return Site{}, err
	}
	if err := checkVersion("site", st.ID, st.Version, version); err != nil {
		return Site{}, err
	}
	var changed []string
	if in.Name != nil && *in.Name != st.Name {
		st.Name, changed = *in.Name, append(changed, "name")
	}
	if in.Area != nil {
		st.Area, changed = *in.Area, append(changed, "area")
	}
	if in.Notes != nil && *in.Notes != st.Notes {
		st.Notes, changed = *in.Notes, append(changed, "notes")
	}
	area, err := json.Marshal(st.Area)
	if err != nil {
		return Site{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sites SET name = ?, area = ?, notes = ?, version = version + 1, updated_by = ?, updated_at = ? WHERE id = ?`,
		st.Name, string(area), st.Notes, by.Name, formatTime(s.now()), id); err != nil {
		return Site{}, s.siteWriteError(err, st.Name)
	}
	return s.commitSite(ctx, tx, by, "site.update", id, st.Name+": "+strings.Join(changed, ", "))
}

// DeleteSite removes a site and its hand-made memberships (never an image), audited as
// by's; like an update it must be based on the current version.
func (s *Store) DeleteSite(ctx context.Context, by Actor, id string, version *int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := s.siteTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := checkVersion("site", st.ID, st.Version, version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sites WHERE id = ?`, id); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "site.delete", "site", id, st.Name); err != nil {
		return err
	}
	return tx.Commit()
}

// SetSiteImage adds an image to a site by hand (member) or leaves it out (not member),
// audited as by's. The image must exist and not be in the trash.
func (s *Store) SetSiteImage(ctx context.Context, by Actor, siteID, imageID string, member bool) (Site, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Site{}, err
	}
	defer tx.Rollback()
	st, err := s.siteTx(ctx, tx, siteID)
	if err != nil {
		return Site{}, err
	}
	img, err := s.imageWhere(ctx, tx, "i.id = ?", imageID)
	if errors.Is(err, ErrNotFound) {
		return Site{}, invalid("image_id", "no image %q (or it is in the trash)", imageID)
	}
	if err != nil {
		return Site{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO site_images (site_id, image_id, member, by, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site_id, image_id) DO UPDATE SET member = excluded.member, by = excluded.by, at = excluded.at`,
		siteID, imageID, member, by.Name, formatTime(s.now())); err != nil {
		return Site{}, err
	}
	action := "site.image.add"
	if !member {
		action = "site.image.leave_out"
	}
	return s.commitSite(ctx, tx, by, action, siteID, st.Name+": "+img.ID+" "+img.Title)
}

// ClearSiteImage forgets what the analysts said of an image and a site, audited as by's:
// the image's footprint decides again. An image they said nothing of is ErrNotFound.
func (s *Store) ClearSiteImage(ctx context.Context, by Actor, siteID, imageID string) (Site, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Site{}, err
	}
	defer tx.Rollback()
	st, err := s.siteTx(ctx, tx, siteID)
	if err != nil {
		return Site{}, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM site_images WHERE site_id = ? AND image_id = ?`, siteID, imageID)
	if err != nil {
		return Site{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Site{}, fmt.Errorf("image %q was neither added to nor left out of site %q by hand: %w", imageID, st.Name, ErrNotFound)
	}
	return s.commitSite(ctx, tx, by, "site.image.clear", siteID, st.Name+": "+imageID)
}

// LabelCount is how many annotations of one label an image holds.
type LabelCount struct {
	LabelID string `json:"label_id"`
	Count   int    `json:"count"`
}

// LabelCounts returns, for each of the images, its annotations counted by label, most
// numerous first.
func (s *Store) LabelCounts(ctx context.Context, imageIDs []string) (map[string][]LabelCount, error) {
	out := map[string][]LabelCount{}
	if len(imageIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(imageIDs))
	for i, id := range imageIDs {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT image_id, label_id, COUNT(*) FROM annotations WHERE image_id IN (`+placeholders(len(args))+`)
		GROUP BY image_id, label_id ORDER BY image_id, COUNT(*) DESC, label_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var img string
		var c LabelCount
		if err := rows.Scan(&img, &c.LabelID, &c.Count); err != nil {
			return nil, err
		}
		out[img] = append(out[img], c)
	}
	return out, rows.Err()
}
