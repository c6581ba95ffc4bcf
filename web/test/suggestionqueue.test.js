// The review queue of suggestions: best first, N goes round, a decision shows the next.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {suggestionQueue} from '../src/suggestionqueue.js';

const s = (id, score) => ({id, score});

test('next goes through the suggestions best first, and round again', () => {
  const q = suggestionQueue();
  assert.equal(q.next(), null);
  q.add([s('b', 0.7), s('a', 0.9), s('c', 0.65)]);
  assert.equal(q.current(), null);
  assert.equal(q.position(), 0);
  assert.deepEqual([q.next().id, q.next().id, q.next().id, q.next().id], ['a', 'b', 'c', 'a']);
  assert.equal(q.position(), 1);
});

test('a decision takes the suggestion out and shows the one after it', () => {
  const q = suggestionQueue();
  q.add([s('a', 0.9), s('b', 0.7), s('c', 0.65)]);
  q.next();
  q.next(); // b
  assert.equal(q.remove('b').id, 'c');
  assert.equal(q.size(), 2);
  assert.equal(q.remove('c').id, 'a', 'after the last, the first');
  assert.equal(q.remove('zzz').id, 'a', 'an unknown id changes nothing');
  assert.equal(q.remove('a'), null);
  assert.equal(q.size(), 0);
  assert.equal(q.current(), null);
});

test('taking out one not shown keeps the one shown', () => {
  const q = suggestionQueue();
  q.add([s('a', 0.9), s('b', 0.7)]);
  q.next();
  assert.equal(q.remove('b').id, 'a');
  assert.equal(q.position(), 1);
});

test('a second search adds only what is new, in score order', () => {
  const q = suggestionQueue();
  q.add([s('a', 0.9), s('b', 0.7)]);
  q.add([s('b', 0.7), s('d', 0.8)]);
  assert.deepEqual(q.all().map((x) => x.id), ['a', 'd', 'b']);
});

test('show brings back a suggestion as the one shown (an undone decision); an unknown id changes nothing', () => {
  const q = suggestionQueue();
  q.add([s('a', 0.9), s('b', 0.7)]);
  q.next();
  assert.equal(q.show('b').id, 'b');
  assert.equal(q.position(), 2);
  assert.equal(q.show('zzz'), null);
  assert.equal(q.current().id, 'b');
});
