// Image adjustments' style variables and auto-stretch (src/adjustsettings.js).

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {autoLevels, neutral, same, variables} from '../src/adjustsettings.js';

describe('variables', () => {
  test('no stretch is the identity: low 0, span 1', () => {
    assert.deepEqual(variables(neutral), {brightness: 0, contrast: 0, saturation: 0, gamma: 1, low: 0, span: 1});
  });
  test('a stretch gives its low and span', () => {
    const v = variables({...neutral, contrast: 0.5, stretch: {low: 0.25, high: 0.75}});
    assert.equal(v.contrast, 0.5);
    assert.equal(v.low, 0.25);
    assert.equal(v.span, 0.5);
  });
});

describe('autoLevels', () => {
  const ramp = (n, from, to) => Array.from({length: n}, (_, i) => [from + ((to - from) * i) / (n - 1), 0, 0, 255]);
  test('2–98 % of a ramp from 51 to 204 leaves out its ends', () => {
    const l = autoLevels(ramp(101, 51, 204));
    assert.ok(Math.abs(l.low - (51 + 3.06) / 255) < 0.002, `low ${l.low}`);
    assert.ok(Math.abs(l.high - (204 - 3.06) / 255) < 0.002, `high ${l.high}`);
  });
  test('transparent samples (no data) are left out', () => {
    const l = autoLevels([...ramp(50, 100, 150), ...Array(500).fill([0, 0, 0, 0])], 0, 100);
    assert.deepEqual(l, {low: 0.392, high: 0.588});
  });
  test('too few samples, or a flat view, give no stretch', () => {
    assert.equal(autoLevels(ramp(10, 0, 255)), null);
    assert.equal(autoLevels(Array(100).fill([80, 80, 80, 255])), null);
  });
});

test('same compares every value and the stretch', () => {
  assert.ok(same(neutral, {...neutral}));
  assert.ok(!same(neutral, {...neutral, gamma: 1.1}));
  assert.ok(!same(neutral, {...neutral, stretch: {low: 0, high: 0.5}}));
});
