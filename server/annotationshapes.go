package server

import (
	"bufio"
	"encoding/binary"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"
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
// Satmark-Seq, Link to the next page of shapes) in the compact frames above.
func (s *Server) listShapes(c echo.Context) error {
	l, err := s.readList(c, "annotations/shapes")
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, shapesMediaType)
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 64<<10)
	var rows, head []byte
	pad := make([]byte, 8)
	var coords []float64
	var num [8]byte
	for page := l.page; ; {
		rows, coords = append(rows[:0], '['), coords[:0]
		for i := range page.Annotations {
			a := &page.Annotations[i]
			a.Ground = l.place.ground.measure(l.place.p, a)
			if i > 0 {
				rows = append(rows, ',')
			}
			if rows, coords, err = a.AppendShapeRow(rows, coords); err != nil {
				s.abortAnswer(c, err)
			}
		}
		rows = append(rows, ']')
		if len(page.Annotations) > 0 {
			head = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(head[:0], uint32(len(rows))), uint32(len(coords)))
			out.Write(head)
			out.Write(rows)
			out.Write(pad[:(8-(len(head)+len(rows))%8)%8])
			for _, f := range coords {
				binary.LittleEndian.PutUint64(num[:], math.Float64bits(f))
				if _, err := out.Write(num[:]); err != nil {
					return err // the client went away
				}
			}
		}
		if l.more == nil || page.Next == "" {
			break
		}
		if page, err = l.more(page.Next); err != nil {
			s.abortAnswer(c, err)
		}
	}
	out.Write(pad)
	return out.Flush()
}
