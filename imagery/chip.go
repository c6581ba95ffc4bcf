package imagery

import (
	"context"
	"fmt"
	"image"

	"github.com/disintegration/imaging"
)

// Chip renders the rectangle of the image at (x, y), w×h pixels, at full resolution as
// JPEG, from the pyramid as Render does: a dataset's chip. It takes a render slot like
// Render, waiting for one rather than answering ErrBusy (a dataset is one long job, not
// a viewer's request), and keeps nothing in the render cache, which a dataset would flush.
func (l *Library) Chip(ctx context.Context, sha string, info Info, x, y, w, h int) ([]byte, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return nil, err
	}
	r, err := ParseIIIF(fmt.Sprintf("%d,%d,%d,%d", x, y, w, h), "max", "0", "default.jpg", info.Width, info.Height)
	if err != nil {
		return nil, err
	}
	if r.W != w || r.H != h {
		return nil, fmt.Errorf("chip %d,%d %d×%d leaves the %d×%d image", x, y, w, h, info.Width, info.Height)
	}
	if r.Width != w || r.Height != h {
		return nil, fmt.Errorf("a chip of %d×%d is over the render limit of %d pixels: use smaller chips", w, h, IIIFMaxArea)
	}
	select {
	case l.renderSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.renderSem }()
	return l.render(p, sha, info, r)
}

// Region renders the rectangle of the image at (x, y), w×h pixels, resampled to
// outW×outH (larger or smaller), from the pyramid as Render does, composited over white:
// a figure's picture. Like Chip it waits for a render slot and caches nothing. Errors:
// an *IIIFError (400) for a rectangle that leaves the image or an output over the render
// limits; the pyramid's errors while it is not built.
func (l *Library) Region(ctx context.Context, sha string, info Info, x, y, w, h, outW, outH int) (*image.NRGBA, error) {
	p, err := l.openPyramid(sha)
	if err != nil {
		return nil, err
	}
	r, err := ParseIIIF(fmt.Sprintf("%d,%d,%d,%d", x, y, w, h), fmt.Sprintf("^%d,%d", outW, outH), "0", "default.png", info.Width, info.Height)
	if err != nil {
		return nil, err
	}
	if r.W != w || r.H != h {
		return nil, badIIIF("the region %d,%d %d×%d leaves the %d×%d image", x, y, w, h, info.Width, info.Height)
	}
	select {
	case l.renderSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.renderSem }()
	img, err := l.pixels(p, sha, info, r)
	if err != nil {
		return nil, err
	}
	n := imaging.Clone(img)
	overWhite(n)
	return n, nil
}
