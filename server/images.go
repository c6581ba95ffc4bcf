package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
)

// provenanceFields are the upload form's text fields, besides "file" and "source_id".
var provenanceFields = []string{"title", "release_title", "publisher", "source_url", "released_at", "captured_from", "captured_to",
	"credit", "license", "location_name", "claim", "notes", "publisher_markup"}

// formOverhead is how many bytes an upload may carry besides the file itself.
const formOverhead = 1 << 20

// createImage receives a multipart upload: one "file" part, the sidecar files that came
// with it (repeated "sidecar" parts, each with its file name: a delivery's .IMD, .RPB,
// DIMAP XML, world file, …) and the provenance fields. The files are streamed to disk in
// the upload's own folder, never held in memory; the header is checked against the
// limits before any pixel is decoded. A bad sidecar refuses the whole upload, with
// nothing stored. The same bytes uploaded again answer 200 with the image already stored.
func (s *Server) createImage(c echo.Context) error {
	actor, err := s.actor(c)
	if err != nil {
		return err
	}
	req := c.Request()
	if max := s.library.Limits().MaxBytes; max > 0 {
		req.Body = http.MaxBytesReader(c.Response(), req.Body, max+formOverhead+imagery.MaxSidecars*imagery.MaxSidecarBytes)
	}
	mr, err := req.MultipartReader()
	if err != nil {
		return badRequest("file", "send the image as multipart/form-data with a \"file\" part")
	}
	upload, err := s.library.NewUpload()
	if err != nil {
		return err
	}
	defer upload.Discard()
	received := false
	filename := ""
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("", "the multipart body cannot be read: %v", err)
		}
		name := part.FormName()
		switch {
		case name == "file":
			if received {
				return badRequest("file", "send one file per upload; send what comes with it as \"sidecar\" parts")
			}
			filename = cleanFilename(part.FileName())
			if err := s.library.ReceiveFile(upload, filename, part); err != nil {
				return cutShort("file", err)
			}
			received = true
		case name == "sidecar":
			if err := upload.ReceiveSidecar(sentFilename(part), part); err != nil {
				return sidecarRefused(err)
			}
		case name == "source_id" || name == "worldfile" || name == "prj" || name == "crs" || contains(provenanceFields, name):
			v, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if err != nil {
				return cutShort(name, err)
			}
			if len(v) > 64<<10 {
				return badRequest(name, "is longer than 64 KiB")
			}
			fields[name] = string(v)
		default:
			return badRequest(name, "unknown field %q", name)
		}
	}
	if !received {
		return badRequest("file", "no \"file\" part: choose an image to upload")
	}
	prov, err := provenanceFromForm(fields)
	if err != nil {
		return err
	}
	in := annotations.NewImage{Filename: filename, SourceID: strings.TrimSpace(fields["source_id"]), Provenance: prov, CreatedBy: annotations.Actor{Name: actor, IP: s.clientIP(c)}}
	side := ingest.Sidecar{WorldFile: fields["worldfile"], PRJ: fields["prj"], CRS: fields["crs"]}
	img, created, err := ingest.Image(req.Context(), s.store, s.library, upload, in, side)
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, img)
	}
	s.wakeBuilder()
	s.log.Info("image stored", "id", img.ID, "sha256", img.SHA256, "bytes", img.ByteSize, "width", img.Width, "height", img.Height, "actor", actor)
	// The image is stored whatever the hash says; a failure to store the hash is logged
	// and the backfill computes it again.
	r, err := s.fingerprintUpload(req.Context(), img)
	if err != nil {
		s.log.Error("perceptual hash of an upload", "image", img.ID, "err", err)
		r = reuseJSON{State: "pending", ReleasedBefore: []matchJSON{}, Matches: []matchJSON{}}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/images/"+img.ID)
	return c.JSON(http.StatusCreated, struct {
		annotations.Image
		Reuse reuseJSON `json:"reuse"`
	}{img, r})
}

// sentFilename is the file name a part was sent with, as sent: not cut to its base name
// (as Part.FileName does), so that a path is seen and refused.
func sentFilename(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// sidecarRefused tells the client why a sidecar refused its upload: too large (413), not
// one satmark accepts (400), or the body cut short.
func sidecarRefused(err error) error {
	switch {
	case errors.Is(err, imagery.ErrTooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "sidecar", Message: err.Error()}
	case errors.Is(err, imagery.ErrBadSidecar):
		return classify(err)
	}
	return cutShort("sidecar", err)
}

// cutShort tells the client that its request body ended early: that is the client's
// problem (400), not the server's. Other read errors pass through.
func cutShort(field string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest(field, "the request body ended before it was complete")
	}
	return err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// cleanFilename keeps the base name a browser sent, for display and downloads only.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	if len(name) > 255 {
		name = name[:255]
	}
	// The cut may split a character, and a client may send bytes that are not text.
	return strings.ToValidUTF8(name, "")
}

func provenanceFromForm(fields map[string]string) (annotations.Provenance, error) {
	var p annotations.Provenance
	ptr := func(name string) *string {
		v, ok := fields[name]
		if !ok {
			return nil
		}
		return &v
	}
	p.Title, p.ReleaseTitle, p.Publisher = ptr("title"), ptr("release_title"), ptr("publisher")
	p.SourceURL, p.ReleasedAt = ptr("source_url"), ptr("released_at")
	p.CapturedFrom, p.CapturedTo, p.Credit, p.License = ptr("captured_from"), ptr("captured_to"), ptr("credit"), ptr("license")
	p.LocationName, p.Claim, p.Notes = ptr("location_name"), ptr("claim"), ptr("notes")
	if v, ok := fields["publisher_markup"]; ok {
		b, err := parseFormBool(v)
		if err != nil {
			return p, badRequest("publisher_markup", "%q is not yes or no", v)
		}
		p.PublisherMarkup = &b
	}
	return p, nil
}

func parseFormBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, errors.New("not a boolean")
}

// imageParam loads the image named by the :id path parameter. Anything that is not an
// id satmark hands out is unknown without asking the store.
func (s *Server) imageParam(c echo.Context) (annotations.Image, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return annotations.Image{}, notFound("image")
	}
	return s.store.Image(c.Request().Context(), id)
}

// imageIDParam checks that the :id path parameter names an image (not in the trash)
// and returns its id, reading nothing else of it: for a handler that needs no more.
func (s *Server) imageIDParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return "", notFound("image")
	}
	return id, s.store.CheckImage(c.Request().Context(), id)
}

func (s *Server) listImages(c echo.Context) error {
	images, err := s.store.Images(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, images)
}

func (s *Server) getImage(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, img)
}

func (s *Server) updateImage(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	by, err := s.by(c)
	if err != nil {
		return err
	}
	var p annotations.Provenance
	if err := decodeStrictJSON(c, &p); err != nil {
		return err
	}
	img, err = s.store.UpdateImage(c.Request().Context(), by, img.ID, p)
	if err != nil {
		return err
	}
	s.imageChanged(img.ID)
	return c.JSON(http.StatusOK, img)
}

// deleteImage moves an image to the trash: out of every list and export, its files kept
// until an admin purges it.
func (s *Server) deleteImage(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	if img, err = s.store.TrashImage(c.Request().Context(), by, img.ID); err != nil {
		return err
	}
	s.imageChanged(img.ID)
	s.announce(c, trashEvent(img))
	s.log.Info("image moved to the trash", "id", img.ID, "actor", by.Name)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listTrash(c echo.Context) error {
	trash, err := s.store.Trash(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, trash)
}

func trashParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return "", notFound("image in the trash")
	}
	return id, nil
}

func (s *Server) restoreImage(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := trashParam(c)
	if err != nil {
		return err
	}
	img, err := s.store.RestoreImage(c.Request().Context(), by, id)
	if err != nil {
		return err
	}
	s.imageChanged(img.ID)
	return c.JSON(http.StatusOK, img)
}

// purgeImage removes an image in the trash for good, with its files.
func (s *Server) purgeImage(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := trashParam(c)
	if err != nil {
		return err
	}
	img, err := s.store.PurgeImage(c.Request().Context(), by, id)
	if err != nil {
		return err
	}
	s.imageChanged(img.ID)
	// The row is gone; a file left behind by a failure here is only disk space.
	if err := s.library.Remove(img.SHA256); err != nil {
		s.log.Error("removing files of purged image", "id", img.ID, "sha256", img.SHA256, "err", err)
	}
	s.log.Info("image purged", "id", img.ID, "actor", by.Name)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) getOriginal(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(img)})
	c.Response().Header().Set(echo.HeaderContentDisposition, disposition)
	c.Response().Header().Set(echo.HeaderContentType, img.MediaType)
	c.Response().Header().Set("Cache-Control", immutable)
	return serveFile(c, s.library.OriginalPath(img.SHA256), `"`+img.SHA256+`"`)
}

func downloadName(img annotations.Image) string {
	if img.Filename != "" {
		return img.Filename
	}
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/tiff": ".tif",
		"image/bmp": ".bmp", "image/webp": ".webp"}[img.MediaType]
	return img.SHA256 + ext
}

// getThumbnail serves the thumbnail made with the image's pyramid (or, if that file went
// missing, renders one from the pyramid). Until the pyramid is built it answers 503.
func (s *Server) getThumbnail(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	m, err := s.library.Pyramid(img.SHA256)
	switch {
	case !img.Pyramid.Ready() && err != nil:
		return notReady(img.Pyramid)
	case errors.Is(err, imagery.ErrNoPyramid):
		return s.lostPyramid(c, img.ID, img.SHA256)
	case err != nil:
		return err
	}
	// (While a pyramid is built again, the thumbnail of the one it replaces is served.)
	if imagery.ReadByGDAL(img.MediaType) {
		c.Response().Header().Set("Cache-Control", "private, no-cache") // it changes with the display
	} else {
		c.Response().Header().Set("Cache-Control", "private, max-age=86400")
	}
	path := s.library.ThumbnailPath(img.SHA256)
	if _, err := os.Stat(path); err == nil {
		c.Response().Header().Set(echo.HeaderContentType, "image/jpeg")
		return serveFile(c, path, `"`+img.SHA256[:32]+`-thumb`+m.Tag()+`"`)
	}
	r, err := imagery.ParseIIIF("full", "!512,512", "0", "default.jpg", img.Width, img.Height)
	if err != nil {
		return err
	}
	out, err := s.library.Render(c.Request().Context(), img.SHA256, infoOf(img), r)
	if err != nil {
		return err
	}
	defer out.File.Close()
	c.Response().Header().Set(echo.HeaderContentType, out.MediaType)
	return serveOpenFile(c, out.File, out.ETag)
}

func infoOf(img annotations.Image) imagery.Info {
	return imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
}

// rebuildPyramid queues the image's pyramid to be built again: after a failure, or to
// replace damaged tiles wholesale.
func (s *Server) rebuildPyramid(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	job, err := s.store.RetryJob(c.Request().Context(), img.ID, annotations.JobPyramid)
	if err != nil {
		return err
	}
	s.imageChanged(img.ID)
	s.wakeBuilder()
	return c.JSON(http.StatusAccepted, job)
}

func (s *Server) wakeBuilder() {
	if s.opts.Builder != nil {
		s.opts.Builder.Wake()
	}
}

// serveFile serves a file with a strong ETag, answering conditional requests with 304.
func serveFile(c echo.Context, path, etag string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return serveOpenFile(c, f, etag)
}

func serveOpenFile(c echo.Context, f *os.File, etag string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag)
	http.ServeContent(c.Response(), c.Request(), "", st.ModTime(), f)
	return nil
}

func (s *Server) listSources(c echo.Context) error {
	sources, err := s.store.Sources(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sources)
}
