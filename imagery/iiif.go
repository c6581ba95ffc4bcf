package imagery

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// The IIIF Image API 3.0 request (https://iiif.io/api/image/3.0/): parsing the four
// parameters {region}/{size}/{rotation}/{quality}.{format} against an image, with the
// statuses the specification gives for each kind of mistake.

// IIIF limits for every image: what `max` is capped at and what `^` may reach. They are
// listed in info.json as maxWidth, maxHeight and maxArea.
const (
	IIIFMaxWidth  = 8192
	IIIFMaxHeight = 8192
	IIIFMaxArea   = 4096 * 4096
)

// IIIF formats and qualities satmark serves. webp, jp2 and pdf are valid IIIF formats
// satmark does not produce (there is no WebP encoder among its dependencies).
var (
	IIIFFormats   = map[string]string{"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "tif": "image/tiff"}
	IIIFQualities = []string{"default", "color", "gray", "bitonal"}
)

// IIIFError is a request the service refuses, with the HTTP status the specification
// gives for it.
type IIIFError struct {
	Status  int
	Message string
}

func (e *IIIFError) Error() string { return e.Message }

func badIIIF(format string, args ...any) error {
	return &IIIFError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// IIIFRequest is a parsed image request, resolved against the image: a region in
// full-resolution pixels, the size it is scaled to before rotation, then mirroring,
// rotation, quality and format.
type IIIFRequest struct {
	X, Y, W, H    int // region, cropped to the image
	Full          bool
	Width, Height int // scaled size
	Upscaled      bool
	SizeIsMax     bool // the size was max (or equals what max gives)
	Mirror        bool
	Rotation      int // 0, 90, 180 or 270, clockwise
	Quality       string
	Format        string
}

// ParseIIIF parses the four parameters of an image request for an image of the given
// size. Errors are *IIIFError.
func ParseIIIF(region, size, rotation, qualityFormat string, width, height int) (IIIFRequest, error) {
	var r IIIFRequest
	if err := r.parseRegion(region, width, height); err != nil {
		return r, err
	}
	if err := r.parseSize(size); err != nil {
		return r, err
	}
	if err := r.parseRotation(rotation); err != nil {
		return r, err
	}
	dot := strings.LastIndexByte(qualityFormat, '.')
	if dot < 0 {
		return r, badIIIF("%q must be {quality}.{format}, e.g. default.jpg", qualityFormat)
	}
	r.Quality, r.Format = qualityFormat[:dot], qualityFormat[dot+1:]
	ok := false
	for _, q := range IIIFQualities {
		ok = ok || q == r.Quality
	}
	if !ok {
		return r, badIIIF("quality %q is not supported (use default, color, gray or bitonal)", r.Quality)
	}
	if _, ok := IIIFFormats[r.Format]; !ok {
		return r, badIIIF("format %q is not supported (use jpg, png, gif or tif)", r.Format)
	}
	return r, nil
}

// parseInt accepts only decimal digits: no sign, no spaces.
func parseInt(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseFloat accepts decimal digits with at most one point, as IIIF numbers are written.
func parseFloat(s string) (float64, bool) {
	if s == "" || len(s) > 20 || s[0] == '.' || s[len(s)-1] == '.' {
		return 0, false
	}
	dots := 0
	for _, c := range s {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return 0, false
		}
	}
	if dots > 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsInf(v, 0)
}

func (r *IIIFRequest) parseRegion(s string, width, height int) error {
	switch {
	case s == "full":
		r.X, r.Y, r.W, r.H, r.Full = 0, 0, width, height, true
		return nil
	case s == "square":
		side := min(width, height)
		r.X, r.Y, r.W, r.H = (width-side)/2, (height-side)/2, side, side
		r.Full = width == height
		return nil
	}
	pct := strings.HasPrefix(s, "pct:")
	parts := strings.Split(strings.TrimPrefix(s, "pct:"), ",")
	if len(parts) != 4 {
		return badIIIF("region %q is not full, square, x,y,w,h or pct:x,y,w,h", s)
	}
	var x0, y0, x1, y1 int
	if pct {
		var v [4]float64
		for i, p := range parts {
			f, ok := parseFloat(p)
			if !ok {
				return badIIIF("region %q: %q is not a number", s, p)
			}
			v[i] = f
		}
		if v[2] <= 0 || v[3] <= 0 {
			return badIIIF("region %q has no area", s)
		}
		// The smallest whole-pixel region around the requested one: the start rounds
		// down and the end up (a hair's float error aside).
		x0, y0 = int(math.Floor(math.Min(v[0]*float64(width)/100, 1<<30))), int(math.Floor(math.Min(v[1]*float64(height)/100, 1<<30)))
		x1, y1 = ceilPixels((v[0]+v[2])*float64(width)/100), ceilPixels((v[1]+v[3])*float64(height)/100)
	} else {
		var v [4]int
		for i, p := range parts {
			n, ok := parseInt(p)
			if !ok {
				return badIIIF("region %q: %q is not a whole number of pixels", s, p)
			}
			v[i] = n
		}
		if v[2] == 0 || v[3] == 0 {
			return badIIIF("region %q has no area", s)
		}
		x0, y0, x1, y1 = v[0], v[1], v[0]+v[2], v[1]+v[3]
	}
	if x0 >= width || y0 >= height {
		return badIIIF("region %q lies outside the %d×%d image", s, width, height)
	}
	x1, y1 = min(x1, width), min(y1, height)
	if x1 <= x0 || y1 <= y0 {
		return badIIIF("region %q has no area inside the image", s)
	}
	r.X, r.Y, r.W, r.H = x0, y0, x1-x0, y1-y0
	r.Full = r.X == 0 && r.Y == 0 && r.W == width && r.H == height
	return nil
}

// roundPixels rounds a number of pixels computed from a percentage, held far below the
// point where a huge percentage would overflow into a negative (or tiny) int.
func ceilPixels(f float64) int {
	return int(math.Ceil(math.Min(f, 1<<30) - 1e-9))
}

func roundPixels(f float64) int {
	return int(math.Round(math.Min(f, 1<<30)))
}

// maxSize scales w×h (keeping its aspect) down to the service limits, or up to them when
// up is set.
func maxSize(w, h int, up bool) (int, int) {
	s := math.Min(float64(IIIFMaxWidth)/float64(w), float64(IIIFMaxHeight)/float64(h))
	s = math.Min(s, math.Sqrt(float64(IIIFMaxArea)/(float64(w)*float64(h))))
	if !up {
		s = math.Min(s, 1)
	}
	if s == 1 {
		return w, h
	}
	return max(1, int(math.Floor(float64(w)*s))), max(1, int(math.Floor(float64(h)*s)))
}

func (r *IIIFRequest) parseSize(s string) error {
	orig := s
	up := strings.HasPrefix(s, "^")
	s = strings.TrimPrefix(s, "^")
	rw, rh := float64(r.W), float64(r.H)
	var w, h int
	switch {
	case s == "max":
		w, h = maxSize(r.W, r.H, up)
		r.SizeIsMax = true
	case strings.HasPrefix(s, "pct:"):
		n, ok := parseFloat(s[4:])
		if !ok || n <= 0 {
			return badIIIF("size %q: the percentage must be a number above 0", orig)
		}
		if n > 100 && !up {
			return badIIIF("size %q is larger than the region; prefix it with ^ to upscale", orig)
		}
		w, h = max(1, roundPixels(rw*n/100)), max(1, roundPixels(rh*n/100))
	default:
		confined := strings.HasPrefix(s, "!")
		s = strings.TrimPrefix(s, "!")
		parts := strings.Split(s, ",")
		if len(parts) != 2 {
			return badIIIF("size %q is not max, w, ,h, pct:n, w,h or !w,h", orig)
		}
		pw, okw := parseInt(parts[0])
		ph, okh := parseInt(parts[1])
		switch {
		case confined && okw && okh:
			if pw == 0 || ph == 0 {
				return badIIIF("size %q is zero", orig)
			}
			scale := math.Min(float64(pw)/rw, float64(ph)/rh)
			if !up {
				scale = math.Min(scale, 1)
			}
			w, h = max(1, int(math.Round(rw*scale))), max(1, int(math.Round(rh*scale)))
			w, h = min(w, pw), min(h, ph)
			// As large as possible but, like max, never over the service's limits.
			w, h = maxSize(w, h, false)
		case confined:
			return badIIIF("size %q: !w,h needs both numbers", orig)
		case okw && parts[1] == "":
			if pw == 0 {
				return badIIIF("size %q is zero", orig)
			}
			w, h = pw, max(1, int(math.Round(rh*float64(pw)/rw)))
		case parts[0] == "" && okh:
			if ph == 0 {
				return badIIIF("size %q is zero", orig)
			}
			w, h = max(1, int(math.Round(rw*float64(ph)/rh))), ph
		case okw && okh:
			if pw == 0 || ph == 0 {
				return badIIIF("size %q is zero", orig)
			}
			w, h = pw, ph
		default:
			return badIIIF("size %q is not max, w, ,h, pct:n, w,h or !w,h (whole numbers above 0)", orig)
		}
	}
	if !up && (w > r.W || h > r.H) {
		return badIIIF("size %q (%d×%d) is larger than the %d×%d region; prefix it with ^ to upscale", orig, w, h, r.W, r.H)
	}
	if w > IIIFMaxWidth || h > IIIFMaxHeight || int64(w)*int64(h) > IIIFMaxArea {
		return badIIIF("size %q (%d×%d) is over the limits of this service (maxWidth %d, maxHeight %d, maxArea %d)",
			orig, w, h, IIIFMaxWidth, IIIFMaxHeight, IIIFMaxArea)
	}
	r.Width, r.Height, r.Upscaled = w, h, w > r.W || h > r.H
	// The size max gives (or ^max, when it upscales) is written so in the canonical form.
	if mw, mh := maxSize(r.W, r.H, r.Upscaled); w == mw && h == mh {
		r.SizeIsMax = true
	}
	return nil
}

func (r *IIIFRequest) parseRotation(s string) error {
	orig := s
	r.Mirror = strings.HasPrefix(s, "!")
	s = strings.TrimPrefix(s, "!")
	v, ok := parseFloat(s)
	if !ok || v > 360 {
		return badIIIF("rotation %q is not a number of degrees from 0 to 360", orig)
	}
	if v != math.Trunc(v) || int(v)%90 != 0 {
		return badIIIF("rotation %q is not supported: only multiples of 90 degrees", orig)
	}
	r.Rotation = int(v) % 360
	return nil
}

// Canonical returns the request in the canonical URI form of the specification (§4.8),
// relative to the image's base URI.
func (r IIIFRequest) Canonical() string {
	region := "full"
	if !r.Full {
		region = fmt.Sprintf("%d,%d,%d,%d", r.X, r.Y, r.W, r.H)
	}
	size := fmt.Sprintf("%d,%d", r.Width, r.Height)
	switch {
	case r.SizeIsMax && r.Upscaled:
		size = "^max"
	case r.SizeIsMax:
		size = "max"
	case r.Upscaled:
		size = "^" + size
	}
	rot := strconv.Itoa(r.Rotation)
	if r.Mirror {
		rot = "!" + rot
	}
	return region + "/" + size + "/" + rot + "/" + r.Quality + "." + r.Format
}

// Tile reports whether the request is exactly a tile of the pyramid m, in colour and in
// the format of m's tiles, and which: level k, row and column.
func (r IIIFRequest) Tile(m *Manifest) (k, row, col int, ok bool) {
	if r.Rotation != 0 || r.Mirror || r.Format != m.Format || (r.Quality != "default" && r.Quality != "color") || r.Upscaled {
		return 0, 0, 0, false
	}
	for k, lv := range m.Levels {
		span := TileSize * lv.Scale
		if r.X%span != 0 || r.Y%span != 0 {
			continue
		}
		col, row := r.X/span, r.Y/span
		if col >= lv.Cols || row >= lv.Rows {
			continue
		}
		if r.W != min(span, m.Width-r.X) || r.H != min(span, m.Height-r.Y) {
			continue
		}
		if r.Width == ceilDiv(r.W, lv.Scale) && r.Height == ceilDiv(r.H, lv.Scale) {
			return k, row, col, true
		}
	}
	return 0, 0, 0, false
}
