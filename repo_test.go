package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedBytes is the largest file the repository holds; anything bigger is built
// or downloaded, not written.
const maxTrackedBytes = 5 << 20

// buildOutputFolders hold only what a build, a test or a run writes.
var buildOutputFolders = []string{"bin/", "web/dist/", "web/node_modules/", "bench/out/", "data/"}

// executableMagic opens ELF, Mach-O (thin and fat) and PE/COFF executables.
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	[]byte("MZ"),
}

// TestNothingBuiltIsCommitted reads the git index: no tracked file is a compiled
// executable, a Go test binary, something under a build output folder or larger than
// 5 MiB, and .gitignore keeps what the build makes out.
func TestNothingBuiltIsCommitted(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: not checking what is committed")
	}
	if out, err := exec.Command("git", "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Skip("not in a git work tree: not checking what is committed")
	}
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git ls-files lists %d files: %q", len(files), files)
	}
	for _, f := range files {
		slash := filepath.ToSlash(f)
		for _, dir := range buildOutputFolders {
			if strings.HasPrefix(slash, dir) && slash != "web/dist/.gitkeep" {
				t.Errorf("%s is tracked: %s holds build output only", f, dir)
			}
		}
		if strings.HasSuffix(slash, ".test") {
			t.Errorf("%s is tracked: a Go test binary", f)
		}
		info, err := os.Lstat(f)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree but not yet in the index, or a symlink
		}
		if info.Size() > maxTrackedBytes {
			t.Errorf("%s is tracked and holds %d bytes, more than %d: build output or data, not source", f, info.Size(), maxTrackedBytes)
		}
		if magic := head(t, f, 4); isExecutable(magic) {
			t.Errorf("%s is tracked: a compiled executable (it begins % x)", f, magic)
		}
	}
	for _, built := range []string{"satmark", "bin/satmark", "web/dist/annotator.js", "satmark.test",
		"server/server.test", "web/node_modules/esbuild/package.json", "bench/out/results.txt", "data/satmark.db"} {
		// --no-index: what .gitignore says, whether or not the path is tracked.
		if err := exec.Command("git", "check-ignore", "-q", "--no-index", built).Run(); err != nil {
			t.Errorf("git check-ignore %s: %v; .gitignore must keep it out", built, err)
		}
	}
}

func head(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatal(err)
	}
	return b[:k]
}

func isExecutable(magic []byte) bool {
	for _, m := range executableMagic {
		if bytes.HasPrefix(magic, m) {
			return true
		}
	}
	return false
}
