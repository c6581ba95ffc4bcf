// The compare page's choices and its link between two images' views.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
  applyAffine, composeAffine, defaultPair, fitAffine, inMapSpace, invertAffine, linkedView, matchedLink, mercator, modeFor, pixelLink,
  swipeFraction,
} from '../src/comparemodel.js';

const close = (got, want, tol, what) => {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}: got ${got}, want ${want}`);
};

test('an affine fit recovers the transform its points came from, in Mercator metres too', () => {
  const t = [0.8, -0.3, 0.25, 1.1, 14579123.5, 5330456.25];
  const pts = [[0, 0], [4000, 0], [4000, 3000], [0, 3000], [2000, 1500]];
  const fit = fitAffine(pts.map((p) => ({from: p, to: applyAffine(t, p)})));
  for (const p of [[10, 20], [3999, 2999], [-500, 7000]]) close(applyAffine(fit, p), applyAffine(t, p), 1e-6, `point ${p}`);
  const back = invertAffine(fit);
  close(applyAffine(back, applyAffine(fit, [123, 456])), [123, 456], 1e-6, 'there and back');
  close(applyAffine(composeAffine(fit, back), [77, 88]), [77, 88], 1e-6, 'composed with its inverse');
});

test('no fit from two points or from points on one line', () => {
  assert.equal(fitAffine([{from: [0, 0], to: [0, 0]}, {from: [1, 1], to: [2, 2]}]), null);
  assert.equal(fitAffine([0, 1, 2, 3].map((i) => ({from: [i, 2 * i], to: [i, i]}))), null);
});

// samples places the corners and centre of a width × height image by pixel → lon/lat.
const samples = (w, h, place) => [[0, 0], [w, 0], [w, h], [0, h], [w / 2, h / 2]].map((p) => ({pixel: p, lonlat: place(p)}));

test('two images of one place, at different scales and one turned, link pixel to pixel through the ground', () => {
  // A: north up, 1e-5° a pixel. B: the same ground at half the resolution, turned 90°
  // clockwise (B's x runs south, its y west).
  const a = samples(4000, 3000, ([x, y]) => [131.865 + x * 1e-5, 43.125 - y * 1e-5]);
  const b = samples(1500, 2000, ([x, y]) => [131.865 + 0.03 - y * 2e-5, 43.125 - x * 2e-5]);
  const link = pixelLink(a, b);
  assert.ok(link.aToB, link.reason);
  // A's pixel (1000, 500) lies at 131.875, 43.120: B's (250, 1000).
  close(applyAffine(link.aToB, [1000, 500]), [250, 1000], 0.5, 'A (1000, 500) in B');
  close(applyAffine(link.bToA, [250, 1000]), [1000, 500], 0.5, 'and back');
});

// onScreen is where a view {center, resolution, rotation} shows a coordinate, as an offset
// from the centre of the screen in CSS pixels (x right, y down), as OpenLayers draws it.
function onScreen({center, resolution, rotation}, [x, y]) {
  const dx = x - center[0];
  const dy = y - center[1];
  const cos = Math.cos(-rotation);
  const sin = Math.sin(-rotation);
  return [(cos * dx - sin * dy) / resolution, -(sin * dx + cos * dy) / resolution];
}

test('a linked view shows every point of the ground where the other view shows it', () => {
  const a = samples(4000, 3000, ([x, y]) => [131.865 + x * 1e-5, 43.125 - y * 1e-5]);
  const b = samples(1500, 2000, ([x, y]) => [131.865 + 0.03 - y * 2e-5, 43.125 - x * 2e-5]);
  const {aToB} = pixelLink(a, b);
  const t = inMapSpace(aToB);
  const viewA = {center: [1800, -1200], resolution: 2, rotation: 0.3};
  const viewB = linkedView(viewA, t);
  // The views' coordinates are the pixels with y turned up.
  for (const px of [[1800, 1200], [2100, 1100], [1500, 1400]]) {
    const inA = onScreen(viewA, [px[0], -px[1]]);
    const pb = applyAffine(aToB, px);
    const inB = onScreen(viewB, [pb[0], -pb[1]]);
    close(inB, inA, 0.01, `pixel ${px} on screen`);
  }
});

test('an image off the map cannot be linked, and the reason names it', () => {
  const a = samples(10, 10, ([x, y]) => [x, y]);
  const link = pixelLink(a, undefined, {a: 'Port, 8 Oct', b: 'Port, unplaced'});
  assert.equal(link.aToB, undefined);
  assert.match(link.reason, /“Port, unplaced” is not georeferenced/);
  assert.match(pixelLink(null, null, {a: 'x', b: 'y'}).reason, /“x” and “y” are not georeferenced/);
});

test('Mercator metres of a few places', () => {
  close(mercator([0, 0]), [0, 0], 1e-6, 'origin');
  close(mercator([180, 0]), [20037508.34, 0], 0.01, 'antimeridian');
  // EPSG:3857 of 131.865 E, 43.125 N: echo '43.125 131.865' | cs2cs EPSG:4326 EPSG:3857 -f %.3f (PROJ 9.1).
  close(mercator([131.865, 43.125]), [14679144.653, 5331017.517], 0.001, 'Golden Horn');
});

test('the default pair is the two latest placed images, the earlier first', () => {
  const images = [
    {id: 'old', georeferenced: true, captured_from: '2024-09-01', captured_to: '2024-09-01'},
    {id: 'window', georeferenced: true, captured_from: '2024-10-08', captured_to: '2024-10-13'},
    {id: 'day', georeferenced: true, captured_from: '2024-10-13', captured_to: '2024-10-13'},
    {id: 'unplaced', georeferenced: false, captured_from: '2024-11-01', captured_to: '2024-11-01'},
  ];
  assert.deepEqual(defaultPair(images), {a: 'window', b: 'day'});
  assert.deepEqual(defaultPair([images[0], images[3]]), {a: 'old', b: 'unplaced'});
  assert.deepEqual(defaultPair([{id: 'x'}, images[0]]), {a: 'x', b: 'old'});
  assert.equal(defaultPair([images[0]]), null);
});

test('the mode: overlay when both are on the map, pixels when one is not', () => {
  const on = {georeferenced: true};
  const off = {georeferenced: false};
  assert.equal(modeFor('', on, on), 'overlay');
  assert.equal(modeFor('side', on, on), 'side');
  assert.equal(modeFor('pixels', on, on), 'pixels');
  assert.equal(modeFor('overlay', on, off), 'pixels');
  assert.equal(modeFor('side', off, on), 'pixels');
  assert.equal(modeFor('nonsense', on, on), 'overlay');
});

test('the swipe divider stays on the map', () => {
  assert.equal(swipeFraction(150, {left: 100, width: 200}), 0.25);
  assert.equal(swipeFraction(50, {left: 100, width: 200}), 0);
  assert.equal(swipeFraction(900, {left: 100, width: 200}), 1);
  assert.equal(swipeFraction(900, {left: 100, width: 0}), 1);
});

test('points matched between an unplaced image and a placed one relate their pixels either way round', () => {
  // The unplaced image is the placed one halved and shifted: reference = 2·pixel + (10, 20).
  const points = [[0, 0], [100, 0], [0, 80], [70, 60]].map(([x, y]) => ({pixel: [x, y], reference_pixel: [2 * x + 10, 2 * y + 20]}));
  const asA = matchedLink(points, true);
  assert.deepEqual(applyAffine(asA.aToB, [50, 40]).map((v) => Math.round(v * 1e6) / 1e6), [110, 100]);
  const asB = matchedLink(points, false);
  assert.deepEqual(applyAffine(asB.aToB, [110, 100]).map((v) => Math.round(v * 1e6) / 1e6), [50, 40]);
  assert.match(matchedLink(points.slice(0, 2), true).reason, /too few/);
  assert.match(matchedLink([[0, 0], [1, 1], [2, 2]].map((p) => ({pixel: p, reference_pixel: p})), true).reason, /one line/);
});
