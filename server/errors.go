package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
)

// How errors become answers: apiError for what the server itself detects, classify for
// domain and library errors, and handleError, the one place either becomes a response.

// apiError is an error with its HTTP status, for problems the server itself detects.
type apiError struct {
	Status  int
	Code    string
	Field   string
	Message string
	// Current is shown beside a 412 so the client can offer the other version.
	Current any
	// Stale lists, beside a bulk change's 412, each annotation it had old: id, given,
	// current, updated_by.
	Stale []staleVersion
	// RetryAfter, in seconds, goes out as a Retry-After header (with 503).
	RetryAfter int
	// Refusals lists, beside a 422 for pasted element sets, each set refused and why.
	Refusals []tleRefusal
	// Report is a refused import's report, answered beside the error.
	Report *annotations.ImportReport
}

func (e *apiError) Error() string { return e.Message }

// staleVersion is one annotation a bulk change had at an old version, and who saved
// the version it is at.
type staleVersion struct {
	ID        string `json:"id"`
	Given     int    `json:"given"`
	Current   int    `json:"current"`
	UpdatedBy string `json:"updated_by"`
}

func badRequest(field, format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: "malformed", Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(what string) error {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// classify maps an error to what the client is told.
func classify(err error) *apiError {
	var ae *apiError
	var later *retryLater
	var failed *pyramidFailed
	var ie *imagery.IIIFError
	var ve *annotations.ValidationError
	var ge *geo.Error
	var de *imagery.DisplayError
	var stale *annotations.StaleVersionError
	var stales *annotations.StaleVersionsError
	var gone *annotations.ChangesGoneError
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &failed):
		return &apiError{Status: http.StatusInternalServerError, Code: "pyramid_failed", Message: failed.Error()}
	case errors.Is(err, context.Canceled):
		// The client went away while its request waited; nobody reads this answer.
		return &apiError{Status: http.StatusServiceUnavailable, Code: "canceled", Message: "the request was cancelled"}
	case errors.As(err, &later):
		return &apiError{Status: later.Status, Code: "not_ready", Message: later.Message, RetryAfter: later.seconds}
	case errors.As(err, &ie):
		retry := 0
		if ie.Status == http.StatusServiceUnavailable {
			retry = 1
		}
		return &apiError{Status: ie.Status, Code: strings.ToLower(strings.ReplaceAll(http.StatusText(ie.Status), " ", "_")), Message: ie.Message, RetryAfter: retry}
	case errors.Is(err, imagery.ErrNoPyramid):
		return &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "the image's tiles are not ready yet", RetryAfter: 3}
	case errors.As(err, &ge):
		code := "invalid"
		switch {
		case errors.Is(err, geo.ErrTooFewPoints):
			code = "too_few_points"
		case errors.Is(err, geo.ErrIllConditioned):
			code = "ill_conditioned"
		case errors.Is(err, geo.ErrOutOfRange):
			code = "out_of_range"
		case errors.Is(err, geo.ErrUnsupportedCRS):
			code = "unsupported_crs"
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: code, Field: ge.Field, Message: ge.Error()}
	case errors.As(err, &de):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: de.Field, Message: de.Error()}
	case errors.As(err, &ve):
		if ve.Malformed {
			return &apiError{Status: http.StatusBadRequest, Code: "malformed", Field: ve.Field, Message: ve.Error()}
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: ve.Field, Message: ve.Error()}
	case errors.As(err, &stales):
		list := make([]staleVersion, len(stales.Stale))
		for i, st := range stales.Stale {
			list[i] = staleVersion{ID: st.ID, Given: st.Given, Current: st.Current, UpdatedBy: st.By}
		}
		return &apiError{Status: http.StatusPreconditionFailed, Code: "stale_version", Field: "annotations", Message: stales.Error(), Stale: list}
	case errors.As(err, &gone):
		return &apiError{Status: http.StatusGone, Code: "gone", Field: "since", Message: gone.Error()}
	case errors.As(err, &stale):
		return &apiError{Status: http.StatusPreconditionFailed, Code: "stale_version", Field: "version", Message: stale.Error()}
	case errors.Is(err, annotations.ErrVersionRequired):
		return &apiError{Status: http.StatusPreconditionRequired, Code: "version_required", Field: "version",
			Message: `say which version you changed: "version" in the body (?version= on a delete) or an If-Match header`}
	case errors.Is(err, annotations.ErrForbidden):
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: err.Error()}
	case errors.Is(err, annotations.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, annotations.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.As(err, &mbe):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "file",
			Message: fmt.Sprintf("the request is over the limit of %d bytes", mbe.Limit)}
	case errors.Is(err, imagery.ErrBadSidecar):
		return &apiError{Status: http.StatusBadRequest, Code: "malformed", Field: "sidecar", Message: strings.TrimSuffix(err.Error(), ": "+imagery.ErrBadSidecar.Error())}
	case errors.Is(err, imagery.ErrTooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "file", Message: err.Error()}
	case errors.Is(err, imagery.ErrUnsupportedMedia):
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media", Field: "file", Message: err.Error()}
	case errors.Is(err, imagery.ErrCorrupt):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "corrupt_image", Field: "file", Message: err.Error()}
	case errors.As(err, &he):
		msg := fmt.Sprint(he.Message)
		code := strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		return &apiError{Status: he.Code, Code: code, Message: msg}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on the server; it has been logged"}
}

// handleError is the one place errors become responses: JSON for the API, a page for
// everything else. 5xx causes are logged once and never shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := classify(err)
	if ae.Status >= 500 && ae.Status != http.StatusServiceUnavailable && ae.Code != "pyramid_failed" {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	// A handler may have described the response it meant to send (a download's type,
	// name and year-long caching) before failing; none of that is true of the error.
	h := c.Response().Header()
	for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition, "Cache-Control", "ETag", echo.HeaderLastModified, "Link"} {
		h.Del(k)
	}
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	if strings.HasPrefix(c.Request().URL.Path, iiifPrefix) {
		// Echo's router refuses the methods the image service is not routed for (TRACE,
		// PROPFIND, …) before the service sees them: say what it allows, with CORS.
		h["Access-Control-Allow-Origin"] = hdrAllowOrigin
		if ae.Status == http.StatusMethodNotAllowed {
			h.Set("Allow", "GET, HEAD, OPTIONS")
		}
	}
	if presentationPath(c.Request().URL.Path) {
		// A viewer on another site reads why it got no manifest.
		h["Access-Control-Allow-Origin"] = hdrAllowOrigin
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(ae.Status)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, iiifPrefix) {
		// The image API's errors are human-readable text, as its specification suggests.
		c.String(ae.Status, ae.Message+"\n")
		return
	}
	if !strings.HasPrefix(c.Request().URL.Path, "/api/") && strings.Contains(c.Request().Header.Get("Accept"), "text/html") {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(ae.Status)
		s.templates.ExecuteTemplate(c.Response(), "error.html", map[string]any{"Status": ae.Status, "Message": ae.Message})
		return
	}
	body := map[string]any{"code": ae.Code, "message": ae.Message}
	if ae.Field != "" {
		body["field"] = ae.Field
	}
	if ae.Current != nil {
		body["current"] = ae.Current
	}
	if ae.Stale != nil {
		body["stale"] = ae.Stale
	}
	if ae.Refusals != nil {
		body["refusals"] = ae.Refusals
	}
	if ae.Report != nil {
		c.JSON(ae.Status, importAnswer{ImportReport: *ae.Report, Error: body})
		return
	}
	c.JSON(ae.Status, map[string]any{"error": body})
}
