package imagery

// Rasters through GDAL (cgo against its C API, Debian package libgdal-dev): GeoTIFF,
// BigTIFF and COG of any compression, bit depth and band count, JPEG 2000, NITF, ERDAS
// IMG, and PNG (which GDAL's driver reads a line at a time). GDAL is opened read-only
// with a fixed list of drivers (no VRT: a VRT may point at any file on the machine; but
// for an uploaded VRT checked to name only the rasters sent with it, vrt.go), is kept off
// the network and away from files beside the original (at upload it is told of the
// sidecars sent with it, the only files beside the raster in that upload's own folder,
// and of nothing else), and reads through a bounded block cache, a window at a time, so
// memory stays bounded whatever the size of the image.

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>

#define SM_GDAL_MSG 1024

static void sm_gdal_msg(char *msg, const char *fallback) {
	const char *m = CPLGetLastErrorMsg();
	if (m == NULL || m[0] == 0) m = fallback;
	strncpy(msg, m, SM_GDAL_MSG - 1);
	msg[SM_GDAL_MSG - 1] = 0;
}

static void sm_gdal_init(long long cache) {
	// Never the network, never a file beside the original but the sidecars a caller
	// names (no folder is listed; no .aux.xml, .ovr or world file is looked for, none is
	// written), errors kept for the caller, not printed.
	CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
	CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
	CPLSetConfigOption("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".satmark-never");
	CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1");
	CPLSetConfigOption("PROJ_NETWORK", "OFF");
	CPLSetConfigOption("GDAL_GEOREF_SOURCES", "INTERNAL");
	// Not GDAL_NUM_THREADS: GDAL 3.6's multi-threaded GTiff reads fill only the first of
	// a band read twice in one request (a grey band read as red, green and blue).
	CPLSetErrorHandler(CPLQuietErrorHandler);
	GDALAllRegister();
	GDALSetCacheMax64(cache);
}

// sm_gdal_open opens path through the allowed drivers, telling GDAL that the files
// named in siblings (NULL-terminated, never empty) lie beside it, and no other.
// With vrt, the VRT driver is allowed too (for an uploaded VRT's checked copy alone).
static GDALDatasetH sm_gdal_open(const char *path, char **siblings, int vrt, char *msg) {
	static const char *const drivers[] = {"GTiff", "JP2OpenJPEG", "NITF", "PNG", "JPEG", "HFA", NULL};
	static const char *const vrt_drivers[] = {"VRT", NULL};
	CPLErrorReset();
	GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, vrt ? vrt_drivers : drivers, NULL, (const char *const *)siblings);
	if (ds == NULL) sm_gdal_msg(msg, "no GDAL driver satmark allows recognises the file");
	return ds;
}

// sm_gdal_file_list is GDALGetFileList: the files the dataset reads, to be freed with
// CSLDestroy.
static char **sm_gdal_file_list(GDALDatasetH ds) {
	return GDALGetFileList(ds);
}

static const char *sm_gdal_driver(GDALDatasetH ds) {
	return GDALGetDriverShortName(GDALGetDatasetDriver(ds));
}

// sm_gdal_read reads a window of the given bands into buf, resampled (nearest) to bw×bh.
static int sm_gdal_read(GDALDatasetH ds, int x, int y, int w, int h, void *buf, int bw, int bh, GDALDataType t,
		int nbands, int *bands, long long pixel, long long line, long long band, char *msg) {
	CPLErrorReset();
	CPLErr e = GDALDatasetRasterIOEx(ds, GF_Read, x, y, w, h, buf, bw, bh, t, nbands, bands, pixel, line, band, NULL);
	if (e != CE_None || CPLGetLastErrorType() == CE_Failure) {
		sm_gdal_msg(msg, "GDAL could not read the pixels");
		return -1;
	}
	return 0;
}

// sm_gdal_read_mask reads the validity mask (0 = no data) of band b into buf, bytes.
static int sm_gdal_read_mask(GDALDatasetH ds, int b, int x, int y, int w, int h, void *buf, int bw, int bh,
		long long line, char *msg) {
	CPLErrorReset();
	GDALRasterBandH mask = GDALGetMaskBand(GDALGetRasterBand(ds, b));
	CPLErr e = mask ? GDALRasterIOEx(mask, GF_Read, x, y, w, h, buf, bw, bh, GDT_Byte, 1, line, NULL) : CE_Failure;
	if (e != CE_None || CPLGetLastErrorType() == CE_Failure) {
		sm_gdal_msg(msg, "GDAL could not read the validity mask");
		return -1;
	}
	return 0;
}

static int sm_gdal_palette(GDALDatasetH ds, int b, unsigned char *rgb) {
	GDALColorTableH ct = GDALGetRasterColorTable(GDALGetRasterBand(ds, b));
	if (ct == NULL) return 0;
	int n = GDALGetColorEntryCount(ct);
	if (n > 256) n = 256;
	for (int i = 0; i < n; i++) {
		GDALColorEntry e;
		GDALGetColorEntryAsRGB(ct, i, &e);
		rgb[3*i] = e.c1; rgb[3*i+1] = e.c2; rgb[3*i+2] = e.c3;
	}
	return n;
}

// sm_gdal_geotransform fills gt when the dataset has a geotransform of its own.
static int sm_gdal_geotransform(GDALDatasetH ds, double *gt) {
	CPLErrorReset();
	return GDALGetGeoTransform(ds, gt) == CE_None;
}

// sm_gdal_rpc_points takes the n positions (x[i], y[i]) in pixels through GDAL's RPC
// transformer, at the RPCs' height offset, to lon/lat in place. It returns how many made
// it, or -1 when the RPCs cannot be used.
static int sm_gdal_rpc_points(GDALDatasetH ds, int n, double *x, double *y, double *height) {
	GDALRPCInfoV2 info;
	if (!GDALExtractRPCInfoV2(GDALGetMetadata(ds, "RPC"), &info)) return -1;
	CPLErrorReset();
	void *tr = GDALCreateRPCTransformerV2(&info, FALSE, 0.01, NULL);
	if (tr == NULL) return -1;
	double *z = (double *)CPLMalloc(sizeof(double) * n);
	int *ok = (int *)CPLMalloc(sizeof(int) * n);
	for (int i = 0; i < n; i++) z[i] = info.dfHEIGHT_OFF;
	GDALRPCTransform(tr, FALSE, n, x, y, z, ok);
	int good = 0;
	for (int i = 0; i < n; i++) good += ok[i] != 0;
	*height = info.dfHEIGHT_OFF;
	CPLFree(z);
	CPLFree(ok);
	GDALDestroyRPCTransformer(tr);
	return good;
}
*/
import "C"

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// gdalCacheBytes bounds GDAL's block cache, shared by every open dataset.
const gdalCacheBytes = 64 << 20

// maxBands is the most bands a raster may have: more is refused as absurd before any
// pixel is read.
const maxBands = 1024

var gdalInit sync.Once

// gdalMediaTypes are the formats read through GDAL, with the driver that must read each.
var gdalMediaTypes = map[string]string{
	"image/png":               "PNG",
	"image/tiff":              "GTiff",
	"image/jp2":               "JP2OpenJPEG",
	"image/x-jp2-codestream":  "JP2OpenJPEG",
	"application/vnd.nitf":    "NITF",
	"application/x-erdas-hfa": "HFA",
	VRTMediaType:              "VRT",
}

// ReadByGDAL reports whether originals of this media type are read through GDAL, and so
// shown as their Display says.
func ReadByGDAL(mediaType string) bool { _, ok := gdalMediaTypes[mediaType]; return ok }

// Raster is what GDAL says of a raster, read without decoding its pixels.
type Raster struct {
	Driver      string     // GDAL's driver, e.g. "GTiff"
	Bands       int        // number of bands
	DataType    string     // of band 1, as GDAL names it: "Byte", "UInt16", "Float32", …
	ColorInterp []string   // per band, as GDAL names it: "Red", "Gray", "Alpha", "Undefined", …
	NoData      []*float64 // per band, nil when the band has none
	Overviews   int        // reduced-resolution levels stored in the file (band 1)
	// Where the file says it lies (filled by Inspect only), as GDAL reads it from the file alone (GeoJP2/GMLJP2
	// boxes, NITF IGEOLO, ERDAS IMG's projection, GeoTIFF keys): a geotransform in the
	// CRS of CRSWKT, and/or ground control points in the CRS of GCPCRSWKT.
	GeoTransform *[6]float64
	CRSWKT       string
	GCPs         []GCP
	GCPCRSWKT    string
	RPC          bool // the file carries rational polynomial coefficients (FileMetadata.RPC)
	// RPCPoints are a grid of positions over the image taken through GDAL's RPC
	// transformer at the RPCs' height offset RPCHeight (m): X longitude, Y latitude.
	// Empty when the file has no RPCs or they cannot be used.
	RPCPoints []GCP
	RPCHeight float64
	// SidecarsRead names the sidecars GDAL read with the raster (filled by Inspect only).
	SidecarsRead []string
}

// rpcGrid is how many positions across and down rpcPoints takes through the RPCs.
const rpcGrid = 7

// rpcPoints takes a rpcGrid × rpcGrid grid of positions over the image, corners
// included, through the file's RPCs; none when any of them fails.
func (d *gdalDataset) rpcPoints() ([]GCP, float64) {
	pts := make([]GCP, rpcGrid*rpcGrid)
	xs, ys := make([]C.double, len(pts)), make([]C.double, len(pts))
	for i := range pts {
		pts[i].Pixel = float64(d.width) * float64(i%rpcGrid) / (rpcGrid - 1)
		pts[i].Line = float64(d.height) * float64(i/rpcGrid) / (rpcGrid - 1)
		xs[i], ys[i] = C.double(pts[i].Pixel), C.double(pts[i].Line)
	}
	var height C.double
	if C.sm_gdal_rpc_points(d.h, C.int(len(pts)), &xs[0], &ys[0], &height) != C.int(len(pts)) {
		return nil, 0
	}
	for i := range pts {
		pts[i].X, pts[i].Y = float64(xs[i]), float64(ys[i])
	}
	return pts, float64(height)
}

// GCP is a ground control point as a raster file carries it: pixel position (Pixel,
// Line) in satmark's pixel convention, and X, Y in the control points' CRS.
type GCP struct{ Pixel, Line, X, Y float64 }

// maxGCPs bounds the control points taken from one file.
const maxGCPs = 1000

type gdalDataset struct {
	h             C.GDALDatasetH
	path          string
	width, height int
	bands         int
}

// gdalMessage is GDAL's last error message, with the path of the file (a server's folder,
// nothing a user needs) taken out.
func gdalMessage(buf []C.char, path string) string {
	return strings.TrimSpace(strings.ReplaceAll(C.GoString(&buf[0]), path, "the file"))
}

// openGDAL opens a raster read-only through the allowed drivers, as if it lay alone in
// its folder. Errors wrap ErrCorrupt (a file GDAL cannot read) or ErrUnsupportedMedia (a
// virtual path).
func openGDAL(path string) (*gdalDataset, error) { return openGDALWith(path, nil) }

// openGDALWith is openGDAL, GDAL told that the files named siblings (plain names) lie
// beside the raster: the only ones it may look for there.
func openGDALWith(path string, siblings []string) (*gdalDataset, error) {
	if strings.HasPrefix(path, "/vsi") {
		return nil, fmt.Errorf("GDAL virtual file systems are not read: %w", ErrUnsupportedMedia)
	}
	// A file that is not there (or cannot be read) is the server's fault, not the file's.
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	gdalInit.Do(func() { C.sm_gdal_init(C.longlong(gdalCacheBytes)) })
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	// The raster's own name heads the list: GDAL takes an empty list for none given and
	// looks for files beside the raster itself.
	siblings = append([]string{filepath.Base(path)}, siblings...)
	list := (**C.char)(C.calloc(C.size_t(len(siblings)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(list))
	names := unsafe.Slice(list, len(siblings)+1)
	for i, s := range siblings {
		names[i] = C.CString(s)
		defer C.free(unsafe.Pointer(names[i]))
	}
	var msg [C.SM_GDAL_MSG]C.char
	vrt := C.int(0)
	if filepath.Base(path) == vrtCopyName {
		vrt = 1
	}
	h := C.sm_gdal_open(cpath, list, vrt, &msg[0])
	if h == nil {
		return nil, fmt.Errorf("GDAL cannot read it: %s: %w", gdalMessage(msg[:], path), ErrCorrupt)
	}
	return &gdalDataset{h: h, path: path, width: int(C.GDALGetRasterXSize(h)), height: int(C.GDALGetRasterYSize(h)),
		bands: int(C.GDALGetRasterCount(h))}, nil
}

// filesRead names the files besides the raster itself that GDAL reads for the dataset.
func (d *gdalDataset) filesRead() []string {
	list := C.sm_gdal_file_list(d.h)
	if list == nil {
		return nil
	}
	defer C.CSLDestroy(list)
	var out []string
	for _, p := range unsafe.Slice(list, C.CSLCount(list)) {
		if name := filepath.Base(C.GoString(p)); name != filepath.Base(d.path) {
			out = append(out, name)
		}
	}
	return out
}

// Close releases the dataset.
func (d *gdalDataset) Close() {
	if d.h != nil {
		C.GDALClose(d.h)
		d.h = nil
	}
}

func (d *gdalDataset) band(b int) C.GDALRasterBandH { return C.GDALGetRasterBand(d.h, C.int(b)) }

func (d *gdalDataset) dataType(b int) C.GDALDataType { return C.GDALGetRasterDataType(d.band(b)) }

func (d *gdalDataset) colorInterp(b int) C.GDALColorInterp {
	return C.GDALGetRasterColorInterpretation(d.band(b))
}

// raster describes the dataset.
func (d *gdalDataset) raster() Raster {
	r := Raster{Driver: C.GoString(C.sm_gdal_driver(d.h)), Bands: d.bands}
	if d.bands == 0 {
		return r
	}
	r.DataType = C.GoString(C.GDALGetDataTypeName(d.dataType(1)))
	r.Overviews = int(C.GDALGetOverviewCount(d.band(1)))
	for b := 1; b <= d.bands; b++ {
		r.ColorInterp = append(r.ColorInterp, C.GoString(C.GDALGetColorInterpretationName(d.colorInterp(b))))
		var has C.int
		v := float64(C.GDALGetRasterNoDataValue(d.band(b), &has))
		if has != 0 {
			r.NoData = append(r.NoData, &v)
		} else {
			r.NoData = append(r.NoData, nil)
		}
	}
	return r
}

// place fills in where the raster says it lies: its geotransform and CRS, its control
// points, and, when r.RPC says it has RPCs, positions taken through them. Only an upload
// needs this, so raster() leaves it out.
func (d *gdalDataset) place(r *Raster) {
	var gt [6]C.double
	if C.sm_gdal_geotransform(d.h, &gt[0]) != 0 {
		g := [6]float64{float64(gt[0]), float64(gt[1]), float64(gt[2]), float64(gt[3]), float64(gt[4]), float64(gt[5])}
		r.GeoTransform = &g
	}
	r.CRSWKT = C.GoString(C.GDALGetProjectionRef(d.h))
	if n := int(C.GDALGetGCPCount(d.h)); n > 0 {
		gcps := unsafe.Slice(C.GDALGetGCPs(d.h), min(n, maxGCPs))
		for _, g := range gcps {
			r.GCPs = append(r.GCPs, GCP{Pixel: float64(g.dfGCPPixel), Line: float64(g.dfGCPLine), X: float64(g.dfGCPX), Y: float64(g.dfGCPY)})
		}
		r.GCPCRSWKT = C.GoString(C.GDALGetGCPProjection(d.h))
	}
	if r.RPC {
		r.RPCPoints, r.RPCHeight = d.rpcPoints()
	}
}

// inspectGDAL reads what GDAL says of the raster at path and checks it against the
// limits and what satmark can show, before any pixel is read.
func inspectGDAL(path string, siblings []string, mediaType string, limits Limits) (Info, error) {
	d, err := openGDALWith(path, siblings)
	if err != nil {
		return Info{}, fmt.Errorf("cannot read the %s: %w", mediaType, err)
	}
	defer d.Close()
	r := d.raster()
	if want := gdalMediaTypes[mediaType]; r.Driver != want {
		return Info{}, fmt.Errorf("the file looks like %s but GDAL reads it as %s: %w", mediaType, r.Driver, ErrCorrupt)
	}
	if d.width <= 0 || d.height <= 0 {
		return Info{}, fmt.Errorf("the raster is %d×%d pixels: %w", d.width, d.height, ErrCorrupt)
	}
	if px := int64(d.width) * int64(d.height); limits.MaxPixels > 0 && px > limits.MaxPixels {
		return Info{}, fmt.Errorf("the image is %d×%d = %.1f megapixels; the limit is %.1f: %w",
			d.width, d.height, float64(px)/1e6, float64(limits.MaxPixels)/1e6, ErrTooLarge)
	}
	if r.Bands < 1 || r.Bands > maxBands {
		return Info{}, fmt.Errorf("the raster has %d bands; satmark shows rasters of 1 to %d: %w", r.Bands, maxBands, ErrUnsupportedMedia)
	}
	for b := 1; b <= r.Bands; b++ {
		if C.GDALDataTypeIsComplex(d.dataType(b)) != 0 {
			return Info{}, fmt.Errorf("band %d holds complex numbers (%s), which satmark cannot show: %w",
				b, C.GoString(C.GDALGetDataTypeName(d.dataType(b))), ErrUnsupportedMedia)
		}
	}
	md := d.fileMetadata()
	r.RPC = md.RPC
	d.place(&r)
	r.SidecarsRead = d.filesRead()
	return Info{MediaType: mediaType, Width: d.width, Height: d.height, Orientation: 1, Raster: &r, Metadata: &md}, nil
}

// displayFor chooses the default display: the bands whose colour interpretation says
// red, green and blue, else a palette, else bands 1–3, else band 1 as grey; and, for
// anything but 8-bit data, the 2–98 % per-band percentile stretch of a decimated sample.
func (d *gdalDataset) displayFor() (*Display, error) {
	disp := &Display{Gamma: 1}
	red, green, blue := 0, 0, 0
	for b := 1; b <= d.bands; b++ {
		switch d.colorInterp(b) {
		case C.GCI_RedBand:
			red = ifZero(red, b)
		case C.GCI_GreenBand:
			green = ifZero(green, b)
		case C.GCI_BlueBand:
			blue = ifZero(blue, b)
		}
	}
	switch {
	case red > 0 && green > 0 && blue > 0:
		disp.Bands = []int{red, green, blue}
	case d.colorInterp(1) == C.GCI_PaletteIndex && d.dataType(1) == C.GDT_Byte:
		disp.Bands, disp.Palette = []int{1}, true
		return disp, nil
	case d.bands >= 3:
		disp.Bands = []int{1, 2, 3}
	default:
		disp.Bands = []int{1}
	}
	if d.eightBit(disp.Bands) {
		// Samples of 1, 2 or 4 bits (a bilevel PNG or TIFF) come as 0 to 2^n − 1: onto
		// 0–255, as image decoders expand them.
		if n := d.nbits(disp.Bands[0]); n > 0 && n < 8 {
			top := float64(int(1)<<n - 1)
			for range disp.Bands {
				disp.Stretch = append(disp.Stretch, Stretch{Min: 0, Max: top, From: "bit depth"})
			}
			disp.Method = fmt.Sprintf("the file's %d-bit samples, 0–%g", n, top)
		}
		return disp, nil
	}
	st, method, err := d.stretches(disp.Bands, StretchPercentile, 100*stretchLow, 100*stretchHigh)
	if err != nil {
		return nil, err
	}
	disp.Stretch, disp.Method = st, method
	return disp, nil
}

// nbits is the bit depth band b declares (its NBITS), or 0 when it declares none.
func (d *gdalDataset) nbits(b int) int {
	key, domain := C.CString("NBITS"), C.CString("IMAGE_STRUCTURE")
	defer C.free(unsafe.Pointer(key))
	defer C.free(unsafe.Pointer(domain))
	v := C.GDALGetMetadataItem(C.GDALMajorObjectH(d.band(b)), key, domain)
	if v == nil {
		return 0
	}
	n, _ := strconv.Atoi(C.GoString(v))
	return n
}

// rowBytes is the size of one row of every band, as GDAL caches it.
func (d *gdalDataset) rowBytes() int {
	n := 0
	for b := 1; b <= d.bands; b++ {
		n += int(C.GDALGetDataTypeSizeBytes(d.dataType(b)))
	}
	return max(1, n*d.width)
}

// eightBit reports whether every one of the bands holds bytes.
func (d *gdalDataset) eightBit(bands []int) bool {
	for _, b := range bands {
		if d.dataType(b) != C.GDT_Byte {
			return false
		}
	}
	return true
}

// stretches computes the stretch of each band from a decimated sample: the low and high
// percentiles (StretchPercentile) or the least and greatest value (StretchMinMax) of
// its valid pixels, and says what was sampled.
func (d *gdalDataset) stretches(bands []int, from string, low, high float64) ([]Stretch, string, error) {
	vals, valid, method, err := d.sample(channels(bands))
	if err != nil {
		return nil, "", err
	}
	if from == StretchMinMax {
		low, high = 0, 100
	}
	label := from
	if from == StretchPercentile {
		label = fmt.Sprintf("%s %g–%g", from, low, high)
	}
	var out []Stretch
	for c := range bands {
		var v []float32
		for i := range valid {
			if x := vals[3*i+c]; valid[i] != 0 && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
				v = append(v, x)
			}
		}
		s := Stretch{Min: 0, Max: 255, From: label}
		if len(v) > 0 {
			lo, hi := int(low/100*float64(len(v)-1)), int(high/100*float64(len(v)-1))
			s.Min = float64(nth(v, lo))
			s.Max = float64(nth(v[lo:], hi-lo)) // nth left v[lo:] holding the values ≥ v[lo]
		}
		if s.Max <= s.Min { // a flat band: a step of one above its value
			s.Max = s.Min + 1
		}
		out = append(out, s)
	}
	return out, fmt.Sprintf("%s of %s", label, method), nil
}

// nth returns the k-th smallest of v (counting from 0), reordering v so that v[:k] holds
// values no greater and v[k:] values no smaller (Hoare's selection: linear on average,
// where sorting a million samples per band was most of the time a stretch took).
func nth(v []float32, k int) float32 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// Sampling a large raster without overviews: sampleGrid² windows of up to sampleWindow
// pixels, spread evenly over the image, each read at sampleRead² (nearest). Only the
// blocks under the windows are decoded, where a decimated read of the whole image would
// decode every block (once per band, when they do not all fit in the block cache).
const sampleGrid, sampleWindow, sampleRead = 8, 512, 128

// sample reads the pixels the stretch is computed from: the three bands as float32,
// pixel-interleaved, and their validity (0: no data), and says what it read. A raster
// with overviews, or a small one, is read whole, decimated to at most stretchSample on
// its longer side (GDAL serves that from the overviews); a large one without overviews
// as a grid of windows.
func (d *gdalDataset) sample(bands [3]int) ([]float32, []byte, string, error) {
	type window struct{ x, y, w, h, bw, bh int }
	var wins []window
	var method string
	if C.GDALGetOverviewCount(d.band(bands[0])) > 0 || int64(d.width)*int64(d.height) <= 4*stretchSample*stretchSample ||
		min(d.width, d.height) < sampleGrid*sampleRead {
		sw, sh := d.width, d.height
		if long := max(sw, sh); long > stretchSample {
			sw, sh = max(1, sw*stretchSample/long), max(1, sh*stretchSample/long)
		}
		wins = []window{{0, 0, d.width, d.height, sw, sh}}
		method = fmt.Sprintf("the whole image read at %d×%d", sw, sh)
	} else {
		ww, wh := min(sampleWindow, d.width/sampleGrid), min(sampleWindow, d.height/sampleGrid)
		bx, by := d.blockSize(bands[0])
		for j := 0; j < sampleGrid; j++ {
			for i := 0; i < sampleGrid; i++ {
				x := alignSample((2*i+1)*d.width/(2*sampleGrid), ww, bx, d.width)
				y := alignSample((2*j+1)*d.height/(2*sampleGrid), wh, by, d.height)
				wins = append(wins, window{x, y, ww, wh, sampleRead, sampleRead})
			}
		}
		method = fmt.Sprintf("%d×%d windows of %d×%d px spread over the image, each read at %d×%d",
			sampleGrid, sampleGrid, ww, wh, sampleRead, sampleRead)
	}
	var vals []float32
	var valid []byte
	for _, w := range wins {
		v := make([]float32, 3*w.bw*w.bh)
		if err := d.readFloat(w.x, w.y, w.w, w.h, v, w.bw, w.bh, bands); err != nil {
			return nil, nil, "", err
		}
		m, err := d.validMask(w.x, w.y, w.w, w.h, w.bw, w.bh, bands)
		if err != nil {
			return nil, nil, "", err
		}
		if m == nil {
			m = bytes.Repeat([]byte{1}, w.bw*w.bh)
		}
		vals, valid = append(vals, v...), append(valid, m...)
	}
	return vals, valid, method, nil
}

// alignSample places a sample window of length n about centre c on an axis of the given
// length cut into blocks of the given size: within the block that holds c when the window
// fits in one, else starting on a block's edge, so the window decodes as few blocks as it
// can. Blocks as long as a grid cell or longer (a strip the width of the image) leave the
// window centred.
func alignSample(c, n, block, length int) int {
	x := c - n/2
	switch {
	case block <= 0 || block > length/sampleGrid:
	case n <= block:
		x = c/block*block + (block-n)/2
	default:
		x = x / block * block
	}
	return max(0, min(x, length-n))
}

func ifZero(v, b int) int {
	if v == 0 {
		return b
	}
	return v
}

// readFloat reads the window (x, y, w, h) of the three bands as float32, pixel-interleaved,
// resampled to bw×bh.
func (d *gdalDataset) readFloat(x, y, w, h int, dst []float32, bw, bh int, bands [3]int) error {
	var msg [C.SM_GDAL_MSG]C.char
	bm := [3]C.int{C.int(bands[0]), C.int(bands[1]), C.int(bands[2])}
	if C.sm_gdal_read(d.h, C.int(x), C.int(y), C.int(w), C.int(h), unsafe.Pointer(&dst[0]), C.int(bw), C.int(bh),
		C.GDT_Float32, 3, &bm[0], 12, C.longlong(12*bw), 4, &msg[0]) != 0 {
		return fmt.Errorf("cannot read the raster's pixels: %s: %w", gdalMessage(msg[:], d.path), ErrCorrupt)
	}
	return nil
}

// readUint16 reads the window (x, y, w, h) of the three bands as t (GDT_UInt16 or
// GDT_Int16, stored as their bits), pixel-interleaved.
func (d *gdalDataset) readUint16(x, y, w, h int, dst []uint16, bands [3]int, t C.GDALDataType) error {
	var msg [C.SM_GDAL_MSG]C.char
	bm := [3]C.int{C.int(bands[0]), C.int(bands[1]), C.int(bands[2])}
	if C.sm_gdal_read(d.h, C.int(x), C.int(y), C.int(w), C.int(h), unsafe.Pointer(&dst[0]), C.int(w), C.int(h),
		t, 3, &bm[0], 6, C.longlong(6*w), 2, &msg[0]) != 0 {
		return fmt.Errorf("cannot read the raster's pixels: %s: %w", gdalMessage(msg[:], d.path), ErrCorrupt)
	}
	return nil
}

// blockSize is the width and height of band b's blocks (tiles, or strips a row wide).
func (d *gdalDataset) blockSize(b int) (int, int) {
	var bx, by C.int
	C.GDALGetBlockSize(d.band(b), &bx, &by)
	return int(bx), int(by)
}

// readBytes reads the window of the given bands as bytes into dst, pixel pixel bytes
// apart and rows line bytes apart.
func (d *gdalDataset) readBytes(x, y, w, h int, dst []byte, bands []int, pixel, line int) error {
	var msg [C.SM_GDAL_MSG]C.char
	bm := make([]C.int, len(bands))
	for i, b := range bands {
		bm[i] = C.int(b)
	}
	if C.sm_gdal_read(d.h, C.int(x), C.int(y), C.int(w), C.int(h), unsafe.Pointer(&dst[0]), C.int(w), C.int(h),
		C.GDT_Byte, C.int(len(bm)), &bm[0], C.longlong(pixel), C.longlong(line), 1, &msg[0]) != 0 {
		return fmt.Errorf("cannot read the raster's pixels: %s: %w", gdalMessage(msg[:], d.path), ErrCorrupt)
	}
	return nil
}

// masked reports whether any of the bands may have pixels without data: a nodata value,
// an alpha band, or a mask of the dataset's own (GDAL's mask flags other than all valid).
func (d *gdalDataset) masked(bands [3]int) bool {
	for _, b := range bands {
		if C.GDALGetMaskFlags(d.band(b))&C.GMF_ALL_VALID == 0 {
			return true
		}
	}
	return false
}

// validMask returns, for the window resampled to bw×bh, the least of the displayed bands'
// GDAL masks: 0 where any has no data (its nodata value, an alpha of 0, an internal mask),
// else 255, or the alpha of an alpha band; nil when every pixel is valid.
func (d *gdalDataset) validMask(x, y, w, h, bw, bh int, bands [3]int) ([]byte, error) {
	var out, buf []byte
	seen := map[int]bool{}
	for _, b := range bands {
		flags := C.GDALGetMaskFlags(d.band(b))
		if seen[b] || flags&C.GMF_ALL_VALID != 0 {
			continue
		}
		seen[b] = true
		if buf == nil {
			buf = make([]byte, bw*bh)
		}
		var msg [C.SM_GDAL_MSG]C.char
		if C.sm_gdal_read_mask(d.h, C.int(b), C.int(x), C.int(y), C.int(w), C.int(h), unsafe.Pointer(&buf[0]),
			C.int(bw), C.int(bh), C.longlong(bw), &msg[0]) != 0 {
			return nil, fmt.Errorf("cannot read the raster's mask: %s: %w", gdalMessage(msg[:], d.path), ErrCorrupt)
		}
		if out == nil {
			out = slices.Clone(buf)
			continue
		}
		for i, v := range buf {
			out[i] = min(out[i], v)
		}
		if flags&C.GMF_PER_DATASET != 0 {
			break
		}
	}
	return out, nil
}

// gdalSource delivers a raster as RGB rows through windowed reads, shown as disp says, or
// with alpha as RGBA rows whose alpha is the bands' mask (see validMask).
type gdalSource struct {
	d       *gdalDataset
	disp    *Display
	alpha   bool
	rgb     []byte // a window's RGB, when the rows are RGBA
	y       int
	palette [256 * 3]byte
	floats  []float32
	ints    []uint16
	index   []byte
	// intType is GDT_UInt16 or GDT_Int16 when every displayed band holds integers of at
	// most 16 bits: they are read as such and shown through lut, a table per channel
	// indexed by the value's 16 bits, rather than converted to float32 (0 otherwise).
	intType C.GDALDataType
	lut     *[3][1 << 16]byte
	// ahead holds the rows of the current row of blocks from aheadY on (aheadN of them),
	// when blocks are taller than the rows asked for: each row of blocks is read once, as
	// a whole, so none is decoded twice.
	ahead          []byte
	aheadY, aheadN int
}

// maxAheadBytes bounds the rows of blocks a gdalSource reads ahead; a raster with taller
// blocks (a striped file of few strips) is read as asked.
const maxAheadBytes = 256 << 20

// stretchIntType is the 16-bit integer type the displayed bands are read as with a
// lookup table, or 0 when one of them is wider or not an integer.
func (d *gdalDataset) stretchIntType(bands [3]int) C.GDALDataType {
	unsigned, signed := true, true
	for _, b := range bands {
		switch d.dataType(b) {
		case C.GDT_Byte:
		case C.GDT_UInt16:
			signed = false
		case C.GDT_Int16:
			unsigned = false
		default:
			return 0
		}
	}
	switch {
	case unsigned:
		return C.GDT_UInt16
	case signed:
		return C.GDT_Int16
	}
	return 0
}

// intLUT tabulates, per channel, the shade of every 16-bit value of type t (its bits).
func (sh *shader) intLUT(t C.GDALDataType) *[3][1 << 16]byte {
	lut := new([3][1 << 16]byte)
	for c := range lut {
		for i := range lut[c] {
			x := float32(uint16(i))
			if t == C.GDT_Int16 {
				x = float32(int16(uint16(i)))
			}
			lut[c][i] = sh.shade(c, x)
		}
	}
	return lut
}

// openGDALSource opens the raster at path for streaming; disp is the display to use, or
// nil to choose it now.
func openGDALSource(path string, disp *Display) (*gdalSource, error) {
	d, err := openGDAL(path)
	if err != nil {
		return nil, err
	}
	if disp == nil {
		if disp, err = d.displayFor(); err != nil {
			d.Close()
			return nil, err
		}
	}
	if len(disp.Bands) != 1 && len(disp.Bands) != 3 {
		d.Close()
		return nil, fmt.Errorf("the display asks for %d bands; it shows one or three: %w", len(disp.Bands), ErrCorrupt)
	}
	for _, b := range disp.Bands {
		if b < 1 || b > d.bands {
			d.Close()
			return nil, fmt.Errorf("the display asks for band %d of a raster of %d: %w", b, d.bands, ErrCorrupt)
		}
	}
	s := &gdalSource{d: d, disp: disp}
	if !disp.shownAsStored() && !disp.Palette {
		s.intType = d.stretchIntType(channels(disp.Bands))
	}
	if disp.Palette {
		C.sm_gdal_palette(d.h, C.int(disp.Bands[0]), (*C.uchar)(unsafe.Pointer(&s.palette[0])))
	}
	return s, nil
}

func (s *gdalSource) read(buf []byte, stride, n int) (int, error) {
	n = min(n, s.d.height-s.y)
	if n <= 0 {
		return 0, nil
	}
	px := 3
	if s.alpha {
		px = 4
	}
	w := s.d.width
	_, bh := s.d.blockSize(s.disp.Bands[0])
	if bh <= n || bh*w*px > maxAheadBytes {
		// The window is read band by band, and each band must find the blocks the first
		// one loaded still in the cache (a PNG cannot go back a line without decoding
		// again from its start): no more rows at once than a quarter of it holds.
		n = min(n, max(bh, gdalCacheBytes/4/s.d.rowBytes()))
		if err := s.window(0, s.y, w, n, buf, stride); err != nil {
			return 0, err
		}
		s.y += n
		return n, nil
	}
	if s.aheadN == 0 { // read the rest of this row of blocks
		s.aheadY, s.aheadN = s.y, min(bh-s.y%bh, s.d.height-s.y)
		if len(s.ahead) < s.aheadN*w*px {
			s.ahead = make([]byte, bh*w*px)
		}
		if err := s.window(0, s.aheadY, w, s.aheadN, s.ahead, w*px); err != nil {
			s.aheadN = 0
			return 0, err
		}
	}
	n = min(n, s.aheadN-(s.y-s.aheadY))
	for r := 0; r < n; r++ {
		copy(buf[r*stride:r*stride+w*px], s.ahead[(s.y-s.aheadY+r)*w*px:])
	}
	s.y += n
	if s.y == s.aheadY+s.aheadN {
		s.aheadN = 0
	}
	return n, nil
}

// window reads the pixels of (x, y, w, h) into dst, rows stride bytes apart: RGB, with
// the pixels without data black, or, with alpha, RGBA.
func (s *gdalSource) window(x, y, w, h int, dst []byte, stride int) error {
	rgb, rgbStride := dst, stride
	if s.alpha {
		if len(s.rgb) < 3*w*h {
			s.rgb = make([]byte, 3*w*h)
		}
		rgb, rgbStride = s.rgb, 3*w
	}
	if err := s.colours(x, y, w, h, rgb, rgbStride); err != nil {
		return err
	}
	valid, err := s.d.validMask(x, y, w, h, w, h, channels(s.disp.Bands))
	if err != nil {
		return err
	}
	if !s.alpha {
		// No data is black, as a JPEG has no transparency: only the tiles of a
		// pyramid built before PNG tiles are repaired this way.
		for r := 0; valid != nil && r < h; r++ {
			row := dst[r*stride:]
			for i, v := range valid[r*w : (r+1)*w] {
				if v == 0 {
					row[3*i], row[3*i+1], row[3*i+2] = 0, 0, 0
				}
			}
		}
		return nil
	}
	for r := 0; r < h; r++ {
		row, rgb := dst[r*stride:r*stride+4*w], s.rgb[3*r*w:]
		for i := 0; i < w; i++ {
			a := byte(255)
			if valid != nil {
				a = valid[r*w+i]
			}
			if a == 0 {
				row[4*i], row[4*i+1], row[4*i+2], row[4*i+3] = 0, 0, 0, 0
			} else {
				row[4*i], row[4*i+1], row[4*i+2], row[4*i+3] = rgb[3*i], rgb[3*i+1], rgb[3*i+2], a
			}
		}
	}
	return nil
}

// colours reads the RGB pixels of (x, y, w, h) into dst, rows stride bytes apart, as the
// display shows them.
func (s *gdalSource) colours(x, y, w, h int, dst []byte, stride int) error {
	switch {
	case s.disp.Palette:
		if len(s.index) < w*h {
			s.index = make([]byte, w*h)
		}
		if err := s.d.readBytes(x, y, w, h, s.index, s.disp.Bands[:1], 1, w); err != nil {
			return err
		}
		for r := 0; r < h; r++ {
			row, idx := dst[r*stride:], s.index[r*w:]
			for i := 0; i < w; i++ {
				copy(row[3*i:3*i+3], s.palette[3*int(idx[i]):])
			}
		}
	case !s.disp.shownAsStored():
		if s.intType != 0 {
			if s.lut == nil {
				sh := s.shader()
				s.lut = sh.intLUT(s.intType)
			}
			if len(s.ints) < 3*w*h {
				s.ints = make([]uint16, 3*w*h)
			}
			if err := s.d.readUint16(x, y, w, h, s.ints, channels(s.disp.Bands), s.intType); err != nil {
				return err
			}
			r0, g0, b0 := &s.lut[0], &s.lut[1], &s.lut[2]
			for r := 0; r < h; r++ {
				row, src := dst[r*stride:r*stride+3*w], s.ints[3*r*w:3*(r+1)*w]
				for i := 0; i < len(row); i += 3 {
					row[i], row[i+1], row[i+2] = r0[src[i]], g0[src[i+1]], b0[src[i+2]]
				}
			}
			s.ramp(dst, stride, w, h)
			break
		}
		if len(s.floats) < 3*w*h {
			s.floats = make([]float32, 3*w*h)
		}
		if err := s.d.readFloat(x, y, w, h, s.floats, w, h, channels(s.disp.Bands)); err != nil {
			return err
		}
		s.shade(dst, stride, w, h)
	default:
		bands := channels(s.disp.Bands)
		if err := s.d.readBytes(x, y, w, h, dst, bands[:], 3, stride); err != nil {
			return err
		}
	}
	return nil
}

// shader maps a channel's values onto 0–255: stretched onto 0–1 (8-bit data without a
// stretch as if from 0–255), raised to 1/gamma, then scaled to 0–255; NaN is black.
type shader struct {
	scale, offset [3]float64
	inv           float64
}

func (s *gdalSource) shader() *shader {
	sh := &shader{inv: 1 / s.disp.gamma()}
	for c := 0; c < 3; c++ {
		st := Stretch{Min: 0, Max: 255}
		if len(s.disp.Stretch) == 1 {
			st = s.disp.Stretch[0]
		} else if len(s.disp.Stretch) == 3 {
			st = s.disp.Stretch[c]
		}
		sh.scale[c] = 1 / math.Max(st.Max-st.Min, 1e-12)
		sh.offset[c] = st.Min
	}
	return sh
}

func (sh *shader) shade(c int, x float32) byte {
	t := (float64(x) - sh.offset[c]) * sh.scale[c]
	switch {
	case t >= 1:
		t = 1
	case t > 0: // NaN fails both tests and is shown black
		if sh.inv != 1 {
			t = math.Pow(t, sh.inv)
		}
	default:
		t = 0
	}
	return byte(255*t + 0.5)
}

// shade turns the float pixels read into s.floats (three channels, w×h) into RGB bytes
// (see shader), then through the ramp of a single band.
func (s *gdalSource) shade(dst []byte, stride, w, h int) {
	sh := s.shader()
	for r := 0; r < h; r++ {
		row, src := dst[r*stride:], s.floats[3*r*w:]
		for i := 0; i < 3*w; i++ {
			row[i] = sh.shade(i%3, src[i])
		}
	}
	s.ramp(dst, stride, w, h)
}

// ramp looks a single band's shades (in every channel) up in its colour ramp, if it has
// one.
func (s *gdalSource) ramp(dst []byte, stride, w, h int) {
	lut := ramps[s.disp.Ramp]
	if lut == nil || len(s.disp.Bands) != 1 {
		return
	}
	for r := 0; r < h; r++ {
		row := dst[r*stride:]
		for i := 0; i < w; i++ {
			copy(row[3*i:3*i+3], lut[row[3*i]][:])
		}
	}
}

func (s *gdalSource) Close() { s.d.Close() }
