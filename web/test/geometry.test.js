// Stored pixel GeoJSON to the map's geometries and back (src/geometry.js): y flipped, every
// ring of a polygon kept, a point a point.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {mapGeometry, pixelGeometry} from '../src/geometry.js';

test('mapGeometry flips y into the map and pixelGeometry brings it back, rings and all', () => {
  const shapes = [
    {type: 'Point', coordinates: [1.5, 2.25]},
    {type: 'LineString', coordinates: [[0, 0], [10.5, 3], [20, 30]]},
    {type: 'Polygon', coordinates: [[[10, 10], [60, 10], [60, 40], [10, 40], [10, 10]], [[20, 20], [20, 30], [30, 30], [20, 20]]]},
  ];
  for (const g of shapes) {
    const m = mapGeometry(g);
    assert.equal(m.getType(), g.type);
    assert.deepEqual(pixelGeometry(m, 64, 48), g);
  }
  assert.deepEqual(mapGeometry(shapes[2]).getCoordinates()[1][1], [20, -30]);
  assert.deepEqual(mapGeometry(shapes[1]).getCoordinates(), [[0, -0], [10.5, -3], [20, -30]]);
});
