package imagery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Display is how a raster's bands become the 8-bit RGB of its tiles: which bands, how
// their values are stretched onto 0–255, a gamma, and for a single band an optional
// colour ramp. The defaults are chosen when an image is first built (DefaultDisplay); an
// analyst may change them (CheckDisplay says what is allowed). A pyramid keeps the
// Display it was built with in its manifest, so a repaired tile is made exactly as its
// neighbours were.
type Display struct {
	// Bands are the GDAL band numbers (from 1) shown: three as red, green and blue, or
	// one as grey (or through Ramp).
	Bands []int `json:"bands"`
	// Palette: the band's values are indices into its colour table (nothing to choose).
	Palette bool `json:"palette,omitempty"`
	// Stretch maps each of Bands linearly from [Min, Max] onto 0–1, clamped at both ends;
	// empty for 8-bit data shown as stored (as if 0–255).
	Stretch []Stretch `json:"stretch,omitempty"`
	// Method says how the stretch was found.
	Method string `json:"method,omitempty"`
	// Gamma shapes the stretched value t as t^(1/Gamma): above 1 brightens the darks;
	// 0 is taken as 1.
	Gamma float64 `json:"gamma,omitempty"`
	// Ramp colours a single band ("grey", "viridis", "magma", "terrain"); "" is grey.
	Ramp string `json:"ramp,omitempty"`
}

// Stretch is a linear mapping of a band's values onto 0–255, clamped at both ends.
type Stretch struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// From says where Min and Max came from: "percentile 2–98", "min/max" or "manual".
	From string `json:"from,omitempty"`
}

// Where a stretch comes from.
const (
	StretchPercentile = "percentile"
	StretchMinMax     = "min/max"
	StretchManual     = "manual"
)

// stretchSample is the longest side of the decimated read the percentiles come from.
// GDAL serves it from the file's overviews when it has them.
const stretchSample = 1024

// Percentiles of the default stretch.
const stretchLow, stretchHigh = 0.02, 0.98

// MaxGamma is the largest gamma a display may have.
const MaxGamma = 10

// channels are the bands read as red, green and blue: a single band three times.
func channels(bands []int) [3]int {
	if len(bands) == 1 {
		return [3]int{bands[0], bands[0], bands[0]}
	}
	return [3]int{bands[0], bands[1], bands[2]}
}

func (d *Display) gamma() float64 {
	if d.Gamma == 0 {
		return 1
	}
	return d.Gamma
}

// shownAsStored reports whether the pixels are copied as stored: 8-bit, no stretch, no
// gamma, no ramp.
func (d *Display) shownAsStored() bool {
	return len(d.Stretch) == 0 && d.gamma() == 1 && (d.Ramp == "" || d.Ramp == "grey")
}

// Tag is a short fingerprint of the display: it changes whenever the pixels it makes
// would. It is empty for nil, the formats satmark shows as stored.
func (d *Display) Tag() string {
	if d == nil {
		return ""
	}
	j, _ := json.Marshal(Display{Bands: d.Bands, Palette: d.Palette, Stretch: d.Stretch, Gamma: d.gamma(), Ramp: d.Ramp})
	sum := sha256.Sum256(j)
	return hex.EncodeToString(sum[:6])
}

// DisplayError is a display setting that cannot be used, with the field it is about.
type DisplayError struct {
	Field   string
	Message string
}

func (e *DisplayError) Error() string { return e.Message }

func displayErr(field, format string, args ...any) error {
	return &DisplayError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// CheckDisplay checks a display chosen for raster r: one or three band numbers within
// r's bands, a finite Min < Max stretch for each band (or none, for 8-bit bands shown as
// stored), a gamma in (0, MaxGamma], and a known ramp only with a single band. The
// errors are *DisplayError. Palette rasters have nothing to choose.
func CheckDisplay(d *Display, r Raster) error {
	if d.Palette {
		return displayErr("palette", "a paletted raster is shown through its colour table; there is nothing to choose")
	}
	if len(d.Bands) != 1 && len(d.Bands) != 3 {
		return displayErr("bands", "give one band (grey or a colour ramp) or three (red, green, blue), not %d", len(d.Bands))
	}
	for _, b := range d.Bands {
		if b < 1 || b > r.Bands {
			return displayErr("bands", "band %d is not in this raster, which has bands 1 to %d", b, r.Bands)
		}
	}
	if len(d.Stretch) != 0 && len(d.Stretch) != len(d.Bands) {
		return displayErr("stretch", "give a stretch for each of the %d bands, not %d", len(d.Bands), len(d.Stretch))
	}
	for i, s := range d.Stretch {
		field := fmt.Sprintf("stretch[%d]", i)
		if math.IsNaN(s.Min) || math.IsInf(s.Min, 0) || math.IsNaN(s.Max) || math.IsInf(s.Max, 0) {
			return displayErr(field, "the stretch of band %d must be finite numbers", d.Bands[i])
		}
		if s.Min >= s.Max {
			return displayErr(field, "the stretch of band %d must have min (%g) below max (%g)", d.Bands[i], s.Min, s.Max)
		}
	}
	if len(d.Stretch) == 0 && r.DataType != "Byte" {
		return displayErr("stretch", "the raster holds %s values: it needs a stretch onto 0–255", r.DataType)
	}
	if g := d.Gamma; math.IsNaN(g) || g <= 0 || g > MaxGamma {
		return displayErr("gamma", "the gamma must be above 0 and at most %d", MaxGamma)
	}
	if d.Ramp != "" {
		if _, ok := ramps[d.Ramp]; !ok {
			return displayErr("ramp", "no colour ramp %q: choose one of %s", d.Ramp, strings.Join(Ramps(), ", "))
		}
		if len(d.Bands) != 1 && d.Ramp != "grey" {
			return displayErr("ramp", "a colour ramp colours a single band, not %d", len(d.Bands))
		}
	}
	return nil
}

// Ramps lists the colour ramps a single band may be shown through.
func Ramps() []string {
	names := make([]string, 0, len(ramps))
	for n := range ramps {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// rampStops are colour ramps as evenly spaced stops (viridis and magma after matplotlib's,
// terrain after GDAL's and matplotlib's), interpolated linearly into 256 entries.
var rampStops = map[string][][3]byte{
	"grey":    {{0, 0, 0}, {255, 255, 255}},
	"viridis": {{68, 1, 84}, {72, 40, 120}, {62, 74, 137}, {49, 104, 142}, {38, 130, 142}, {31, 158, 137}, {53, 183, 121}, {109, 205, 89}, {180, 222, 44}, {253, 231, 37}},
	"magma":   {{0, 0, 4}, {28, 16, 68}, {79, 18, 123}, {129, 37, 129}, {181, 54, 122}, {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}},
	"terrain": {{51, 51, 153}, {2, 153, 255}, {1, 204, 102}, {128, 230, 128}, {255, 255, 153}, {191, 163, 124}, {128, 92, 84}, {191, 174, 170}, {255, 255, 255}},
}

// ramps are the 256-entry lookup tables of rampStops.
var ramps = func() map[string]*[256][3]byte {
	out := map[string]*[256][3]byte{}
	for name, stops := range rampStops {
		lut := new([256][3]byte)
		for i := range lut {
			pos := float64(i) / 255 * float64(len(stops)-1)
			j := min(int(pos), len(stops)-2)
			f := pos - float64(j)
			for c := 0; c < 3; c++ {
				lut[i][c] = byte(float64(stops[j][c])*(1-f) + float64(stops[j+1][c])*f + 0.5)
			}
		}
		out[name] = lut
	}
	return out
}()

// DefaultDisplay chooses the display of a raster read through GDAL (see displayFor); for
// the formats satmark shows as stored it returns nil.
func (l *Library) DefaultDisplay(sha string, info Info) (*Display, error) {
	if !ReadByGDAL(info.MediaType) {
		return nil, nil
	}
	d, err := openGDAL(l.rasterPath(sha))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.displayFor()
}

// Raster describes a stored original read through GDAL; ErrUnsupportedMedia for the
// formats satmark shows as stored.
func (l *Library) Raster(sha string, info Info) (Raster, error) {
	if !ReadByGDAL(info.MediaType) {
		return Raster{}, fmt.Errorf("%s is shown as stored: %w", info.MediaType, ErrUnsupportedMedia)
	}
	d, err := openGDAL(l.rasterPath(sha))
	if err != nil {
		return Raster{}, err
	}
	defer d.Close()
	return d.raster(), nil
}

// Stretches computes again, from the original, the stretch of each band: from is
// StretchPercentile (the low and high percentiles, 0–100) or StretchMinMax. The result
// says what was sampled.
func (l *Library) Stretches(sha string, info Info, bands []int, from string, low, high float64) ([]Stretch, string, error) {
	if !ReadByGDAL(info.MediaType) {
		return nil, "", fmt.Errorf("%s is shown as stored: %w", info.MediaType, ErrUnsupportedMedia)
	}
	if from != StretchPercentile && from != StretchMinMax {
		return nil, "", displayErr("stretch", "a stretch is computed as %q or %q, not %q", StretchPercentile, StretchMinMax, from)
	}
	if from == StretchPercentile && !(low >= 0 && low < high && high <= 100) {
		return nil, "", displayErr("low", "the percentiles must satisfy 0 ≤ low < high ≤ 100, not %g and %g", low, high)
	}
	d, err := openGDAL(l.rasterPath(sha))
	if err != nil {
		return nil, "", err
	}
	defer d.Close()
	for _, b := range bands {
		if b < 1 || b > d.bands {
			return nil, "", displayErr("bands", "band %d is not in this raster, which has bands 1 to %d", b, d.bands)
		}
	}
	return d.stretches(bands, from, low, high)
}
