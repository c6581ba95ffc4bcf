// Which annotations the sidebar's filter keeps.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {authorsOf, emptyFilter, isFiltering, keeps as filterKeeps, keptText, matchesFilter} from '../src/findwork.js';

const labels = new Map([
  ['v', {id: 'v', path: ['vessel']}],
  ['f', {id: 'f', path: ['vessel', 'frigate']}],
  ['a', {id: 'a', path: ['aircraft']}],
]);
const ann = (over) => ({
  label: {id: 'f', path: ['vessel', 'frigate']},
  review_status: 'draft',
  created_by: 'ana',
  updated_by: 'ana',
  created_at: '2026-03-02T10:00:00Z',
  updated_at: '2026-03-02T10:00:00Z',
  properties: {},
  ...over,
});
const keeps = (a, f) => matchesFilter(a, {...emptyFilter(), ...f}, labels);

test('an empty filter keeps everything and says it filters nothing', () => {
  assert.equal(isFiltering(emptyFilter()), false);
  assert.equal(isFiltering({...emptyFilter(), text: 'x'}), true);
  assert.ok(keeps(ann(), {}));
});

test('a label keeps itself and the labels under it, not its parent or siblings', () => {
  assert.ok(keeps(ann(), {label: 'f'}));
  assert.ok(keeps(ann(), {label: 'v'}));
  assert.equal(keeps(ann({label: {id: 'v', path: ['vessel']}}), {label: 'f'}), false);
  assert.equal(keeps(ann(), {label: 'a'}), false);
  assert.equal(keeps(ann(), {label: 'gone'}), false);
});

test('text needs every word in the note or the identification, in any case', () => {
  const a = ann({properties: {note: 'Moored at the north pier', identification: 'Type 054A'}});
  assert.ok(keeps(a, {text: 'north 054a'}));
  assert.ok(keeps(a, {text: '  PIER  '}));
  assert.equal(keeps(a, {text: 'north south'}), false);
  assert.equal(keeps(ann(), {text: 'pier'}), false, 'no note at all');
});

test('status, author (drew or changed last) and days, both ends included', () => {
  const a = ann({review_status: 'accepted', updated_by: 'Bob', updated_at: '2026-03-05T23:59:59Z'});
  assert.ok(keeps(a, {status: 'accepted'}));
  assert.equal(keeps(a, {status: 'draft'}), false);
  assert.ok(keeps(a, {author: 'ana'}));
  assert.ok(keeps(a, {author: 'bob'}));
  assert.equal(keeps(a, {author: 'carl'}), false);
  assert.ok(keeps(a, {from: '2026-03-05', to: '2026-03-05'}), 'changed on the 5th');
  assert.ok(keeps(a, {to: '2026-03-02'}), 'drawn on the 2nd');
  assert.equal(keeps(a, {from: '2026-03-03', to: '2026-03-04'}), false, 'nothing in between');
  assert.equal(keeps(a, {from: '2026-03-06'}), false);
});

test('authors are listed once each, whatever their case, sorted', () => {
  assert.deepEqual(authorsOf([ann({updated_by: 'bob'}), ann({created_by: 'Bob', updated_by: 'carl'})]), ['ana', 'bob', 'carl']);
});

test('the list and the map keep everything before the form is read and with nothing filled in, else what the filter keeps', () => {
  assert.ok(filterKeeps(ann(), null, labels));
  assert.ok(filterKeeps(ann({review_status: 'rejected'}), emptyFilter(), labels));
  assert.ok(filterKeeps(ann(), {...emptyFilter(), label: 'v'}, labels), 'the frigate is a vessel');
  assert.equal(filterKeeps(ann(), {...emptyFilter(), label: 'a'}, labels), false);
  assert.equal(filterKeeps(ann(), {...emptyFilter(), status: 'accepted'}, labels), false);
});

test('the count says how many the filter keeps of all, or all when it keeps them all', () => {
  assert.equal(keptText(3, 10), '(3 of 10)');
  assert.equal(keptText(0, 4), '(0 of 4)');
  assert.equal(keptText(10, 10), '(10)');
  assert.equal(keptText(0, 0), '(0)');
});
