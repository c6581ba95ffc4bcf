// Outline → ship box, against shapes of known length, beam and heading.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {hull, minAreaRect, shipBox, swapEnds} from '../src/shipbox.js';

// A hull outline: length L, beam B, its bow a point, its stern square, heading h
// (degrees clockwise from up, y down as in an image), centred at (cx, cy).
function hullOutline(cx, cy, h, L, B) {
  const local = [[-L / 2, -B / 2], [L / 4, -B / 2], [L / 2, 0], [L / 4, B / 2], [-L / 2, B / 2], [-L / 2 + 2, 0]];
  const t = (h * Math.PI) / 180;
  // along: (sin t, -cos t) in image axes; across: (cos t, sin t)
  return local.map(([a, b]) => [cx + a * Math.sin(t) + b * Math.cos(t), cy - a * Math.cos(t) + b * Math.sin(t)]);
}

function headingOf(ring) {
  // from the middle of the stern side to the middle of the bow side
  const m = (p, q) => [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2];
  const from = m(ring[0], ring[3]);
  const to = m(ring[1], ring[2]);
  const deg = (Math.atan2(to[0] - from[0], -(to[1] - from[1])) * 180) / Math.PI;
  return (deg + 360) % 360;
}

const side = (p, q) => Math.hypot(q[0] - p[0], q[1] - p[1]);

test('the hull of a square and a point inside is the square', () => {
  assert.equal(hull([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1]]).length, 4);
});

test('the smallest rectangle of a turned rectangle is that rectangle', () => {
  const t = (30 * Math.PI) / 180;
  const pts = [[-50, -10], [50, -10], [50, 10], [-50, 10]].map(([a, b]) => [a * Math.cos(t) - b * Math.sin(t), a * Math.sin(t) + b * Math.cos(t)]);
  const r = minAreaRect(pts);
  assert.ok(Math.abs(r.length - 100) < 1e-9 && Math.abs(r.width - 20) < 1e-9);
});

for (const h of [0, 37, 90, 145, 200, 271, 330]) {
  test(`a ship heading ${h}° gives its heading, length and beam, bow ahead`, () => {
    const ring = shipBox(hullOutline(500, 400, h, 112, 15));
    assert.equal(ring.length, 5);
    assert.ok(Math.abs(side(ring[0], ring[1]) - 112) < 1e-6, 'length');
    assert.ok(Math.abs(side(ring[1], ring[2]) - 15) < 1e-6, 'beam');
    const got = headingOf(ring);
    const d = Math.abs(((got - h + 540) % 360) - 180);
    assert.ok(d < 1e-6, `heading ${got}, want ${h}`);
    const back = headingOf(swapEnds(ring));
    assert.ok(Math.abs(((back - h + 360) % 360) - 180) < 1e-6, 'swapped: the other way');
  });
}

test('an outline with no area has no ship box', () => {
  assert.equal(shipBox([[0, 0], [1, 1], [2, 2], [0, 0]]), null);
});
