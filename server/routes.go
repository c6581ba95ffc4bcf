package server

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every endpoint satmark serves.
func (s *Server) routes() {
	e := s.echo

	// Pages.
	e.GET("/", s.galleryPage)
	e.GET("/images/:id", s.annotatorPage)
	e.GET("/images/:id/georeference", s.georeferencePage)
	e.GET("/labels", s.labelsPage)
	e.GET("/map", s.mapPage)
	dist, _ := fs.Sub(s.assets, "dist")
	e.GET("/static/*", s.static(dist))

	// The IIIF Image API 3.0 service: info.json, tiles and renders of every image.
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch},
		"/iiif/3/*", s.iiif)

	api := e.Group("/api/v1")

	// Images and where they came from.
	api.GET("/images", s.listImages)
	api.POST("/images", s.createImage)
	api.GET("/images/:id", s.getImage)
	api.PATCH("/images/:id", s.updateImage)
	api.DELETE("/images/:id", s.deleteImage)
	api.GET("/images/:id/original", s.getOriginal)
	api.GET("/images/:id/thumbnail", s.getThumbnail)
	api.POST("/images/:id/pyramid", s.rebuildPyramid)
	api.GET("/sources", s.listSources)

	// Where images lie on the earth, and measuring on it.
	api.GET("/images/:id/georeference", s.getGeoreference)
	api.PUT("/images/:id/georeference", s.putGeoreference)
	api.DELETE("/images/:id/georeference", s.deleteGeoreference)
	api.POST("/images/:id/georeference/fit", s.fitGeoreference)
	api.GET("/images/:id/georeference/worldfile", s.getWorldFile)
	api.POST("/images/:id/georeference/worldfile", s.postWorldFile)
	api.POST("/images/:id/measure", s.measureShape)
	api.GET("/footprints.geojson", s.footprints)

	// The label taxonomy.
	api.GET("/labels", s.listLabels)
	api.POST("/labels", s.createLabel)
	api.PATCH("/labels/:id", s.updateLabel)
	api.DELETE("/labels/:id", s.deleteLabel)

	// Annotations and their history.
	api.GET("/images/:id/annotations", s.listAnnotations)
	api.POST("/images/:id/annotations", s.createAnnotation)
	api.GET("/annotations/:id", s.getAnnotation)
	api.PATCH("/annotations/:id", s.updateAnnotation)
	api.DELETE("/annotations/:id", s.deleteAnnotation)
	api.GET("/annotations/:id/history", s.annotationHistory)

	// Exports: GeoJSON in pixels or, for georeferenced images, RFC 7946 lon/lat
	// (?crs=pixel|wgs84); KML and KMZ for Google Earth.
	api.GET("/images/:id/annotations.geojson", s.exportImageGeoJSON)
	api.GET("/images/:id/annotations.kml", s.exportImageKML)
	api.GET("/images/:id/annotations.kmz", s.exportImageKMZ)
	api.GET("/export.geojson", s.exportGeoJSON)

	api.GET("/health", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
}
