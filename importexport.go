package main

// satmark import and export: an annotation file onto an image of a data folder, checked
// as the API checks it (with a dry run), and a data folder's annotations out as GeoJSON
// or a dataset.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// labelMap is --map from=to, repeatable.
type labelMap map[string]string

func (m labelMap) String() string { return fmt.Sprint(map[string]string(m)) }

func (m labelMap) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
		return fmt.Errorf("%q: want FROM=TO, a label of the file and one of the taxonomy", v)
	}
	m[strings.TrimSpace(from)] = strings.TrimSpace(to)
	return nil
}

// importCommand is `satmark import --image ID FILE`.
func importCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	var imageID, format, as, crs *string
	var dryRun, createLabels, asJSON *bool
	labels := labelMap{}
	pos, err := dataCommand(&cfg, "import", "annotation file (or zip) to import", 1, args, stderr, func(fs *flag.FlagSet) {
		imageID = fs.String("image", "", "the image to import onto (its id, img_…)")
		format = fs.String("format", "", "the file's format: "+strings.Join(formats.ImportFormats, ", ")+" (default: from its name)")
		dryRun = fs.Bool("dry-run", false, "check every feature and report, importing nothing")
		as = fs.String("as", "", "the user the annotations are recorded under (default: (shell))")
		crs = fs.String("crs", "", "the file's coordinates: pixel or wgs84 (default: what the file says, else pixel)")
		createLabels = fs.Bool("create-labels", false, "add the labels the taxonomy lacks (an administrator's right)")
		asJSON = fs.Bool("json", false, "print the whole report as JSON on standard output")
		fs.Var(labels, "map", "FROM=TO: import the file's label FROM as the taxonomy's TO (repeatable)")
	})
	if err != nil {
		return err
	}
	file := pos[0]
	if *imageID == "" {
		return errors.New("satmark import: say which image with --image ID (satmark's ids are listed by GET /api/v1/images)")
	}
	if *format == "" {
		if *format, err = guessFormat(file); err != nil {
			return err
		}
	}
	if _, err := formats.ImportReader(*format); err != nil {
		return err
	}
	store, lib, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	by, mayCreate, err := importer(ctx, store, *as)
	if err != nil {
		return err
	}
	img, err := store.Image(ctx, *imageID)
	if err != nil {
		return fmt.Errorf("image %s: %w", *imageID, err)
	}
	target, err := importTarget(ctx, store, img)
	if err != nil {
		return err
	}
	var src formats.ImportSource
	if zipped, err := formats.IsZip(file); err != nil {
		return err
	} else if zipped {
		dir, err := lib.TempFolder()
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if src, err = formats.PrepareImport(file, filepath.Base(file), *format, dir, formats.DefaultZipLimits); err != nil {
			return err
		}
	} else if src, err = fileSource(file); err != nil {
		return err
	}
	src.CRS = *crs
	bars := &byteBars{w: stderr, name: filepath.Base(file)}
	src.Progress = bars.step
	start := time.Now()
	report, err := formats.Import(ctx, store, by, target, src, *format, annotations.ImportOptions{
		DryRun: *dryRun, FileName: filepath.Base(file), LabelMap: labels, CreateLabels: *createLabels, MayCreateLabels: mayCreate,
	})
	bars.done()
	var refused *annotations.ImportRefusedError
	if err != nil && !errors.As(err, &refused) {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(report); jerr != nil {
			return jerr
		}
	} else {
		printReport(stdout, report, img, time.Since(start))
	}
	return err
}

// importer is who the annotations are recorded under: the shell (which holds the data
// folder, and may add labels) or --as, an analyst or administrator.
func importer(ctx context.Context, store *annotations.Store, as string) (annotations.Actor, bool, error) {
	if as == "" {
		return shell, true, nil
	}
	u, err := store.UserByName(ctx, as)
	if err != nil {
		return annotations.Actor{}, false, fmt.Errorf("--as %s: %w", as, err)
	}
	if u.Disabled || annotations.RoleRank(u.Role) < annotations.RoleRank(annotations.RoleAnalyst) {
		return annotations.Actor{}, false, fmt.Errorf("--as %s: %s is %s%s, and importing annotations needs an analyst",
			as, u.Name, u.Role, map[bool]string{true: " (disabled)"}[u.Disabled])
	}
	return annotations.Actor{Name: u.Name, Note: "from the shell"}, u.Role == annotations.RoleAdmin, nil
}

func importTarget(ctx context.Context, store *annotations.Store, img annotations.Image) (formats.ImportTarget, error) {
	var gp *annotations.Georeference
	if g, err := store.Georeference(ctx, img.ID); err == nil {
		gp = &g
	} else if !errors.Is(err, annotations.ErrNotFound) {
		return formats.ImportTarget{}, err
	}
	place, err := formats.PlacementOf(img, gp)
	if err != nil {
		return formats.ImportTarget{}, err
	}
	labels, err := store.Labels(ctx)
	return formats.ImportTarget{Image: img, Place: place, Labels: labels}, err
}

// fileSource is a file named on the command line, read where it lies: with the files
// beside it that share its name (a Shapefile's .shx, .dbf and .prj).
func fileSource(file string) (formats.ImportSource, error) {
	if _, err := os.Stat(file); err != nil {
		return formats.ImportSource{}, err
	}
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	src := formats.ImportSource{Dir: dir, Files: []string{base}}
	if strings.EqualFold(filepath.Ext(base), ".txt") {
		// A YOLO label file's class names: classes.txt or data.yaml beside it, or in the
		// dataset's folder above labels/.
		for _, d := range []string{dir, filepath.Dir(filepath.Clean(dir))} {
			for _, name := range []string{"classes.txt", "data.yaml"} {
				if _, err := os.Stat(filepath.Join(d, name)); err != nil || filepath.Join(d, name) == filepath.Clean(file) {
					continue
				}
				rel, err := filepath.Rel(d, file)
				if err != nil {
					continue
				}
				return formats.ImportSource{Dir: d, Files: []string{filepath.ToSlash(rel), name}}, nil
			}
		}
	}
	if strings.EqualFold(filepath.Ext(base), ".shp") {
		stem := strings.TrimSuffix(base, filepath.Ext(base))
		for _, ext := range []string{".shx", ".dbf", ".prj", ".cpg", ".SHX", ".DBF", ".PRJ", ".CPG"} {
			if _, err := os.Stat(filepath.Join(dir, stem+ext)); err == nil {
				src.Files = append(src.Files, stem+ext)
			}
		}
	}
	return src, nil
}

// guessFormat is a file's format by its ending (a .json by whether it holds COCO's
// categories, a .xml by its root: CVAT's <annotations> or Pascal VOC's <annotation>).
func guessFormat(file string) (string, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".geojson":
		return "geojson", nil
	case ".json":
		head, err := fileHead(file)
		if err != nil {
			return "", err
		}
		if strings.Contains(head, `"categories"`) {
			return "coco", nil
		}
		return "geojson", nil
	case ".kml", ".kmz":
		return "kml", nil
	case ".xml":
		head, err := fileHead(file)
		if err != nil {
			return "", err
		}
		if !strings.Contains(head, "<annotations") && strings.Contains(head, "<annotation") {
			return "voc", nil
		}
		return "cvat", nil
	case ".csv":
		return "csv", nil
	case ".shp":
		return "shapefile", nil
	case ".gpkg":
		return "gpkg", nil
	}
	return "", fmt.Errorf("say the format of %s with --format (one of %s)", file, strings.Join(formats.ImportFormats, ", "))
}

// fileHead is a file's first mebibyte, as text.
func fileHead(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 1<<20)
	n, _ := io.ReadFull(f, head)
	return string(head[:n]), nil
}

// byteBars draws a progress bar per file a reader reads, in kibibytes.
type byteBars struct {
	w     io.Writer
	name  string
	bar   *progress
	total int64
	last  int // the KiB last drawn
}

func (b *byteBars) step(read, total int64) {
	if b.bar == nil || total != b.total {
		b.done()
		b.bar, b.total, b.last = newProgress(b.w, "Reading "+b.name+" (KiB)", int(max(total>>10, 1))), total, -1
	}
	if kib := int(min(read, total) >> 10); kib != b.last {
		b.last = kib
		b.bar.step(max(kib, 0), "")
	}
}

func (b *byteBars) done() {
	if b.bar != nil {
		b.bar.done()
	}
}

// printReport says what an import did or would do, and every refusal (the first 50 in
// full, the rest counted; --json gives them all).
func printReport(w io.Writer, r annotations.ImportReport, img annotations.Image, took time.Duration) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	what := "Imported"
	n := r.Created
	if r.DryRun {
		what, n = "Dry run: would import", r.Create
	} else if !r.Clean() {
		what, n = "Refused: imported", 0
	}
	fmt.Fprintf(bw, "%s %d of %d features of %s (%s) onto %s (%s) in %s.\n", what, n, r.Features, r.File, r.Format, img.ID, img.Title, took.Round(time.Millisecond))
	if len(r.NewLabels) > 0 {
		fmt.Fprintf(bw, "New labels: %s\n", strings.Join(r.NewLabels, ", "))
	}
	if len(r.MissingLabels) > 0 {
		fmt.Fprintln(bw, "Labels the taxonomy lacks (map them with --map FROM=TO, or --create-labels):")
		for _, m := range r.MissingLabels {
			fmt.Fprintf(bw, "  %q: %d features\n", m.Name, m.Count)
		}
	}
	if len(r.Refused) > 0 {
		fmt.Fprintf(bw, "Refused (%d):\n", len(r.Refused))
		for i, f := range r.Refused {
			if i == 50 {
				fmt.Fprintf(bw, "  … and %d more (--json lists them all)\n", len(r.Refused)-50)
				break
			}
			where := fmt.Sprintf("feature %d", f.Index)
			if f.ID != "" {
				where += fmt.Sprintf(" (id %s)", f.ID)
			} else if f.Place != "" {
				where += " (" + f.Place + ")"
			}
			fmt.Fprintf(bw, "  %s: %s\n", where, f.Reason)
		}
	}
}

// exportCommand is `satmark export --format F OUT`: GeoJSON of every image or the one
// named (lon/lat when every image is placed, else pixels; --crs chooses), or a dataset
// (COCO, YOLO, DOTA, VOC, CVAT, CSV) as a zip, or a folder when OUT does not end in .zip.
func exportCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	var imageID, format, crs *string
	pos, err := dataCommand(&cfg, "export", "file or folder to write", 1, args, stderr, func(fs *flag.FlagSet) {
		imageID = fs.String("image", "", "only this image's annotations (default: every image's)")
		format = fs.String("format", "geojson", "geojson, or a dataset: "+strings.Join(formats.DatasetFormats, ", "))
		crs = fs.String("crs", "", "GeoJSON's coordinates: wgs84 or pixel (default: wgs84 when every image is georeferenced)")
	})
	if err != nil {
		return err
	}
	out := pos[0]
	store, lib, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	var images []annotations.Image
	if *imageID != "" {
		img, err := store.Image(ctx, *imageID)
		if err != nil {
			return fmt.Errorf("image %s: %w", *imageID, err)
		}
		images = []annotations.Image{img}
	} else if images, err = store.Images(ctx); err != nil {
		return err
	}
	ids := make([]string, len(images))
	places := map[string]formats.Placement{}
	total := 0
	for i, img := range images {
		ids[i] = img.ID
		t, err := importTarget(ctx, store, img)
		if err != nil {
			return err
		}
		places[img.ID] = t.Place
		for _, n := range img.ReviewCounts {
			total += n
		}
	}
	bar := newProgress(stderr, "Exporting annotations", total)
	done := 0
	// walk walks the annotations of the images named, with prepare (when not nil) on the
	// walk's own goroutine, beside the writing.
	walk := func(ids []string, prepare func(*annotations.Annotation), emit func(annotations.Annotation) error) error {
		if len(ids) == 0 {
			return nil
		}
		return store.EachPreparedAnnotation(ctx, annotations.AnnotationFilter{ImageIDs: ids}, prepare, func(a annotations.Annotation) error {
			done++
			bar.step(min(done, total), a.ID)
			return emit(a)
		})
	}
	start := time.Now()
	var werr error
	switch f := strings.ToLower(*format); {
	case f == "geojson":
		// GeoJSON writes each annotation's size on the ground and the decision behind its
		// review state; the datasets write neither.
		decisions, err := store.LatestDecisions(ctx, ids)
		if err != nil {
			return err
		}
		prepare := func(a *annotations.Annotation) {
			a.Ground = places[a.ImageID].Measure(*a)
			if d, ok := decisions[a.ID]; ok {
				a.Decision = &d
			}
		}
		each := func(ids []string) func(emit func(annotations.Annotation) error) error {
			return func(emit func(annotations.Annotation) error) error { return walk(ids, prepare, emit) }
		}
		werr = writeFileAtomically(out, func(w io.Writer) error { return exportGeoJSON(w, images, places, *crs, each) })
	case contains(formats.DatasetFormats, f):
		d := formats.Dataset{Images: formats.DatasetImages(images), Places: places,
			Annotations: func(ids []string, emit func(annotations.Annotation) error) error { return walk(ids, nil, emit) }}
		if d.Labels, err = store.Labels(ctx); err != nil {
			return err
		}
		if f == "cvat" && len(ids) > 0 {
			if d.AttributeNames, err = store.AttributeNames(ctx, annotations.AnnotationFilter{ImageIDs: ids}); err != nil {
				return err
			}
		}
		werr = exportDataset(out, f, d, lib.TempFolder)
	default:
		return fmt.Errorf("--format %q: export writes geojson or one of %s", *format, strings.Join(formats.DatasetFormats, ", "))
	}
	bar.done()
	if werr != nil {
		return werr
	}
	fmt.Fprintf(stdout, "Exported %d annotations of %d images as %s to %s in %s.\n", done, len(images), *format, out, time.Since(start).Round(time.Millisecond))
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// exportGeoJSON writes lon/lat GeoJSON of the placed images or pixel GeoJSON of all, as
// the API's export chooses.
func exportGeoJSON(w io.Writer, images []annotations.Image, places map[string]formats.Placement, requested string,
	each func([]string) func(func(annotations.Annotation) error) error) error {
	crs, placed, omitted, ok := formats.GeoJSONCoordinates(requested, images, places)
	if !ok {
		return fmt.Errorf("--crs %q: use wgs84 or pixel", requested)
	}
	if crs == "wgs84" {
		if len(placed) == 0 {
			return errors.New("no image is georeferenced, so the annotations have no longitude and latitude: export with --crs pixel")
		}
		return formats.WriteLonLatGeoJSON(w, placed, places, omitted, each(idsOf(placed)))
	}
	return formats.WritePixelGeoJSON(w, images, each(idsOf(images)))
}

func idsOf(images []annotations.Image) []string {
	ids := make([]string, len(images))
	for i, img := range images {
		ids[i] = img.ID
	}
	return ids
}

// exportDataset writes the dataset's zip to out, or unpacks it into the new folder out.
func exportDataset(out, format string, d formats.Dataset, tempFolder func() (string, error)) error {
	if strings.EqualFold(filepath.Ext(out), ".zip") {
		return writeFileAtomically(out, func(w io.Writer) error { return formats.WriteDatasetZip(w, format, d, nil) })
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; export a dataset into a new or empty folder (or name a .zip)", out)
	}
	tmp, err := tempFolder()
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	zipPath := filepath.Join(tmp, "dataset.zip")
	if err := writeFileAtomically(zipPath, func(w io.Writer) error { return formats.WriteDatasetZip(w, format, d, nil) }); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	_, err = formats.PrepareImport(zipPath, "dataset.zip", format, out, formats.DefaultZipLimits)
	return err
}
