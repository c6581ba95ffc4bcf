// Who may decide on an annotation, read from its history as the server reads its
// revisions: whoever wrote a version since it was last accepted may not.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {wroteSinceAccepted} from '../src/savechain.js';

const rev = (version, actor, status) => ({version, actor, after: {review_status: status}});

test('the one who drew it and submitted it wrote the version under review', () => {
  const h = [rev(1, 'ada', 'draft'), rev(2, 'ada', 'submitted')];
  assert.equal(wroteSinceAccepted(h, 'ada'), 2);
  assert.equal(wroteSinceAccepted(h, 'ben'), 0);
});

test('an edit of another analyst\'s work counts, whatever the case of the name', () => {
  const h = [rev(1, 'ada', 'draft'), rev(2, 'Ben', 'draft'), rev(3, 'ada', 'submitted')];
  assert.equal(wroteSinceAccepted(h, 'ben'), 2);
});

test('writing before the last acceptance does not count', () => {
  const h = [rev(1, 'ben', 'draft'), rev(2, 'ben', 'submitted'), rev(3, 'ada', 'accepted'), rev(4, 'cy', 'draft'), rev(5, 'cy', 'submitted')];
  assert.equal(wroteSinceAccepted(h, 'ben'), 0);
  assert.equal(wroteSinceAccepted(h, 'cy'), 5);
});

test('review decisions are not writing: who disputed may judge the fix', () => {
  const h = [rev(1, 'ada', 'draft'), rev(2, 'ada', 'submitted'), rev(3, 'ben', 'disputed'), rev(4, 'ada', 'draft'), rev(5, 'ada', 'submitted')];
  assert.equal(wroteSinceAccepted(h, 'ben'), 0);
});

test('a delete (no after) is not a write under review', () => {
  const h = [rev(1, 'ada', 'draft'), {version: 2, actor: 'ben', after: null}];
  assert.equal(wroteSinceAccepted(h, 'ben'), 0);
});

test('a withdrawn acceptance accepts nothing, and a withdrawal is not writing', () => {
  const withdrawal = (version, actor, status, withdrew) => ({...rev(version, actor, status), withdrew});
  const h = [rev(1, 'ada', 'draft'), rev(2, 'cy', 'draft'), rev(3, 'cy', 'submitted'), rev(4, 'ben', 'accepted'), withdrawal(5, 'ben', 'submitted', 'accepted')];
  assert.equal(wroteSinceAccepted(h, 'cy'), 3);
  assert.equal(wroteSinceAccepted(h, 'ben'), 0);
});
