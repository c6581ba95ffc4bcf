package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/satmark/satmark/bundle"
	"github.com/satmark/satmark/server"
)

// bundleCommand is `satmark bundle --image ID OUT.zip`: an image's evidence bundle (its
// original, provenance, annotations, their history and its audit trail, hashed), written
// whole or not at all.
func bundleCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	var imageID *string
	pos, err := dataCommand(&cfg, "bundle", "zip file to write", 1, args, stderr, func(fs *flag.FlagSet) {
		imageID = fs.String("image", "", "the image to bundle (required)")
	})
	if err != nil {
		return err
	}
	if *imageID == "" {
		return fmt.Errorf("satmark bundle needs --image ID")
	}
	store, lib, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	img, err := store.Image(ctx, *imageID)
	if err != nil {
		return fmt.Errorf("image %s: %w", *imageID, err)
	}
	t, err := importTarget(ctx, store, img)
	if err != nil {
		return err
	}
	by := "the shell"
	if u, err := user.Current(); err == nil {
		by = u.Username + " (the shell)"
	}
	src := bundle.Source{Store: store, Originals: lib, Image: img, Place: t.Place, By: by, Build: server.Build(), Now: time.Now()}
	if err := writeFileAtomically(pos[0], func(w io.Writer) error { return bundle.Write(ctx, w, src) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote the evidence bundle of %s (%q) to %s; check it with: satmark verify-bundle %s\n", img.ID, img.Title, pos[0], pos[0])
	return nil
}

// verifyBundleCommand is `satmark verify-bundle FILE.zip`: every check of bundle.Verify,
// printed; it fails when any does.
func verifyBundleCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "print only the problems and the verdict")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("satmark verify-bundle wants one bundle zip (got %d arguments)", fs.NArg())
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := bundle.Verify(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	m := rep.Manifest
	if m.Format != "" {
		fmt.Fprintf(stdout, "Evidence bundle of %s (%q, %s), made %s by %s with satmark %s.\n",
			m.Image.ID, m.Image.Title, m.Image.Filename, m.CreatedAt.Format(time.RFC3339), m.CreatedBy, m.Satmark)
	}
	if !*quiet {
		for _, c := range rep.Checked {
			fmt.Fprintln(stdout, "ok     ", c)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "PROBLEM", p)
	}
	if !rep.OK() {
		return fmt.Errorf("%s fails %d checks", fs.Arg(0), len(rep.Problems))
	}
	fmt.Fprintf(stdout, "The bundle is intact: %d files, %d annotations, %d revisions.\n", len(m.Files)+1, m.Annotations, m.Revisions)
	return nil
}
