package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// Imports: POST /api/v1/images/{id}/import?format=…[&dry_run=1][&crs=pixel|wgs84]
// [&map={"from":"to"}][&create_labels=1][&name=file.geojson], the file as the body or as
// the multipart field "file". A dry run answers 200 with the report; a real run 201 with
// the report (created); a refused one 422 with the report beside the error.

// DefaultMaxImportBytes bounds an uploaded annotation file (or zip).
const DefaultMaxImportBytes = 1 << 30

// importAnswer is the report, and on a refusal the error beside it.
type importAnswer struct {
	annotations.ImportReport
	Error map[string]any `json:"error,omitempty"`
}

func (s *Server) importAnnotations(c echo.Context) error {
	p := principalOf(c)
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	format := strings.ToLower(strings.TrimSpace(q.Get("format")))
	if format == "" {
		return badRequest("format", "say the file's format: ?format= one of %s", strings.Join(formats.ImportFormats, ", "))
	}
	if _, err := formats.ImportReader(format); err != nil {
		return badRequest("format", "%v", err)
	}
	crs := strings.ToLower(q.Get("crs"))
	if crs != "" && crs != "pixel" && crs != "wgs84" {
		return badRequest("crs", "%q is not a coordinate system an import knows: use pixel or wgs84", crs)
	}
	opts := annotations.ImportOptions{DryRun: truthy(q.Get("dry_run")), CreateLabels: truthy(q.Get("create_labels")),
		MayCreateLabels: annotations.RoleRank(p.user.Role) >= annotations.RoleRank(annotations.RoleAdmin)}
	if m := q.Get("map"); m != "" {
		if err := json.Unmarshal([]byte(m), &opts.LabelMap); err != nil {
			return badRequest("map", `the label map is not a JSON object of names, {"from": "to"}`)
		}
	}
	if opts.CreateLabels && !opts.MayCreateLabels {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Field: "create_labels",
			Message: fmt.Sprintf("only an administrator may add labels to the taxonomy (%s is %s): map the file's labels to existing ones instead", p.user.Name, article(p.user.Role))}
	}

	dir, err := s.library.TempFolder()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	upload, name, err := s.receiveImport(c, dir)
	if err != nil {
		return err
	}
	if name == "" {
		name = q.Get("name")
	}
	unpacked := filepath.Join(dir, "files")
	if err := os.Mkdir(unpacked, 0o755); err != nil {
		return err
	}
	ctx := c.Request().Context()
	place, err := s.placement(ctx, img)
	if err != nil {
		return err
	}
	labels, err := s.store.Labels(ctx)
	if err != nil {
		return err
	}
	var made []annotations.Annotation
	many := 0
	if !opts.DryRun {
		opts.Created = func(a annotations.Annotation) {
			if many++; many <= annotations.ImportToldOneByOne {
				made = append(made, a)
			}
		}
	}
	src, err := formats.PrepareImport(upload, name, format, unpacked, formats.DefaultZipLimits)
	if err != nil {
		return importError(err)
	}
	src.CRS = crs
	opts.FileName = formats.PlainName(name)
	target := formats.ImportTarget{Image: img, Place: place, Labels: labels}
	report, err := formats.Import(ctx, s.store, by, target, src, format, opts)
	if err != nil {
		return importError(err)
	}
	if opts.DryRun {
		return c.JSON(http.StatusOK, importAnswer{ImportReport: report})
	}
	// Everyone with the image open sees the new annotations: each as an event, or when
	// there are more than a listener holds, by being told to load them again; the other
	// processes' listeners are told the same by the import's notices.
	if many > annotations.ImportToldOneByOne {
		s.events.reset(img.ID)
	} else {
		for i := range made {
			if err := s.withGround(ctx, &made[i]); err != nil {
				return err
			}
			s.announce(c, annotationEvent("annotation.created", made[i]))
		}
	}
	return c.JSON(http.StatusCreated, importAnswer{ImportReport: report})
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// receiveImport streams the request's file, the body itself or its multipart "file"
// part, into dir, at most DefaultMaxImportBytes (413 beyond). It returns the file's path
// and the name it was sent with ("" for a bare body).
func (s *Server) receiveImport(c echo.Context, dir string) (string, string, error) {
	r := c.Request()
	body := http.MaxBytesReader(c.Response(), r.Body, s.maxImportBytes())
	src := io.Reader(body)
	name := ""
	if mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && mt == "multipart/form-data" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return "", "", badRequest("file", `the form has no "file" part: send the annotation file as the field "file" (or as the body)`)
			}
			if err != nil {
				return "", "", uploadError(err)
			}
			if part.FormName() == "file" {
				src, name = part, part.FileName()
				break
			}
		}
	}
	path := filepath.Join(dir, "upload")
	f, err := os.Create(path)
	if err != nil {
		return "", "", err
	}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", uploadError(err)
	}
	if n == 0 {
		return "", "", badRequest("file", "the file is empty")
	}
	return path, name, nil
}

// uploadError is a body that could not be received: too large (413), or cut short.
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "file",
			Message: fmt.Sprintf("the file is over the import limit of %d bytes", mbe.Limit)}
	}
	return cutShort("file", err)
}

func (s *Server) maxImportBytes() int64 {
	if s.opts.MaxImportBytes > 0 {
		return s.opts.MaxImportBytes
	}
	return DefaultMaxImportBytes
}

// importError answers a refused import with its report (422), and any other failure as
// errors are answered.
func importError(err error) error {
	var refused *annotations.ImportRefusedError
	var fe *formats.FileError
	var uz *formats.UnsafeZipError
	switch {
	case errors.As(err, &refused):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "import_refused", Message: refused.Error(), Report: &refused.Report}
	case errors.Is(err, formats.ErrNotGeoreferenced):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "not_georeferenced", Field: "crs", Message: err.Error()}
	case errors.As(err, &uz):
		if uz.TooLarge {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "file", Message: uz.Message}
		}
		return &apiError{Status: http.StatusBadRequest, Code: "unsafe_zip", Field: "file", Message: uz.Message}
	case errors.As(err, &fe):
		return &apiError{Status: http.StatusBadRequest, Code: "malformed", Field: "file", Message: fe.Message}
	}
	return err
}
