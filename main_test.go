package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/pgtest"
)

// TestMain lets a test run the real satmark command: the test binary re-executes itself
// with SATMARK_TEST_RUN_MAIN=1 and the command's arguments.
func TestMain(m *testing.M) {
	if os.Getenv("SATMARK_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := pgtest.Run(m)
	for _, dir := range []string{seeded.dir, pgSeededDir.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// command starts `satmark args...` as a child process.
func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "SATMARK_TEST_RUN_MAIN=1")...)
	return cmd
}

func TestServeStopsCleanlyOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			data := t.TempDir()
			srv := startServeProcess(t, data, "SATMARK_ADMIN_PASSWORD=chosen in advance")
			cmd, stderr := srv.cmd, srv.stderr
			res, err := http.Get(srv.url + "/api/v1/health")
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
	if out := run("seed", "--data", data, "--if-empty"); !strings.Contains(out, "Seeded 3 synthetic sample images") {
		t.Errorf("first seed said %q", out)
	}
	if out := run("seed", "--data", data, "--if-empty"); !strings.Contains(out, "already holds 3 images; not seeding") {
		t.Errorf("second seed with --if-empty said %q", out)
	}
	if out := run("seed", "--data", data); !strings.Contains(out, "Seeded 0 synthetic sample images") {
		t.Errorf("seeding again without --if-empty said %q; want nothing added (same bytes)", out)
	}
	t.Logf("three seeds took %s", time.Since(start).Round(time.Millisecond))
}

// cliToken adds a user from the shell and returns an API token for them, as a script
// would: satmark user add … --password-stdin, then satmark token create ….
func cliToken(t *testing.T, data, name, role string) string {
	t.Helper()
	add := command(t, nil, "user", "add", name, "--role", role, "--password-stdin", "--data", data)
	add.Stdin = strings.NewReader("a password for tests\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("satmark user add: %v\n%s", err, out)
	}
	tok := command(t, nil, "token", "create", name, "--data", data)
	var stderr bytes.Buffer
	tok.Stderr = &stderr
	out, err := tok.Output()
	if err != nil {
		t.Fatalf("satmark token create: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// get sends an authenticated GET.
func get(t *testing.T, url, token string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

func pyramidState(t *testing.T, url, token, id string) (string, float64) {
	t.Helper()
	res, err := get(t, url+"/api/v1/images/"+id, token)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var img struct {
		Pyramid struct {
			State    string  `json:"state"`
			Progress float64 `json:"progress"`
		} `json:"pyramid"`
	}
	if err := json.NewDecoder(res.Body).Decode(&img); err != nil {
		t.Fatal(err)
	}
	return img.Pyramid.State, img.Pyramid.Progress
}

// TestKilledMidBuildFinishesAfterRestart kills satmark with SIGKILL while it builds a
// large pyramid, checks nothing was left looking complete, starts it again and checks
// the build finishes and every tile is served.
func TestKilledMidBuildFinishesAfterRestart(t *testing.T) {
	data := t.TempDir()
	// A 12000×9000 JPEG: a build long enough to be caught in the middle.
	const w, h = 12000, 9000
	src := filepath.Join(t.TempDir(), "big.jpg")
	jw, err := imagery.NewJPEGWriter(src, w, h, 85)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, w*3*16)
	for y := 0; y < h; y += 16 {
		for i := range row {
			row[i] = byte((i/3)*7 ^ (y+i/(w*3))*13)
		}
		if err := jw.WriteRows(row, w*3, min(16, h-y)); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}

	token := cliToken(t, data, "uploader", "analyst")
	srv := startServeProcess(t, data)
	url, cmd := srv.url, srv.cmd
	body, ctype := multipartFile(t, src)
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/images", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %v %v", res, err)
	}
	var img struct{ ID, SHA256 string }
	json.NewDecoder(res.Body).Decode(&img)
	res.Body.Close()

	// Wait for the build to be under way, then kill without warning.
	for {
		state, progress := pyramidState(t, url, token, img.ID)
		if state == "running" && progress > 0.1 {
			break
		}
		if state == "done" {
			t.Fatal("the build finished before it could be interrupted; use a larger image")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	pyramid := filepath.Join(data, "derived", img.SHA256[:2], img.SHA256, "pyramid")
	if _, err := os.Stat(filepath.Join(pyramid, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("after the kill a pyramid looks complete (err %v)", err)
	}

	url, _ = startServe(t, data)
	if state, _ := pyramidState(t, url, token, img.ID); state == "done" {
		t.Fatal("the interrupted build is reported done before it was built again")
	}
	res, err = get(t, url+"/iiif/3/"+img.ID+"/0,0,256,256/256,256/0/default.jpg", token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a tile while the pyramid is rebuilt: %d (Retry-After %q), want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	for {
		state, _ := pyramidState(t, url, token, img.ID)
		if state == "done" {
			break
		}
		if state == "failed" {
			t.Fatal("the resumed build failed")
		}
	}
	if _, err := os.Stat(pyramid + ".building"); !os.IsNotExist(err) {
		t.Errorf("a half-built pyramid is still on disk: %v", err)
	}
	// Every tile of every level is there and served.
	lib, err := imagery.Open(data, imagery.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lib.Pyramid(img.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for k, lv := range m.Levels {
		for r := 0; r < lv.Rows; r++ {
			for c := 0; c < lv.Cols; c++ {
				if _, err := os.Stat(filepath.Join(pyramid, strconv.Itoa(k), fmt.Sprintf("%d_%d.jpg", r, c))); err != nil {
					t.Fatalf("tile %d/%d/%d: %v", k, r, c, err)
				}
				n++
			}
		}
	}
	if n != m.Tiles {
		t.Errorf("%d tiles on disk, the manifest says %d", n, m.Tiles)
	}
	last := m.Levels[len(m.Levels)-1]
	res, err = get(t, fmt.Sprintf("%s/iiif/3/%s/full/%d,%d/0/default.jpg", url, img.ID, last.Width, last.Height), token)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("smallest size after the restart: %v %v", res, err)
	}
	res.Body.Close()
}

func multipartFile(t *testing.T, path string) (*bytes.Buffer, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &b, mw.FormDataContentType()
}
