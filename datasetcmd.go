package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/satmark/satmark/dataset"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/server"
	"github.com/satmark/satmark/web"
)

// datasetCommand is `satmark dataset OUT --format F`: the dataset builder of
// GET /api/v1/dataset.zip, written as a folder.
func datasetCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	o := server.DefaultDatasetOptions
	var format, split, images, labels, statuses string
	pos, err := dataCommand(&cfg, "dataset", "folder to write the dataset into", 1, args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", "the dataset format: "+strings.Join(formats.DatasetFormats, ", "))
		fs.IntVar(&o.ChipSize, "chip", o.ChipSize, "chip size in pixels (0: whole images)")
		fs.IntVar(&o.Overlap, "overlap", o.Overlap, "pixels neighbouring chips share")
		fs.Float64Var(&o.MinVisible, "min-visible", o.MinVisible, "share of an annotation a chip must show to carry it (0 to 1)")
		fs.Float64Var(&o.EmptyRatio, "empty-ratio", o.EmptyRatio, "empty chips kept per chip with annotations (-1: all)")
		fs.StringVar(&split, "split", "0.8,0.1,0.1", "train,val,test shares")
		fs.StringVar(&o.By, "by", o.By, "keep the chips of one image or one site in one split: image or site")
		fs.StringVar(&o.Seed, "seed", o.Seed, "the same seed gives the same split")
		fs.StringVar(&images, "image", "", "image ids, comma-separated (default: every image)")
		fs.StringVar(&labels, "label", "", "labels, comma-separated (ids, paths or names; each with those below it)")
		fs.StringVar(&statuses, "status", "", "review states to keep, comma-separated (e.g. accepted)")
	})
	if err != nil {
		return err
	}
	out := pos[0]
	if format == "" {
		return fmt.Errorf("say which format: --format %s", strings.Join(formats.DatasetFormats, "|"))
	}
	known := false
	for _, f := range formats.DatasetFormats {
		known = known || f == format
	}
	if !known {
		return fmt.Errorf("unknown dataset format %q (use %s)", format, strings.Join(formats.DatasetFormats, ", "))
	}
	if o.Shares, err = parseShares(split); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; write a dataset into a new or empty folder (nothing was written)", out)
	}
	m := &Main{Config: cfg}
	defer m.Close()
	if err := m.Open(); err != nil {
		return err
	}
	srv, err := server.New(m.Store, m.Library, web.Assets, server.Options{Logger: m.Logger, Builder: m.Builder})
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx := context.Background()
	start := time.Now()
	sel, f, err := srv.Selection(ctx, splitList(images), splitList(labels), splitList(statuses))
	if err != nil {
		return err
	}
	plan, card, err := srv.DatasetPlan(ctx, sel, f, o, format)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	bar := newProgress(stdout, "chips", len(plan.Chips))
	sink := &folderSink{root: out}
	card, err = srv.WriteDataset(ctx, sink, plan, card, format, func(done, total int) { bar.step(done, "") })
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	bar.done()
	if err != nil {
		return fmt.Errorf("%w (the folder %s holds part of the dataset)", err, out)
	}
	fmt.Fprintf(stdout, "Wrote a %s dataset of %d images to %s in %s: train %d chips, val %d, test %d; %d annotations in no chip, %d empty chips left out.\n",
		format, len(card.Images), out, time.Since(start).Round(time.Millisecond),
		card.Splits[dataset.Train].Chips, card.Splits[dataset.Val].Chips, card.Splits[dataset.Test].Chips, card.Dropped, card.EmptyDropped)
	return nil
}

func parseShares(s string) (dataset.Shares, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return dataset.Shares{}, fmt.Errorf("--split %q is not three shares train,val,test such as 0.8,0.1,0.1", s)
	}
	var f [3]float64
	for i, p := range parts {
		var err error
		if f[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
			return dataset.Shares{}, fmt.Errorf("--split %q is not three shares train,val,test such as 0.8,0.1,0.1", s)
		}
	}
	return dataset.Shares{Train: f[0], Val: f[1], Test: f[2]}, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// folderSink writes a dataset's files under a folder; each is closed when the next one
// begins, the last by Close.
type folderSink struct {
	root string
	cur  *os.File
}

func (f *folderSink) Create(name string, stored bool) (io.Writer, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("dataset file %q leaves its folder", name)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	path := filepath.Join(f.root, clean)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	f.cur = file
	return file, nil
}

// Close closes the file being written, if any.
func (f *folderSink) Close() error {
	if f.cur == nil {
		return nil
	}
	err := f.cur.Close()
	f.cur = nil
	return err
}
