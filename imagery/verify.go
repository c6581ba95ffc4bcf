package imagery

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// HashFile returns the SHA-256 (lower-case hex) and size of the file at path.
func HashFile(path string) (string, int64, error) {
	return copyHashed(io.Discard, path)
}

// CopyHashed copies the file at src to dst (which must not exist; its folder is made),
// syncs it, and returns the SHA-256 and size of what it copied. On any error dst is
// removed.
func CopyHashed(dst, src string) (string, int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", 0, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", 0, err
	}
	sum, n, err := copyHashed(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return "", 0, err
	}
	return sum, n, nil
}

func copyHashed(w io.Writer, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// OriginalFiles lists the SHA-256 of every original in the library's folder, found by
// walking it (not from the database): what `satmark verify` compares with the rows.
func (l *Library) OriginalFiles() ([]string, error) {
	var shas []string
	root := filepath.Join(l.root, "originals")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasSuffix(d.Name(), ".sidecars") {
				return filepath.SkipDir
			}
			return nil
		}
		if shaPattern.MatchString(d.Name()) && filepath.Base(filepath.Dir(path)) == d.Name()[:2] {
			shas = append(shas, d.Name())
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil, nil
	}
	return shas, err
}

// PyramidCheck is what VerifyPyramid found in one image's pyramid.
type PyramidCheck struct {
	Tiles int      // tiles the manifest lists
	Bad   []string // tiles missing or whose bytes do not match the checksum the build wrote
}

// VerifyPyramid reads every tile of the image's pyramid from disk and compares it with
// the CRC-32 its build recorded; ErrNoPyramid when the image has no complete pyramid
// (or its manifest or checksums cannot be read). A bad tile is not an error: it is listed,
// and serving it repairs it from the original.
func (l *Library) VerifyPyramid(sha string) (PyramidCheck, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return PyramidCheck{}, err
	}
	m := &p.manifest
	check := PyramidCheck{Tiles: m.Tiles}
	for k, lv := range m.Levels {
		for row := 0; row < lv.Rows; row++ {
			for col := 0; col < lv.Cols; col++ {
				rel := fmt.Sprintf("%d/%d_%d.%s", k, row, col, m.Format)
				data, err := os.ReadFile(tilePath(p.dir, k, row, col, m.Format))
				p.mu.Lock()
				want := p.crcs[m.tileIndex(k, row, col)]
				p.mu.Unlock()
				switch {
				case err != nil:
					check.Bad = append(check.Bad, rel+" is missing")
				case crc32.ChecksumIEEE(data) != want:
					check.Bad = append(check.Bad, rel+" does not match its checksum")
				}
			}
		}
	}
	return check, nil
}

// OpenExisting opens the library in root to read it, beside a server that may be using
// it: unlike OpenWith it makes no folder and clears nothing (no upload in progress, no
// pyramid being built), and it has no caches. It is what `satmark verify` and `satmark
// backup` read through.
func OpenExisting(root string) (*Library, error) {
	if _, err := os.Stat(filepath.Join(root, "originals")); err != nil {
		return nil, fmt.Errorf("%s holds no satmark image library: %w", root, err)
	}
	return At(root), nil
}

// At is the library laid out in root, for its paths and reading its pyramids: no folder
// is made or checked, and it has no caches.
func At(root string) *Library {
	return &Library{root: root, pyramids: map[string]*pyramid{}}
}
