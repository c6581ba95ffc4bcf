// The pure part of image adjustments: the neutral ones, the WebGL tile layer's style that
// applies them (brightness, contrast, saturation and gamma as OpenLayers' own style
// properties, the levels stretch as a colour expression), its variables, and the
// auto-stretch's levels from sampled pixels. No DOM here, so the unit tests run it under
// node.

export const neutral = Object.freeze({brightness: 0, contrast: 0, saturation: 0, gamma: 1, stretch: null});

// variables are the style's variables for adjustments a.
export function variables(a) {
  const st = a.stretch || {low: 0, high: 1};
  return {brightness: a.brightness, contrast: a.contrast, saturation: a.saturation, gamma: a.gamma, low: st.low, span: st.high - st.low};
}

// A band's value (0–1 in the tile) stretched from low..high to 0–255.
const level = (band) => ['*', 255, ['clamp', ['/', ['-', ['band', band], ['var', 'low']], ['var', 'span']], 0, 1]];

// style is the WebGL tile layer's style, starting from adjustments a; later changes go
// through updateStyleVariables(variables(…)).
export function style(a = neutral) {
  return {
    variables: variables(a),
    color: ['color', level(1), level(2), level(3), ['band', 4]],
    brightness: ['var', 'brightness'],
    contrast: ['var', 'contrast'],
    saturation: ['var', 'saturation'],
    gamma: ['var', 'gamma'],
  };
}

// autoLevels is the stretch from the lowPct and highPct percentiles of the brightest
// channel of the samples ([r, g, b, a] in 0–255; transparent ones left out), rounded to
// three decimals; null when fewer than 16 samples show the image or they are all one value.
export function autoLevels(samples, lowPct = 2, highPct = 98) {
  const values = [];
  for (const [r, g, b, alpha] of samples) if (alpha > 0) values.push(Math.max(r, g, b));
  if (values.length < 16) return null;
  values.sort((x, y) => x - y);
  const at = (p) => values[Math.min(values.length - 1, Math.max(0, Math.round((p / 100) * (values.length - 1))))] / 255;
  const round = (v) => Math.round(v * 1000) / 1000;
  const low = round(at(lowPct));
  const high = round(at(highPct));
  return high > low ? {low, high} : null;
}

// same says whether two adjustments show the same.
export function same(a, b) {
  const sa = a.stretch || {};
  const sb = b.stretch || {};
  return a.brightness === b.brightness && a.contrast === b.contrast && a.saturation === b.saturation && a.gamma === b.gamma &&
    sa.low === sb.low && sa.high === sb.high;
}
