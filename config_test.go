package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("SATMARK_ADDR", "127.0.0.1:9999")
	t.Setenv("SATMARK_DATA", "/srv/satmark")
	t.Setenv("SATMARK_MAX_UPLOAD_BYTES", "1048576")
	t.Setenv("SATMARK_MAX_PIXELS", "1000")
	t.Setenv("SATMARK_TRUSTED_PROXIES", "10.0.0.1")
	t.Setenv("SATMARK_PUBLIC_IIIF", "true")
	t.Setenv("SATMARK_PUBLIC_URL", "https://satmark.example.org/")
	t.Setenv("SATMARK_LOG_LEVEL", "warn")
	t.Setenv("SATMARK_BUILDS", "")
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := cfg.bind(fs, true); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.DataDir != "/srv/satmark" || cfg.MaxUploadBytes != 1<<20 || cfg.MaxPixels != 1000 ||
		cfg.TrustedProxies != "10.0.0.1" || !cfg.PublicIIIF || cfg.PublicURL != "https://satmark.example.org/" ||
		cfg.LogLevel != slog.LevelWarn || cfg.Builds != 1 {
		t.Errorf("from the environment (an empty variable is unset): got %+v", cfg)
	}
	if err := fs.Parse([]string{"--public-iiif=false", "--log-level", "DEBUG", "--builds", "3", "--max-pixels", "2000"}); err != nil {
		t.Fatal(err)
	}
	if cfg.PublicIIIF || cfg.LogLevel != slog.LevelDebug || cfg.Builds != 3 || cfg.MaxPixels != 2000 || cfg.Addr != "127.0.0.1:9999" {
		t.Errorf("flags over the environment: got %+v", cfg)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"serve", "--addr", "not-an-address", "--data", t.TempDir()}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Errorf("serve on a bad address: got %v, want an error naming the address", err)
	}
	if err := run([]string{"frobnicate"}, nil, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "Usage:") {
		t.Errorf("unknown command: got %v and %q, want an error and the usage", err, errOut.String())
	}
}

// TestMalformedConfigurationStopsTheStart runs satmark with each malformed flag or
// variable: it must exit non-zero before it serves or touches the data folder, saying
// which setting is wrong and what form it wants.
func TestMalformedConfigurationStopsTheStart(t *testing.T) {
	for _, tc := range []struct {
		env  string   // one VAR=value, or empty
		args []string // the command and its flags, before --data
		says []string // what standard error must contain
	}{
		{"SATMARK_MAX_UPLOAD_BYTES=50MB", []string{"serve"}, []string{`SATMARK_MAX_UPLOAD_BYTES="50MB"`, "want a whole number of bytes", "52428800"}},
		{"SATMARK_MAX_UPLOAD_BYTES=0", []string{"serve"}, []string{`SATMARK_MAX_UPLOAD_BYTES="0"`, "at least 1"}},
		{"", []string{"serve", "--max-upload-bytes", "-5"}, []string{"-max-upload-bytes", "want a whole number of bytes"}},
		{"SATMARK_MAX_PIXELS=lots", []string{"serve"}, []string{`SATMARK_MAX_PIXELS="lots"`, "want a whole number of pixels"}},
		{"", []string{"serve", "--max-pixels=0"}, []string{"-max-pixels", "want a whole number of pixels"}},
		{"SATMARK_BUILDS=0", []string{"serve"}, []string{`SATMARK_BUILDS="0"`, "want a whole number of builds from 1"}},
		{"", []string{"serve", "--builds", "two"}, []string{"-builds", "want a whole number of builds"}},
		{"SATMARK_TILE_CACHE_MB=256MB", []string{"serve"}, []string{`SATMARK_TILE_CACHE_MB="256MB"`, "want a whole number of MiB"}},
		{"SATMARK_RENDER_CACHE_MB=-1", []string{"serve"}, []string{`SATMARK_RENDER_CACHE_MB="-1"`, "want a whole number of MiB"}},
		{"", []string{"serve", "--tile-cache-mb", "0"}, []string{"-tile-cache-mb", "want a whole number of MiB"}},
		{"SATMARK_PUBLIC_IIIF=maybe", []string{"serve"}, []string{`SATMARK_PUBLIC_IIIF="maybe"`, "want true or false"}},
		{"", []string{"serve", "--public-iiif=maybe"}, []string{"-public-iiif", "want true or false"}},
		{"SATMARK_TRUSTED_PROXIES=10.0.0.1,10.0.0.300", []string{"serve"}, []string{`SATMARK_TRUSTED_PROXIES="10.0.0.1,10.0.0.300"`, `"10.0.0.300" is not an IP address or CIDR`, "want IP addresses or CIDRs, comma-separated"}},
		{"", []string{"serve", "--trusted-proxies", "10.0.0.0/33"}, []string{"-trusted-proxies", "want IP addresses or CIDRs"}},
		{"SATMARK_PUBLIC_URL=satmark.example.org", []string{"serve"}, []string{`SATMARK_PUBLIC_URL="satmark.example.org"`, "want an absolute http or https URL"}},
		{"", []string{"serve", "--public-url", "ftp://satmark.example.org"}, []string{"-public-url", "want an absolute http or https URL"}},
		{"", []string{"serve", "--public-url", "https://"}, []string{"-public-url", "want an absolute http or https URL"}},
		{"", []string{"serve", "--public-url", "https://satmark.example.org/iiif?x=1"}, []string{"-public-url", "more than a scheme and host"}},
		{"SATMARK_LOG_LEVEL=verbose", []string{"serve"}, []string{`SATMARK_LOG_LEVEL="verbose"`, "want debug, info, warn or error"}},
		{"", []string{"serve", "--log-level", "trace"}, []string{"-log-level", "want debug, info, warn or error"}},
		{"SATMARK_ADDR=localhost", []string{"serve"}, []string{`SATMARK_ADDR="localhost"`, "want HOST:PORT"}},
		{"", []string{"serve", "--addr", "127.0.0.1:99999"}, []string{"-addr", `port "99999" is not a number from 0 to 65535`, "want HOST:PORT"}},
		{"SATMARK_DATABASE=/srv/satmark.db", []string{"serve"}, []string{`SATMARK_DATABASE="/srv/satmark.db"`, "want a postgres:// or postgresql:// URL"}},
		{"", []string{"serve", "--database", "mysql://db/satmark"}, []string{"-database", "want a postgres:// or postgresql:// URL"}},
		{"SATMARK_ADMIN_PASSWORD=short", []string{"serve"}, []string{"SATMARK_ADMIN_PASSWORD: a password needs at least 10 characters"}},
		{"SATMARK_MAX_PIXELS=1e9", []string{"seed"}, []string{`SATMARK_MAX_PIXELS="1e9"`, "want a whole number of pixels"}},
		{"", []string{"seed", "--render-cache-mb", "big"}, []string{"-render-cache-mb", "want a whole number of MiB"}},
		{"SATMARK_LOG_LEVEL=loud", []string{"user", "list"}, []string{`SATMARK_LOG_LEVEL="loud"`, "want debug, info"}},
		{"", []string{"token", "create", "someone", "--max-upload-bytes", "1GiB"}, []string{"-max-upload-bytes", "want a whole number of bytes"}},
	} {
		t.Run(strings.Join(append([]string{tc.env}, tc.args...), " "), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			cmd := command(t, strings.Fields(tc.env), append(tc.args, "--data", data)...)
			printed, stderr, err := runToExit(t, cmd)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Errorf("exit: %v, want a non-zero exit status", err)
			}
			if strings.Contains(printed, "serving") {
				t.Errorf("it served: %q", printed)
			}
			for _, want := range tc.says {
				if !strings.Contains(stderr, want) {
					t.Errorf("standard error does not say %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(tc.env, "PASSWORD") && strings.Contains(stderr, "short") {
				t.Errorf("standard error repeats the password: %s", stderr)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the data folder was made (%v): the start went on", err)
			}
		})
	}
}

// runToExit runs cmd until it exits and returns what it printed and its exit error. A
// command that begins serving is killed at once, so a setting that is not refused fails
// the test instead of hanging it.
func runToExit(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, err error) {
	t.Helper()
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "is serving") {
			cmd.Process.Kill()
		}
	}
	err = cmd.Wait()
	return printed.String(), errBuf.String(), err
}

// TestLogLevel serves at each log level, sends one request that logs at debug (a
// success) and one at info (a 404), stops, and reads the log.
func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		level       string
		debug, info bool
	}{
		{"debug", true, true},
		{"", false, true},
		{"error", false, false},
	} {
		t.Run("level="+tc.level, func(t *testing.T) {
			srv := startServeProcess(t, t.TempDir(), "SATMARK_LOG_LEVEL="+tc.level, "SATMARK_ADMIN_PASSWORD=chosen in advance")
			for _, path := range []string{"/api/v1/health", "/api/v1/no-such-thing"} {
				res, err := http.Get(srv.url + path)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := srv.cmd.Wait(); err != nil {
				t.Fatalf("satmark exited with %v (stderr: %s)", err, srv.stderr.String())
			}
			log := srv.stderr.String()
			debug := strings.Contains(log, "level=DEBUG msg=request") && strings.Contains(log, "uri=/api/v1/health")
			info := strings.Contains(log, "level=INFO msg=request") && strings.Contains(log, "uri=/api/v1/no-such-thing") &&
				strings.Contains(log, "shutting down")
			if debug != tc.debug || info != tc.info {
				t.Errorf("debug lines %v, info lines %v; want %v and %v. The log:\n%s", debug, info, tc.debug, tc.info, log)
			}
			if !tc.info && strings.Contains(log, "level=INFO") {
				t.Errorf("an info line at level %s:\n%s", tc.level, log)
			}
		})
	}
}

func TestMisspeltVariablesAreNamed(t *testing.T) {
	got := unknownSettings([]string{
		"SATMARK_MAX_UPLOAD_BYTE=50", "SATMARK_DATA=./d", "SATMARK_REQUIRE_BROWSER=1", "PATH=/bin", "SATMARK_COLOUR=blue", "SATMARKDATA=x",
	})
	want := []string{
		"SATMARK_MAX_UPLOAD_BYTE is not a setting satmark reads; it is ignored (did you mean SATMARK_MAX_UPLOAD_BYTES?)",
		"SATMARK_COLOUR is not a setting satmark reads; it is ignored",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n%q\nwant\n%q", got, want)
	}
}
