package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/orbit"
)

// Satellites' two-line element sets: pasted or uploaded as text, checked by package
// orbit, stored all or none.

// tleBodyBytes bounds a pasted or uploaded file of element sets (2000 three-line sets
// are about 430 KB).
const tleBodyBytes = 1 << 20

// tleRefusal is why one element set of a pasted text was refused: the text's line.
type tleRefusal struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// tleText reads the element sets' text: the body as it is, or the "file" (or "text")
// part of a multipart form.
func tleText(c echo.Context) (string, error) {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, tleBodyBytes)
	var text string
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "multipart/form-data" {
		if err := req.ParseMultipartForm(tleBodyBytes); err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return "", tooLargeTLEs()
			}
			return "", badRequest("file", "the form cannot be read: %v", err)
		}
		text = formText(req, "file")
		if text == "" {
			text = formText(req, "text")
		}
	} else {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return "", tooLargeTLEs()
			}
			return "", cutShort("", err)
		}
		text = string(b)
	}
	if !utf8.ValidString(text) {
		return "", badRequest("text", "the element sets are not UTF-8 text")
	}
	if strings.TrimSpace(text) == "" {
		return "", badRequest("text", "no element sets: paste or upload two-line element sets (TLEs), each two lines, optionally after a name line")
	}
	return text, nil
}

func tooLargeTLEs() error {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "text",
		Message: fmt.Sprintf("element sets of at most %d bytes at once", tleBodyBytes)}
}

// postTLEs stores the element sets of a pasted text or uploaded file, all or none: 201
// with each set as stored (or found stored already, "existing"), 422 with a refusal per
// broken set, naming its line, when any is.
func (s *Server) postTLEs(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	text, err := tleText(c)
	if err != nil {
		return err
	}
	sets, _, errs := orbit.ParseFile(text)
	if len(errs) > 0 {
		refusals := make([]tleRefusal, len(errs))
		for i, e := range errs {
			refusals[i] = tleRefusal{Line: e.FileLine, Reason: e.Err.Error()}
		}
		msg := fmt.Sprintf("%d element set(s) refused, nothing stored; line %d: %v", len(errs), errs[0].FileLine, errs[0].Err)
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_tle", Field: "text", Message: msg, Refusals: refusals}
	}
	if len(sets) > annotations.MaxTLEsPerAdd {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "text",
			Message: fmt.Sprintf("%d element sets at once; at most %d", len(sets), annotations.MaxTLEsPerAdd)}
	}
	in := make([]annotations.TLEInput, len(sets))
	for i, t := range sets {
		in[i] = annotations.TLEInput{Name: t.Name, NoradID: t.NoradID, Epoch: t.Epoch, Line1: t.Line1, Line2: t.Line2}
	}
	added, err := s.store.AddTLEs(c.Request().Context(), by, in)
	if err != nil {
		return err
	}
	n := 0
	for _, a := range added {
		if !a.Existing {
			n++
		}
	}
	return c.JSON(http.StatusCreated, map[string]any{"added": n, "existing": len(added) - n, "tles": added})
}

func (s *Server) listTLEs(c echo.Context) error {
	tles, err := s.store.TLEs(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tles)
}

func (s *Server) deleteTLE(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("element set")
	}
	if err := s.store.DeleteTLE(c.Request().Context(), by, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
