package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// page renders a full HTML page. Templates escape every value, so user text is text.
func (s *Server) page(c echo.Context, name string, data map[string]any) error {
	return s.pageStatus(c, http.StatusOK, name, data)
}

// pageStatus renders a page with a status other than 200 (a refused sign-in). Every
// page knows who is signed in (.Me, nil on the sign-in page) and carries the session's
// CSRF token for the scripts' writes.
func (s *Server) pageStatus(c echo.Context, status int, name string, data map[string]any) error {
	data["BundleMissing"] = !s.bundleBuilt()
	if p := principalOf(c); p != nil {
		data["Me"] = p.user
		data["CSRF"] = p.csrf
		data["IsAdmin"] = p.user.Role == annotations.RoleAdmin
		data["CanEdit"] = annotations.RoleRank(p.user.Role) >= annotations.RoleRank(annotations.RoleAnalyst)
	}
	var buf bytes.Buffer
	if err := s.templates.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	// Pages name who is signed in: never cached anywhere but revalidated each time.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) bundleBuilt() bool {
	_, err := fs.Stat(s.assets, "dist/annotator.js")
	return err == nil
}

func (s *Server) galleryPage(c echo.Context) error {
	ctx := c.Request().Context()
	images, err := s.store.Images(ctx)
	if err != nil {
		return err
	}
	labels, err := s.store.Labels(ctx)
	if err != nil {
		return err
	}
	sources, err := s.store.Sources(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, img := range images {
		total += img.AnnotationCount
	}
	return s.page(c, "gallery.html", map[string]any{
		"Title": "Gallery", "Images": images, "Labels": labels, "Sources": sources, "AnnotationTotal": total,
		"MaxUploadBytes": s.library.Limits().MaxBytes,
	})
}

func (s *Server) annotatorPage(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	r, err := s.imageReuse(c.Request().Context(), img.ID)
	if err != nil {
		return err
	}
	return s.page(c, "annotator.html", map[string]any{"Title": img.Title, "Image": img, "Reuse": r})
}

func (s *Server) georeferencePage(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	return s.page(c, "georeference.html", map[string]any{"Title": "Georeference · " + img.Title, "Image": img})
}

func (s *Server) mapPage(c echo.Context) error {
	return s.page(c, "map.html", map[string]any{"Title": "Map"})
}

func (s *Server) sitesPage(c echo.Context) error {
	return s.page(c, "sites.html", map[string]any{"Title": "Sites"})
}

func (s *Server) sitePage(c echo.Context) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	return s.page(c, "site.html", map[string]any{"Title": st.Name, "SiteID": st.ID, "SiteName": st.Name})
}

// comparePage shows two images of a site side by side, or one over the other on the
// map: ?a= and ?b= name them (images of any site, or none; unknown ones are 404), and
// the page picks the site's two latest placed images for any left out.
func (s *Server) comparePage(c echo.Context) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	pick := map[string]string{}
	for _, k := range []string{"a", "b"} {
		id := c.QueryParam(k)
		if id == "" {
			continue
		}
		if !annotations.ValidID(id) {
			return notFound("image")
		}
		if _, err := s.store.Image(c.Request().Context(), id); err != nil {
			return err
		}
		pick[k] = id
	}
	return s.page(c, "compare.html", map[string]any{"Title": "Compare · " + st.Name, "SiteID": st.ID, "SiteName": st.Name, "A": pick["a"], "B": pick["b"]})
}

func (s *Server) labelsPage(c echo.Context) error {
	labels, err := s.store.Labels(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, "labels.html", map[string]any{"Title": "Labels", "Labels": labels})
}

// static serves the bundled front end with content-hash ETags, so browsers revalidate
// cheaply and never run a stale bundle.
func (s *Server) static(dist fs.FS) echo.HandlerFunc {
	etags := map[string]string{}
	fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(dist, p); err == nil {
				sum := sha256.Sum256(b)
				etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
			}
		}
		return nil
	})
	return func(c echo.Context) error {
		name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
		etag, ok := etags[name]
		if !ok || strings.HasPrefix(name, ".") {
			return notFound("file")
		}
		b, err := fs.ReadFile(dist, name)
		if err != nil {
			return notFound("file")
		}
		h := c.Response().Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		if c.Request().Header.Get("If-None-Match") == etag {
			return c.NoContent(http.StatusNotModified)
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		return c.Blob(http.StatusOK, ct, b)
	}
}

func (s *Server) trashPage(c echo.Context) error {
	trash, err := s.store.Trash(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, "trash.html", map[string]any{"Title": "Trash", "Trash": trash})
}

// claimPage shows a claim of a release, its evidence by stance and where it stands.
func (s *Server) claimPage(c echo.Context) error {
	id, err := idParam(c, "claim")
	if err != nil {
		return err
	}
	cl, err := s.store.Claim(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.page(c, "claim.html", map[string]any{"Title": "Claim · " + cl.Text, "ClaimID": cl.ID})
}
