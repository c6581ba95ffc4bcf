package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Reading requests: JSON bodies, and the version a change is based on.

// decodeJSON reads a JSON request body of at most 1 MiB into v. Unknown fields are an
// error so that a misspelt field is not silently ignored. The bare tokens NaN and
// Infinity, which JSON does not have, arrive in v as strings, and nonFinite says so:
// the caller decides whether that is a malformed body or invalid content.
func decodeJSON(c echo.Context, v any) (nonFinite bool, err error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			// Not an upload: classify would name the "file" field.
			return false, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
				Message: fmt.Sprintf("the body is over the limit of %d bytes", mbe.Limit)}
		}
		return false, cutShort("", err)
	}
	body, nonFinite = annotations.NormalizeNonFinite(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field := jsonFieldPath(ute.Field)
			return nonFinite, badRequest(field, "must be a %s", jsonTypeName(ute.Type.Kind().String()))
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(field, `"`)
			return nonFinite, badRequest(field, "unknown field %q", field)
		}
		return nonFinite, badRequest("", "the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nonFinite, badRequest("", "the body holds more than one JSON value")
	}
	return nonFinite, nil
}

// decodeStrictJSON is decodeJSON for bodies where NaN and Infinity can only be a mistake.
func decodeStrictJSON(c echo.Context, v any) error {
	nonFinite, err := decodeJSON(c, v)
	if err == nil && nonFinite {
		err = badRequest("", "the body is not valid JSON: NaN and Infinity are not JSON numbers")
	}
	return err
}

// jsonFieldPath is the body's field a type error names. encoding/json puts the Go names
// of embedded structs in the path ("EvidenceInput.confidence"); the API's own names are
// all lower case, so the capitalised segments are left out.
func jsonFieldPath(path string) string {
	var keep []string
	for _, seg := range strings.Split(path, ".") {
		if seg != "" && strings.ToLower(seg[:1]) == seg[:1] {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "ptr":
		return "value of another type"
	case "map", "struct":
		return "JSON object"
	case "slice":
		return "JSON array"
	case "int", "int64", "float64":
		return "number"
	}
	return kind
}

// basedOn is the version a change says it was based on: given in the request itself
// (the body's field, or a delete's ?version=) or in an If-Match header, which must agree
// when both say (400). It is nil when neither says; the store then answers
// ErrVersionRequired (428) wherever a version is needed.
func basedOn(c echo.Context, field string, given *int) (*int, error) {
	header, err := ifMatchVersion(c)
	if err != nil {
		return nil, err
	}
	switch {
	case given == nil:
		return header, nil
	case header != nil && *header != *given:
		return nil, badRequest(field, "the request says %s %d but If-Match says %d", field, *given, *header)
	}
	return given, nil
}

// ifMatchVersion reads the version an If-Match header names: "3", W/"3" or 3.
func ifMatchVersion(c echo.Context) (*int, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return nil, nil
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return nil, badRequest("If-Match", "%q is not an annotation version", h)
	}
	return &v, nil
}

// queryVersion reads ?version=, which a delete may give instead of If-Match.
func queryVersion(c echo.Context) (*int, error) {
	q := c.QueryParam("version")
	if q == "" {
		return nil, nil
	}
	v, err := strconv.Atoi(q)
	if err != nil {
		return nil, badRequest("version", "%q is not an annotation version", q)
	}
	return &v, nil
}

// nonFiniteOutside refuses a body with NaN or Infinity anywhere but in its geometry
// (where the geometry's own check names the bad coordinate).
func nonFiniteOutside(nonFinite bool, geometry json.RawMessage) error {
	if nonFinite && !bytes.Contains(geometry, []byte(`"NaN"`)) && !bytes.Contains(geometry, []byte(`Infinity"`)) {
		return badRequest("", "the body is not valid JSON: NaN and Infinity are not JSON numbers")
	}
	return nil
}
