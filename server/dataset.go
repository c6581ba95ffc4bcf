package server

import (
	"archive/zip"
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/dataset"
	"github.com/satmark/satmark/formats"
)

// The dataset builder: the images of an export selection cut into chips, split into
// train, val and test, written as a zip in any dataset format with a dataset card.

// DefaultDatasetOptions are what a dataset is cut with when the request says nothing.
var DefaultDatasetOptions = dataset.Options{ChipSize: 1024, Overlap: 128, MinVisible: 0.5, EmptyRatio: 0.1,
	Shares: dataset.Shares{Train: 0.8, Val: 0.1, Test: 0.1}, By: dataset.ByImage, Seed: "satmark"}

// MaxChipSize bounds a chip's side: a chip is rendered whole, within the IIIF render limit.
const MaxChipSize = 4096

// datasetOptions reads a dataset's ?chip= (pixels, 0 for whole images), ?overlap=,
// ?min_visible= (0 to 1), ?empty_ratio= (empty chips kept per chip with annotations; -1
// keeps all), ?split=train,val,test (shares), ?by=image|site and ?seed=.
func datasetOptions(c echo.Context) (dataset.Options, error) {
	o := DefaultDatasetOptions
	num := func(name string, dst *float64) error {
		v := strings.TrimSpace(c.QueryParam(name))
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return badRequest(name, "%q is not a number", v)
		}
		*dst = f
		return nil
	}
	integer := func(name string, dst *int) error {
		v := strings.TrimSpace(c.QueryParam(name))
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequest(name, "%q is not a whole number of pixels", v)
		}
		*dst = n
		return nil
	}
	if err := integer("chip", &o.ChipSize); err != nil {
		return o, err
	}
	if err := integer("overlap", &o.Overlap); err != nil {
		return o, err
	}
	if err := num("min_visible", &o.MinVisible); err != nil {
		return o, err
	}
	if err := num("empty_ratio", &o.EmptyRatio); err != nil {
		return o, err
	}
	if v := strings.TrimSpace(c.QueryParam("split")); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) != 3 {
			return o, badRequest("split", "%q is not three shares train,val,test such as 0.8,0.1,0.1", v)
		}
		var f [3]float64
		for i, p := range parts {
			var err error
			if f[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
				return o, badRequest("split", "%q is not three shares train,val,test such as 0.8,0.1,0.1", v)
			}
		}
		o.Shares = dataset.Shares{Train: f[0], Val: f[1], Test: f[2]}
	}
	if v := strings.TrimSpace(c.QueryParam("by")); v != "" {
		o.By = v
	}
	if v, ok := c.QueryParams()["seed"]; ok {
		o.Seed = strings.Join(v, ",")
	}
	if o.ChipSize > MaxChipSize {
		return o, badRequest("chip", "chips of %d pixels are over the limit of %d", o.ChipSize, MaxChipSize)
	}
	if err := o.Check(); err != nil {
		field := "options"
		switch {
		case strings.HasPrefix(err.Error(), "overlap"):
			field = "overlap"
		case strings.Contains(err.Error(), "chip size"):
			field = "chip"
		case strings.Contains(err.Error(), "visible"):
			field = "min_visible"
		case strings.Contains(err.Error(), "split by"):
			field = "by"
		case strings.Contains(err.Error(), "shares"):
			field = "split"
		}
		return o, badRequest(field, "%s", err.Error())
	}
	return o, nil
}

// datasetSources gathers the images of a selection with their release's claims, their
// annotations (by the selection's filter) with the claims they are evidence for, and, when the split is by site, the sites each belongs to. An
// image whose tiles are not built yet cannot be cut: that is a conflict, said before
// anything is written.
func (s *Server) datasetSources(ctx context.Context, images []annotations.Image, f annotations.AnnotationFilter, o dataset.Options) ([]dataset.Source, error) {
	images = append([]annotations.Image(nil), images...)
	sort.Slice(images, func(i, j int) bool { return images[i].ID < images[j].ID })
	evidence, err := s.withClaims(ctx, images) // for the card
	if err != nil {
		return nil, err
	}
	sitesOf := map[string][]string{}
	if o.By == dataset.BySite {
		sites, err := s.store.Sites(ctx)
		if err != nil {
			return nil, err
		}
		views, err := s.siteViews(ctx, sites)
		if err != nil {
			return nil, err
		}
		sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
		for _, v := range views {
			for _, img := range v.Images {
				sitesOf[img.ID] = append(sitesOf[img.ID], v.ID)
			}
		}
	}
	sources := make([]dataset.Source, 0, len(images))
	for _, img := range images {
		if !img.Pyramid.Ready() {
			return nil, fmt.Errorf("image %s (%q): its tiles are %s; cut a dataset once they are built: %w",
				img.ID, img.Title, img.Pyramid.State, annotations.ErrConflict)
		}
		if o.ChipSize == 0 && int64(img.Width)*int64(img.Height) > int64(MaxChipSize)*MaxChipSize {
			return nil, badRequest("chip", "image %s is %d×%d, over the %d×%d a whole-image dataset may be: cut it into chips (chip=1024)",
				img.ID, img.Width, img.Height, MaxChipSize, MaxChipSize)
		}
		g := f
		g.ImageIDs = []string{img.ID}
		anns, err := s.store.Annotations(ctx, g)
		if err != nil {
			return nil, err
		}
		for i := range anns {
			anns[i].Evidence = evidence[anns[i].ID]
		}
		sources = append(sources, dataset.Source{Image: img, Sites: sitesOf[img.ID], Annotations: anns})
	}
	return sources, nil
}

// DatasetPlan cuts the images of a selection (see Selection) into a dataset: the plan
// and its card, before any pixel is read. Options that do not hold, and images without
// built tiles, are refused here.
func (s *Server) DatasetPlan(ctx context.Context, images []annotations.Image, f annotations.AnnotationFilter, o dataset.Options, format string) (dataset.Plan, dataset.Card, error) {
	if o.ChipSize > MaxChipSize {
		return dataset.Plan{}, dataset.Card{}, badRequest("chip", "chips of %d pixels are over the limit of %d", o.ChipSize, MaxChipSize)
	}
	sources, err := s.datasetSources(ctx, images, f, o)
	if err != nil {
		return dataset.Plan{}, dataset.Card{}, err
	}
	plan, err := dataset.Cut(sources, o)
	if err != nil {
		return dataset.Plan{}, dataset.Card{}, badRequest("options", "%s", err.Error())
	}
	reviewed := "all"
	if len(f.Statuses) > 0 {
		reviewed = strings.Join(f.Statuses, " or ") + " only"
	}
	return plan, dataset.NewCard(plan, "satmark dataset", format, reviewed, Build(), 0, time.Now()), nil
}

// WriteDataset writes a planned dataset into sink in format (dataset.Write), its chips
// rendered from the images' pyramids; progress, when not nil, hears of each chip.
func (s *Server) WriteDataset(ctx context.Context, sink formats.Sink, plan dataset.Plan, card dataset.Card, format string, progress func(done, total int)) (dataset.Card, error) {
	labels, err := s.store.Labels(ctx)
	if err != nil {
		return card, err
	}
	done := 0
	return dataset.Write(sink, plan, format, labels, card, func(img annotations.Image, r dataset.Rect) ([]byte, error) {
		b, err := s.library.Chip(ctx, img.SHA256, infoOf(img), r.X, r.Y, r.W, r.H)
		done++
		if progress != nil {
			progress(done, len(plan.Chips))
		}
		return b, err
	})
}

// exportDatasetBuild downloads the images of an export selection (?image=, ?label=,
// ?status=, as exportSelection reads them) as a dataset zip in ?format=, cut and split
// as datasetOptions reads them, with a dataset card.
func (s *Server) exportDatasetBuild(c echo.Context) error {
	format, err := datasetFormat(c)
	if err != nil {
		return err
	}
	o, err := datasetOptions(c)
	if err != nil {
		return err
	}
	images, f, err := s.exportSelection(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	plan, card, err := s.DatasetPlan(ctx, images, f, o, format)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("satmark-dataset-%s-%s.zip", format, time.Now().UTC().Format("20060102-150405"))
	setDownload(c, formats.ZipMediaType, name)
	zw := zip.NewWriter(c.Response())
	sink := formats.NewZipSink(zw)
	defer sink.Abandon()
	_, err = s.WriteDataset(ctx, sink, plan, card, format, nil)
	if err == nil {
		err = zw.Close()
	}
	return s.streamed(c, name, err)
}

// Build names the satmark build that is running: its module version and, when built from
// a Git checkout, the commit.
func Build() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, st := range info.Settings {
		if st.Key == "vcs.revision" {
			v += " " + st.Value
		}
	}
	return v
}
