package server

import (
	"bufio"
	"encoding/binary"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// The annotator's compact list. With a hundred thousand annotations the JSON list is
// 83 MB, most of it coordinates written out as text and the label, the image and the
// keys again in every annotation, and the page spent seconds reading it. The shapes route
// answers the same annotations, in the same order, with the same paging and headers, as
// frames that a page decodes with one JSON.parse and one Float64Array each:
//
//	uint32 n (little-endian), uint32 k, n bytes of JSON: an array of rows (one per
//	annotation, Annotation.AppendShapeRow), zero bytes up to a multiple of 8 from the
//	frame's start, then k float64 (little-endian): the rows' coordinates in order.
//
// A frame with n = 0 ends the answer, so that one cut short can be told from a whole one.
// web/src/shaperows.js reads it.

// shapesMediaType is the shapes route's Content-Type.
const shapesMediaType = "application/vnd.satmark.shapes"

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
	page, err := s.store.AppendShapePage(ctx, q.imageID, q.after, q.limit, ground, []byte{'['}, nil)
	if err != nil {
		return err
	}
	q.setHeaders(c, "annotations/shapes", page.Next)
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, shapesMediaType)
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 64<<10)
	var head []byte
	pad := make([]byte, 8)
	var num [8]byte
	for {
		rows := append(page.Rows, ']')
		if page.N > 0 {
			head = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(head[:0], uint32(len(rows))), uint32(len(page.Coords)))
			out.Write(head)
			out.Write(rows)
			out.Write(pad[:(8-(len(head)+len(rows))%8)%8])
			for _, f := range page.Coords {
				binary.LittleEndian.PutUint64(num[:], math.Float64bits(f))
				if _, err := out.Write(num[:]); err != nil {
					return err // the client went away
				}
			}
		}
		if q.paged || page.Next == "" {
			break
		}
		if page, err = s.store.AppendShapePage(ctx, q.imageID, page.Next, streamBatch, ground, append(rows[:0], '['), page.Coords[:0]); err != nil {
			s.abortAnswer(c, err)
		}
	}
	out.Write(pad)
	return out.Flush()
}
