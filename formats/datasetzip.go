package formats

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/satmark/satmark/annotations"
)

// DatasetFormats are the formats a dataset export writes, by the name a request gives.
var DatasetFormats = []string{"coco", "yolo", "yolo-obb", "dota", "voc", "cvat", "csv"}

// ZipMediaType is the media type of a dataset export.
const ZipMediaType = "application/zip"

// ManifestName is the file in every dataset zip that lists its images with their
// provenance and the annotations its format could not carry.
const ManifestName = "satmark-export.json"

// datasetLayout is where a format puts its files in a zip.
type datasetLayout struct {
	images string // the folder of the originals
	// files writes the format's own files through add.
	files func(d Dataset, add func(name string) (io.Writer, error)) ([]Omission, error)
}

var datasetLayouts = map[string]datasetLayout{
	"coco": {images: "images/", files: func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		f, err := add("annotations/instances.json")
		if err != nil {
			return nil, err
		}
		return WriteCOCO(f, d)
	}},
	"yolo":     {images: "images/", files: yoloFiles(false)},
	"yolo-obb": {images: "images/", files: yoloFiles(true)},
	"dota": {images: "images/", files: func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		classes := ClassesOf(d.Labels)
		f, err := add("classes.txt")
		if err != nil {
			return nil, err
		}
		if err := WriteClassNames(f, classes, DOTAClassName); err != nil {
			return nil, err
		}
		return eachImageFile(d, add, "labelTxt/", ".txt", func(w io.Writer, img DatasetImage, each eachFunc) ([]Omission, error) {
			return WriteDOTA(w, img, classes, each)
		})
	}},
	"voc": {images: "JPEGImages/", files: func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		classes := ClassesOf(d.Labels)
		f, err := add("ImageSets/Main/default.txt")
		if err != nil {
			return nil, err
		}
		for _, img := range d.Images {
			if _, err := io.WriteString(f, img.Stem()+"\n"); err != nil {
				return nil, err
			}
		}
		return eachImageFile(d, add, "Annotations/", ".xml", func(w io.Writer, img DatasetImage, each eachFunc) ([]Omission, error) {
			return WriteVOC(w, img, classes, each)
		})
	}},
	"cvat": {images: "images/", files: func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		f, err := add("annotations.xml")
		if err != nil {
			return nil, err
		}
		return nil, WriteCVAT(f, d)
	}},
	"csv": {images: "images/", files: func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		f, err := add("annotations.csv")
		if err != nil {
			return nil, err
		}
		return nil, WriteCSV(f, d)
	}},
}

type eachFunc = func(emit func(annotations.Annotation) error) error

func yoloFiles(obb bool) func(Dataset, func(string) (io.Writer, error)) ([]Omission, error) {
	return func(d Dataset, add func(string) (io.Writer, error)) ([]Omission, error) {
		classes := ClassesOf(d.Labels)
		f, err := add("data.yaml")
		if err != nil {
			return nil, err
		}
		if err := WriteYOLOData(f, classes, obb); err != nil {
			return nil, err
		}
		if f, err = add("classes.txt"); err != nil {
			return nil, err
		}
		if err := WriteClassNames(f, classes, func(c Class) string { return c.Name }); err != nil {
			return nil, err
		}
		return eachImageFile(d, add, "labels/", ".txt", func(w io.Writer, img DatasetImage, each eachFunc) ([]Omission, error) {
			return WriteYOLO(w, img, classes, obb, each)
		})
	}
}

// eachImageFile writes a file per image, named by its stem, with its annotations.
func eachImageFile(d Dataset, add func(string) (io.Writer, error), dir, ext string,
	write func(io.Writer, DatasetImage, eachFunc) ([]Omission, error)) ([]Omission, error) {
	var left []Omission
	for _, img := range d.Images {
		f, err := add(dir + img.Stem() + ext)
		if err != nil {
			return nil, err
		}
		each := func(emit func(annotations.Annotation) error) error {
			return d.Annotations([]string{img.ID}, emit)
		}
		l, err := write(f, img, each)
		if err != nil {
			return nil, err
		}
		left = append(left, l...)
	}
	return left, nil
}

// manifest is ManifestName's content.
type manifest struct {
	Format      string          `json:"format"`
	Coordinates string          `json:"coordinates"`
	Images      []manifestImage `json:"images"`
	Annotations int             `json:"annotations"` // written in the format
	Omitted     []Omission      `json:"omitted"`     // left out: the format has no place for them
}

type manifestImage struct {
	FileName string `json:"file_name"`
	imageRef
	Provenance provenance `json:"provenance"`
}

// WriteDatasetZip writes the dataset as a zip in one of DatasetFormats, streamed:
//
//	coco      annotations/instances.json, images/
//	yolo      data.yaml, classes.txt, labels/<stem>.txt, images/       (Ultralytics' layout)
//	yolo-obb  the same, OBB lines
//	dota      classes.txt, labelTxt/<stem>.txt, images/
//	voc       Annotations/<stem>.xml, ImageSets/Main/default.txt, JPEGImages/
//	cvat      annotations.xml, images/                                 (CVAT for images 1.1)
//	csv       annotations.csv, images/
//
// and ManifestName. The images folder holds each original, byte for byte, when original
// is not nil (it opens one); otherwise it is absent. An unknown format is an error
// before anything is written.
func WriteDatasetZip(w io.Writer, format string, d Dataset, original func(DatasetImage) (io.ReadCloser, error)) error {
	if _, ok := datasetLayouts[format]; !ok {
		return fmt.Errorf("unknown dataset format %q", format)
	}
	zw := zip.NewWriter(w)
	sink := NewZipSink(zw)
	defer sink.Abandon()
	if _, err := WriteDataset(sink, format, d, original); err != nil {
		return err
	}
	return zw.Close()
}

// Sink takes a dataset's files one after another: each Create ends the file before it.
// Stored says the file is compressed already (an image) and is not worth deflating.
type Sink interface {
	Create(name string, stored bool) (io.Writer, error)
}

// ZipSink writes a dataset's files into a zip, deflated at flate.BestSpeed: on a
// 100,000-annotation export that is a fifth of the CPU time of the default level for a
// zip a quarter to a half larger. Each file is deflated behind its writing (see
// WriteBehind), so a dataset that stops part-way must be abandoned.
type ZipSink struct {
	zw   *zip.Writer
	open *pooledFlate // the file being deflated, until it is closed
}

// NewZipSink returns a sink writing into zw (it registers its compressor for
// zip.Deflate on zw). Defer its Abandon.
func NewZipSink(zw *zip.Writer) *ZipSink {
	z := &ZipSink{zw: zw}
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		p, err := fastDeflate(w)
		z.open = p
		return p, err
	})
	return z
}

// Abandon waits for the file being deflated, if any, to stop writing into the zip's
// writer: after it nothing writes there. It is for a dataset that stopped part-way (an
// error, a panic), so that whatever answers in its stead has the writer to itself; after
// the zip is closed it does nothing.
func (z *ZipSink) Abandon() {
	if z.open != nil && z.open.behind != nil {
		z.open.behind.wait()
	}
}

// fastFlate holds the flate writers fastDeflate made, for the next file: a flate
// writer is about a megabyte, and a dataset of many images has a file for each.
var fastFlate sync.Pool

func fastDeflate(w io.Writer) (*pooledFlate, error) {
	fw, ok := fastFlate.Get().(*flate.Writer)
	if ok {
		fw.Reset(w)
	} else {
		var err error
		if fw, err = flate.NewWriter(w, flate.BestSpeed); err != nil {
			return nil, err
		}
	}
	return &pooledFlate{fw: fw, behind: NewWriteBehind(fw)}, nil
}

// pooledFlate is a flate writer that goes back to fastFlate when it is closed, fed
// through a WriteBehind: the deflating (and the zip's writing after it) is done beside
// the format's encoding, not in turn with it.
type pooledFlate struct {
	fw     *flate.Writer
	behind *WriteBehind
}

func (p *pooledFlate) Write(b []byte) (int, error) { return p.behind.Write(b) }

func (p *pooledFlate) Close() error {
	err := p.behind.Close()
	if cerr := p.fw.Close(); err == nil {
		err = cerr
	}
	fastFlate.Put(p.fw)
	p.fw, p.behind = nil, nil
	return err
}

func (z *ZipSink) Create(name string, stored bool) (io.Writer, error) {
	method := zip.Deflate
	if stored {
		method = zip.Store
	}
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
}

// WriteDataset writes the dataset's files in one of DatasetFormats into sink, laid out
// as WriteDatasetZip says, ManifestName among them, and each image's bytes from original
// when it is not nil. It returns what the format could not carry (ManifestName lists it
// too). An unknown format is an error before anything is written.
func WriteDataset(sink Sink, format string, d Dataset, original func(DatasetImage) (io.ReadCloser, error)) ([]Omission, error) {
	layout, ok := datasetLayouts[format]
	if !ok {
		return nil, fmt.Errorf("unknown dataset format %q", format)
	}
	add := func(name string) (io.Writer, error) { return sink.Create(name, false) }
	written := 0
	counted := d
	counted.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
		return d.Annotations(ids, func(a annotations.Annotation) error {
			written++
			return emit(a)
		})
	}
	left, err := layout.files(counted, add)
	if err != nil {
		return nil, err
	}
	m := manifest{Format: format, Coordinates: PixelCoordinateNote, Annotations: written - len(left)}
	for _, img := range d.Images {
		m.Images = append(m.Images, manifestImage{FileName: img.FileName, imageRef: refOf(img.Image), Provenance: provenanceOf(img.Image)})
	}
	f, err := add(ManifestName)
	if err != nil {
		return nil, err
	}
	if err := writeManifest(f, m, left); err != nil {
		return nil, err
	}
	if original != nil {
		for _, img := range d.Images {
			if err := copyOriginal(sink, layout.images+img.FileName, img, original); err != nil {
				return nil, err
			}
		}
	}
	return left, nil
}

// writeManifest writes m with omitted as its Omitted, as a json.Encoder indenting by two
// spaces writes it, but each omission straight to w: a format that leaves out many
// annotations (YOLO has no points) would otherwise build the whole text in memory twice.
func writeManifest(w io.Writer, m manifest, omitted []Omission) error {
	m.Omitted = []Omission{}
	head, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if len(omitted) == 0 {
		_, err := w.Write(append(head, '\n'))
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-len("]\n}")]) // through "omitted": [
	var b []byte
	for i, o := range omitted {
		b = append(b[:0], "\n    {\n      \"annotation_id\": "...)
		if i > 0 {
			b = append(b[:0], ",\n    {\n      \"annotation_id\": "...)
		}
		b = annotations.AppendJSONString(b, o.AnnotationID)
		b = append(b, ",\n      \"image_id\": "...)
		b = annotations.AppendJSONString(b, o.ImageID)
		b = append(b, ",\n      \"shape\": "...)
		b = annotations.AppendJSONString(b, string(o.Shape))
		b = append(b, ",\n      \"reason\": "...)
		b = annotations.AppendJSONString(b, o.Reason)
		b = append(b, "\n    }"...)
		bw.Write(b)
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

func copyOriginal(sink Sink, name string, img DatasetImage, original func(DatasetImage) (io.ReadCloser, error)) error {
	r, err := original(img)
	if err != nil {
		return err
	}
	defer r.Close()
	// Originals are compressed already: stored, not deflated.
	f, err := sink.Create(name, true)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return err
}
