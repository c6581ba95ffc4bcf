// The Sun & shadows panel's choices and words, over answers shaped like the server's.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {arrow, describeFit, describeShadow, describeSun, fmtTime, inside, keyDirection, sweep} from '../src/sunmodel.js';

const night = (when, time) => ({when, time, azimuth_deg: 10, elevation_deg: -40, above_horizon: false, shadow_azimuth_deg: 190});
const day = (time, deg) => ({when: 'hour', time, azimuth_deg: (deg + 180) % 360, elevation_deg: 30, above_horizon: true, shadow_azimuth_deg: deg, shadow_image_deg: deg});

test('the arrow is the middle when the sun is up there, else the daylight hour nearest it', () => {
  const up = {...day('2024-10-13T03:00:00Z', 350), when: 'middle'};
  assert.equal(keyDirection({at: [night('from', '2024-10-12T15:00:00Z'), up], daylight: []}), up);
  // A middle at local midnight: the sun highest within 12 hours of it, not the evening
  // hour just before it.
  const answer = {
    at: [night('from', '2024-10-07T15:00:00Z'), night('middle', '2024-10-10T15:00:00Z'), night('to', '2024-10-13T15:00:00Z')],
    daylight: [
      {...day('2024-10-10T07:00:00Z', 60), elevation_deg: 5},
      {...day('2024-10-10T22:00:00Z', 300), elevation_deg: 10},
      {...day('2024-10-11T02:00:00Z', 350), elevation_deg: 40},
      {...day('2024-10-11T05:00:00Z', 30), elevation_deg: 30},
    ],
  };
  assert.equal(keyDirection(answer).time, '2024-10-11T02:00:00Z');
  // Nothing within 12 hours: the nearest daylight hour.
  assert.equal(keyDirection({at: answer.at, daylight: [day('2024-10-12T04:00:00Z', 10), day('2024-10-13T04:00:00Z', 20)]}).time, '2024-10-12T04:00:00Z');
  assert.equal(keyDirection({at: answer.at, daylight: []}), null);
  // Placed by its location name only: the sun is up, but there is no direction in the image.
  assert.equal(keyDirection({at: [{...up, shadow_image_deg: undefined}], daylight: []}), null);
});

test('the daylight sweep goes the short way round, across north when it does', () => {
  assert.deepEqual(sweep([300, 330, 0, 30, 60]), {from: 300, to: 60, width: 120});
  assert.deepEqual(sweep([100, 120, 110]), {from: 100, to: 120, width: 20});
  assert.deepEqual(sweep([359, 1]), {from: 359, to: 1, width: 2});
  assert.equal(sweep([]), null);
});

test('an arrow along the image direction, its head at the tip', () => {
  const a = arrow([100, 100], 90, 50);
  assert.deepEqual(a.tip.map((v) => Math.round(v * 1e9) / 1e9), [150, 100]);
  const up = arrow([0, 0], 0, 10);
  assert.ok(Math.abs(up.tip[0]) < 1e-9 && Math.abs(up.tip[1] + 10) < 1e-9, 'up is −y');
  // The barbs sit behind the tip, either side of the shaft.
  for (const b of [a.head[0], a.head[2]]) assert.ok(b[0] < 150 && Math.abs(b[1] - 100) > 1);
  assert.equal(a.head[1], a.tip);
});

test('points on the image, edges included', () => {
  assert.ok(inside([0, 0], 4000, 3000));
  assert.ok(inside([4000, 3000], 4000, 3000));
  assert.ok(!inside([-0.5, 10], 4000, 3000));
  assert.ok(!inside([10, 3000.5], 4000, 3000));
});

test('the words for times, suns, fits and shadows', () => {
  assert.equal(fmtTime('2024-10-08T01:24:24.5Z'), '2024-10-08 01:24 UTC');
  assert.equal(fmtTime('2024-10-08T01:24:24Z', true), '2024-10-08 01:24:24 UTC');
  assert.equal(describeSun(night('middle', '2024-10-10T15:00:00Z')), 'Middle 2024-10-10 15:00 UTC: sun 40.0° below the horizon: no shadows');
  assert.equal(describeSun({...day('2024-10-08T01:00:00Z', 322.4), when: 'from'}), 'Start 2024-10-08 01:00 UTC: sun at 142.4°, 30.0° high; shadows towards 322.4°');
  const fit = {from: '2024-10-08T01:20:55Z', to: '2024-10-08T01:27:51Z', best: {azimuth_deg: 150.02, elevation_deg: 36.33}, height_m: 22.65, height_range_m: [22.4, 22.9]};
  assert.equal(describeFit(fit), '2024-10-08 01:20–01:27 UTC: sun at 150.0°, 36.3° high; height 22.6 m (22.4–22.9 m)');
  assert.equal(describeShadow({length_m: 30.84, azimuth_deg: 330.04, tolerance_deg: 3.7, length_basis: 'georeference'}), 'Shadow 30.8 m towards 330.0° (±3.7°), through the georeference.');
  assert.equal(describeShadow({length_m: 30, length_basis: 'gsd'}), 'Shadow 30.0 m, by the ground sample distance.');
});
