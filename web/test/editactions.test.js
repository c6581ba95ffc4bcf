// The changes the annotator's editor buttons and keys send for the selected annotation
// (src/editactions.js): outline → ship box, and the ship box turned round.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {shipBoxChange, swapEndsChange} from '../src/editactions.js';
import {shipBox, swapEnds} from '../src/shipbox.js';

// A hull 40 long and 10 wide along x, narrower at x = 40 (the bow).
const outline = [[0, 0], [30, 0], [40, 4], [40, 6], [30, 10], [0, 10], [0, 0]];
const polygon = {shape: 'polygon', geometry: {type: 'Polygon', coordinates: [outline]}};

test('an outline becomes a rotated rectangle: shipBox\'s ring, sent as the ship box', () => {
  const r = shipBoxChange(polygon);
  assert.deepEqual(r, {change: {kind: 'patch', body: {shape: 'rotated_rectangle', geometry: {type: 'Polygon', coordinates: [shipBox(outline)]}}, what: 'the ship box'}});
  const ring = r.change.body.geometry.coordinates[0];
  assert.equal(ring.length, 5);
  assert.deepEqual(ring[0], ring[4], 'closed');
});

test('an outline with no area says so instead of sending anything', () => {
  const flat = {shape: 'polygon', geometry: {type: 'Polygon', coordinates: [[[0, 0], [1, 1], [2, 2], [0, 0]]]}};
  assert.deepEqual(shipBoxChange(flat), {error: 'This outline encloses no area: there is no box to make of it.'});
});

test('only a polygon makes a ship box, and only a rotated rectangle turns round', () => {
  const box = {shape: 'rotated_rectangle', geometry: {type: 'Polygon', coordinates: [shipBox(outline)]}};
  assert.equal(shipBoxChange(box), null);
  assert.equal(shipBoxChange({shape: 'point', geometry: {type: 'Point', coordinates: [1, 2]}}), null);
  assert.equal(shipBoxChange(null), null, 'nothing selected, or a viewer');
  assert.equal(swapEndsChange(polygon), null);
  assert.equal(swapEndsChange(undefined), null);
  assert.deepEqual(swapEndsChange(box), {kind: 'patch', body: {geometry: {type: 'Polygon', coordinates: [swapEnds(box.geometry.coordinates[0])]}}, what: 'bow and stern'});
});
