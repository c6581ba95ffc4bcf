// Command satmark is a self-hosted workbench for annotating publicly released satellite
// imagery: one binary, one SQLite file, one data folder.
//
//	satmark serve [--addr 127.0.0.1:8080] [--data ./data]   serve the web app
//	satmark seed  [--data ./data] [--if-empty]              add the synthetic sample data
//	satmark user add|passwd|list|disable|enable|role …      manage accounts
//	satmark token create NAME                               print a new API token
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/server"
	"github.com/satmark/satmark/web"
)

// Config is everything satmark can be told, from flags with environment fallbacks.
type Config struct {
	Addr           string // SATMARK_ADDR
	DataDir        string // SATMARK_DATA
	MaxUploadBytes int64  // SATMARK_MAX_UPLOAD_BYTES
	MaxPixels      int64  // SATMARK_MAX_PIXELS
	PublicURL      string // SATMARK_PUBLIC_URL: scheme and host clients use, for IIIF ids
	TLSCert        string // SATMARK_TLS_CERT: serve HTTPS with this certificate (PEM)…
	TLSKey         string // SATMARK_TLS_KEY: …and this key
	TrustedProxies string // SATMARK_TRUSTED_PROXIES: comma-separated proxy addresses or CIDRs
	PublicIIIF     bool   // SATMARK_PUBLIC_IIIF: let anyone read the IIIF image service
	AdminPassword  string // SATMARK_ADMIN_PASSWORD: the first administrator's password
	Builds         int    // SATMARK_BUILDS: pyramid builds at once
	TileCacheMB    int64  // SATMARK_TILE_CACHE_MB: tiles kept in memory
	RenderCacheMB  int64  // SATMARK_RENDER_CACHE_MB: IIIF renders kept on disk
	LogLevel       slog.Level
	PasswordCost   int // bcrypt cost for new passwords; 0 for the default (tests lower it)
}

// DefaultConfig reads the environment over the built-in defaults.
func DefaultConfig() Config {
	c := Config{
		Addr: "127.0.0.1:8080", DataDir: "./data",
		MaxUploadBytes: imagery.DefaultLimits.MaxBytes, MaxPixels: imagery.DefaultLimits.MaxPixels,
		Builds: 1, TileCacheMB: 256, RenderCacheMB: 512, LogLevel: slog.LevelInfo,
	}
	envInt := func(name string, dst *int64) {
		if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
			*dst = v
		}
	}
	envInt("SATMARK_TILE_CACHE_MB", &c.TileCacheMB)
	envInt("SATMARK_RENDER_CACHE_MB", &c.RenderCacheMB)
	if v, err := strconv.Atoi(os.Getenv("SATMARK_BUILDS")); err == nil {
		c.Builds = v
	}
	c.PublicURL = os.Getenv("SATMARK_PUBLIC_URL")
	if v := os.Getenv("SATMARK_ADDR"); v != "" {
		c.Addr = v
	}
	if v := os.Getenv("SATMARK_DATA"); v != "" {
		c.DataDir = v
	}
	if v, err := strconv.ParseInt(os.Getenv("SATMARK_MAX_UPLOAD_BYTES"), 10, 64); err == nil {
		c.MaxUploadBytes = v
	}
	if v, err := strconv.ParseInt(os.Getenv("SATMARK_MAX_PIXELS"), 10, 64); err == nil {
		c.MaxPixels = v
	}
	c.TLSCert, c.TLSKey = os.Getenv("SATMARK_TLS_CERT"), os.Getenv("SATMARK_TLS_KEY")
	c.TrustedProxies = os.Getenv("SATMARK_TRUSTED_PROXIES")
	c.PublicIIIF, _ = strconv.ParseBool(os.Getenv("SATMARK_PUBLIC_IIIF"))
	c.AdminPassword = os.Getenv("SATMARK_ADMIN_PASSWORD")
	return c
}

func (c *Config) flags(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data folder: the SQLite file, originals and derived files (env SATMARK_DATA)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", c.MaxUploadBytes, "largest original accepted, in bytes (env SATMARK_MAX_UPLOAD_BYTES)")
	fs.Int64Var(&c.MaxPixels, "max-pixels", c.MaxPixels, "largest image accepted, in pixels (width × height) (env SATMARK_MAX_PIXELS)")
	fs.Int64Var(&c.TileCacheMB, "tile-cache-mb", c.TileCacheMB, "tiles kept in memory, in MiB (env SATMARK_TILE_CACHE_MB)")
	fs.Int64Var(&c.RenderCacheMB, "render-cache-mb", c.RenderCacheMB, "IIIF renders kept on disk, in MiB (env SATMARK_RENDER_CACHE_MB)")
	if serve {
		fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on, HOST:PORT (env SATMARK_ADDR)")
		fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "serve HTTPS with this certificate file, PEM (env SATMARK_TLS_CERT)")
		fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "the certificate's private key file, PEM (env SATMARK_TLS_KEY)")
		fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies,
			"reverse proxies whose X-Forwarded-For/-Proto are believed: addresses or CIDRs, comma-separated (env SATMARK_TRUSTED_PROXIES)")
		fs.BoolVar(&c.PublicIIIF, "public-iiif", c.PublicIIIF, "let anyone read the IIIF image service, pixels only (env SATMARK_PUBLIC_IIIF)")
		fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "scheme and host clients reach satmark at, e.g. https://satmark.example.org (env SATMARK_PUBLIC_URL)")
		fs.IntVar(&c.Builds, "builds", c.Builds, "tile pyramids built at once (env SATMARK_BUILDS)")
	}
}

// Main is a running satmark: the store, the image library and, when serving, the HTTP
// server. Tests run the same Main on port 0.
type Main struct {
	Config  Config
	Logger  *slog.Logger
	Store   *annotations.Store
	Library *imagery.Library
	Builder *ingest.Builder

	listener net.Listener
	tls      bool
	http     *http.Server
	stop     context.CancelFunc
	building sync.WaitGroup
}

// Open opens the data folder: the database (migrated) and the image library.
func (m *Main) Open() error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: m.Config.LogLevel}))
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o755); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	store, err := annotations.Open(filepath.Join(m.Config.DataDir, "satmark.db"))
	if err != nil {
		return err
	}
	m.Store = store
	lib, err := imagery.OpenWith(m.Config.DataDir, imagery.Options{
		Limits:         imagery.Limits{MaxBytes: m.Config.MaxUploadBytes, MaxPixels: m.Config.MaxPixels},
		TileCacheBytes: m.Config.TileCacheMB << 20, RenderCacheBytes: m.Config.RenderCacheMB << 20,
	})
	if err != nil {
		return err
	}
	m.Library = lib
	m.Builder = ingest.NewBuilder(store, lib, m.Config.Builds, m.Logger)
	return sampledata.SeedTaxonomyIfEmpty(context.Background(), store)
}

// Run opens the data folder, binds the address (so a busy port fails here) and serves
// in the background until Close.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(); err != nil {
		return err
	}
	proxies, err := parseProxies(m.Config.TrustedProxies)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if m.Config.TLSCert != "" || m.Config.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(m.Config.TLSCert, m.Config.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS: give both --tls-cert and --tls-key, PEM files that match: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	handler, err := server.New(m.Store, m.Library, web.Assets, server.Options{
		Logger: m.Logger, PublicURL: m.Config.PublicURL, Builder: m.Builder,
		PublicIIIF: m.Config.PublicIIIF, TrustedProxies: proxies, PasswordCost: m.Config.PasswordCost,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.listener, m.tls = ln, tlsConfig != nil
	m.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		TLSConfig: tlsConfig, ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	// Live event streams never end by themselves: end them when shutdown begins.
	m.http.RegisterOnShutdown(handler.Close)
	go func() {
		var err error
		if tlsConfig != nil {
			err = m.http.ServeTLS(ln, "", "")
		} else {
			err = m.http.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
	buildCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.building.Add(1)
	go func() {
		defer m.building.Done()
		m.Builder.Run(buildCtx)
	}()
	return nil
}

// URL is where the running server can be reached.
func (m *Main) URL() string {
	if m.tls {
		return "https://" + m.listener.Addr().String() + "/"
	}
	return "http://" + m.listener.Addr().String() + "/"
}

// parseProxies reads trusted proxy addresses: IPs or CIDRs, comma-separated.
func parseProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			ip := net.ParseIP(p)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR", p)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// Close shuts HTTP down first, letting requests in flight finish, then stops pyramid
// builds (an interrupted build is queued again for the next start), then closes the
// store.
func (m *Main) Close() error {
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs = append(errs, m.http.Shutdown(ctx))
	}
	if m.stop != nil {
		m.stop()
		m.building.Wait()
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "satmark:", err)
		os.Exit(1)
	}
}

const usage = `satmark: annotate publicly released satellite imagery.

Usage:
  satmark serve [--addr HOST:PORT] [--data DIR]   serve the web app (default 127.0.0.1:8080, ./data)
  satmark seed  [--data DIR] [--if-empty]         add the synthetic sample images, labels and annotations
  satmark user add NAME --role ROLE               add an account (also: passwd, list, disable, enable, role)
  satmark token create NAME                       print a new API token for a user
  satmark help                                    this text

Run "satmark COMMAND -h" for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg := DefaultConfig()
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		cfg.flags(fs, true)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return serve(cfg, stdout)
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		cfg.flags(fs, false)
		ifEmpty := fs.Bool("if-empty", false, "only seed a data folder that holds no images yet")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return seed(cfg, *ifEmpty, stdout)
	case "user":
		return userCommand(cfg, args[1:], stdin, stdout, stderr)
	case "token":
		return tokenCommand(cfg, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(cfg Config, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Config: cfg}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	created, oneTime, err := m.EnsureAdmin(ctx)
	if err != nil {
		m.Close()
		return err
	}
	fmt.Fprintf(stdout, "satmark is serving %s (data in %s). Press Ctrl+C to stop.\n", m.URL(), cfg.DataDir)
	signInHelp(stdout, m, created, oneTime)
	<-ctx.Done()
	stop()
	m.Logger.Info("shutting down")
	return m.Close()
}

func seed(cfg Config, ifEmpty bool, stdout io.Writer) error {
	ctx := context.Background()
	m := &Main{Config: cfg}
	defer m.Close()
	if err := m.Open(); err != nil {
		return err
	}
	if ifEmpty {
		images, err := m.Store.Images(ctx)
		if err != nil {
			return err
		}
		if len(images) > 0 {
			fmt.Fprintf(stdout, "%s already holds %d images; not seeding.\n", cfg.DataDir, len(images))
			return nil
		}
	}
	start := time.Now()
	added, err := sampledata.Seed(ctx, m.Store, m.Library)
	if err != nil {
		return err
	}
	m.Builder.Drain(ctx) // tiles ready before the first page is served
	fmt.Fprintf(stdout, "Seeded %d synthetic sample images into %s in %s.\n", added, cfg.DataDir, time.Since(start).Round(time.Millisecond))
	return nil
}
