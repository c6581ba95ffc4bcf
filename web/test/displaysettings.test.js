// The "Bands & stretch" panel's presets and request bodies (src/displaysettings.js).

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {presets, requestBody} from '../src/displaysettings.js';

describe('presets', () => {
  test('a B, G, R, NIR raster offers true colour from its colour interpretation and NIR-R-G', () => {
    const p = presets(4, ['Blue', 'Green', 'Red', 'Undefined']);
    assert.deepEqual(p.find((x) => x.id === 'true').bands, [3, 2, 1]);
    assert.deepEqual(p.find((x) => x.id === 'nir').bands, [4, 3, 2]);
    assert.deepEqual(p.find((x) => x.id === 'grey4').bands, [4]);
  });
  test('a raster that names its NIR band gets it in the false colour', () => {
    assert.deepEqual(presets(5, ['Red', 'Green', 'Blue', 'Undefined', 'NIR']).find((x) => x.id === 'nir').bands, [5, 1, 2]);
  });
  test('a single band offers only itself as grey', () => {
    assert.deepEqual(presets(1, ['Gray']).map((x) => x.id), ['grey1']);
  });
});

describe('requestBody', () => {
  test('percentile stretch with numbers from input fields', () => {
    assert.deepEqual(requestBody({bands: ['4', '3', '2'], stretch: 'percentile', low: '2', high: ' 98 ', gamma: '1'}),
      {bands: [4, 3, 2], gamma: 1, stretch: 'percentile', low: 2, high: 98});
  });
  test('manual stretch per band; a ramp only with one band', () => {
    assert.deepEqual(requestBody({bands: [1], stretch: 'manual', manual: [['10', '2000']], gamma: 1.5, ramp: 'viridis'}),
      {bands: [1], gamma: 1.5, stretch: [{min: 10, max: 2000}], ramp: 'viridis'});
    assert.equal(requestBody({bands: [1, 2, 3], stretch: 'min/max', gamma: 1, ramp: 'viridis'}).ramp, undefined);
  });
  test('a field that is not a number is an error naming it', () => {
    assert.throws(() => requestBody({bands: [1, 2, 3], stretch: 'percentile', low: 'two', high: 98, gamma: 1}), /low percentile/);
    assert.throws(() => requestBody({bands: [1], stretch: 'manual', manual: [['', '5']], gamma: 1}), /min of band 1/);
  });
});
