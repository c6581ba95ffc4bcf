package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Search coverage: a grid of square cells over an image, which analysts mark as searched
// as they look through the scene. The cells are cell_px image pixels wide from the
// image's top left corner; the last column and row are cut by the image's edge. The
// share searched is the marked cells' area within the image over the image's area.

// Bounds of a coverage grid: cells no smaller than MinCoverageCellPx pixels, and no more
// than MaxCoverageCells of them, so that a grid stays something a person can look through
// and a page can draw.
const (
	MinCoverageCellPx = 8
	MaxCoverageCells  = 100_000
)

// CoverageCell is one cell marked as searched: by whom and when.
type CoverageCell struct {
	Col int       `json:"col"`
	Row int       `json:"row"`
	By  string    `json:"by"`
	At  time.Time `json:"at"`
}

// Coverage is an image's search grid and what of it has been searched. CellPx is 0 when
// the image has no grid yet.
type Coverage struct {
	ImageID   string         `json:"image_id"`
	Width     int            `json:"width"`
	Height    int            `json:"height"`
	CellPx    int            `json:"cell_px"`
	Cols      int            `json:"cols"`
	Rows      int            `json:"rows"`
	Cells     []CoverageCell `json:"cells"` // by row, then column
	Share     float64        `json:"share"` // of the image's area, 0 to 1
	UpdatedBy string         `json:"updated_by,omitempty"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
}

// gridSize is the number of columns and rows of cell px cells over a w × h image.
func gridSize(w, h, px int) (cols, rows int) {
	return (w + px - 1) / px, (h + px - 1) / px
}

// share is the part of the image's area that the cells cover (the edge cells count
// only their part inside the image).
func (c Coverage) share() float64 {
	if c.CellPx == 0 || c.Width == 0 || c.Height == 0 {
		return 0
	}
	var area float64
	for _, cell := range c.Cells {
		w := min(c.CellPx, c.Width-cell.Col*c.CellPx)
		h := min(c.CellPx, c.Height-cell.Row*c.CellPx)
		if w > 0 && h > 0 {
			area += float64(w) * float64(h)
		}
	}
	return area / (float64(c.Width) * float64(c.Height))
}

// Coverage returns an image's search grid and its marked cells; ErrNotFound when there
// is no such image (in the trash or not).
func (s *Store) Coverage(ctx context.Context, imageID string) (Coverage, error) {
	return s.coverage(ctx, s.db, imageID)
}

func (s *Store) coverage(ctx context.Context, q querier, imageID string) (Coverage, error) {
	c := Coverage{ImageID: imageID, Cells: []CoverageCell{}}
	err := q.QueryRowContext(ctx, `SELECT width, height FROM images WHERE id = ? AND deleted_at = ''`, imageID).Scan(&c.Width, &c.Height)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("image: %w", ErrNotFound)
	}
	if err != nil {
		return c, err
	}
	var at string
	err = q.QueryRowContext(ctx, `SELECT cell_px, updated_by, updated_at FROM coverage_grids WHERE image_id = ?`, imageID).Scan(&c.CellPx, &c.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	t := parseTime(at)
	c.UpdatedAt = &t
	c.Cols, c.Rows = gridSize(c.Width, c.Height, c.CellPx)
	rows, err := q.QueryContext(ctx, `SELECT col, row, by, at FROM coverage_cells WHERE image_id = ? ORDER BY row, col`, imageID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var cell CoverageCell
		if err := rows.Scan(&cell.Col, &cell.Row, &cell.By, &at); err != nil {
			return c, err
		}
		cell.At = parseTime(at)
		c.Cells = append(c.Cells, cell)
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Share = c.share()
	return c, nil
}

// SetCoverageGrid gives an image a grid of cellPx-pixel cells, with its audit entry
// (coverage.grid) in the same transaction. Changing the cell size of a grid with marked
// cells would lose what they say, so it is ErrConflict unless clear asks to unmark them
// all. The same size again changes nothing.
func (s *Store) SetCoverageGrid(ctx context.Context, by Actor, imageID string, cellPx int, clear bool) (Coverage, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Coverage{}, err
	}
	defer tx.Rollback()
	c, err := s.coverage(ctx, tx, imageID)
	if err != nil {
		return c, err
	}
	if cellPx < MinCoverageCellPx {
		return c, invalid("cell_px", "a cell is at least %d pixels wide, not %d", MinCoverageCellPx, cellPx)
	}
	if cols, rows := gridSize(c.Width, c.Height, cellPx); cols*rows > MaxCoverageCells {
		return c, invalid("cell_px", "%d-pixel cells make a %d × %d grid over this %d × %d image, more than %d cells: choose larger cells",
			cellPx, cols, rows, c.Width, c.Height, MaxCoverageCells)
	}
	if cellPx == c.CellPx {
		return c, nil
	}
	if len(c.Cells) > 0 && !clear {
		return c, fmt.Errorf("%d cells of the %d-pixel grid are marked searched; changing the cell size unmarks them (say \"clear\": true): %w",
			len(c.Cells), c.CellPx, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM coverage_cells WHERE image_id = ?`, imageID); err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO coverage_grids (image_id, cell_px, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET cell_px = excluded.cell_px, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		imageID, cellPx, by.Name, formatTime(s.now())); err != nil {
		return c, err
	}
	detail := fmt.Sprintf("%d-pixel cells", cellPx)
	if len(c.Cells) > 0 {
		detail += fmt.Sprintf(", %d marked cells of the %d-pixel grid cleared", len(c.Cells), c.CellPx)
	}
	if err := s.audit(ctx, tx, by, "coverage.grid", "image", imageID, detail); err != nil {
		return c, err
	}
	if c, err = s.coverage(ctx, tx, imageID); err != nil {
		return c, err
	}
	return c, tx.Commit()
}

// MarkCoverageCell marks one cell of an image's grid searched (searched true) or not,
// with its audit entry (coverage.mark or coverage.unmark) in the same transaction. A
// cell already so changes nothing and is not audited again. No grid is ErrConflict; a
// cell outside the grid is a ValidationError.
func (s *Store) MarkCoverageCell(ctx context.Context, by Actor, imageID string, col, row int, searched bool) (Coverage, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Coverage{}, err
	}
	defer tx.Rollback()
	c, err := s.coverage(ctx, tx, imageID)
	if err != nil {
		return c, err
	}
	if c.CellPx == 0 {
		return c, fmt.Errorf("the image has no search grid yet: choose its cell size first: %w", ErrConflict)
	}
	if col < 0 || col >= c.Cols {
		return c, invalid("col", "column %d is outside the grid (columns 0 to %d)", col, c.Cols-1)
	}
	if row < 0 || row >= c.Rows {
		return c, invalid("row", "row %d is outside the grid (rows 0 to %d)", row, c.Rows-1)
	}
	var res sql.Result
	action := "coverage.mark"
	if searched {
		res, err = tx.ExecContext(ctx, `INSERT INTO coverage_cells (image_id, col, row, by, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			imageID, col, row, by.Name, formatTime(s.now()))
	} else {
		action = "coverage.unmark"
		res, err = tx.ExecContext(ctx, `DELETE FROM coverage_cells WHERE image_id = ? AND col = ? AND row = ?`, imageID, col, row)
	}
	if err != nil {
		return c, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return c, err
	}
	if err := s.audit(ctx, tx, by, action, "image", imageID, fmt.Sprintf("cell %d,%d of the %d-pixel grid", col, row, c.CellPx)); err != nil {
		return c, err
	}
	if c, err = s.coverage(ctx, tx, imageID); err != nil {
		return c, err
	}
	return c, tx.Commit()
}
