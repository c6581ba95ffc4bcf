package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/reuse"
)

// reuseJSON is what satmark knows of an image's near copies among the others: State
// "hashed" (Matches, the earlier ones also as ReleasedBefore), "pending" (a large image
// hashed once its pyramid is built) or "not_hashed" (Reason: too small, unreadable).
type reuseJSON struct {
	State          string      `json:"state"`
	Reason         string      `json:"reason,omitempty"`
	Message        string      `json:"message,omitempty"`
	ReleasedBefore []matchJSON `json:"released_before"`
	Matches        []matchJSON `json:"matches"`
}

// matchJSON is one near copy: the other image, its release, and how near it is.
type matchJSON struct {
	ImageID    string       `json:"image_id"`
	Title      string       `json:"title"`
	Publisher  string       `json:"publisher"`
	ReleasedAt string       `json:"released_at"`
	URL        string       `json:"url"`
	Earlier    bool         `json:"earlier"`
	Distance   int          `json:"distance"`
	Threshold  int          `json:"threshold"`
	Checked    int          `json:"checked"`
	Confirm    int          `json:"confirm_threshold"`
	Agreement  float64      `json:"agreement"`
	Agree      float64      `json:"agreement_threshold"`
	How        string       `json:"how"`
	Window     reuse.Window `json:"window"`
	Message    string       `json:"message"`
}

// releasedAs is the sentence a match is shown with.
func releasedAs(img annotations.Image, earlier bool) string {
	title := img.Title
	if title == "" {
		title = img.Source.Title
	}
	if title == "" {
		title = img.Filename
	}
	s := "also uploaded as " + fmt.Sprintf("%q", title)
	if earlier {
		s = "released before as " + fmt.Sprintf("%q", title)
	}
	if img.Source.Publisher != "" {
		s += " by " + img.Source.Publisher
	}
	if img.Source.ReleasedAt != "" {
		s += " on " + img.Source.ReleasedAt
	}
	return s
}

// imageReuse gathers what reuseJSON says of image id.
func (s *Server) imageReuse(ctx context.Context, id string) (reuseJSON, error) {
	out := reuseJSON{State: "hashed", ReleasedBefore: []matchJSON{}, Matches: []matchJSON{}}
	matches, err := ingest.Matches(ctx, s.store, s.compared, id)
	var nh *ingest.NotHashedError
	switch {
	case errors.Is(err, ingest.ErrNoFingerprint):
		out.State, out.Message = "pending", "the image's perceptual hash is computed once its pyramid is built"
		return out, nil
	case errors.As(err, &nh):
		out.State, out.Reason, out.Message = "not_hashed", nh.Reason, "no near copies can be looked for: "+nh.Reason
		return out, nil
	case err != nil:
		return reuseJSON{}, err
	}
	for _, m := range matches {
		j := matchJSON{ImageID: m.Image.ID, Title: m.Image.Title, Publisher: m.Image.Source.Publisher, ReleasedAt: m.Image.Source.ReleasedAt,
			URL: "/images/" + m.Image.ID, Earlier: m.Earlier, Distance: m.Match.Distance, Threshold: reuse.Near, Checked: m.Match.Checked, Confirm: reuse.Confirm,
			Agreement: m.Match.Agreement, Agree: reuse.Agree, How: m.Match.How,
			Window: m.Match.Window, Message: releasedAs(m.Image, m.Earlier)}
		out.Matches = append(out.Matches, j)
		if m.Earlier {
			out.ReleasedBefore = append(out.ReleasedBefore, j)
		}
	}
	if len(out.ReleasedBefore) > 0 {
		out.Message = out.ReleasedBefore[0].Message
	}
	return out, nil
}

// fingerprintUpload hashes a new upload small enough to hash now (ingest.SyncFingerprintPixels)
// and says what it matches; a larger one is left to the backfill ("pending").
func (s *Server) fingerprintUpload(ctx context.Context, img annotations.Image) (reuseJSON, error) {
	if int64(img.Width)*int64(img.Height) <= ingest.SyncFingerprintPixels {
		if err := ingest.Fingerprint(ctx, s.store, s.library, img); err != nil {
			return reuseJSON{}, err
		}
	}
	return s.imageReuse(ctx, img.ID)
}

// imageMatches answers GET /api/v1/images/:id/matches: the image's near copies among the
// others (earlier and later), the earlier first.
func (s *Server) imageMatches(c echo.Context) error {
	id, err := s.imageIDParam(c)
	if err != nil {
		return err
	}
	r, err := s.imageReuse(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
