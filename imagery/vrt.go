package imagery

// A GDAL virtual raster (VRT) uploaded with its sources: accepted only when every file it
// names is one of the rasters sent beside it, by a plain name relative to the VRT, and it
// uses nothing of the VRT format that could reach further (overviews and masks in other
// files, derived bands, open options, a subclass, nested XML). It is read from a copy
// kept among its sources (rasterPath), so the sources resolve beside it, with GDAL's VRT
// driver allowed for that copy alone.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// VRTMediaType is the media type satmark records for an uploaded VRT.
const VRTMediaType = "application/x-gdal-vrt"

// vrtCopyName is the name of the VRT's copy among its sources; no sidecar can have it
// (a sidecar's name never starts with a dot).
const vrtCopyName = ".satmark.vrt"

// maxVRTBytes bounds an uploaded VRT's XML.
const maxVRTBytes = 1 << 20

// rect is what SrcRect and DstRect carry.
var rect = []string{"xOff", "yOff", "xSize", "ySize"}

// vrtElements are the elements of the VRT format an upload may use, with the attributes
// each may carry.
var vrtElements = map[string][]string{
	"VRTDataset":          {"rasterXSize", "rasterYSize"},
	"SRS":                 {"dataAxisToSRSAxisMapping"},
	"GeoTransform":        nil,
	"GCPList":             {"Projection", "dataAxisToSRSAxisMapping"},
	"GCP":                 {"Id", "Info", "Pixel", "Line", "X", "Y", "Z"},
	"Metadata":            {"domain"},
	"MDI":                 {"key"},
	"VRTRasterBand":       {"dataType", "band", "blockXSize", "blockYSize"},
	"ColorInterp":         nil,
	"NoDataValue":         nil,
	"HideNoDataValue":     nil,
	"ColorTable":          nil,
	"Entry":               {"c1", "c2", "c3", "c4"},
	"Description":         nil,
	"UnitType":            nil,
	"Offset":              nil,
	"Scale":               nil,
	"CategoryNames":       nil,
	"Category":            nil,
	"SimpleSource":        {"resampling"},
	"ComplexSource":       {"resampling"},
	"AveragedSource":      {"resampling"},
	"SourceFilename":      {"relativeToVRT", "shared"},
	"SourceBand":          nil,
	"SourceProperties":    {"RasterXSize", "RasterYSize", "DataType", "BlockXSize", "BlockYSize"},
	"SrcRect":             rect,
	"DstRect":             rect,
	"ScaleOffset":         nil,
	"ScaleRatio":          nil,
	"NODATA":              nil,
	"UseMaskBand":         nil,
	"LUT":                 nil,
	"ColorTableComponent": nil,
	"Exponent":            nil,
	"SrcMin":              nil,
	"SrcMax":              nil,
	"DstMin":              nil,
	"DstMax":              nil,
}

// vrtSRS is what a VRT's CRS may be: WKT, or an EPSG code.
var vrtSRS = regexp.MustCompile(`^(EPSG:[0-9]+|[A-Z][A-Z0-9_]*\[[^\x00]*\])$`)

// checkVRT reads the VRT's XML and returns the sources it names, each one of sent (the
// names of the files sent beside it). Anything else is an error wrapping
// ErrUnsupportedMedia that names what it refuses.
func checkVRT(doc []byte, sent []string) ([]string, error) {
	refuse := func(format string, args ...any) ([]string, error) {
		return nil, fmt.Errorf("the VRT is refused: "+format+": %w", append(args, ErrUnsupportedMedia)...)
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []string
	var used []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse("its XML cannot be read: %v", err)
		}
		switch tok := tok.(type) {
		case xml.Directive:
			return refuse("it has a <!%s> declaration", strings.Fields(string(tok) + " ")[0])
		case xml.StartElement:
			name := tok.Name.Local
			allowed, ok := vrtElements[name]
			if !ok || tok.Name.Space != "" {
				return refuse("it uses <%s>, which an uploaded VRT may not (only bands made of the sources sent with it)", name)
			}
			if len(stack) == 0 && name != "VRTDataset" {
				return refuse("it is not a <VRTDataset>")
			}
			for _, a := range tok.Attr {
				if !slices.Contains(allowed, a.Name.Local) {
					return refuse("<%s %s=%q> is not accepted", name, a.Name.Local, a.Value)
				}
				if a.Name.Local == "Projection" && !vrtSRS.MatchString(strings.TrimSpace(a.Value)) {
					return refuse("its control points' projection %.40q is neither WKT nor an EPSG code", a.Value)
				}
			}
			if name == "SourceFilename" {
				rel := ""
				for _, a := range tok.Attr {
					if a.Name.Local == "relativeToVRT" {
						rel = a.Value
					}
				}
				if rel != "1" {
					stack = append(stack, name+" absolute")
					text.Reset()
					continue
				}
			}
			stack = append(stack, name)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if srs := strings.TrimSpace(text.String()); top == "SRS" && srs != "" && !vrtSRS.MatchString(srs) {
				// GDAL takes any user input for a CRS, a file's name among them.
				return refuse("its <SRS> %.40q is neither WKT nor an EPSG code", srs)
			}
			if !strings.HasPrefix(top, "SourceFilename") {
				continue
			}
			src := strings.TrimSpace(text.String())
			switch {
			case top == "SourceFilename absolute":
				return refuse("its source %q is not relative to the VRT (relativeToVRT=\"1\"); a source must be one of the files sent with it", src)
			case strings.HasPrefix(src, "/vsi") || strings.Contains(src, ":"):
				return refuse("its source %q is a GDAL virtual file, a URL or a subdataset; a source must be one of the files sent with it", src)
			case checkFileName(src) != nil:
				return refuse("its source %q is a path; a source must be one of the files sent with it, by its name alone", src)
			case !slices.Contains(sent, src):
				return refuse("its source %q was not sent with it", src)
			}
			if !slices.Contains(used, src) {
				used = append(used, src)
			}
		}
	}
	if len(used) == 0 {
		return refuse("it names no source")
	}
	return used, nil
}

// inspectVRT checks an uploaded VRT and the rasters sent with it as its sources (see
// checkVRT; each source must be a TIFF, JPEG 2000, NITF or ERDAS IMG raster, and every
// one sent must be used), then reads the VRT through GDAL from its copy among them.
func (l *Library) inspectVRT(u *Upload) (Info, error) {
	if u.Size > maxVRTBytes {
		return Info{}, fmt.Errorf("the VRT is %d bytes; an uploaded VRT is at most %d: %w", u.Size, maxVRTBytes, ErrTooLarge)
	}
	doc, err := os.ReadFile(u.Path)
	if err != nil {
		return Info{}, err
	}
	var sent []string
	for _, s := range u.Sidecars {
		if s.Kind == SidecarSource {
			sent = append(sent, s.Name)
		}
	}
	used, err := checkVRT(doc, sent)
	if err != nil {
		return Info{}, err
	}
	for _, name := range sent {
		if !slices.Contains(used, name) {
			return Info{}, fmt.Errorf("the raster %q came with the VRT, which does not use it: %w", name, ErrBadSidecar)
		}
		head, err := readHead(filepath.Join(u.dir, name))
		if err != nil {
			return Info{}, err
		}
		if !ReadByGDAL(Sniff(head)) {
			what := "not a TIFF, JPEG 2000, NITF or ERDAS IMG raster"
			if isVRT(head) {
				what = "a VRT itself; a VRT's sources must be rasters"
			}
			return Info{}, fmt.Errorf("the VRT is refused: its source %q is %s: %w", name, what, ErrUnsupportedMedia)
		}
	}
	cp := filepath.Join(u.dir, vrtCopyName)
	if err := os.WriteFile(cp, doc, 0o644); err != nil {
		return Info{}, err
	}
	info, err := inspectGDAL(cp, u.siblings(), VRTMediaType, l.limits)
	if err != nil {
		return Info{}, err
	}
	if r := info.Raster; r != nil {
		r.SidecarsRead = slices.DeleteFunc(r.SidecarsRead, func(n string) bool { return slices.Contains(used, n) })
	}
	return info, nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return head[:n], nil
}

// rasterPath is the file GDAL reads for the stored original of that SHA-256: the
// original itself, or for a VRT its copy among its sources.
func (l *Library) rasterPath(sha string) string {
	cp := filepath.Join(l.SidecarDir(sha), vrtCopyName)
	if _, err := os.Stat(cp); err == nil {
		return cp
	}
	return l.OriginalPath(sha)
}
