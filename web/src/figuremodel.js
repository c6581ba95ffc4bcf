// A figure's request from what the annotator shows (no DOM: the unit tests run it). The
// region is the view's extent in image pixels, cut to the image; the view is y up with
// the image at [0, -height, width, 0].

// figureRegion is the part of the image the view's extent [minX, minY, maxX, maxY] shows,
// as [x, y, w, h] in whole image pixels, or null when it shows none of it.
export function figureRegion(extent, width, height) {
  const [minX, minY, maxX, maxY] = extent;
  const x0 = Math.max(0, Math.floor(minX));
  const y0 = Math.max(0, Math.floor(-maxY));
  const x1 = Math.min(width, Math.ceil(maxX));
  const y1 = Math.min(height, Math.ceil(-minY));
  if (!(x1 > x0 && y1 > y0)) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

// figureBody is the JSON body of POST /api/v1/images/{id}/figure: annotations are the
// selected ids, "all" or "none" as chosen.
export function figureBody({region, width, dpi, format, which, selectedIds, labels}) {
  let annotations = which;
  if (which === 'selected') annotations = [...selectedIds];
  return {format, region, width: Number(width), dpi: Number(dpi), annotations, labels: !!labels};
}
