package main

import (
	"io"
	"os"
	"path/filepath"

	"github.com/satmark/satmark/formats"
)

// writeFileAtomically writes path through a temporary file beside it, renamed into place
// when write succeeds (so a failed export leaves no half file). The file is written
// behind write (formats.WriteBehind): copying an export of 190 MB into the page cache
// takes a core for half a second, beside the encoding rather than in turn with it.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	wb := formats.NewWriteBehind(f)
	if err := write(wb); err != nil {
		wb.Close() // nothing writes to the file after it: the file is removed
		f.Close()
		return err
	}
	if err := wb.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
