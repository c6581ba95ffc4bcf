package server

import (
	"io"
	"mime"
	"os"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// The machine-learning exports: COCO, CSV and CVAT XML of one image as a file; any
// dataset format of one image or of many as a zip (formats.WriteDatasetZip), with the
// originals when ?images=1 asks.

// datasetOf gathers a dataset export's inputs: the images named for the dataset (in id
// order, the order the store walks them), the whole taxonomy, the placements (for CSV's
// lon/lat) and, for CVAT, which declares them first, the free attributes' names.
func (s *Server) datasetOf(c echo.Context, images []annotations.Image, f annotations.AnnotationFilter, format string) (formats.Dataset, error) {
	ctx := c.Request().Context()
	images = append([]annotations.Image(nil), images...)
	sort.Slice(images, func(i, j int) bool { return images[i].ID < images[j].ID })
	d := formats.Dataset{Images: formats.DatasetImages(images), Places: map[string]formats.Placement{}}
	var err error
	if d.Labels, err = s.store.Labels(ctx); err != nil {
		return d, err
	}
	d.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
		if len(ids) == 0 {
			return nil
		}
		g := f
		g.ImageIDs = ids
		return s.store.EachAnnotation(ctx, g, emit)
	}
	switch format {
	case "csv":
		for _, img := range images {
			p, err := s.placement(ctx, img)
			if err != nil {
				return d, err
			}
			d.Places[img.ID] = p
		}
	case "cvat":
		g := f
		g.ImageIDs = imageIDsOf(images)
		if len(g.ImageIDs) > 0 {
			if d.AttributeNames, err = s.store.AttributeNames(ctx, g); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

func imageIDsOf(images []annotations.Image) []string {
	ids := make([]string, len(images))
	for i, img := range images {
		ids[i] = img.ID
	}
	return ids
}

// imageDataset is the dataset of the image in the path, its annotations filtered by
// ?status=.
func (s *Server) imageDataset(c echo.Context, format string) (formats.Dataset, error) {
	img, err := s.imageParam(c)
	if err != nil {
		return formats.Dataset{}, err
	}
	statuses, err := statusFilter(c)
	if err != nil {
		return formats.Dataset{}, err
	}
	return s.datasetOf(c, []annotations.Image{img}, annotations.AnnotationFilter{Statuses: statuses}, format)
}

// exportImageCOCO downloads one image's annotations as a COCO instances file.
func (s *Server) exportImageCOCO(c echo.Context) error {
	return s.exportImageFile(c, "coco", formats.COCOMediaType, "coco.json", func(w io.Writer, d formats.Dataset) error {
		_, err := formats.WriteCOCO(w, d)
		return err
	})
}

// exportImageCSV downloads one image's annotations as CSV with WKT geometries.
func (s *Server) exportImageCSV(c echo.Context) error {
	return s.exportImageFile(c, "csv", formats.CSVMediaType, "csv", formats.WriteCSV)
}

// exportImageCVAT downloads one image's annotations as CVAT for images 1.1 XML.
func (s *Server) exportImageCVAT(c echo.Context) error {
	return s.exportImageFile(c, "cvat", formats.CVATMediaType, "cvat.xml", formats.WriteCVAT)
}

func (s *Server) exportImageFile(c echo.Context, format, mediaType, ext string, write func(io.Writer, formats.Dataset) error) error {
	d, err := s.imageDataset(c, format)
	if err != nil {
		return err
	}
	name := "satmark-" + d.Images[0].ID + "." + ext
	setDownload(c, mediaType, name)
	return s.streamed(c, name, write(c.Response(), d))
}

// datasetFormat reads ?format=, one of formats.DatasetFormats.
func datasetFormat(c echo.Context) (string, error) {
	f := strings.ToLower(strings.TrimSpace(c.QueryParam("format")))
	for _, known := range formats.DatasetFormats {
		if f == known {
			return f, nil
		}
	}
	known := strings.Join(formats.DatasetFormats, ", ")
	if f == "" {
		return "", badRequest("format", "say which format to export: format= one of %s", known)
	}
	return "", badRequest("format", "%q is not a format this export knows: use one of %s", f, known)
}

func withOriginals(c echo.Context) (bool, error) {
	switch strings.ToLower(c.QueryParam("images")) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, badRequest("images", "%q is not a yes or no: use images=1 to include the original images, images=0 or nothing to leave them out", c.QueryParam("images"))
}

// zipRequest reads a dataset zip's ?format= (one of formats.DatasetFormats) and
// ?images= (1 or true puts the originals in the zip).
func zipRequest(c echo.Context) (format string, originals bool, err error) {
	if format, err = datasetFormat(c); err != nil {
		return "", false, err
	}
	originals, err = withOriginals(c)
	return format, originals, err
}

// exportImageDataset downloads one image as a dataset zip in ?format=.
func (s *Server) exportImageDataset(c echo.Context) error {
	format, originals, err := zipRequest(c)
	if err != nil {
		return err
	}
	d, err := s.imageDataset(c, format)
	if err != nil {
		return err
	}
	return s.writeDatasetZip(c, format, d, originals, "satmark-"+d.Images[0].ID+"-"+format+".zip")
}

// exportDataset downloads every image, or those ?image= names, as a dataset zip in
// ?format=, filtered by ?label= and ?status= (see exportSelection).
func (s *Server) exportDataset(c echo.Context) error {
	format, originals, err := zipRequest(c)
	if err != nil {
		return err
	}
	images, f, err := s.exportSelection(c)
	if err != nil {
		return err
	}
	d, err := s.datasetOf(c, images, f, format)
	if err != nil {
		return err
	}
	return s.writeDatasetZip(c, format, d, originals, "satmark-export-"+format+".zip")
}

func (s *Server) writeDatasetZip(c echo.Context, format string, d formats.Dataset, originals bool, name string) error {
	var open func(formats.DatasetImage) (io.ReadCloser, error)
	if originals {
		open = func(img formats.DatasetImage) (io.ReadCloser, error) {
			return os.Open(s.library.OriginalPath(img.SHA256))
		}
	}
	setDownload(c, formats.ZipMediaType, name)
	return s.streamed(c, name, formats.WriteDatasetZip(c.Response(), format, d, open))
}

func setDownload(c echo.Context, mediaType, name string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, mediaType)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}

// streamed is the outcome of a streamed download: once the status is sent, a cut-off
// body is the only signal left, so the cause is logged rather than answered.
func (s *Server) streamed(c echo.Context, name string, err error) error {
	if err != nil && c.Response().Committed {
		s.log.Error("export stopped part-way", "file", name, "err", err)
		return nil
	}
	return err
}
