package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Adjustments say how an image is shown on screen over its tiles, for everyone who
// opens it: the viewer applies them live (the tiles themselves do not change). Zero
// brightness, contrast and saturation, gamma 1 and no stretch show the tiles as built.
type Adjustments struct {
	Brightness float64 `json:"brightness"` // −1 to 1, added to each channel
	Contrast   float64 `json:"contrast"`   // −1 to 1
	Saturation float64 `json:"saturation"` // −1 (grey) to 1
	Gamma      float64 `json:"gamma"`      // 0.1 to 10
	// Stretch maps the tiles' values Low..High (0–1) to the full range; nil is off.
	Stretch   *Levels   `json:"stretch"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Levels is a linear stretch of the tiles' values, each in 0–1 with Low below High.
type Levels struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// NeutralAdjustments show the tiles as they are.
func NeutralAdjustments() Adjustments { return Adjustments{Gamma: 1} }

// Check returns a ValidationError naming the first field out of its range.
func (a Adjustments) Check() error {
	for _, f := range []struct {
		name     string
		v        float64
		min, max float64
	}{
		{"brightness", a.Brightness, -1, 1},
		{"contrast", a.Contrast, -1, 1},
		{"saturation", a.Saturation, -1, 1},
		{"gamma", a.Gamma, 0.1, 10},
	} {
		if math.IsNaN(f.v) || f.v < f.min || f.v > f.max {
			return invalid(f.name, "the %s is %g; it goes from %g to %g", f.name, f.v, f.min, f.max)
		}
	}
	if st := a.Stretch; st != nil {
		if math.IsNaN(st.Low) || st.Low < 0 || st.Low >= 1 {
			return invalid("stretch.low", "the stretch's low is %g; it goes from 0 up to (not including) 1", st.Low)
		}
		if math.IsNaN(st.High) || st.High > 1 || st.High <= st.Low {
			return invalid("stretch.high", "the stretch's high is %g; it must be above its low (%g) and at most 1", st.High, st.Low)
		}
	}
	return nil
}

// Summary is the audit entry's detail: what differs from neutral.
func (a Adjustments) Summary() string {
	var parts []string
	for _, f := range []struct {
		name    string
		v, zero float64
	}{{"brightness", a.Brightness, 0}, {"contrast", a.Contrast, 0}, {"saturation", a.Saturation, 0}, {"gamma", a.Gamma, 1}} {
		if f.v != f.zero {
			parts = append(parts, fmt.Sprintf("%s %g", f.name, f.v))
		}
	}
	if a.Stretch != nil {
		parts = append(parts, fmt.Sprintf("stretch %g–%g", a.Stretch.Low, a.Stretch.High))
	}
	if len(parts) == 0 {
		return "none (as the tiles are)"
	}
	return strings.Join(parts, ", ")
}

// Adjustments returns an image's saved adjustments, neutral ones when none were saved,
// or ErrNotFound when the image does not exist or is in the trash.
func (s *Store) Adjustments(ctx context.Context, imageID string) (Adjustments, error) {
	return s.adjustments(ctx, s.db, imageID)
}

func (s *Store) adjustments(ctx context.Context, q querier, imageID string) (Adjustments, error) {
	var found int
	var a Adjustments
	var low, high sql.NullFloat64
	var at sql.NullString
	var by sql.NullString
	err := q.QueryRowContext(ctx, `SELECT 1, a.brightness, a.contrast, a.saturation, a.gamma, a.stretch_low, a.stretch_high, a.updated_by, a.updated_at
		FROM images i LEFT JOIN image_adjustments a ON a.image_id = i.id WHERE i.id = ? AND i.deleted_at = ''`, imageID).
		Scan(&found, &nullable{&a.Brightness}, &nullable{&a.Contrast}, &nullable{&a.Saturation}, &nullable{&a.Gamma}, &low, &high, &by, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Adjustments{}, fmt.Errorf("image: %w", ErrNotFound)
	}
	if err != nil {
		return Adjustments{}, err
	}
	if !at.Valid {
		return NeutralAdjustments(), nil
	}
	if low.Valid && high.Valid {
		a.Stretch = &Levels{Low: low.Float64, High: high.Float64}
	}
	a.UpdatedBy, a.UpdatedAt = by.String, parseTime(at.String)
	return a, nil
}

// nullable scans a float that a LEFT JOIN may leave NULL (then it stays as it was).
type nullable struct{ v *float64 }

func (n *nullable) Scan(src any) error {
	var f sql.NullFloat64
	if err := f.Scan(src); err != nil {
		return err
	}
	if f.Valid {
		*n.v = f.Float64
	}
	return nil
}

// SetAdjustments saves an image's adjustments as by's choice, in one transaction with
// its audit entry (image.adjust, detail the summary), and returns them as stored. A
// ValidationError names a field out of range; ErrNotFound if the image does not exist
// or is in the trash.
func (s *Store) SetAdjustments(ctx context.Context, by Actor, imageID string, a Adjustments) (Adjustments, error) {
	if err := a.Check(); err != nil {
		return Adjustments{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Adjustments{}, err
	}
	defer tx.Rollback()
	if _, err := s.adjustments(ctx, tx, imageID); err != nil {
		return Adjustments{}, err
	}
	var low, high sql.NullFloat64
	if a.Stretch != nil {
		low, high = sql.NullFloat64{Float64: a.Stretch.Low, Valid: true}, sql.NullFloat64{Float64: a.Stretch.High, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO image_adjustments (image_id, brightness, contrast, saturation, gamma, stretch_low, stretch_high, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET brightness = excluded.brightness, contrast = excluded.contrast, saturation = excluded.saturation,
			gamma = excluded.gamma, stretch_low = excluded.stretch_low, stretch_high = excluded.stretch_high,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		imageID, a.Brightness, a.Contrast, a.Saturation, a.Gamma, low, high, by.Name, formatTime(s.now())); err != nil {
		return Adjustments{}, err
	}
	if err := s.audit(ctx, tx, by, "image.adjust", "image", imageID, a.Summary()); err != nil {
		return Adjustments{}, err
	}
	stored, err := s.adjustments(ctx, tx, imageID)
	if err != nil {
		return Adjustments{}, err
	}
	return stored, tx.Commit()
}
