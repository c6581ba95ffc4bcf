// Undo and redo (src/undo.js) against a wire the tests answer as the server would: each
// way of undoing through the API's versions, chains of changes to one annotation, bulk
// entries, and someone else's change in between.

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {apiClient} from '../src/api.js';
import {savedStep, undoHistory} from '../src/undo.js';
import {CSRF, annotation, settled, stale, wire} from './harness.js';

// undoPage is a page showing anns (id → version), with an undo history over a wire.
function undoPage(anns) {
  const w = wire();
  const shown = new Map(Object.entries(anns));
  const p = {wire: w, shown, suggestions: new Map(), conflicts: [], changes: 0};
  const api = apiClient({fetch: w.fetch, csrfToken: () => CSRF, onFailure: () => {}});
  p.history = undoHistory({
    api,
    versionOf: (id) => (shown.has(id) ? shown.get(id) : null),
    show: (id, ann) => (ann ? shown.set(id, ann.version) : shown.delete(id)),
    showSuggestion: (sg) => p.suggestions.set(sg.id, sg.status),
    on: {conflict: (c) => p.conflicts.push(c), changed: () => p.changes++},
  });
  return p;
}

// answer takes the next request, checks it and answers it.
async function expect(p, method, url, body, status, answer, ifMatch) {
  const r = await p.wire.next();
  assert.equal(`${r.method} ${r.url}`, `${method} ${url}`);
  assert.deepEqual(r.body, body);
  if (ifMatch) assert.equal(r.headers['If-Match'], ifMatch);
  r.answer(status, answer);
  return r;
}

const url = (id, rest = '') => `/api/v1/annotations/${id}${rest}`;

describe('undo and redo', () => {
  test('an edit is undone by restoring the version before it, and redone by restoring the one after', async () => {
    const p = undoPage({a1: 3});
    p.history.record([{id: 'a1', from: 2, to: 3}]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 3}, 200, annotation('a1', 4));
    assert.equal(await undo, true);
    assert.equal(p.shown.get('a1'), 4);
    assert.equal(p.history.canUndo(), false);
    assert.equal(p.history.canRedo(), true);

    const redo = p.history.redo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 3, current: 4}, 200, annotation('a1', 5));
    assert.equal(await redo, true);
    assert.equal(p.shown.get('a1'), 5);
    // And again: the state before is live at 4 now.
    const again = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 5}, 200, annotation('a1', 6));
    assert.equal(await again, true);
  });

  test('a creation is undone by deleting it on its version, and redone by restoring it with its id', async () => {
    const p = undoPage({a1: 1});
    p.history.record([{id: 'a1', from: null, to: 1}]);
    const undo = p.history.undo();
    await expect(p, 'DELETE', url('a1'), undefined, 204, undefined, '"1"');
    assert.equal(await undo, true);
    assert.equal(p.shown.has('a1'), false);
    const redo = p.history.redo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 1}, 200, annotation('a1', 3));
    assert.equal(await redo, true);
    assert.equal(p.shown.get('a1'), 3);
  });

  test('a bulk deletion is undone annotation by annotation and redone on the restored versions', async () => {
    const p = undoPage({});
    p.history.record([
      {id: 'a1', from: 2, to: null},
      {id: 'a2', from: 5, to: null},
    ]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2}, 200, annotation('a1', 4));
    await expect(p, 'POST', url('a2', '/restore'), {version: 5}, 200, annotation('a2', 7));
    assert.equal(await undo, true);
    assert.deepEqual(Object.fromEntries(p.shown), {a1: 4, a2: 7});
    const redo = p.history.redo();
    await expect(p, 'DELETE', url('a1'), undefined, 204, undefined, '"4"');
    await expect(p, 'DELETE', url('a2'), undefined, 204, undefined, '"7"');
    assert.equal(await redo, true);
    assert.equal(p.shown.size, 0);
  });

  test('two changes of one annotation undo one after the other without a false conflict', async () => {
    const p = undoPage({a1: 3});
    p.history.record([{id: 'a1', from: 1, to: 2}]);
    p.history.record([{id: 'a1', from: 2, to: 3}]);
    const first = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 3}, 200, annotation('a1', 4));
    assert.equal(await first, true);
    const second = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 1, current: 4}, 200, annotation('a1', 5));
    assert.equal(await second, true);
    assert.deepEqual(p.conflicts, []);
    // Redo both, in order.
    const r1 = p.history.redo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 5}, 200, annotation('a1', 6));
    assert.equal(await r1, true);
    const r2 = p.history.redo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 3, current: 6}, 200, annotation('a1', 7));
    assert.equal(await r2, true);
  });

  test('a new change clears what could be redone', async () => {
    const p = undoPage({a1: 2});
    p.history.record([{id: 'a1', from: 1, to: 2}]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 1, current: 2}, 200, annotation('a1', 3));
    await undo;
    p.history.record([{id: 'a1', from: 3, to: 4}]);
    assert.equal(p.history.canRedo(), false);
  });

  test('a change that changed nothing is not recorded', () => {
    const p = undoPage({a1: 2});
    p.history.record([{id: 'a1', from: 2, to: 2}]);
    assert.equal(p.history.canUndo(), false);
  });
});

describe('someone else changed it since', () => {
  test('nothing is sent; the user is asked; keeping theirs drops the change from the history', async () => {
    const p = undoPage({a1: 5, a2: 3});
    p.history.record([
      {id: 'a1', from: 2, to: 3},
      {id: 'a2', from: 2, to: 3},
    ]);
    p.shown.set('a1', 5); // bob saved a1 twice since
    assert.equal(await p.history.undo(), false);
    await settled();
    assert.equal(p.wire.sent.length, 0, 'an undo over someone else’s change was sent');
    assert.deepEqual(p.conflicts, [{direction: 'undo', stale: [{id: 'a1', ours: 3, theirs: 5}]}]);
    p.history.keepTheirs();
    assert.equal(p.history.canUndo(), false);
    assert.equal(p.history.conflict(), null);
  });

  test('undoing anyway restores on top of their version', async () => {
    const p = undoPage({a1: 5});
    p.history.record([{id: 'a1', from: 2, to: 3}]);
    assert.equal(await p.history.undo(), false);
    const anyway = p.history.applyAnyway();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 5}, 200, annotation('a1', 6));
    assert.equal(await anyway, true);
    assert.equal(p.shown.get('a1'), 6);
  });

  test('a 412 between the check and the request asks the same, with the version the server names', async () => {
    const p = undoPage({a1: 3});
    p.history.record([{id: 'a1', from: 2, to: 3}]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 3}, 412, stale(annotation('a1', 4, {by: 'Bob'}), 3));
    assert.equal(await undo, false);
    assert.deepEqual(p.conflicts, [{direction: 'undo', stale: [{id: 'a1', ours: 3, theirs: 4}]}]);
    const anyway = p.history.applyAnyway();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 4}, 200, annotation('a1', 5));
    assert.equal(await anyway, true);
  });

  test('a bulk undo refused part-way does not send again what it already undid', async () => {
    const p = undoPage({a1: 3, a2: 3});
    p.history.record([
      {id: 'a1', from: 2, to: 3},
      {id: 'a2', from: 2, to: 3},
    ]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 2, current: 3}, 200, annotation('a1', 4));
    await expect(p, 'POST', url('a2', '/restore'), {version: 2, current: 3}, 412, stale(annotation('a2', 4, {by: 'Bob'}), 3));
    assert.equal(await undo, false);
    const anyway = p.history.applyAnyway();
    await expect(p, 'POST', url('a2', '/restore'), {version: 2, current: 4}, 200, annotation('a2', 5));
    assert.equal(await anyway, true);
    assert.equal(p.wire.sent.length, 3);
    assert.equal(p.history.canRedo(), true);
  });
});

describe('decisions on suggestions', () => {
  const sgURL = (id, rest) => `/api/v1/suggestions/${id}/${rest}`;

  test('an acceptance is undone by reopening the suggestion (its annotation goes), and redone by accepting it again', async () => {
    const p = undoPage({a1: 1});
    p.history.record([{id: 's1', from: 'pending', to: 'accepted', suggestion: {decision: 'accept'}}]);
    const undo = p.history.undo();
    await expect(p, 'POST', sgURL('s1', 'reopen'), undefined, 200, {suggestion: {id: 's1', status: 'pending'}, deleted_annotation: 'a1'});
    assert.equal(await undo, true);
    assert.equal(p.shown.has('a1'), false);
    assert.equal(p.suggestions.get('s1'), 'pending');
    const redo = p.history.redo();
    await expect(p, 'POST', sgURL('s1', 'accept'), undefined, 200, {suggestion: {id: 's1', status: 'accepted'}, annotation: annotation('a2', 1)});
    assert.equal(await redo, true);
    assert.equal(p.shown.get('a2'), 1);
    assert.equal(p.suggestions.get('s1'), 'accepted');
    assert.equal(p.history.canUndo(), true);
  });

  test('Ctrl+Z while a decision is on its way undoes that decision, not the change before it', async () => {
    const p = undoPage({});
    p.history.record([{id: 's0', from: 'pending', to: 'accepted', suggestion: {decision: 'accept'}}]);
    let answered;
    const sent = new Promise((resolve) => { answered = resolve; });
    p.history.after(sent);
    const undo = p.history.undo(); // before the rejection of s1 is answered and recorded
    await settled();
    p.history.record([{id: 's1', from: 'pending', to: 'rejected', suggestion: {decision: 'reject'}}]);
    answered();
    await expect(p, 'POST', sgURL('s1', 'reopen'), undefined, 200, {suggestion: {id: 's1', status: 'pending'}});
    assert.equal(await undo, true);
    assert.equal(p.suggestions.get('s1'), 'pending');
    assert.equal(p.history.canUndo(), true); // the acceptance of s0 is still there to undo
  });

  test('a rejection undone and redone; a refusal (409) drops the entry and says why', async () => {
    const p = undoPage({});
    p.history.record([{id: 's1', from: 'pending', to: 'rejected', suggestion: {decision: 'reject'}}]);
    const undo = p.history.undo();
    await expect(p, 'POST', sgURL('s1', 'reopen'), undefined, 200, {suggestion: {id: 's1', status: 'pending'}});
    assert.equal(await undo, true);
    const redo = p.history.redo();
    await expect(p, 'POST', sgURL('s1', 'reject'), undefined, 409, {error: {code: 'conflict', message: 'already accepted by bob'}});
    await assert.rejects(redo, /already accepted by bob/);
    assert.equal(p.history.canRedo(), false);
    assert.equal(p.history.canUndo(), false);
  });
});

describe('review decisions', () => {
  test('a submission is undone by withdrawing it, and redone by submitting again', async () => {
    const p = undoPage({a1: 2});
    p.history.record([savedStep({id: 'a1', from: 1, to: 2, kind: 'review', change: {kind: 'review', decision: 'submitted', reason: ''}})]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 2}, 200, annotation('a1', 3));
    assert.equal(await undo, true);
    assert.equal(p.shown.get('a1'), 3);
    const redo = p.history.redo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'submitted', version: 3}, 200, annotation('a1', 4));
    assert.equal(await redo, true);
    const again = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 4}, 200, annotation('a1', 5));
    assert.equal(await again, true);
  });

  test('a rejection is redone with its reason', async () => {
    const p = undoPage({a1: 5});
    p.history.record([{id: 'a1', from: 4, to: 5, review: {decision: 'rejected', reason: 'a tug'}}]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 5}, 200, annotation('a1', 6));
    await undo;
    const redo = p.history.redo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'rejected', reason: 'a tug', version: 6}, 200, annotation('a1', 7));
    assert.equal(await redo, true);
  });

  test('an edit then its submission undo in order: the withdrawal, then the restore on its version', async () => {
    const p = undoPage({a1: 3});
    p.history.record([{id: 'a1', from: 1, to: 2}]);
    p.history.record([{id: 'a1', from: 2, to: 3, review: {decision: 'submitted', reason: ''}}]);
    const first = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 3}, 200, annotation('a1', 4));
    assert.equal(await first, true);
    const second = p.history.undo();
    await expect(p, 'POST', url('a1', '/restore'), {version: 1, current: 4}, 200, annotation('a1', 5));
    assert.equal(await second, true);
    assert.deepEqual(p.conflicts, []);
  });

  test('someone else changed it since: nothing is sent, the conflict names the decision', async () => {
    const p = undoPage({a1: 4});
    p.history.record([{id: 'a1', from: 2, to: 3, review: {decision: 'accepted', reason: ''}}]);
    assert.equal(await p.history.undo(), false);
    await settled();
    assert.equal(p.wire.sent.length, 0);
    assert.deepEqual(p.conflicts, [{direction: 'undo', stale: [{id: 'a1', ours: 3, theirs: 4, review: 'accepted'}]}]);
    p.history.keepTheirs();
    assert.equal(p.history.canUndo(), false);
  });

  test('a withdrawal the server refuses (409) drops the entry and says why', async () => {
    const p = undoPage({a1: 3});
    p.history.record([{id: 'a1', from: 2, to: 3, review: {decision: 'submitted', reason: ''}}]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 3}, 409, {error: {code: 'conflict', message: 'there is no decision to withdraw'}});
    await assert.rejects(undo, /no decision to withdraw/);
    assert.equal(p.history.canUndo(), false);
    assert.equal(p.history.canRedo(), false);
  });

  test('a bulk submission is withdrawn annotation by annotation', async () => {
    const p = undoPage({a1: 2, a2: 6});
    p.history.record([
      {id: 'a1', from: 1, to: 2, review: {decision: 'submitted', reason: ''}},
      {id: 'a2', from: 5, to: 6, review: {decision: 'submitted', reason: ''}},
    ]);
    const undo = p.history.undo();
    await expect(p, 'POST', url('a1', '/reviews'), {decision: 'withdrawn', version: 2}, 200, annotation('a1', 3));
    await expect(p, 'POST', url('a2', '/reviews'), {decision: 'withdrawn', version: 6}, 200, annotation('a2', 7));
    assert.equal(await undo, true);
    assert.deepEqual(Object.fromEntries(p.shown), {a1: 3, a2: 7});
  });
});
