// The figure's region and request from the view (src/figuremodel.js).

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {figureBody, figureRegion} from '../src/figuremodel.js';

describe('figureRegion', () => {
  test('the view inside the image is its pixels, y flipped, widened to whole pixels', () => {
    assert.deepEqual(figureRegion([100.4, -300.2, 500.6, -50.5], 1000, 800), [100, 50, 401, 251]);
  });
  test('a view larger than the image is cut to the image', () => {
    assert.deepEqual(figureRegion([-200, -1000, 1200, 100], 1000, 800), [0, 0, 1000, 800]);
  });
  test('a view beside the image shows none of it', () => {
    assert.equal(figureRegion([1100, -800, 1500, 0], 1000, 800), null);
  });
});

describe('figureBody', () => {
  test('the selected annotations by id', () => {
    assert.deepEqual(figureBody({region: [0, 0, 10, 10], width: '800', dpi: '150', format: 'png', which: 'selected', selectedIds: new Set(['a', 'b']), labels: true}),
      {format: 'png', region: [0, 0, 10, 10], width: 800, dpi: 150, annotations: ['a', 'b'], labels: true});
  });
  test('all or none as the word', () => {
    assert.equal(figureBody({which: 'all', selectedIds: [], width: 1, dpi: 72}).annotations, 'all');
    assert.equal(figureBody({which: 'none', selectedIds: [], width: 1, dpi: 72}).annotations, 'none');
  });
});
