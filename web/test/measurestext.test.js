// The annotator's measurements in words (src/measurestext.js): the ruler's label and the
// editor's line under an annotation.

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {measuresText, rulerText} from '../src/measurestext.js';

const line = {type: 'LineString', coordinates: [[0, 0], [30, 40]]};
const polyline = {type: 'LineString', coordinates: [[0, 0], [30, 40], [60, 40]]};

describe('rulerText', () => {
  test('without a georeference or ground sample distance, pixels only', () => {
    assert.equal(rulerText({length_px: 50}, line), '50.0 px');
  });
  test('a two-point line on a georeferenced image is measured on the ellipsoid', () => {
    assert.equal(rulerText({length_m: 123.456, length_px: 50, basis: 'georeference'}, line), '123.46 m · 50.0 px · geodesic');
  });
  test('a line of several legs, or one measured by the ground sample distance, is not called geodesic', () => {
    assert.equal(rulerText({length_m: 80, length_px: 80, basis: 'georeference'}, polyline), '80.00 m · 80.0 px');
    assert.equal(rulerText({length_m: 25, length_px: 50, basis: 'gsd'}, line), '25.00 m · 50.0 px');
  });
});

describe('measuresText', () => {
  const ann = (shape, geometry, measures) => ({shape, geometry, measures, version: 3, updated_by: 'Ada Analyst'});
  const square = {type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]};

  test('a point has its shape, version and author only', () => {
    assert.equal(measuresText(ann('point', {type: 'Point', coordinates: [1, 2]})), 'point · version 3 · by Ada Analyst');
  });
  test('without metres, a line is measured in pixels on the page', () => {
    assert.equal(measuresText(ann('line', line, {length_px: 50})), 'line · version 3 · by Ada Analyst · length 50.0 px');
  });
  test('a polygon in metres from the ground sample distance says so, and gives no pixels', () => {
    assert.equal(measuresText(ann('polygon', square, {area_m2: 25.4, perimeter_m: 20.04, basis: 'gsd'})),
      'polygon · version 3 · by Ada Analyst · area 25 m² · perimeter 20.0 m · (from the ground sample distance)');
  });
  test('a ship box in metres: length, beam, heading and area', () => {
    assert.equal(measuresText(ann('rotated_rectangle', square, {length_m: 52.25, width_m: 9.06, heading_deg: 271.04, area_m2: 473.4, perimeter_m: 122.6, basis: 'georeference', length_px: 10, width_px: 10})),
      'rotated rectangle · version 3 · by Ada Analyst · length 52.3 m · beam 9.1 m · heading 271.0° · area 473 m² · perimeter 122.6 m');
  });
  test('a ship box without metres: its area and perimeter, then length by beam, in pixels', () => {
    assert.equal(measuresText(ann('rotated_rectangle', square, {length_px: 10, width_px: 10})),
      'rotated rectangle · version 3 · by Ada Analyst · area 100 px² · perimeter 40.0 px · 10.0 × 10.0 px');
  });
});
