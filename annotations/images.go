package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Source is a release: who published the images, when, where, and what they claimed.
// One source may carry several images.
type Source struct {
	ID         string    `json:"id"`
	Publisher  string    `json:"publisher"`
	Title      string    `json:"title"`
	URL        string    `json:"source_url"`
	ReleasedAt string    `json:"released_at"` // YYYY-MM-DD, or RFC 3339 in UTC when a time was given
	Credit     string    `json:"credit"`
	License    string    `json:"license"`
	Claim      string    `json:"claim"` // the claim in the publisher's words: its first claim
	Notes      string    `json:"notes"`
	CreatedAt  time.Time `json:"created_at"`
	// Claims are all the release's claims, when an export has filled them in from
	// ClaimRefs. They are not stored with the release.
	Claims []ClaimRef `json:"-"`
}

// Image is one original file, kept byte for byte under its SHA-256, with what the release
// says about it. Width and height are of the image as displayed (after EXIF orientation);
// they define its pixel space.
type Image struct {
	ID              string   `json:"id"`
	SHA256          string   `json:"sha256"`
	Title           string   `json:"title"`
	Filename        string   `json:"filename"`
	MediaType       string   `json:"media_type"`
	ByteSize        int64    `json:"byte_size"`
	Width           int      `json:"width"`
	Height          int      `json:"height"`
	Orientation     int      `json:"exif_orientation"`
	CapturedFrom    string   `json:"captured_from"`
	CapturedTo      string   `json:"captured_to"`
	LocationName    string   `json:"location_name"`
	PublisherMarkup bool     `json:"publisher_markup"`
	GSD             *float64 `json:"gsd_m,omitempty"`
	Georeferenced   bool     `json:"georeferenced"`
	ImportWarnings  []string `json:"import_warnings"` // what the import noticed, e.g. a GeoTIFF CRS it could not use
	Pyramid         Progress `json:"pyramid"`         // the tile pyramid's build, which deep zoom waits for
	Source          Source   `json:"source"`
	AnnotationCount int      `json:"annotation_count"`
	// ReviewCounts counts the annotations by review state (every state, zero or not), as
	// kept in image_review_counts (migration 0015) with every write, not counted per read.
	ReviewCounts map[string]int `json:"review_counts"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`

	// CapturedSource says where the capture window came from: CapturedByRelease,
	// CapturedByFile, or "" when there is none.
	CapturedSource string       `json:"captured_source"`
	FileMetadata   FileMetadata `json:"file_metadata"` // what the file says of its capture
	Sidecars       []Sidecar    `json:"sidecars"`      // the files that came with the original
}

// Sidecar is a file that came with an image's original (a delivery's .IMD, .RPB, DIMAP
// XML, world file, …) and is kept with it, unchanged, under its name.
type Sidecar struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`
	ByteSize int64  `json:"byte_size"`
}

// Progress is where a background job on an image stands.
type Progress struct {
	State    string  `json:"state"` // queued, running, done or failed
	Progress float64 `json:"progress"`
	Error    string  `json:"error,omitempty"`
	Attempts int     `json:"attempts"`
}

// Ready reports whether the job is done.
func (p Progress) Ready() bool { return p.State == JobDone }

// Provenance is what an analyst records about where an image came from. The JSON names
// are the upload form's field names. In an update, nil fields are left as they are; the
// release fields (release title, publisher, URL, date of release, credit, licence, claim,
// notes) belong to the image's source and so change for every image of that release.
type Provenance struct {
	Title           *string `json:"title"`         // the image's title; also the release's when release_title is not given
	ReleaseTitle    *string `json:"release_title"` // the release's own title
	Publisher       *string `json:"publisher"`
	SourceURL       *string `json:"source_url"`
	ReleasedAt      *string `json:"released_at"`
	CapturedFrom    *string `json:"captured_from"`
	CapturedTo      *string `json:"captured_to"`
	Credit          *string `json:"credit"`
	License         *string `json:"license"`
	LocationName    *string `json:"location_name"`
	Claim           *string `json:"claim"`
	Notes           *string `json:"notes"`
	PublisherMarkup *bool   `json:"publisher_markup"`
}

const maxTextField = 20000 // bytes, for any one provenance text

// Normalize checks every field that is set, rewrites dates to their canonical form and
// checks that a capture window given whole does not end before it starts. Problems are
// *ValidationError with Malformed set, naming the field.
func (p *Provenance) Normalize() error {
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"title", p.Title}, {"release_title", p.ReleaseTitle}, {"publisher", p.Publisher}, {"source_url", p.SourceURL},
		{"credit", p.Credit}, {"license", p.License}, {"location_name", p.LocationName},
		{"claim", p.Claim}, {"notes", p.Notes},
	} {
		if f.v == nil {
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
		if !utf8.ValidString(*f.v) {
			return malformed(f.name, "is not valid UTF-8 text")
		}
		if len(*f.v) > maxTextField {
			return malformed(f.name, "is longer than %d bytes", maxTextField)
		}
	}
	if p.SourceURL != nil && *p.SourceURL != "" {
		u, err := url.Parse(*p.SourceURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return malformed("source_url", "%q is not an http(s) URL", *p.SourceURL)
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"released_at", p.ReleasedAt}, {"captured_from", p.CapturedFrom}, {"captured_to", p.CapturedTo}} {
		if f.v == nil {
			continue
		}
		norm, _, err := parseWhen(*f.v)
		if err != nil {
			return malformed(f.name, "%q is not a date (use YYYY-MM-DD or an RFC 3339 date and time)", *f.v)
		}
		*f.v = norm
	}
	return checkCaptureWindow(str(p.CapturedFrom), str(p.CapturedTo))
}

// capturedSource is the source of a capture window the analyst gave: CapturedByRelease
// when either end is given, else "".
func capturedSource(from, to *string) string {
	if str(from) != "" || str(to) != "" {
		return CapturedByRelease
	}
	return ""
}

// checkCaptureWindow rejects a window that ends before it starts.
func checkCaptureWindow(from, to string) error {
	if from == "" || to == "" {
		return nil
	}
	_, f, _ := parseWhen(from)
	_, t, _ := parseWhen(to)
	if len(to) == len("2006-01-02") {
		t = t.Add(24*time.Hour - time.Nanosecond) // a date covers the whole day
	}
	if t.Before(f) {
		return malformed("captured_to", "the capture window ends (%s) before it starts (%s)", to, from)
	}
	return nil
}

// parseWhen accepts a date or a date and time and returns its canonical text: the date
// as given, or the time in UTC as RFC 3339. The empty string stays empty.
func parseWhen(s string) (string, time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return t.Format(time.RFC3339), t, nil
		}
	}
	return "", time.Time{}, fmt.Errorf("not a date")
}

// NewImage is an image about to be stored.
type NewImage struct {
	SHA256      string
	Filename    string
	MediaType   string
	ByteSize    int64
	Width       int
	Height      int
	Orientation int
	SourceID    string // attach to this existing release instead of creating one from Provenance
	Provenance  Provenance
	// CreatedBy is who uploads the image and from where: the upload is audited as theirs.
	CreatedBy Actor
	// Georeference, when the file arrived with one (a GeoTIFF, a world file), is stored
	// with the image; its ImageID is filled in.
	Georeference   *Georeference
	ImportWarnings []string
	// FileMetadata is what the file says of its capture. When the provenance gives no
	// capture window, its acquisition time becomes the window, marked CapturedByFile.
	FileMetadata *FileMetadata
	Sidecars     []Sidecar // the files that came with the original, recorded with it
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateImage stores a new image, queues the build of its tile pyramid and, unless
// in.SourceID names an existing release, creates its source. When an image with the same SHA-256 is already stored it returns that image and
// created == false, and place is not called.
//
// place puts the original file where it belongs; it runs inside the transaction, after the
// rows are written and before they are committed, so there is never a row without its
// file. If the commit fails, the undo function place returned is called.
func (s *Store) CreateImage(ctx context.Context, in NewImage, place func() (undo func(), err error)) (img Image, created bool, err error) {
	if err := in.Provenance.Normalize(); err != nil {
		return Image{}, false, err
	}
	p := in.Provenance
	fileMetadata := FileMetadata{Raw: []MetadataItem{}}
	if in.FileMetadata != nil {
		fileMetadata = *in.FileMetadata
	}
	captured := capturedSource(p.CapturedFrom, p.CapturedTo)
	if captured == "" {
		// Never over what the analyst gave: only an upload that gives no window at all.
		if when, _, err := parseWhen(fileMetadata.AcquiredAt); err == nil && when != "" {
			p.CapturedFrom, p.CapturedTo, captured = &when, &when, CapturedByFile
		}
	}
	if existing, err := s.ImageBySHA256(ctx, in.SHA256); err == nil {
		return existing, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Image{}, false, err
	}
	if err := s.checkNotInTrash(ctx, in.SHA256); err != nil {
		return Image{}, false, err
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, false, err
	}
	defer tx.Rollback()
	now := formatTime(s.now())
	sourceID := in.SourceID
	if sourceID != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sources WHERE id = ?`, sourceID).Scan(&n); err != nil {
			return Image{}, false, err
		}
		if n == 0 {
			return Image{}, false, malformed("source_id", "no release with id %q", sourceID)
		}
	} else {
		releaseTitle := str(p.Title)
		if p.ReleaseTitle != nil {
			releaseTitle = *p.ReleaseTitle
		}
		sourceID = newID("src")
		if _, err := tx.ExecContext(ctx, `INSERT INTO sources (id, publisher, title, url, released_at, credit, license, notes, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sourceID, str(p.Publisher), releaseTitle, str(p.SourceURL), str(p.ReleasedAt), str(p.Credit),
			str(p.License), str(p.Notes), now); err != nil {
			return Image{}, false, fmt.Errorf("insert source: %w", err)
		}
		// The claim given with the upload is the new release's first claim.
		if err := s.setFirstClaim(ctx, tx, in.CreatedBy, sourceID, str(p.Claim)); err != nil {
			return Image{}, false, fmt.Errorf("first claim: %w", err)
		}
	}
	title := str(p.Title)
	if title == "" {
		title = in.Filename
	}
	id := newID("img")
	orientation := in.Orientation
	if orientation == 0 {
		orientation = 1
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO images (id, sha256, source_id, title, filename, media_type, byte_size, width, height,
			orientation, captured_from, captured_to, location_name, publisher_markup, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, in.SHA256, sourceID, title, in.Filename, in.MediaType, in.ByteSize, in.Width, in.Height,
		orientation, str(p.CapturedFrom), str(p.CapturedTo), str(p.LocationName),
		p.PublisherMarkup != nil && *p.PublisherMarkup, in.CreatedBy.Name, now, now); err != nil {
		if isUniqueViolation(err) {
			// Another upload of the same bytes committed first.
			tx.Rollback()
			existing, err := s.ImageBySHA256(ctx, in.SHA256)
			return existing, false, err
		}
		return Image{}, false, fmt.Errorf("insert image: %w", err)
	}
	if err := s.insertJob(ctx, tx, id, JobPyramid); err != nil {
		return Image{}, false, fmt.Errorf("queue pyramid: %w", err)
	}
	if g := in.Georeference; g != nil {
		g.ImageID = id
		if err := s.insertGeoreference(ctx, tx, in.CreatedBy.Name, *g); err != nil {
			return Image{}, false, fmt.Errorf("georeference: %w", err)
		}
	}
	md, err := json.Marshal(fileMetadata)
	if err != nil {
		return Image{}, false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE images SET file_metadata = ?, captured_source = ? WHERE id = ?`, string(md), captured, id); err != nil {
		return Image{}, false, err
	}
	if len(in.Sidecars) > 0 {
		sc, _ := json.Marshal(in.Sidecars)
		if _, err := tx.ExecContext(ctx, `UPDATE images SET sidecars = ? WHERE id = ?`, string(sc), id); err != nil {
			return Image{}, false, err
		}
	}
	if len(in.ImportWarnings) > 0 {
		w, _ := json.Marshal(in.ImportWarnings)
		if _, err := tx.ExecContext(ctx, `UPDATE images SET import_warnings = ? WHERE id = ?`, string(w), id); err != nil {
			return Image{}, false, err
		}
	}
	if err := s.audit(ctx, tx, in.CreatedBy, "image.upload", "image", id,
		fmt.Sprintf("%s (%s, %d×%d)", title, in.SHA256, in.Width, in.Height)); err != nil {
		return Image{}, false, err
	}
	undo, err := place()
	if err != nil {
		return Image{}, false, err
	}
	if err := tx.Commit(); err != nil {
		undo()
		return Image{}, false, err
	}
	img, err = s.Image(ctx, id)
	return img, true, err
}

// imageFrom joins an image with its release and its pyramid job.
const imageFrom = ` FROM images i JOIN sources s ON s.id = i.source_id LEFT JOIN jobs j ON j.image_id = i.id AND j.kind = 'pyramid'`

type scanner interface{ Scan(dest ...any) error }

func scanImage(row scanner) (Image, error) {
	var img Image
	var created, updated, srcCreated, warnings, reviews, fileMetadata, sidecars string
	err := row.Scan(&img.ID, &img.SHA256, &img.Title, &img.Filename, &img.MediaType, &img.ByteSize, &img.Width, &img.Height,
		&img.Orientation, &img.CapturedFrom, &img.CapturedTo, &img.LocationName, &img.PublisherMarkup, &img.GSD,
		&img.CreatedBy, &created, &updated,
		&img.Source.ID, &img.Source.Publisher, &img.Source.Title, &img.Source.URL, &img.Source.ReleasedAt,
		&img.Source.Credit, &img.Source.License, &img.Source.Claim, &img.Source.Notes, &srcCreated,
		&img.Pyramid.State, &img.Pyramid.Progress, &img.Pyramid.Error, &img.Pyramid.Attempts,
		&img.Georeferenced, &warnings, &reviews, &fileMetadata, &img.CapturedSource, &sidecars)
	if err != nil {
		return Image{}, err
	}
	img.ReviewCounts, img.AnnotationCount = parseReviewCounts(reviews)
	if err := json.Unmarshal([]byte(warnings), &img.ImportWarnings); err != nil || img.ImportWarnings == nil {
		img.ImportWarnings = []string{}
	}
	if err := json.Unmarshal([]byte(fileMetadata), &img.FileMetadata); err != nil || img.FileMetadata.Raw == nil {
		img.FileMetadata.Raw = []MetadataItem{}
	}
	if err := json.Unmarshal([]byte(sidecars), &img.Sidecars); err != nil || img.Sidecars == nil {
		img.Sidecars = []Sidecar{}
	}
	img.CreatedAt, img.UpdatedAt, img.Source.CreatedAt = parseTime(created), parseTime(updated), parseTime(srcCreated)
	return img, nil
}

// parseReviewCounts reads what keptReviewCounts selects: the count of every state (zero or not) and their total.
func parseReviewCounts(s string) (map[string]int, int) {
	counts := make(map[string]int, len(ReviewStatuses))
	for _, st := range ReviewStatuses {
		counts[st] = 0
	}
	total := 0
	for _, kv := range strings.Split(s, ",") {
		st, v, ok := strings.Cut(kv, "=")
		if n, err := strconv.Atoi(v); ok && err == nil {
			counts[st] += n
			total += n
		}
	}
	return counts, total
}

// imageExtent returns the width and height of an image that is not in the trash, or
// ErrNotFound: what an annotation write needs of its image, without the rest of the row.
func imageExtent(ctx context.Context, q querier, id string) (width, height int, err error) {
	err = q.QueryRowContext(ctx, `SELECT width, height FROM images WHERE id = ? AND deleted_at = ''`, id).Scan(&width, &height)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("image: %w", ErrNotFound)
	}
	return width, height, err
}

// CheckImage returns nil when the image exists and is not in the trash, else
// ErrNotFound, reading nothing else of it.
func (s *Store) CheckImage(ctx context.Context, id string) error {
	_, _, err := imageExtent(ctx, s.db, id)
	return err
}

// imageWhere finds an image that is not in the trash.
func (s *Store) imageWhere(ctx context.Context, q querier, where string, arg any) (Image, error) {
	img, err := scanImage(q.QueryRowContext(ctx, `SELECT `+s.d.imageColumns+imageFrom+` WHERE i.deleted_at = '' AND `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fmt.Errorf("image: %w", ErrNotFound)
	}
	return img, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryStrings runs a query of one text column and returns its values in order.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Image returns the image with the given id, or ErrNotFound.
func (s *Store) Image(ctx context.Context, id string) (Image, error) {
	return s.imageWhere(ctx, s.db, "i.id = ?", id)
}

// ImageBySHA256 returns the image whose original has that SHA-256 (lower-case hex), or
// ErrNotFound.
func (s *Store) ImageBySHA256(ctx context.Context, sha string) (Image, error) {
	return s.imageWhere(ctx, s.db, "i.sha256 = ?", sha)
}

// Images returns every image, newest first, with its annotation count.
func (s *Store) Images(ctx context.Context) ([]Image, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+s.d.imageColumns+imageFrom+` WHERE i.deleted_at = '' ORDER BY i.created_at DESC, i.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	images := []Image{}
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	return images, rows.Err()
}

// Source returns one release, or ErrNotFound.
func (s *Store) Source(ctx context.Context, id string) (Source, error) {
	sources, err := s.sources(ctx, "WHERE s.id = ?", id)
	if err != nil {
		return Source{}, err
	}
	if len(sources) == 0 {
		return Source{}, fmt.Errorf("release %q: %w", id, ErrNotFound)
	}
	return sources[0], nil
}

// Sources returns every release, newest first.
func (s *Store) Sources(ctx context.Context) ([]Source, error) {
	// A release whose images are all in the trash waits there with them.
	return s.sources(ctx, "WHERE EXISTS (SELECT 1 FROM images i WHERE i.source_id = s.id AND i.deleted_at = '')")
}

func (s *Store) sources(ctx context.Context, where string, args ...any) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.publisher, s.title, s.url, s.released_at, s.credit, s.license, `+s.d.firstClaim+`, s.notes, s.created_at
		FROM sources s `+where+` ORDER BY s.created_at DESC, s.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sources := []Source{}
	for rows.Next() {
		var src Source
		var created string
		if err := rows.Scan(&src.ID, &src.Publisher, &src.Title, &src.URL, &src.ReleasedAt, &src.Credit, &src.License,
			&src.Claim, &src.Notes, &created); err != nil {
			return nil, err
		}
		src.CreatedAt = parseTime(created)
		sources = append(sources, src)
	}
	return sources, rows.Err()
}

// UpdateImage changes the provenance fields that are set in p and returns the image. A
// change of the claim is a change of the release's first claim (see setFirstClaim),
// audited as by's and recorded in that claim's history.
func (s *Store) UpdateImage(ctx context.Context, by Actor, id string, p Provenance) (Image, error) {
	if err := p.Normalize(); err != nil {
		return Image{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, err
	}
	defer tx.Rollback()
	img, err := s.imageWhere(ctx, tx, "i.id = ?", id)
	if err != nil {
		return Image{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	src := img.Source
	set(&src.Title, p.ReleaseTitle)
	set(&src.Publisher, p.Publisher)
	set(&src.URL, p.SourceURL)
	set(&src.ReleasedAt, p.ReleasedAt)
	set(&src.Credit, p.Credit)
	set(&src.License, p.License)
	set(&src.Notes, p.Notes)
	set(&img.Title, p.Title)
	set(&img.CapturedFrom, p.CapturedFrom)
	set(&img.CapturedTo, p.CapturedTo)
	set(&img.LocationName, p.LocationName)
	if p.PublisherMarkup != nil {
		img.PublisherMarkup = *p.PublisherMarkup
	}
	if err := checkCaptureWindow(img.CapturedFrom, img.CapturedTo); err != nil {
		return Image{}, err
	}
	if p.CapturedFrom != nil || p.CapturedTo != nil {
		// The analyst's word on the window replaces the file's.
		img.CapturedSource = capturedSource(&img.CapturedFrom, &img.CapturedTo)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET title = ?, publisher = ?, url = ?, released_at = ?, credit = ?, license = ?, notes = ?
		WHERE id = ?`, src.Title, src.Publisher, src.URL, src.ReleasedAt, src.Credit, src.License, src.Notes, src.ID); err != nil {
		return Image{}, err
	}
	if p.Claim != nil {
		if err := s.setFirstClaim(ctx, tx, by, src.ID, *p.Claim); err != nil {
			return Image{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE images SET title = ?, captured_from = ?, captured_to = ?, captured_source = ?, location_name = ?,
		publisher_markup = ?, updated_at = ? WHERE id = ?`,
		img.Title, img.CapturedFrom, img.CapturedTo, img.CapturedSource, img.LocationName, img.PublisherMarkup, formatTime(s.now()), id); err != nil {
		return Image{}, err
	}
	if err := s.imageChangedTx(ctx, tx, id); err != nil {
		return Image{}, err
	}
	if err := tx.Commit(); err != nil {
		return Image{}, err
	}
	return s.Image(ctx, id)
}

// checkNotInTrash refuses bytes already stored as an image in the trash: the image is
// there to be restored, not stored twice.
func (s *Store) checkNotInTrash(ctx context.Context, sha string) error {
	var id, by string
	err := s.db.QueryRowContext(ctx, `SELECT id, deleted_by FROM images WHERE sha256 = ? AND deleted_at != ''`, sha).Scan(&id, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("the same bytes are image %s, which %s moved to the trash; an administrator can restore it: %w", id, by, ErrConflict)
}

// TrashImage moves an image to the trash, audited as by's: it disappears from every
// list, page and export (with its annotations) until an administrator restores or purges
// it. Its files stay.
func (s *Store) TrashImage(ctx context.Context, by Actor, id string) (Image, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, err
	}
	defer tx.Rollback()
	img, err := s.imageWhere(ctx, tx, "i.id = ?", id)
	if err != nil {
		return Image{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE images SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at = ''`,
		formatTime(s.now()), by.Name, id); err != nil {
		return Image{}, err
	}
	if err := s.audit(ctx, tx, by, "image.trash", "image", img.ID, img.Title); err != nil {
		return Image{}, err
	}
	if err := s.imageChangedTx(ctx, tx, id); err != nil {
		return Image{}, err
	}
	if err := s.tellTx(ctx, tx, Notice{Type: "image.trashed", ImageID: id, Actor: by.Name, ID: id}); err != nil {
		return Image{}, err
	}
	return img, tx.Commit()
}

// TrashedImage is an image in the trash, with who put it there and when.
type TrashedImage struct {
	Image
	DeletedBy string    `json:"deleted_by"`
	DeletedAt time.Time `json:"deleted_at"`
}

// Trash lists the images in the trash, most recently deleted first.
func (s *Store) Trash(ctx context.Context) ([]TrashedImage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+s.d.imageColumns+`, i.deleted_by, i.deleted_at`+imageFrom+` WHERE i.deleted_at != '' ORDER BY i.deleted_at DESC, i.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TrashedImage{}
	for rows.Next() {
		var t TrashedImage
		var at string
		img, err := scanImage(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &t.DeletedBy, &at)...) }))
		if err != nil {
			return nil, err
		}
		t.Image, t.DeletedAt = img, parseTime(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// RestoreImage takes an image out of the trash, audited as by's.
func (s *Store) RestoreImage(ctx context.Context, by Actor, id string) (Image, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE images SET deleted_at = '', deleted_by = '' WHERE id = ? AND deleted_at != ''`, id)
	if err != nil {
		return Image{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Image{}, fmt.Errorf("image %s in the trash: %w", id, ErrNotFound)
	}
	img, err := s.imageWhere(ctx, tx, "i.id = ?", id)
	if err != nil {
		return Image{}, err
	}
	if err := s.audit(ctx, tx, by, "image.restore", "image", img.ID, img.Title); err != nil {
		return Image{}, err
	}
	if err := s.imageChangedTx(ctx, tx, id); err != nil {
		return Image{}, err
	}
	return img, tx.Commit()
}

// PurgeImage removes an image in the trash for good, audited as by's: its annotations
// (each deletion recorded in the history as by's), its georeference and jobs, and its
// release when no other image belongs to it. It returns the image so the caller can
// remove its files.
func (s *Store) PurgeImage(ctx context.Context, by Actor, id string) (Image, error) {
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Image{}, err
	}
	defer tx.Rollback()
	img, err := scanImage(tx.QueryRowContext(ctx, `SELECT `+s.d.imageColumns+imageFrom+` WHERE i.deleted_at != '' AND i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fmt.Errorf("image %s in the trash: %w", id, ErrNotFound)
	}
	if err != nil {
		return Image{}, err
	}
	labels, err := s.labelsTx(ctx, tx)
	if err != nil {
		return Image{}, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+annotationColumns+` FROM annotations WHERE image_id = ?`, id)
	if err != nil {
		return Image{}, err
	}
	var anns []Annotation
	for rows.Next() {
		a, err := scanAnnotation(rows, labelIndex(labels))
		if err != nil {
			rows.Close()
			return Image{}, err
		}
		anns = append(anns, a)
	}
	rows.Close()
	for _, a := range anns {
		if err := s.deleteAnnotationTx(ctx, tx, by.Name, a); err != nil {
			return Image{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM images WHERE id = ?`, id); err != nil {
		return Image{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ? AND NOT EXISTS (SELECT 1 FROM images WHERE source_id = ?)`,
		img.Source.ID, img.Source.ID); err != nil {
		return Image{}, err
	}
	if err := s.audit(ctx, tx, by, "image.purge", "image", img.ID, img.Title+" ("+img.SHA256+")"); err != nil {
		return Image{}, err
	}
	if err := s.imageChangedTx(ctx, tx, id); err != nil {
		return Image{}, err
	}
	return img, tx.Commit()
}
