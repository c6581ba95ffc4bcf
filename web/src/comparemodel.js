// What the compare page works out, apart from the page: which two images of a site to
// compare by default, how to show them, and how the pixels of one relate to the pixels
// of the other through the ground, so that their views pan, zoom and turn together.
// DOM-free (and free of OpenLayers), so node tests it.

import {span} from './sitemodel.js';

// An affine transform [a, b, c, d, e, f]: (x, y) → (a·x + b·y + e, c·x + d·y + f).

export function applyAffine(t, [x, y]) {
  return [t[0] * x + t[1] * y + t[4], t[2] * x + t[3] * y + t[5]];
}

// invertAffine is the transform back; null when it flattens the plane.
export function invertAffine([a, b, c, d, e, f]) {
  const det = a * d - b * c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) return null;
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, ic, id, -(ia * e + ib * f), -(ic * e + id * f)];
}

// composeAffine is first, then second.
export function composeAffine(first, second) {
  const [a, b, c, d, e, f] = first;
  const [A, B, C, D, E, F] = second;
  return [A * a + B * c, A * b + B * d, C * a + D * c, C * b + D * d, A * e + B * f + E, C * e + D * f + F];
}

// fitAffine is the least-squares affine transform taking each pair's from to its to;
// null for fewer than three pairs or pairs all on one line. The points are centred
// first, so coordinates in the millions (web-Mercator metres) lose no precision.
export function fitAffine(pairs) {
  if (pairs.length < 3) return null;
  const n = pairs.length;
  const mean = (k, i) => pairs.reduce((s, p) => s + p[k][i], 0) / n;
  const [fx, fy, tx, ty] = [mean('from', 0), mean('from', 1), mean('to', 0), mean('to', 1)];
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  let sxu = 0;
  let syu = 0;
  let sxv = 0;
  let syv = 0;
  for (const p of pairs) {
    const x = p.from[0] - fx;
    const y = p.from[1] - fy;
    const u = p.to[0] - tx;
    const v = p.to[1] - ty;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
    sxu += x * u;
    syu += y * u;
    sxv += x * v;
    syv += y * v;
  }
  const det = sxx * syy - sxy * sxy;
  // On one line: the spread across it is nothing beside the spread along it.
  if (!(det > 1e-12 * (sxx + syy) * (sxx + syy))) return null;
  const a = (sxu * syy - syu * sxy) / det;
  const b = (syu * sxx - sxu * sxy) / det;
  const c = (sxv * syy - syv * sxy) / det;
  const d = (syv * sxx - sxv * sxy) / det;
  return [a, b, c, d, tx - a * fx - b * fy, ty - c * fx - d * fy];
}

// mercator is a lon/lat in web-Mercator metres (EPSG:3857), the plane the maps are
// drawn in: locally conformal, so an affine fit in it keeps angles.
export function mercator([lon, lat]) {
  const R = 6378137;
  const phi = (Math.max(-85.06, Math.min(85.06, lat)) * Math.PI) / 180;
  return [(R * lon * Math.PI) / 180, R * Math.log(Math.tan(Math.PI / 4 + phi / 2))];
}

// pixelLink relates the pixels of image A to those of image B through where each lies
// on the earth: samples are {pixel, lonlat} points of each (the georeference's samples,
// or control points). It is {aToB, bToA} (affine transforms in pixel space, y down), or
// {reason} saying why the two cannot be related.
export function pixelLink(samplesA, samplesB, titles = {a: 'A', b: 'B'}) {
  const missing = [];
  if (!samplesA || samplesA.length < 3) missing.push(titles.a);
  if (!samplesB || samplesB.length < 3) missing.push(titles.b);
  if (missing.length) {
    const who = missing.map((t) => `“${t}”`).join(' and ');
    return {reason: `${who} ${missing.length > 1 ? 'are' : 'is'} not georeferenced: no control points relate ${missing.length > 1 ? 'their' : 'its'} pixels to the ground, so the two views pan and zoom on their own. Georeference ${missing.length > 1 ? 'them' : 'it'} to link them.`};
  }
  const aToGround = fitAffine(samplesA.map((s) => ({from: s.pixel, to: mercator(s.lonlat)})));
  const groundToB = fitAffine(samplesB.map((s) => ({from: mercator(s.lonlat), to: s.pixel})));
  const aToB = aToGround && groundToB && composeAffine(aToGround, groundToB);
  const bToA = aToB && invertAffine(aToB);
  if (!bToA) return {reason: 'The images’ placements do not relate their pixels (their control points lie on one line), so the two views pan and zoom on their own.'};
  return {aToB, bToA};
}

// matchedLink relates the pixels of an unplaced image to a placed one's through points
// found by matching them (the suggest route's points: pixel in the unplaced image,
// reference_pixel in the placed one): {aToB, bToA}, or {reason}. unplacedIsA says which
// side the unplaced image is.
export function matchedLink(points, unplacedIsA) {
  if (!points || points.length < 3) return {reason: 'Matching found too few points to relate the two images.'};
  const pairs = points.map((p) => (unplacedIsA ? {from: p.pixel, to: p.reference_pixel} : {from: p.reference_pixel, to: p.pixel}));
  const aToB = fitAffine(pairs);
  const bToA = aToB && invertAffine(aToB);
  if (!bToA) return {reason: 'The matched points lie on one line: they do not relate the two images.'};
  return {aToB, bToA};
}

// inMapSpace turns a pixel-space transform (y down) into one of the OpenLayers views'
// coordinates, where the image lies at [0, -height, width, 0] (y up).
export function inMapSpace([a, b, c, d, e, f]) {
  return [a, -b, -c, d, e, -f];
}

// linkedView is where view B goes when view A shows {center, resolution, rotation}, for
// t, the transform from A's view coordinates to B's: the point at the centre of A is at
// the centre of B, and every point of the ground shows at the same place on both screens
// (as far as t is a similarity; a shear or a mirror cannot be shown by a view).
export function linkedView({center, resolution, rotation}, t) {
  const [a, b, c, d] = t;
  const scale = Math.sqrt(Math.abs(a * d - b * c));
  const turn = Math.atan2(c - b, a + d);
  return {center: applyAffine(t, center), resolution: resolution * scale, rotation: rotation + turn};
}

// placed is whether an image of the site API lies on the map.
const placed = (img) => !!img.georeferenced;

// recency orders images latest first: by capture (else release) start, then end;
// undated ones last, in the order given.
function byRecency(images) {
  const when = images.map((img, i) => ({img, i, s: span(img)}));
  when.sort((x, y) => {
    if (!x.s || !y.s) return (x.s ? 0 : 1) - (y.s ? 0 : 1) || x.i - y.i;
    return y.s.from - x.s.from || y.s.to - x.s.to || x.i - y.i;
  });
  return when.map((w) => w.img);
}

// defaultPair picks two images of a site to compare: the two latest placed ones (then
// the latest others, when fewer than two are placed), as {a, b} ids with a the earlier;
// null when the site has fewer than two images.
export function defaultPair(images) {
  const ordered = byRecency(images);
  const pick = [...ordered.filter(placed), ...ordered.filter((i) => !placed(i))].slice(0, 2);
  if (pick.length < 2) return null;
  const [newer, older] = byRecency(pick);
  return {a: older.id, b: newer.id};
}

// MODES are the ways the page shows two images: one over the other on the map (a swipe,
// an opacity, a flicker), two maps side by side, or two images side by side in pixels.
export const MODES = ['overlay', 'side', 'pixels'];

// modeFor is the mode to show: the one asked for when both images allow it, else
// overlay when both are placed, else pixels (an image off the map has only its pixels).
export function modeFor(asked, a, b) {
  const onMap = placed(a) && placed(b);
  if (asked === 'pixels' || (onMap && MODES.includes(asked))) return asked;
  return onMap ? 'overlay' : 'pixels';
}

// swipeFraction is where a divider dragged to clientX lies across a map box
// {left, width}, from 0 (its left edge) to 1 (its right edge).
export function swipeFraction(clientX, {left, width}) {
  if (!(width > 0)) return 1;
  return Math.min(1, Math.max(0, (clientX - left) / width));
}
