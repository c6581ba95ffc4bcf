package imagery

import (
	"context"
	"image"
)

// Preview reads the stored original as it is shown (a raster through its Display, or
// GDAL's default display when info has none; a JPEG after its EXIF orientation), pixels
// without data or transparent composited over white as every JPEG the server renders of
// it is (IIIF .jpg, thumbnail), and returns it reduced by whole-pixel box averages to at most side pixels on its long
// side (an image smaller than that as it is). It streams the original a strip at a time,
// so memory stays bounded whatever the image's size; ctx stops it between strips.
func (l *Library) Preview(ctx context.Context, sha string, info Info, side int) (*image.RGBA, error) {
	src, err := l.openSource(l.rasterPath(sha), info)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	px := 3
	switch s := src.(type) {
	case *gdalSource:
		s.alpha = s.d.masked(channels(s.disp.Bands))
	case *imageSource:
		s.alpha = !opaque(s.img)
	}
	if alphaOf(src) {
		px = 4
	}
	factor := 1
	for max(info.Width, info.Height) > side*factor {
		factor++
	}
	w, h := ceilDiv(info.Width, factor), ceilDiv(info.Height, factor)
	sums := make([]uint32, w*h*4)
	const strip = 64
	buf := make([]byte, strip*info.Width*px)
	y := 0
	for y < info.Height {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := src.read(buf, info.Width*px, min(strip, info.Height-y))
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		for r := 0; r < n; r++ {
			row := buf[r*info.Width*px:]
			dst := sums[((y+r)/factor)*w*4:]
			for x := 0; x < info.Width; x++ {
				d, p := dst[(x/factor)*4:], row[px*x:px*x+3]
				if px == 4 && row[px*x+3] != 255 {
					a := uint32(row[px*x+3])
					d[0] += (uint32(p[0])*a + 255*(255-a) + 127) / 255
					d[1] += (uint32(p[1])*a + 255*(255-a) + 127) / 255
					d[2] += (uint32(p[2])*a + 255*(255-a) + 127) / 255
				} else {
					d[0] += uint32(p[0])
					d[1] += uint32(p[1])
					d[2] += uint32(p[2])
				}
				d[3]++
			}
		}
		y += n
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		c := sums[4*i+3]
		if c == 0 {
			continue
		}
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = byte(sums[4*i]/c), byte(sums[4*i+1]/c), byte(sums[4*i+2]/c), 255
	}
	return img, nil
}

// alphaOf reports whether src delivers RGBA rows.
func alphaOf(src rowSource) bool {
	switch s := src.(type) {
	case *gdalSource:
		return s.alpha
	case *imageSource:
		return s.alpha
	}
	return false
}
