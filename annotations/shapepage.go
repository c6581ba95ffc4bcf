package annotations

import (
	"context"
	"database/sql"
	"fmt"
)

// The shapes route's rows read straight from the stored columns. Read through
// AnnotationPage, each of 100,000 annotations was decoded into an Annotation (its
// geometry into rings of positions, its attributes into a map, its times parsed) only to
// be written out again as a row, and that was most of the server's time for the answer
// after SQLite's own. AppendShapePage adds the same rows from the stored text: the
// geometry read into one buffer that every row reuses, attributes that are {} (nearly
// all) not decoded at all.

// ShapePage is a run of an image's annotations in list order added to a ShapeFrame: N
// how many, Next the cursor of the page after it ("" when it is the last), as
// AnnotationPage's.
type ShapePage struct {
	N    int
	Next string
}

// GroundOf gives an annotation's ground measures. The annotation it is given has its ID,
// ImageID, Version, Shape and Geometry, and only until it returns: its geometry's memory
// is the next row's.
type GroundOf func(a *Annotation) Ground

// shapeColumns are what a row needs of the annotations table, the list's cursor last.
const shapeColumns = `id, label_id, shape, geometry, confidence, identification, note, attributes, review_status,
	created_by, created_at, updated_by, updated_at, version`

// AppendShapePage reads the annotations AnnotationPage(ctx, imageID, after, limit) reads
// and adds each one, with its Ground from ground, to frame as ShapeFrame.Add adds it: the
// same rows, and the same cursor, refusals and errors. A stored value that Add could not
// write (a coordinate that is not a number) is an error; the frame then holds the rows
// before it.
func (s *Store) AppendShapePage(ctx context.Context, imageID, after string, limit int, ground GroundOf, frame *ShapeFrame) (ShapePage, error) {
	key, err := pageStart(after, limit)
	if err != nil {
		return ShapePage{}, err
	}
	known, err := s.labelIndexTx(ctx, s.db)
	if err != nil {
		return ShapePage{}, err
	}
	q, err := s.db.QueryContext(ctx, `SELECT `+shapeColumns+` FROM annotations
		WHERE image_id = ? AND (created_at, id) > (?, ?)
			AND EXISTS (SELECT 1 FROM images WHERE id = ? AND deleted_at = '')
		ORDER BY created_at, id LIMIT ?`, imageID, key.CreatedAt, key.ID, imageID, limit+1)
	if err != nil {
		return ShapePage{}, err
	}
	defer q.Close()
	var page ShapePage
	var r storedShape
	var geoms geometryBuffer
	var last pageKey
	for q.Next() {
		if page.N == limit {
			page.Next = last.cursor()
			break
		}
		if err := q.Scan(&r.id, &r.labelID, &r.shape, &r.geometry, &r.confidence, &r.identification, &r.note, &r.attributes,
			&r.reviewStatus, &r.createdBy, &r.createdAt, &r.updatedBy, &r.updatedAt, &r.version); err != nil {
			return ShapePage{}, err
		}
		if _, ok := known[r.labelID]; !ok {
			r.labelID = "" // as AnnotationPage's annotation has it: the zero Label
		}
		if err := r.addTo(frame, imageID, &geoms, ground); err != nil {
			return ShapePage{}, err
		}
		page.N++
		last = pageKey{CreatedAt: r.createdAt, ID: r.id}
	}
	return page, q.Err()
}

// storedShape is one annotation's stored columns, as shapeColumns names them.
type storedShape struct {
	id, labelID, shape, confidence, identification, note     string
	reviewStatus, createdBy, createdAt, updatedBy, updatedAt string
	version                                                  int
	geometry, attributes                                     sql.RawBytes // read in place, until the next row
}

// addTo adds the annotation r is, on image imageID, to frame, reading its geometry into
// geoms.
func (r *storedShape) addTo(frame *ShapeFrame, imageID string, geoms *geometryBuffer, ground GroundOf) error {
	a := Annotation{ID: r.id, ImageID: imageID, Shape: Shape(r.shape), Version: r.version,
		Confidence: Confidence(r.confidence), Identification: r.identification, Note: r.note}
	var ok bool
	if a.Geometry, ok = geoms.compact(r.geometry); !ok {
		var err error
		if a.Geometry, err = storedGeometry(r.geometry); err != nil {
			return fmt.Errorf("annotation %s: stored geometry: %w", r.id, err)
		}
	}
	if string(r.attributes) != "{}" {
		var err error
		if a.Attributes, err = storedAttributes(r.attributes); err != nil {
			return fmt.Errorf("annotation %s: stored attributes: %w", r.id, err)
		}
	}
	a.Ground = ground(&a)
	a.Label.ID = r.labelID
	a.ReviewStatus, a.CreatedBy, a.UpdatedBy = r.reviewStatus, r.createdBy, r.updatedBy
	a.CreatedAt, a.UpdatedAt = parseTime(r.createdAt), parseTime(r.updatedAt)
	return frame.Add(&a)
}
