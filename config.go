package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// Config is everything satmark can be told, from flags with environment fallbacks.
type Config struct {
	Addr           string     // SATMARK_ADDR
	DataDir        string     // SATMARK_DATA
	Database       string     // SATMARK_DATABASE: a postgres:// URL; "" for the SQLite file in DataDir
	MaxUploadBytes int64      // SATMARK_MAX_UPLOAD_BYTES
	MaxPixels      int64      // SATMARK_MAX_PIXELS
	PublicURL      string     // SATMARK_PUBLIC_URL: scheme and host clients use, for IIIF ids
	TLSCert        string     // SATMARK_TLS_CERT: serve HTTPS with this certificate (PEM)…
	TLSKey         string     // SATMARK_TLS_KEY: …and this key
	TrustedProxies string     // SATMARK_TRUSTED_PROXIES: comma-separated proxy addresses or CIDRs
	PublicIIIF     bool       // SATMARK_PUBLIC_IIIF: let anyone read the IIIF image service
	AdminPassword  string     // SATMARK_ADMIN_PASSWORD: the first administrator's password
	Builds         int        // SATMARK_BUILDS: pyramid builds at once
	TileCacheMB    int64      // SATMARK_TILE_CACHE_MB: tiles kept in memory
	RenderCacheMB  int64      // SATMARK_RENDER_CACHE_MB: IIIF renders kept on disk
	LogLevel       slog.Level // SATMARK_LOG_LEVEL: debug, info, warn or error
	PasswordCost   int        // bcrypt cost for new passwords; 0 for the default (tests lower it)
	PprofAddr      string     // SATMARK_PPROF: a loopback HOST:PORT serving net/http/pprof; "" (the default) for none
}

// DefaultConfig is the built-in defaults; bind reads the environment and flags over it.
func DefaultConfig() Config {
	return Config{
		Addr: "127.0.0.1:8080", DataDir: "./data",
		MaxUploadBytes: imagery.DefaultLimits.MaxBytes, MaxPixels: imagery.DefaultLimits.MaxPixels,
		Builds: 1, TileCacheMB: 256, RenderCacheMB: 512, LogLevel: slog.LevelInfo,
	}
}

// maxCacheMB bounds the cache sizes so that their size in bytes fits an int64.
const maxCacheMB = 1 << 20 // 1 TiB

// setting is one thing satmark can be told: a flag (none for secrets) and its
// environment variable.
type setting struct {
	flag, env string
	serveOnly bool
	secret    bool // its value is never repeated in an error
	usage     string
	value     field
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "data", env: "SATMARK_DATA", usage: "data folder `DIR`: the SQLite file, originals and derived files",
			value: text(&c.DataDir, "a folder, e.g. ./data", func(s string) error {
				if s == "" {
					return errMalformed
				}
				return nil
			})},
		{flag: "max-upload-bytes", env: "SATMARK_MAX_UPLOAD_BYTES", usage: "largest original accepted, in `BYTES`",
			value: whole(&c.MaxUploadBytes, 1, math.MaxInt64, "a whole number of bytes, at least 1, e.g. 52428800")},
		{flag: "max-pixels", env: "SATMARK_MAX_PIXELS", usage: "largest image accepted, in `PIXELS` (width × height)",
			value: whole(&c.MaxPixels, 1, math.MaxInt64, "a whole number of pixels (width × height), at least 1, e.g. 400000000")},
		{flag: "tile-cache-mb", env: "SATMARK_TILE_CACHE_MB", usage: "tiles kept in memory, in `MiB`",
			value: whole(&c.TileCacheMB, 1, maxCacheMB, fmt.Sprintf("a whole number of MiB from 1 to %d, e.g. 256", maxCacheMB))},
		{flag: "render-cache-mb", env: "SATMARK_RENDER_CACHE_MB", usage: "IIIF renders kept on disk, in `MiB`",
			value: whole(&c.RenderCacheMB, 1, maxCacheMB, fmt.Sprintf("a whole number of MiB from 1 to %d, e.g. 512", maxCacheMB))},
		{flag: "log-level", env: "SATMARK_LOG_LEVEL", usage: "least important log lines shown, `LEVEL`: debug, info, warn or error",
			value: level(&c.LogLevel)},
		{flag: "addr", env: "SATMARK_ADDR", serveOnly: true, usage: "address to listen on, `HOST:PORT`",
			value: text(&c.Addr, "HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 or :8080", checkAddr)},
		{flag: "tls-cert", env: "SATMARK_TLS_CERT", serveOnly: true, usage: "serve HTTPS with this certificate `FILE`, PEM",
			value: text(&c.TLSCert, "a PEM file", nil)},
		{flag: "tls-key", env: "SATMARK_TLS_KEY", serveOnly: true, usage: "the certificate's private key `FILE`, PEM",
			value: text(&c.TLSKey, "a PEM file", nil)},
		{flag: "trusted-proxies", env: "SATMARK_TRUSTED_PROXIES", serveOnly: true,
			usage: "reverse proxies whose X-Forwarded-For/-Proto are believed: `LIST` of addresses or CIDRs, comma-separated",
			value: text(&c.TrustedProxies, "IP addresses or CIDRs, comma-separated, e.g. 10.0.0.1,192.168.0.0/16", func(s string) error {
				_, err := parseProxies(s)
				return err
			})},
		{flag: "public-iiif", env: "SATMARK_PUBLIC_IIIF", serveOnly: true, usage: "let anyone read the IIIF image service, pixels only",
			value: boolean(&c.PublicIIIF)},
		{flag: "public-url", env: "SATMARK_PUBLIC_URL", serveOnly: true, usage: "scheme and host clients reach satmark at, a `URL` like https://satmark.example.org",
			value: text(&c.PublicURL, "an absolute http or https URL of scheme and host, e.g. https://satmark.example.org", checkPublicURL)},
		{flag: "pprof", env: "SATMARK_PPROF", serveOnly: true,
			usage: "debugging: serve Go's profiles (net/http/pprof) on this loopback `HOST:PORT`; off when empty",
			value: text(&c.PprofAddr, "a loopback HOST:PORT, e.g. 127.0.0.1:6060", checkLoopbackAddr)},
		{flag: "database", env: "SATMARK_DATABASE",
			usage: "keep the annotations in this PostgreSQL (with PostGIS) database, a `URL` postgres://user@host:port/name; unset for the SQLite file in the data folder",
			value: text(&c.Database, "a postgres:// or postgresql:// URL, e.g. postgres://satmark@db.example.org:5432/satmark", checkDatabaseURL)},
		{flag: "builds", env: "SATMARK_BUILDS", serveOnly: true, usage: "`N` tile pyramids built at once",
			value: whole(&c.Builds, 1, 1024, "a whole number of builds from 1 to 1024, e.g. 2")},
		{env: "SATMARK_ADMIN_PASSWORD", serveOnly: true, secret: true,
			value: text(&c.AdminPassword, fmt.Sprintf("a password of at least %d characters and at most %d bytes", annotations.MinPasswordLength, annotations.MaxPasswordBytes), checkAdminPassword)},
	}
}

// database is what annotations.Open is given: the PostgreSQL URL, or the SQLite file in
// the data folder.
func (c Config) database() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "satmark.db")
}

// onPostgres says whether the store is PostgreSQL rather than the data folder's SQLite file.
func (c Config) onPostgres() bool { return c.Database != "" }

// checkDatabaseURL accepts a PostgreSQL URL (its password, if any, is not checked here:
// the server is asked when the store opens).
func checkDatabaseURL(s string) error {
	if !annotations.IsPostgres(s) {
		return errMalformed
	}
	return nil
}

// checkAdminPassword applies the password rule, saying only what is wrong: the
// variable's name stands in for the rule's field.
func checkAdminPassword(password string) error {
	var ve *annotations.ValidationError
	if err := annotations.CheckPasswordRules(password); errors.As(err, &ve) {
		return errors.New(ve.Message)
	}
	return nil
}

// bind reads the environment variables of a command's settings (serve's, or the ones
// every command takes) over c and registers their flags on fs, which then override
// them. An empty variable counts as unset. A malformed value is an error that names
// the variable and the form it wants; a malformed flag fails fs.Parse the same way.
func (c *Config) bind(fs *flag.FlagSet, serve bool) error {
	for _, s := range c.settings() {
		if s.serveOnly && !serve {
			continue
		}
		if v := os.Getenv(s.env); v != "" {
			if err := s.value.Set(v); err != nil && s.secret {
				return fmt.Errorf("%s: %w", s.env, err)
			} else if err != nil {
				return fmt.Errorf("%s=%q: %w", s.env, v, err)
			}
		}
		if s.flag != "" {
			fs.Var(s.value, s.flag, fmt.Sprintf("%s (env %s)", s.usage, s.env))
		}
	}
	return nil
}

// field is a flag.Value over one Config field.
type field struct {
	show    func() string
	set     func(string) error
	isBool  bool
	wantMsg string // the accepted form, for errors
}

func (f field) String() string {
	if f.show == nil { // the flag package asks a zero field for its zero value
		return ""
	}
	return f.show()
}

// Set stores s or says what form is wanted, after what is wrong when that says more.
func (f field) Set(s string) error {
	err := f.set(s)
	switch {
	case errors.Is(err, errMalformed):
		return fmt.Errorf("want %s", f.wantMsg)
	case err != nil:
		return fmt.Errorf("%v: want %s", err, f.wantMsg)
	}
	return nil
}

// IsBoolFlag lets a boolean flag stand alone (--public-iiif).
func (f field) IsBoolFlag() bool { return f.isBool }

// errMalformed is a value that is simply not of the wanted form.
var errMalformed = errors.New("malformed")

// whole is a whole number from lo to hi.
func whole[T int | int64](dst *T, lo, hi T, form string) field {
	return field{
		show: func() string { return strconv.FormatInt(int64(*dst), 10) },
		set: func(s string) error {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < int64(lo) || n > int64(hi) {
				return errMalformed
			}
			*dst = T(n)
			return nil
		},
		wantMsg: form,
	}
}

// text is a string that check (when not nil) accepts.
func text(dst *string, form string, check func(string) error) field {
	return field{
		show: func() string { return *dst },
		set: func(s string) error {
			if check != nil {
				if err := check(s); err != nil {
					return err
				}
			}
			*dst = s
			return nil
		},
		wantMsg: form,
	}
}

func boolean(dst *bool) field {
	return field{
		show: func() string { return strconv.FormatBool(*dst) },
		set: func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return errMalformed
			}
			*dst = b
			return nil
		},
		isBool:  true,
		wantMsg: "true or false (or 1 or 0)",
	}
}

// logLevels are the levels a log can be told, by name.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func level(dst *slog.Level) field {
	return field{
		show: func() string { return strings.ToLower(dst.String()) },
		set: func(s string) error {
			l, ok := logLevels[strings.ToLower(s)]
			if !ok {
				return errMalformed
			}
			*dst = l
			return nil
		},
		wantMsg: "debug, info, warn or error",
	}
}

// checkAddr accepts HOST:PORT with a numeric port; the host may be empty (every
// interface).
func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errMalformed
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// checkLoopbackAddr accepts empty or HOST:PORT whose host is a loopback IP address or
// localhost: the profiles show what the server is doing and are nobody else's business.
func checkLoopbackAddr(s string) error {
	if s == "" {
		return nil
	}
	if err := checkAddr(s); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(s)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("host %q is not a loopback address (127.0.0.1, ::1, localhost)", host)
	}
	return nil
}

// checkPublicURL accepts empty (the request's own host) or http(s)://HOST[:PORT][/].
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Hostname() == "":
		return errMalformed
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return errors.New("more than a scheme and host")
	}
	return nil
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

// testVariables are read by satmark's own tests, not by satmark.
var testVariables = []string{"SATMARK_REQUIRE_BROWSER", "SATMARK_REQUIRE_ORACLES", "SATMARK_TEST_RUN_MAIN",
	"SATMARK_CHROMIUM", "SATMARK_E2E_SCREENSHOTS"}

// unknownSettings names each SATMARK_* variable in environ that is no setting, with
// the setting its name is closest to: a misspelt variable would otherwise be ignored
// without a word. It is a warning, not an error: the variable is not a malformed value
// of a setting, and other tools may share the prefix.
func unknownSettings(environ []string) []string {
	var known []string
	var c Config
	for _, s := range c.settings() {
		known = append(known, s.env)
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SATMARK_") || slices.Contains(known, name) || slices.Contains(testVariables, name) {
			continue
		}
		w := fmt.Sprintf("%s is not a setting satmark reads; it is ignored", name)
		best, bestD := "", 4
		for _, k := range known {
			if d := editDistance(name, k); d < bestD {
				best, bestD = k, d
			}
		}
		if best != "" {
			w += fmt.Sprintf(" (did you mean %s?)", best)
		}
		out = append(out, w)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
