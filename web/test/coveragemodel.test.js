// Search coverage's cells and the share they cover, as the server counts them.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {cellAt, cellBox, cellPxFor, gridLines, gridSize, percent, share} from '../src/coveragemodel.js';

test('a grid covers the whole image, its last column and row cut by the edge', () => {
  assert.deepEqual(gridSize(100, 80, 30), {cols: 4, rows: 3});
  assert.deepEqual(gridSize(90, 60, 30), {cols: 3, rows: 2});
  assert.deepEqual(gridSize(100, 80, 0), {cols: 0, rows: 0});
  assert.deepEqual(cellBox(3, 2, 100, 80, 30), [90, 60, 100, 80]);
  assert.equal(gridLines(100, 80, 30).length, 3 + 2);
});

test('the cell under a pixel; nothing outside the image', () => {
  assert.deepEqual(cellAt([0, 0], 100, 80, 30), {col: 0, row: 0});
  assert.deepEqual(cellAt([29.99, 30], 100, 80, 30), {col: 0, row: 1});
  assert.deepEqual(cellAt([99.5, 79.5], 100, 80, 30), {col: 3, row: 2});
  assert.equal(cellAt([100, 10], 100, 80, 30), null);
  assert.equal(cellAt([-0.1, 10], 100, 80, 30), null);
});

test('the share counts edge cells by their part inside the image', () => {
  assert.equal(share([], 100, 80, 30), 0);
  assert.equal(share([{col: 0, row: 0}, {col: 3, row: 2}], 100, 80, 30), (900 + 200) / 8000);
  const all = [];
  for (let c = 0; c < 4; c++) for (let r = 0; r < 3; r++) all.push({col: c, row: r});
  assert.equal(share(all, 100, 80, 30), 1);
});

test('cell sizes in metres become whole pixels; metres need a pixel size', () => {
  assert.equal(cellPxFor('256', 'px'), 256);
  assert.equal(cellPxFor(100, 'm', 0.5), 200);
  assert.equal(cellPxFor(100, 'm', 0.3), 333);
  assert.equal(cellPxFor(100, 'm', undefined), null);
  assert.equal(cellPxFor(-5, 'px'), null);
  assert.equal(cellPxFor('', 'px'), null);
});

test('a share is shown to one decimal, never 0 or 100 % unless it is', () => {
  assert.equal(percent(0), '0 %');
  assert.equal(percent(0.25), '25.0 %');
  assert.equal(percent(0.0001), '0.1 %');
  assert.equal(percent(0.9999), '99.9 %');
  assert.equal(percent(1), '100 %');
});
