// The site page's timeline and chart, from the images the API lists.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {chartBars, dateSpan, layoutTimeline, span} from '../src/sitemodel.js';

const DAY = 86400000;

test('a capture window of dates runs to the end of its last day', () => {
  const s = span({captured_from: '2024-10-08', captured_to: '2024-10-13'});
  assert.equal(s.kind, 'window');
  assert.equal(s.to - s.from, 6 * DAY);
});

test('one day, an instant, a release date and nothing', () => {
  assert.equal(span({captured_from: '2024-10-13', captured_to: '2024-10-13'}).kind, 'day');
  assert.equal(span({captured_from: '2024-10-13T02:14:00Z', captured_to: '2024-10-13T02:14:00Z'}).kind, 'day');
  assert.equal(span({captured_to: '2024-10-13'}).kind, 'day');
  assert.equal(span({released_at: '2024-10-20'}).kind, 'release');
  assert.equal(span({title: 'undated'}), null);
});

test('items that overlap in time go on separate rows; later ones reuse a free row', () => {
  const images = [
    {id: 'a', captured_from: '2024-10-08', captured_to: '2024-10-13'},
    {id: 'b', captured_from: '2024-10-10', captured_to: '2024-10-10'},
    {id: 'c', captured_from: '2024-10-20', captured_to: '2024-10-20'},
    {id: 'd'},
  ];
  const t = layoutTimeline(images, 600);
  const byId = Object.fromEntries(t.items.map((i) => [i.id, i]));
  assert.equal(byId.a.row, 0);
  assert.equal(byId.b.row, 1);
  assert.equal(byId.c.row, 0);
  assert.ok(byId.a.x0 < byId.b.x0 && byId.b.x0 < byId.c.x0, 'in date order along the axis');
  assert.ok(byId.c.x1 <= 600, 'inside the width');
  assert.deepEqual(t.undated.map((i) => i.id), ['d']);
  assert.equal(t.rows, 2);
  assert.ok(t.ticks.length >= 10 && t.ticks.every((k) => /^\d\d-\d\d$/.test(k.label)), 'a tick a day under three weeks');
});

test('a single day still has width; long spans tick by month', () => {
  const one = layoutTimeline([{id: 'a', captured_from: '2024-10-13T02:14:00Z'}], 400);
  assert.ok(one.items[0].x1 - one.items[0].x0 >= 8);
  const long = layoutTimeline([{id: 'a', captured_from: '2023-01-05'}, {id: 'b', captured_from: '2024-10-13'}], 800);
  assert.ok(long.ticks.length > 15 && long.ticks.every((k) => /^\d{4}-\d\d$/.test(k.label)));
});

test('bars are scaled to the image with the most annotations', () => {
  const bars = chartBars([
    {id: 'a', labels: [{label: 'vessel › landing ship', color: '#f00', count: 3}, {label: 'crane', color: '#0f0', count: 1}]},
    {id: 'b', labels: [{label: 'crane', color: '#0f0', count: 2}]},
    {id: 'c', labels: []},
  ]);
  assert.deepEqual(bars.map((b) => b.total), [4, 2, 0]);
  assert.equal(bars[0].parts[0].share, 0.75);
  assert.equal(bars[1].parts[0].share, 0.5);
});

test('the span of a site\'s dates', () => {
  assert.equal(dateSpan([{when: '2024-10-13'}, {when: '2024-10-08T10:00:00Z'}, {when: ''}]), '2024-10-08 – 2024-10-13');
  assert.equal(dateSpan([{when: ''}]), 'undated');
});
