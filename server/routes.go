package server

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Route is one endpoint and the least role it needs ("" for anyone).
type Route struct {
	Method, Path, Role string
}

// Routes lists every endpoint with the role it needs, as routes registers them.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routeList...) }

// routes lists every endpoint satmark serves, with the least role each needs: viewers
// read and export, analysts also upload, annotate, review and georeference, admins also
// manage users, the taxonomy, and the trash.
func (s *Server) routes() {
	const (
		anyone  = ""
		viewer  = annotations.RoleViewer
		analyst = annotations.RoleAnalyst
		admin   = annotations.RoleAdmin
	)
	route := func(method, path, role string, h echo.HandlerFunc) {
		s.routeList = append(s.routeList, Route{Method: method, Path: path, Role: role})
		var mw []echo.MiddlewareFunc
		if role != anyone {
			mw = append(mw, s.need(role))
		}
		s.echo.Add(method, path, h, mw...)
	}
	get := func(path, role string, h echo.HandlerFunc) { route(http.MethodGet, path, role, h) }
	post := func(path, role string, h echo.HandlerFunc) { route(http.MethodPost, path, role, h) }
	put := func(path, role string, h echo.HandlerFunc) { route(http.MethodPut, path, role, h) }
	patch := func(path, role string, h echo.HandlerFunc) { route(http.MethodPatch, path, role, h) }
	del := func(path, role string, h echo.HandlerFunc) { route(http.MethodDelete, path, role, h) }

	// Signing in and out, and the static front end the sign-in page needs.
	get("/login", anyone, s.loginPage)
	post("/login", anyone, s.loginForm)
	post("/logout", anyone, s.logoutForm)
	dist, _ := fs.Sub(s.assets, "dist")
	get("/static/*", anyone, s.static(dist))
	get("/api/v1/health", anyone, func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })

	// Pages.
	get("/", viewer, s.galleryPage)
	get("/images/:id", viewer, s.annotatorPage)
	get("/images/:id/georeference", analyst, s.georeferencePage)
	get("/labels", viewer, s.labelsPage)
	get("/map", viewer, s.mapPage)
	get("/sites", viewer, s.sitesPage)
	get("/sites/:id", viewer, s.sitePage)
	get("/sites/:id/compare", viewer, s.comparePage)
	get("/claims/:id", viewer, s.claimPage)
	get("/account", viewer, s.accountPage)
	get("/users", admin, s.usersPage)
	get("/audit", admin, s.auditPage)
	get("/trash", admin, s.trashPage)

	// The IIIF Image API 3.0 service: info.json, tiles and renders of every image.
	// Preflights are anyone's; the other methods it refuses itself, with 405.
	iiifRole := viewer
	if s.opts.PublicIIIF {
		iiifRole = anyone
	}
	get("/iiif/3/*", iiifRole, s.iiif)
	route(http.MethodHead, "/iiif/3/*", iiifRole, s.iiif)
	for _, m := range []string{http.MethodOptions, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		route(m, "/iiif/3/*", anyone, s.iiif)
	}

	// Every georeferenced image as web-Mercator XYZ tiles, for the map and for any XYZ
	// client; pixels only, so as open as the IIIF service.
	get("/tiles/:id/:z/:x/:y", iiifRole, s.mapTile)

	const api = "/api/v1"

	// Accounts: the session, yourself, your API tokens; users and the audit log.
	post(api+"/session", anyone, s.createSession)
	del(api+"/session", viewer, s.deleteSession)
	get(api+"/me", viewer, s.getMe)
	put(api+"/me/password", viewer, s.changePassword)
	del(api+"/me/sessions", viewer, s.signOutEverywhere)
	get(api+"/me/tokens", viewer, s.listTokens)
	post(api+"/me/tokens", viewer, s.createToken)
	del(api+"/me/tokens/:id", viewer, s.revokeToken)
	get(api+"/users", admin, s.listUsers)
	post(api+"/users", admin, s.createUser)
	patch(api+"/users/:id", admin, s.updateUser)
	get(api+"/audit", admin, s.auditLog)

	// Images and where they came from. Deleting one moves it to the trash.
	get(api+"/images", viewer, s.listImages)
	post(api+"/images", analyst, s.createImage)
	get(api+"/images/:id", viewer, s.getImage)
	patch(api+"/images/:id", analyst, s.updateImage)
	del(api+"/images/:id", admin, s.deleteImage)
	get(api+"/images/:id/original", viewer, s.getOriginal)
	get(api+"/images/:id/thumbnail", viewer, s.getThumbnail)
	get(api+"/images/:id/matches", viewer, s.imageMatches)
	post(api+"/images/:id/pyramid", analyst, s.rebuildPyramid)
	get(api+"/images/:id/display", viewer, s.getDisplay)
	put(api+"/images/:id/display", analyst, s.putDisplay)
	get(api+"/images/:id/adjustments", viewer, s.getAdjustments)
	put(api+"/images/:id/adjustments", analyst, s.putAdjustments)
	get(api+"/images/:id/events", viewer, s.imageEvents)
	get(api+"/images/:id/coverage", viewer, s.getCoverage)
	put(api+"/images/:id/coverage/grid", analyst, s.putCoverageGrid)
	put(api+"/images/:id/coverage/cells/:col/:row", analyst, s.putCoverageCell)
	del(api+"/images/:id/coverage/cells/:col/:row", analyst, s.deleteCoverageCell)
	get(api+"/sources", viewer, s.listSources)
	get(api+"/trash", admin, s.listTrash)
	post(api+"/trash/:id/restore", admin, s.restoreImage)
	del(api+"/trash/:id", admin, s.purgeImage)

	// Where images lie on the earth, and measuring on it.
	get(api+"/images/:id/georeference", viewer, s.getGeoreference)
	put(api+"/images/:id/georeference", analyst, s.putGeoreference)
	del(api+"/images/:id/georeference", analyst, s.deleteGeoreference)
	post(api+"/images/:id/georeference/fit", analyst, s.fitGeoreference)
	post(api+"/images/:id/georeference/suggest", analyst, s.suggestGeoreference)
	get(api+"/images/:id/georeference/worldfile", viewer, s.getWorldFile)
	post(api+"/images/:id/georeference/worldfile", analyst, s.postWorldFile)
	post(api+"/images/:id/measure", viewer, s.measureShape)
	get(api+"/images/:id/sun", viewer, s.imageSun)
	post(api+"/images/:id/shadow", viewer, s.measureShadow)
	post(api+"/images/:id/wand", analyst, s.wandRegion)
	post(api+"/images/:id/outline", analyst, s.outlineFromBox)
	get(api+"/footprints.geojson", viewer, s.footprints)

	// Sites: one place across dates. The images whose footprint meets a site's area
	// belong to it; analysts add others by hand or leave them out.
	get(api+"/sites", viewer, s.listSites)
	post(api+"/sites", analyst, s.createSite)
	get(api+"/sites/:id", viewer, s.getSite)
	patch(api+"/sites/:id", analyst, s.updateSite)
	del(api+"/sites/:id", analyst, s.deleteSite)
	get(api+"/sites/:id/area.geojson", viewer, s.siteGeoJSON)
	put(api+"/sites/:id/images/:image", analyst, s.putSiteImage)
	del(api+"/sites/:id/images/:image", analyst, s.deleteSiteImage)

	// Satellites: element sets (TLEs), and which satellites passed over an image's place
	// within its capture window.
	get(api+"/tles", viewer, s.listTLEs)
	post(api+"/tles", analyst, s.postTLEs)
	del(api+"/tles/:id", analyst, s.deleteTLE)
	get(api+"/images/:id/passes", viewer, s.imagePasses)

	// Tracks: one object followed across images.
	get(api+"/tracks", viewer, s.listTracks)
	post(api+"/tracks", analyst, s.createTrack)
	get(api+"/tracks.geojson", viewer, s.tracksGeoJSON)
	get(api+"/tracks/:id", viewer, s.getTrack)
	patch(api+"/tracks/:id", analyst, s.updateTrack)
	del(api+"/tracks/:id", analyst, s.deleteTrack)
	put(api+"/tracks/:id/annotations/:annotation", analyst, s.linkTrack)
	del(api+"/tracks/:id/annotations/:annotation", analyst, s.unlinkTrack)

	// Claims: what a release says, and the annotations on its images linked to a claim
	// as evidence that supports it, contradicts it or gives context.
	get(api+"/sources/:id/claims", viewer, s.listClaims)
	post(api+"/sources/:id/claims", analyst, s.createClaim)
	get(api+"/claims", viewer, s.listClaims)
	get(api+"/claims/:id", viewer, s.getClaim)
	patch(api+"/claims/:id", analyst, s.updateClaim)
	del(api+"/claims/:id", analyst, s.deleteClaim)
	get(api+"/claims/:id/history", viewer, s.claimHistory)
	post(api+"/claims/:id/evidence", analyst, s.linkEvidence)
	get(api+"/evidence/:id", viewer, s.getEvidence)
	patch(api+"/evidence/:id", analyst, s.updateEvidence)
	del(api+"/evidence/:id", analyst, s.unlinkEvidence)

	// The label taxonomy.
	get(api+"/labels", viewer, s.listLabels)
	post(api+"/labels", admin, s.createLabel)
	patch(api+"/labels/:id", admin, s.updateLabel)
	del(api+"/labels/:id", admin, s.deleteLabel)

	// Annotations, their history, review and discussion.
	get(api+"/images/:id/annotations", viewer, s.listAnnotations)
	get(api+"/images/:id/annotations/changes", viewer, s.annotationChanges)
	get(api+"/images/:id/annotations/shapes", viewer, s.listShapes)
	post(api+"/images/:id/annotations", analyst, s.createAnnotation)
	post(api+"/images/:id/annotations/copy", analyst, s.copyAnnotations)
	post(api+"/images/:id/annotations/bulk", analyst, s.bulkAnnotations)
	post(api+"/images/:id/import", analyst, s.importAnnotations)
	get(api+"/annotations/:id", viewer, s.getAnnotation)
	patch(api+"/annotations/:id", analyst, s.updateAnnotation)
	del(api+"/annotations/:id", analyst, s.deleteAnnotation)
	get(api+"/annotations/:id/history", viewer, s.annotationHistory)
	post(api+"/annotations/:id/restore", analyst, s.restoreAnnotation)
	get(api+"/annotations/:id/reviews", viewer, s.listReviews)
	post(api+"/annotations/:id/reviews", analyst, s.reviewAnnotation)
	get(api+"/annotations/:id/comments", viewer, s.listComments)
	post(api+"/annotations/:id/comments", analyst, s.addComment)

	// Find similar: suggestions found from one annotation, reviewed one by one; until
	// accepted, a suggestion is no annotation and in no export.
	post(api+"/annotations/:id/similar", analyst, s.findSimilar)
	get(api+"/images/:id/suggestions", viewer, s.listSuggestions)
	post(api+"/suggestions/:id/accept", analyst, s.decideSuggestion(true))
	post(api+"/suggestions/:id/reject", analyst, s.decideSuggestion(false))
	post(api+"/suggestions/:id/reopen", analyst, s.reopenSuggestion) // an undo: the decider's own, pending again

	// Exports: GeoJSON in pixels or, for georeferenced images, RFC 7946 lon/lat
	// (?crs=pixel|wgs84); KML and KMZ for Google Earth; ?status=accepted keeps only
	// reviewed and accepted work.
	get(api+"/images/:id/annotations.geojson", viewer, s.exportImageGeoJSON)
	get(api+"/images/:id/annotations.kml", viewer, s.exportImageKML)
	get(api+"/images/:id/annotations.kmz", viewer, s.exportImageKMZ)
	get(api+"/export.geojson", viewer, s.exportGeoJSON)
	// The evidence bundle: original, provenance, annotations, history, audit, hashed.
	get(api+"/images/:id/bundle.zip", viewer, s.exportBundle)
	// Machine-learning datasets: COCO, CSV with WKT and CVAT XML of one image as a file;
	// ?format=coco|yolo|yolo-obb|dota|voc|cvat|csv of one image or of many as a zip,
	// with the originals when ?images=1.
	get(api+"/images/:id/annotations.coco.json", viewer, s.exportImageCOCO)
	get(api+"/images/:id/annotations.csv", viewer, s.exportImageCSV)
	get(api+"/images/:id/annotations.cvat.xml", viewer, s.exportImageCVAT)
	get(api+"/images/:id/export", viewer, s.exportImageDataset)
	// A figure to publish: a region with annotations, labels, scale bar, north arrow and
	// a caption from the provenance, as PNG or PDF (query on GET, JSON body on POST).
	get(api+"/images/:id/figure", viewer, s.figure)
	post(api+"/images/:id/figure", viewer, s.figure)
	get(api+"/export", viewer, s.exportDataset)
	// IIIF Presentation 3.0 for Mirador and other viewers: a manifest of one image, or of
	// several (?image=), each canvas painted by the image service and referring to the
	// image's annotation page of W3C Web Annotations; ?status= and ?label= filter them.
	// Read from other sites like the image service: CORS, and preflights are anyone's.
	get(api+"/images/:id/iiif/manifest.json", viewer, s.iiifImageManifest)
	get(api+"/images/:id/iiif/annotations.json", viewer, s.iiifAnnotationPage)
	get(api+"/iiif/manifest.json", viewer, s.iiifManifest)
	for _, p := range []string{api + "/images/:id/iiif/manifest.json", api + "/images/:id/iiif/annotations.json", api + "/iiif/manifest.json"} {
		route(http.MethodOptions, p, anyone, s.iiifPreflight)
	}
	// The dataset builder: chips, a train/val/test split and a dataset card, in any of
	// the dataset formats.
	get(api+"/dataset.zip", viewer, s.exportDatasetBuild)
}
