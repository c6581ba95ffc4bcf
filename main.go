// Command satmark is a self-hosted workbench for annotating publicly released satellite
// imagery: one binary, one SQLite file, one data folder.
//
//	satmark serve [--addr 127.0.0.1:8080] [--data ./data]   serve the web app
//	satmark seed  [--data ./data] [--if-empty]              add the synthetic sample data
//	satmark user add|passwd|list|disable|enable|role …      manage accounts
//	satmark token create|list NAME, token revoke ID         API tokens
//	satmark backup DIR, restore DIR, verify                 copy, bring back and check a data folder
//	satmark import --image ID FILE, export --format F OUT   annotation files in (with a dry run) and out
//	satmark bundle --image ID OUT.zip, verify-bundle FILE   an image's evidence bundle, and its check
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
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
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
	pprof    *http.Server // the --pprof debug listener, when asked for
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
	store, err := annotations.Open(m.Config.database())
	if err != nil {
		return err
	}
	m.Store = store
	lib, err := imagery.OpenWith(m.Config.DataDir, imagery.Options{
		Limits: imagery.Limits{MaxBytes: m.Config.MaxUploadBytes, MaxPixels: m.Config.MaxPixels,
			MaxWholePixels: imagery.DefaultLimits.MaxWholePixels},
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
	if err := m.servePprof(); err != nil {
		return err
	}
	buildCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.building.Add(1)
	go func() {
		defer m.building.Done()
		m.Builder.Run(buildCtx)
	}()
	return m.follow(buildCtx, handler)
}

// follow hears, on PostgreSQL, what the other processes on the database change (live
// events, stale caches) until ctx ends, and returns once it listens (or after 10 s of
// trying: it goes on trying meanwhile). On SQLite there is nothing to hear.
func (m *Main) follow(ctx context.Context, handler *server.Server) error {
	if !m.Store.SharesDatabase() {
		return nil
	}
	listening := make(chan struct{})
	var once sync.Once
	m.building.Add(1)
	go func() {
		defer m.building.Done()
		if err := handler.Follow(ctx, func() { once.Do(func() { close(listening) }) }); err != nil {
			m.Logger.Error("hearing the other processes stopped", "err", err)
		}
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		m.Logger.Warn("not yet listening to the other processes on the database; still trying")
	}
	return nil
}

// servePprof serves Go's profiles on the --pprof loopback address, when one is given:
// CPU (/debug/pprof/profile), heap, goroutines, and mutex and block profiles, which it
// turns on (sampling 1 in 5 contended locks and blockings of 10 µs or more).
func (m *Main) servePprof() error {
	if m.Config.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof: listen on %s: %w", m.Config.PprofAddr, err)
	}
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(int((10 * time.Microsecond).Nanoseconds()))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.Logger.Info("serving profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() {
		if err := m.pprof.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("pprof server stopped", "err", err)
		}
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
	if m.pprof != nil {
		errs = append(errs, m.pprof.Close())
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
  satmark token list NAME                         a user's tokens: id, label, created, last used, expiry
  satmark token revoke ID                         revoke a token (a running server refuses it within a second)
  satmark backup DIR [--data DIR]                 copy the database (consistently, while serving) and the originals into DIR
  satmark restore DIR [--data DIR] [--no-build]   bring a backup back into an empty data folder and rebuild its tiles
  satmark verify [--data DIR]                     check the database, every original's SHA-256 and every pyramid's tiles
  satmark bundle --image ID OUT.zip [--data DIR]  an image's evidence bundle: original, provenance, annotations, history, audit, SHA-256 manifest
  satmark verify-bundle FILE.zip [-q]             check an evidence bundle: every hash, the original, the annotations against their history
  satmark dataset DIR --format F [--chip 1024 …]   cut images into a train/val/test dataset in any dataset format, with its card
  satmark import --image ID FILE [--format F] [--dry-run] [--as USER] [--map FROM=TO] [--create-labels] [--crs pixel|wgs84]
                                                  import an annotation file (GeoJSON, QuPath, KML, COCO, YOLO, DOTA, CVAT, Shapefile, GeoPackage; or a zip)
  satmark export [--image ID] --format F OUT      write annotations as GeoJSON, or a dataset (coco, yolo, yolo-obb, dota, voc, cvat, csv) as OUT.zip or folder OUT
  satmark migrate-to postgres://… [--data DIR]    copy the data folder's SQLite database into an empty PostgreSQL one, then check counts and hashes
  satmark help                                    this text

Run "satmark COMMAND -h" for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg := DefaultConfig()
	for _, w := range unknownSettings(os.Environ()) {
		fmt.Fprintln(stderr, "satmark: warning:", w)
	}
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if err := cfg.bind(fs, true); err != nil {
			return err
		}
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return serve(cfg, stdout)
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if err := cfg.bind(fs, false); err != nil {
			return err
		}
		ifEmpty := fs.Bool("if-empty", false, "only seed a data folder that holds no images yet")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return seed(cfg, *ifEmpty, stdout)
	case "user":
		return userCommand(cfg, args[1:], stdin, stdout, stderr)
	case "token":
		return tokenCommand(cfg, args[1:], stdout, stderr)
	case "backup":
		return backupCommand(cfg, args[1:], stdout, stderr)
	case "restore":
		return restoreCommand(cfg, args[1:], stdout, stderr)
	case "verify":
		return verifyCommand(cfg, args[1:], stdout, stderr)
	case "bundle":
		return bundleCommand(cfg, args[1:], stdout, stderr)
	case "verify-bundle":
		return verifyBundleCommand(args[1:], stdout, stderr)
	case "dataset":
		return datasetCommand(cfg, args[1:], stdout, stderr)
	case "import":
		return importCommand(cfg, args[1:], stdout, stderr)
	case "export":
		return exportCommand(cfg, args[1:], stdout, stderr)
	case "migrate-to":
		return migrateToCommand(cfg, args[1:], stdout, stderr)
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
