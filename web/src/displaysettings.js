// The pure part of the "Bands & stretch" panel: the presets a raster offers and the body
// of PUT /api/v1/images/{id}/display from what the panel's fields say. No DOM here, so
// the unit tests run it under node.

// presets lists the band mappings offered for a raster of bandCount bands whose colour
// interpretations are colorInterp (GDAL's names): true colour from the red, green and blue
// bands (else 1–3), the NIR-R-G false colour for four bands or more (the fourth band as
// near-infrared in Planet's and the sample's B, G, R, NIR order, unless one says NIR),
// and each band alone as grey.
export function presets(bandCount, colorInterp = []) {
  const find = (name) => colorInterp.indexOf(name) + 1;
  const out = [];
  if (bandCount >= 3) {
    const r = find('Red') || 1;
    const g = find('Green') || 2;
    const b = find('Blue') || 3;
    out.push({id: 'true', name: 'True colour', bands: [r, g, b]});
  }
  if (bandCount >= 4) {
    const red = find('Red') || 3;
    const green = find('Green') || 2;
    const nir = find('NIR') || (bandCount === 4 ? 4 : bandCount);
    out.push({id: 'nir', name: 'False colour (NIR, R, G)', bands: [nir, red, green]});
  }
  for (let i = 1; i <= bandCount; i++) out.push({id: `grey${i}`, name: `Band ${i} alone`, bands: [i]});
  return out;
}

// requestBody turns the panel's fields into the PUT body: bands (one or three numbers),
// the stretch ("percentile" with low and high, "min/max", or "manual" with per-band
// [min, max] pairs), gamma, and a ramp for a single band. Numbers arrive as the strings
// of input fields; what is not a finite number is an Error naming the field.
export function requestBody({bands, stretch, low, high, manual = [], gamma, ramp}) {
  const num = (v, what) => {
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    if (String(v).trim() === '' || !Number.isFinite(n)) throw new Error(`${what} must be a number`);
    return n;
  };
  const body = {bands: bands.map((b, i) => num(b, `band ${i + 1}`)), gamma: num(gamma, 'the gamma')};
  if (stretch === 'percentile') {
    body.stretch = 'percentile';
    body.low = num(low, 'the low percentile');
    body.high = num(high, 'the high percentile');
  } else if (stretch === 'min/max') {
    body.stretch = 'min/max';
  } else if (stretch === 'manual') {
    body.stretch = body.bands.map((b, i) => ({
      min: num((manual[i] || [])[0], `the min of band ${b}`),
      max: num((manual[i] || [])[1], `the max of band ${b}`),
    }));
  }
  if (body.bands.length === 1 && ramp) body.ramp = ramp;
  return body;
}
