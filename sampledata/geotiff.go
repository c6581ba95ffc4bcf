package sampledata

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// A small writer of the GeoTIFFs the 16-bit sample scenes are delivered as: classic
// little-endian TIFF, unsigned 16-bit samples, pixel-interleaved bands, 256×256 tiles,
// DEFLATE with the horizontal predictor, placed north-up in EPSG:4326 by a tiepoint and
// a pixel scale, with GDAL's metadata and nodata tags. golang.org/x/image/tiff writes
// neither 16-bit multi-band images nor these tags.

// geoTIFF is an image to write.
type geoTIFF struct {
	width, height, bands int
	pix                  []uint16   // bands samples per pixel, rows top to bottom
	geoTransform         [6]float64 // GDAL order, EPSG:4326, north up (gt[2] = gt[4] = 0)
	nodata               uint16
	description          string // ImageDescription
	software             string
	metadata             []gdalItem // GDAL_METADATA
}

// gdalItem is one item of GDAL's metadata tag: a dataset item (band < 0) or a band's
// (band counts from 0), with a role for the items GDAL reads as band properties
// ("description", "colorinterp").
type gdalItem struct {
	name  string
	band  int
	role  string
	value string
}

// TIFF tags, types and values written here (TIFF 6.0; GeoTIFF 1.1; GDAL's private tags).
const (
	tiffImageWidth      = 256
	tiffImageLength     = 257
	tiffBitsPerSample   = 258
	tiffCompression     = 259
	tiffPhotometric     = 262
	tiffImageDesc       = 270
	tiffSamplesPerPixel = 277
	tiffPlanarConfig    = 284
	tiffSoftware        = 305
	tiffPredictor       = 317
	tiffTileWidth       = 322
	tiffTileLength      = 323
	tiffTileOffsets     = 324
	tiffTileByteCounts  = 325
	tiffExtraSamples    = 338
	tiffSampleFormat    = 339
	tiffPixelScale      = 33550
	tiffTiepoint        = 33922
	tiffGeoKeyDirectory = 34735
	tiffGDALMetadata    = 42112
	tiffGDALNodata      = 42113

	tiffASCII  = 2
	tiffShort  = 3
	tiffLong   = 4
	tiffDouble = 12

	tiffTile = 256
)

// encode writes the GeoTIFF. Deterministic: the same image gives the same bytes.
func (g geoTIFF) encode() ([]byte, error) {
	if g.width <= 0 || g.height <= 0 || g.width > math.MaxUint16 || g.height > math.MaxUint16 ||
		g.bands <= 0 || g.bands > 16 || len(g.pix) != g.width*g.height*g.bands {
		return nil, fmt.Errorf("geotiff: %d×%d×%d image with %d samples", g.width, g.height, g.bands, len(g.pix))
	}
	if g.geoTransform[2] != 0 || g.geoTransform[4] != 0 || g.geoTransform[1] <= 0 || g.geoTransform[5] >= 0 {
		return nil, errors.New("geotiff: only a north-up geotransform can be written as a tiepoint and a pixel scale")
	}
	tiles, err := g.tiles()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write([]byte{'I', 'I', 42, 0, 0, 0, 0, 0}) // the directory's offset is filled in below
	offsets := make([]uint32, len(tiles))
	counts := make([]uint32, len(tiles))
	for i, t := range tiles {
		offsets[i], counts[i] = uint32(out.Len()), uint32(len(t))
		out.Write(t)
		if out.Len()%2 == 1 {
			out.WriteByte(0)
		}
	}
	if out.Len() > math.MaxUint32-1<<20 {
		return nil, errors.New("geotiff: too large for classic TIFF")
	}
	gt := g.geoTransform
	rep := func(v uint16) []uint16 {
		s := make([]uint16, g.bands)
		for i := range s {
			s[i] = v
		}
		return s
	}
	entries := []tiffField{
		shortsField(tiffImageWidth, uint16(g.width)),
		shortsField(tiffImageLength, uint16(g.height)),
		shortsField(tiffBitsPerSample, rep(16)...),
		shortsField(tiffCompression, 8), // DEFLATE (Adobe)
		shortsField(tiffPhotometric, 1), // min-is-black
		asciiField(tiffImageDesc, g.description),
		shortsField(tiffSamplesPerPixel, uint16(g.bands)),
		shortsField(tiffPlanarConfig, 1), // pixel-interleaved
		asciiField(tiffSoftware, g.software),
		shortsField(tiffPredictor, 2), // horizontal differencing
		shortsField(tiffTileWidth, tiffTile),
		shortsField(tiffTileLength, tiffTile),
		longsField(tiffTileOffsets, offsets),
		longsField(tiffTileByteCounts, counts),
		shortsField(tiffSampleFormat, rep(1)...), // unsigned integer
		doublesField(tiffPixelScale, gt[1], -gt[5], 0),
		doublesField(tiffTiepoint, 0, 0, 0, gt[0], gt[3], 0),
		// GeoKey directory 1.1.0 with 4 keys: GTModelType geographic, GTRasterType
		// PixelIsArea, GeographicType EPSG:4326, GeogAngularUnits degree.
		shortsField(tiffGeoKeyDirectory, 1, 1, 1, 4, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326, 2054, 0, 1, 9102),
		asciiField(tiffGDALMetadata, g.gdalMetadata()),
		asciiField(tiffGDALNodata, fmt.Sprint(g.nodata)),
	}
	if g.bands > 1 {
		entries = append(entries, shortsField(tiffExtraSamples, make([]uint16, g.bands-1)...)) // unspecified
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].tag < entries[j].tag })
	ifd := out.Len()
	binary.LittleEndian.PutUint32(out.Bytes()[4:], uint32(ifd))
	// directory: count, entries, next-directory offset 0, then the values that do not fit
	extra := ifd + 2 + 12*len(entries) + 4
	dir := binary.LittleEndian.AppendUint16(nil, uint16(len(entries)))
	var values []byte
	for _, e := range entries {
		dir = binary.LittleEndian.AppendUint16(dir, e.tag)
		dir = binary.LittleEndian.AppendUint16(dir, e.typ)
		dir = binary.LittleEndian.AppendUint32(dir, e.count)
		if len(e.data) <= 4 {
			dir = append(dir, e.data...)
			dir = append(dir, make([]byte, 4-len(e.data))...)
			continue
		}
		dir = binary.LittleEndian.AppendUint32(dir, uint32(extra+len(values)))
		values = append(values, e.data...)
		if len(values)%2 == 1 {
			values = append(values, 0)
		}
	}
	dir = binary.LittleEndian.AppendUint32(dir, 0)
	out.Write(dir)
	out.Write(values)
	return out.Bytes(), nil
}

// gdalMetadata is the XML of GDAL's metadata tag.
func (g geoTIFF) gdalMetadata() string {
	var b strings.Builder
	b.WriteString("<GDALMetadata>\n")
	for _, it := range g.metadata {
		fmt.Fprintf(&b, "  <Item name=\"%s\"", xmlEscape(it.name))
		if it.band >= 0 {
			fmt.Fprintf(&b, " sample=\"%d\"", it.band)
		}
		if it.role != "" {
			fmt.Fprintf(&b, " role=\"%s\"", xmlEscape(it.role))
		}
		fmt.Fprintf(&b, ">%s</Item>\n", xmlEscape(it.value))
	}
	b.WriteString("</GDALMetadata>")
	return b.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// tiles compresses the image's tiles, left to right and top to bottom, on all CPUs.
// Tiles reaching past the right or bottom edge are padded with nodata.
func (g geoTIFF) tiles() ([][]byte, error) {
	across := (g.width + tiffTile - 1) / tiffTile
	down := (g.height + tiffTile - 1) / tiffTile
	out := make([][]byte, across*down)
	errs := make([]error, len(out))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(runtime.GOMAXPROCS(0), 1), 8) {
		wg.Go(func() {
			raw := make([]byte, 2*tiffTile*tiffTile*g.bands)
			for i := range next {
				out[i], errs[i] = g.tile(i%across, i/across, raw)
			}
		})
	}
	for i := range out {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errors.Join(errs...)
}

// tile is tile (tx, ty) with the horizontal predictor applied (each sample less the same
// band's sample to its left in the tile row, modulo 2¹⁶), DEFLATE-compressed.
func (g geoTIFF) tile(tx, ty int, raw []byte) ([]byte, error) {
	nb := g.bands
	prev := make([]uint16, nb)
	for y := 0; y < tiffTile; y++ {
		row := raw[2*y*tiffTile*nb : 2*(y+1)*tiffTile*nb]
		sy := ty*tiffTile + y
		clear(prev)
		for x := 0; x < tiffTile; x++ {
			sx := tx*tiffTile + x
			for b := 0; b < nb; b++ {
				v := g.nodata
				if sx < g.width && sy < g.height {
					v = g.pix[(sy*g.width+sx)*nb+b]
				}
				binary.LittleEndian.PutUint16(row[2*(x*nb+b):], v-prev[b])
				prev[b] = v
			}
		}
	}
	var buf bytes.Buffer
	z, err := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(raw); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tiffField is one directory entry with its values, little-endian.
type tiffField struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

func shortsField(tag uint16, v ...uint16) tiffField {
	var d []byte
	for _, x := range v {
		d = binary.LittleEndian.AppendUint16(d, x)
	}
	return tiffField{tag, tiffShort, uint32(len(v)), d}
}

func longsField(tag uint16, v []uint32) tiffField {
	var d []byte
	for _, x := range v {
		d = binary.LittleEndian.AppendUint32(d, x)
	}
	return tiffField{tag, tiffLong, uint32(len(v)), d}
}

func doublesField(tag uint16, v ...float64) tiffField {
	var d []byte
	for _, x := range v {
		d = binary.LittleEndian.AppendUint64(d, math.Float64bits(x))
	}
	return tiffField{tag, tiffDouble, uint32(len(v)), d}
}

// asciiField is a NUL-terminated string.
func asciiField(tag uint16, s string) tiffField {
	d := append([]byte(s), 0)
	return tiffField{tag, tiffASCII, uint32(len(d)), d}
}
