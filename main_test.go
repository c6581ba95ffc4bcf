package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the real satmark command: the test binary re-executes itself
// with SATMARK_TEST_RUN_MAIN=1 and the command's arguments.
func TestMain(m *testing.M) {
	if os.Getenv("SATMARK_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command starts `satmark args...` as a child process.
func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "SATMARK_TEST_RUN_MAIN=1")...)
	return cmd
}

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("SATMARK_ADDR", "127.0.0.1:9999")
	t.Setenv("SATMARK_DATA", "/srv/satmark")
	t.Setenv("SATMARK_MAX_UPLOAD_BYTES", "1048576")
	t.Setenv("SATMARK_MAX_PIXELS", "1000")
	t.Setenv("SATMARK_ACTOR", "duty analyst")
	cfg := DefaultConfig()
	if cfg.Addr != "127.0.0.1:9999" || cfg.DataDir != "/srv/satmark" || cfg.MaxUploadBytes != 1<<20 || cfg.MaxPixels != 1000 || cfg.Actor != "duty analyst" {
		t.Errorf("from the environment: got %+v", cfg)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"serve", "--addr", "not-an-address", "--data", t.TempDir()}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Errorf("serve on a bad address: got %v, want an error naming the address", err)
	}
	if err := run([]string{"frobnicate"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "Usage:") {
		t.Errorf("unknown command: got %v and %q, want an error and the usage", err, errOut.String())
	}
}

func TestServeStopsCleanlyOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			data := t.TempDir()
			cmd := command(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the start-up line: %v (stderr: %s)", err, stderr.String())
			}
			// "satmark is serving http://127.0.0.1:PORT/ (data in …)"
			fields := strings.Fields(line)
			if len(fields) < 4 || !strings.HasPrefix(fields[3], "http://127.0.0.1:") {
				t.Fatalf("start-up line %q does not give the URL", line)
			}
			res, err := http.Get(fields[3] + "api/v1/health")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("health check: %v %v", res, err)
			}
			res.Body.Close()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("satmark exited with %v after %s; want exit status 0 (stderr: %s)", err, sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), "shutting down") {
				t.Errorf("stderr does not say it shut down: %s", stderr.String())
			}
			// The database was closed cleanly: its write-ahead log is checkpointed away.
			if _, err := os.Stat(filepath.Join(data, "satmark.db-wal")); !os.IsNotExist(err) {
				t.Errorf("satmark.db-wal still exists after shutdown (err %v): the store was not closed", err)
			}
		})
	}
}

func TestServeFailsAtStartOnABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := &Main{Config: Config{Addr: ln.Addr().String(), DataDir: t.TempDir(), LogLevel: 100}}
	defer m.Close()
	err = m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("got %v, want an error naming the busy address", err)
	}
}

func TestSeedIfEmpty(t *testing.T) {
	data := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := command(t, nil, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("satmark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	start := time.Now()
	if out := run("seed", "--data", data, "--if-empty"); !strings.Contains(out, "Seeded 2 synthetic sample images") {
		t.Errorf("first seed said %q", out)
	}
	if out := run("seed", "--data", data, "--if-empty"); !strings.Contains(out, "already holds 2 images; not seeding") {
		t.Errorf("second seed with --if-empty said %q", out)
	}
	if out := run("seed", "--data", data); !strings.Contains(out, "Seeded 0 synthetic sample images") {
		t.Errorf("seeding again without --if-empty said %q; want nothing added (same bytes)", out)
	}
	t.Logf("three seeds took %s", time.Since(start).Round(time.Millisecond))
}
