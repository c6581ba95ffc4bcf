// Package server is satmark's HTTP face: the JSON API under /api/v1, the pages, and the
// static front end. It is the only package that knows echo. Every route is listed in
// routes.go.
package server

import (
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
)

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// PublicURL is the scheme and host clients reach satmark at (e.g.
	// https://satmark.example.org), for the ids in IIIF info.json; by default the
	// request's own.
	PublicURL string
	// Builder builds tile pyramids; it is woken when an upload or a retry queues one.
	Builder *ingest.Builder
	// HotTileBytes bounds the tile responses kept ready in memory (default 128 MiB;
	// negative turns them off).
	HotTileBytes int64

	// PublicIIIF lets anyone read the IIIF image service (pixels only, never
	// annotations); by default it needs a signed-in viewer like everything else.
	PublicIIIF bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Without any, the peer address is the client.
	TrustedProxies []*net.IPNet
	// SessionIdle ends a session unused this long (default 7 days); SessionMax ends any
	// session this long after sign-in (default 30 days).
	SessionIdle, SessionMax time.Duration
	// PasswordCost is bcrypt's cost for new password hashes (default 12; tests use 4).
	PasswordCost int
	// Throttle: at most FailuresPerAccount failed sign-ins per account, and
	// FailuresPerAddress per client address, in FailureWindow (defaults 5, 20, 15 min).
	FailuresPerAccount, FailuresPerAddress int
	FailureWindow                          time.Duration
	// MaxImportBytes bounds an uploaded annotation file or zip (default
	// DefaultMaxImportBytes, 1 GiB): more is 413.
	MaxImportBytes int64
	// Now is the clock (tests move it); time.Now by default.
	Now func() time.Time
}

// Server serves satmark over HTTP. It implements http.Handler.
type Server struct {
	store      *annotations.Store
	library    *imagery.Library
	assets     fs.FS
	templates  *template.Template
	opts       Options
	log        *slog.Logger
	echo       *echo.Echo
	iiifCache  iiifImages
	hot        hotTiles
	places     placements
	maps       *mapTiles
	compared   *ingest.CompareCache // the second step of reuse comparisons already made
	matching   chan struct{}        // one slot per control-point match or find-similar search running
	principals principals
	throttle   throttle
	events     broker
	routeList  []Route
	dummyOnce  sync.Once
	dummy      string
	lastSweep  atomic.Int64 // when expired sessions were last removed (Unix ns)
	// Account changes made by other processes: when the users stamp was last compared
	// (Unix ns) and what it was.
	stampCheckedAt atomic.Int64
	usersStamp     atomic.Pointer[string]
}

// New builds the server over a store and an image library. assets holds the front end:
// templates/*.html and the bundled dist/ folder.
func New(store *annotations.Store, library *imagery.Library, assets fs.FS, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 7 * 24 * time.Hour
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 30 * 24 * time.Hour
	}
	if opts.PasswordCost == 0 {
		opts.PasswordCost = annotations.DefaultPasswordCost
	}
	if opts.FailuresPerAccount <= 0 {
		opts.FailuresPerAccount = 5
	}
	if opts.FailuresPerAddress <= 0 {
		opts.FailuresPerAddress = 20
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	tmpl, err := template.New("").Funcs(templateFuncs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	if opts.HotTileBytes == 0 {
		opts.HotTileBytes = 128 << 20
	}
	s := &Server{store: store, library: library, assets: assets, templates: tmpl, opts: opts, log: opts.Logger,
		maps: newMapTiles(runtime.GOMAXPROCS(0)), compared: ingest.NewCompareCache(), matching: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
	s.hot.max = opts.HotTileBytes
	if opts.Builder != nil {
		// A new pyramid is in place: nothing of the old one may be served from memory.
		opts.Builder.OnBuilt(s.imageChanged)
	}
	s.hot.cacheControl = hdrImmutable
	if opts.PublicIIIF {
		s.hot.cacheControl = hdrPublicImmutable
	}
	s.throttle = throttle{store: store, window: opts.FailureWindow, perAccount: opts.FailuresPerAccount, perAddress: opts.FailuresPerAddress}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	if len(opts.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		// Tiles are too many to log one by one; their failures reach handleError.
		Skipper:   func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, iiifPrefix) },
		LogMethod: true, LogURI: true, LogStatus: true, LogLatency: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Status >= 500 {
				level = slog.LevelError
			} else if v.Status >= 400 {
				level = slog.LevelInfo
			}
			s.log.Log(c.Request().Context(), level, "request", "method", v.Method, "uri", v.URI, "status", v.Status,
				"latency", v.Latency.Round(time.Microsecond))
			return nil
		},
	}))
	e.Use(s.securityHeaders, s.identify)
	s.echo = e
	s.routes()
	return s, nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

// imageChanged forgets everything the server keeps in memory about an image: its IIIF
// description (size, licence), its hot tiles and its placement on the earth. Every
// handler that changes an image (its provenance, georeference, pyramid, trash, restore
// or purge) calls it, and so does the pyramid builder, so no answer after a change comes
// from before it. The other processes on the database forget theirs when the store's
// notice of the change reaches them (notices.go).
func (s *Server) imageChanged(id string) { s.forgetImage(id) }

// forgetImage forgets what this process keeps of an image.
func (s *Server) forgetImage(id string) {
	s.iiifCache.forget(id)
	s.hot.forget(id)
	s.maps.forget(id)
	s.places.mu.Lock()
	delete(s.places.m, id)
	s.places.mu.Unlock()
}

// forgetAllImages is forgetImage for every image something is kept of.
func (s *Server) forgetAllImages() {
	ids := map[string]bool{}
	s.iiifCache.mu.RLock()
	for id := range s.iiifCache.m {
		ids[id] = true
	}
	s.iiifCache.mu.RUnlock()
	s.places.mu.Lock()
	for id := range s.places.m {
		ids[id] = true
	}
	s.places.mu.Unlock()
	s.hot.m.Range(func(_, v any) bool {
		ids[v.(*hotTile).imageID] = true
		return true
	})
	s.maps.mu.Lock()
	for _, e := range s.maps.m {
		ids[e.Value.(*mapTile).imageID] = true
	}
	s.maps.mu.Unlock()
	for id := range ids {
		s.forgetImage(id)
	}
}

// accountsChanged forgets the cached sessions and tokens, here and in the other
// processes on the database: after a sign-in or sign-out, or a change of an account or
// token.
func (s *Server) accountsChanged() {
	s.principals.forget()
	s.tell(annotations.Notice{Type: annotations.NoticeAccountsChanged})
}

// Close ends the server's live event streams, so that an HTTP shutdown does not wait on
// them. Call it when shutting down begins (http.Server.RegisterOnShutdown).
func (s *Server) Close() { s.events.close() }

// ServeHTTP makes Server an http.Handler. Tiles served before are answered straight from
// memory; everything else goes through the router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, iiifPrefix) && s.mayReadImages(r) && s.hot.serve(w, r) {
		return
	}
	s.echo.ServeHTTP(w, r)
}

// mayReadImages says whether a request may read the image service without going
// through the router: the fast path for tiles held in memory. It must agree with what
// need(viewer) lets through, or memory would serve whom the router refuses.
func (s *Server) mayReadImages(r *http.Request) bool {
	if s.opts.PublicIIIF {
		return true
	}
	p, err := s.authenticate(r, true)
	return err == nil && p != nil && !p.user.MustChangePassword &&
		annotations.RoleRank(p.user.Role) >= annotations.RoleRank(annotations.RoleViewer)
}

var templateFuncs = template.FuncMap{
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"join":        strings.Join,
	"list":        func(v ...string) []string { return v },
	"pyramidText": pyramidText,
}

// pyramidText says where an image's pyramid build stands, for the gallery.
func pyramidText(p annotations.Progress) string {
	switch p.State {
	case annotations.JobQueued:
		return "waiting to prepare tiles…"
	case annotations.JobRunning:
		return fmt.Sprintf("preparing tiles: %.0f%%", 100*p.Progress)
	case annotations.JobFailed:
		return "tiles failed: " + p.Error
	}
	return ""
}
