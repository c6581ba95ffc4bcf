package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// The annotator's compact list. With a hundred thousand annotations the JSON list is
// 83 MB, most of it coordinates written out as text and the label, the image and the
// keys again in every annotation, and the page spent seconds reading it. The shapes route
// answers the same annotations, in the same order, with the same paging and headers, in
// frames (annotations.ShapeFrame: the strings in one JSON array, the numbers as typed
// arrays, the properties that vary as JSON), the first of one batch so that a page shows
// it at once, then of shapeFrameRows or so each; a frame of no rows ends the answer.
// web/src/shaperows.js reads it.

// shapesMediaType is the shapes route's Content-Type.
const shapesMediaType = "application/vnd.satmark.shapes"

// shapeFrameRows is about how many annotations the stream puts in a frame after its
// first: few enough that a page takes each in a moment, many enough that the strings a
// frame names once (labels, users, times) are named rarely.
const shapeFrameRows = 5000

// listShapes answers an image's annotations as the list route does (?limit, ?after,
// Satmark-Seq, Link to the next page of shapes) in the compact frames above, each frame's
// rows read straight from the stored columns (Store.AppendShapePage).
func (s *Server) listShapes(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := s.readListQuery(c)
	if err != nil {
		return err
	}
	ground := func(a *annotations.Annotation) annotations.Ground { return q.place.ground.measure(q.place.p, a) }
	var frame annotations.ShapeFrame
	page, err := s.store.AppendShapePage(ctx, q.imageID, q.after, q.limit, ground, &frame)
	if err != nil {
		return err
	}
	q.setHeaders(c, "annotations/shapes", page.Next)
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, shapesMediaType)
	w.WriteHeader(http.StatusOK)
	var out []byte
	first := true
	for {
		last := q.paged || page.Next == ""
		if frame.Len() > 0 && (first || last || frame.Len() >= shapeFrameRows) {
			out = frame.AppendTo(out[:0])
			if _, err := w.Write(out); err != nil {
				return err // the client went away
			}
			w.Flush()
			frame.Reset()
			first = false
		}
		if last {
			break
		}
		if page, err = s.store.AppendShapePage(ctx, q.imageID, page.Next, streamBatch, ground, &frame); err != nil {
			s.abortAnswer(c, err)
		}
	}
	_, err = w.Write(frame.AppendTo(out[:0])) // empty: the end
	return err
}
