// The annotator's save chain (src/savechain.js) against a wire the tests answer as the
// server would: saves in order on the right versions, conflicts and both ways out of them,
// failures, and live updates merged without losing the user's work.

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {CSRF, annotation, page, settled, stale} from './harness.js';

const note = (text) => ({kind: 'patch', body: {properties: {note: text}}, what: 'the note'});
const moved = {type: 'Point', coordinates: [50, 60]};

describe('saving', () => {
  test('saves of one annotation go one after the other, each on the version the last returned', async () => {
    const p = page([annotation('a1', 1)]);
    const item = p.item('a1');
    const first = p.chain.send(item, note('first'));
    const second = p.chain.send(item, note('second'));

    const r1 = await p.wire.next();
    assert.equal(r1.method, 'PATCH');
    assert.equal(r1.url, '/api/v1/annotations/a1');
    assert.deepEqual(r1.body, {properties: {note: 'first'}, version: 1});
    assert.equal(r1.headers['X-CSRF-Token'], CSRF);
    await settled();
    assert.equal(p.wire.sent.length, 1, 'the second save was sent before the first was answered');
    assert.deepEqual(p.status, {pending: 1, error: null});
    assert.equal(p.saving.get(item), true);

    r1.answer(200, annotation('a1', 2, {note: 'first'}));
    const r2 = await p.wire.next();
    assert.deepEqual(r2.body, {properties: {note: 'second'}, version: 2});
    r2.answer(200, annotation('a1', 3, {note: 'second'}));

    assert.equal((await first).version, 2);
    assert.equal((await second).version, 3);
    assert.equal(item.ann.version, 3);
    assert.equal(item.ann.properties.note, 'second');
    assert.deepEqual(p.status, {pending: 0, error: null});
    assert.equal(p.saving.get(item), false);
  });

  test('each saved change says which versions it went between, for the undo history', async () => {
    const p = page([annotation('a1', 1)]);
    const item = p.item('a1');
    const edit = p.chain.send(item, note('first'));
    (await p.wire.next()).answer(200, annotation('a1', 2, {note: 'first'}));
    await edit;
    const del = p.chain.send(item, {kind: 'delete', what: 'the deletion'});
    (await p.wire.next()).answer(204);
    await del;
    const drawing = {ann: null, shown: null};
    p.items.push(drawing);
    const made = p.chain.create(drawing, {label: 'frigate', shape: 'point', geometry: {type: 'Point', coordinates: [1, 2]}, properties: {}});
    (await p.wire.next()).answer(201, annotation('a9', 1));
    await made;
    assert.deepEqual(p.savedTold.map(({change, ...s}) => ({...s, what: change?.what})), [
      {id: 'a1', from: 1, to: 2, kind: 'patch', what: 'the note'},
      {id: 'a1', from: 2, to: null, kind: 'delete', what: 'the deletion'},
      {id: 'a9', from: null, to: 1, kind: 'create', what: undefined},
    ]);
  });

  test('a saved review decision says which, for its undo', async () => {
    const p = page([annotation('a1', 1)]);
    const review = p.chain.send(p.item('a1'), {kind: 'review', decision: 'rejected', reason: 'a tug', what: 'the review'});
    (await p.wire.next()).answer(200, annotation('a1', 2));
    await review;
    assert.equal(p.savedTold.length, 1);
    const [{id, from, to, kind, change}] = p.savedTold;
    assert.deepEqual({id, from, to, kind, decision: change.decision, reason: change.reason}, {id: 'a1', from: 1, to: 2, kind: 'review', decision: 'rejected', reason: 'a tug'});
  });

  test('saves of different annotations do not wait for each other', async () => {
    const p = page([annotation('a1', 1), annotation('a2', 7)]);
    p.chain.send(p.item('a1'), note('one'));
    p.chain.send(p.item('a2'), note('two'));
    const r1 = await p.wire.next();
    const r2 = await p.wire.next();
    assert.deepEqual([r1.url, r1.body.version], ['/api/v1/annotations/a1', 1]);
    assert.deepEqual([r2.url, r2.body.version], ['/api/v1/annotations/a2', 7]);
  });

  // Each kind of change names the version it is based on the way its endpoint reads it.
  const kinds = [
    {name: 'a patch', change: {kind: 'patch', body: {label: 'corvette'}}, method: 'PATCH', url: '/api/v1/annotations/a1', body: {label: 'corvette', version: 4}},
    {name: 'a deletion, If-Match', change: {kind: 'delete'}, method: 'DELETE', url: '/api/v1/annotations/a1', body: undefined, ifMatch: '"4"', status: 204},
    {name: 'a review', change: {kind: 'review', decision: 'disputed', reason: 'a tug'}, method: 'POST', url: '/api/v1/annotations/a1/reviews', body: {decision: 'disputed', reason: 'a tug', version: 4}},
    {name: 'a restore, the version it replaces', change: {kind: 'restore', version: 2}, method: 'POST', url: '/api/v1/annotations/a1/restore', body: {version: 2, current: 4}},
  ];
  for (const k of kinds) {
    test(`${k.name} is sent on the stored version with the CSRF token`, async () => {
      const p = page([annotation('a1', 4)]);
      const done = p.chain.send(p.item('a1'), {...k.change, what: 'it'});
      const r = await p.wire.next();
      assert.equal(r.method, k.method);
      assert.equal(r.url, k.url);
      assert.deepEqual(r.body, k.body);
      assert.equal(r.headers['X-CSRF-Token'], CSRF);
      assert.equal(r.headers['If-Match'], k.ifMatch);
      if (k.status === 204) r.answer(204);
      else r.answer(200, annotation('a1', 5));
      assert.ok(await done);
    });
  }

  test('a deletion takes the annotation away once the server answers', async () => {
    const p = page([annotation('a1', 4)]);
    const item = p.item('a1');
    p.selected = item;
    const done = p.chain.send(item, {kind: 'delete', what: 'the deletion'});
    (await p.wire.next()).answer(204);
    assert.equal(await done, true);
    assert.equal(p.item('a1'), undefined);
    assert.equal(p.selected, null);
    assert.deepEqual(p.lastFlash(), {message: 'Deleted Vessel › Frigate.', kind: 'info'});
  });

  test('a failed save puts the stored version back and says why, and the next save still goes', async () => {
    const p = page([annotation('a1', 3)]);
    const item = p.item('a1');
    item.shown = moved; // the user dragged it
    const done = p.chain.send(item, {kind: 'patch', body: {geometry: moved}, what: 'the move'});
    (await p.wire.next()).answer(500, {error: {code: 'internal', message: 'something went wrong on the server; it has been logged'}});

    assert.equal(await done, null);
    assert.deepEqual(item.shown, {type: 'Point', coordinates: [10, 20]}, 'the map keeps the move that was not saved');
    assert.equal(item.ann.version, 3);
    assert.deepEqual(p.status, {pending: 0, error: 'something went wrong on the server; it has been logged'});
    assert.deepEqual(p.lastFlash(), {message: 'Could not save the move: something went wrong on the server; it has been logged', kind: 'error'});

    const again = p.chain.send(item, note('again'));
    const r = await p.wire.next();
    assert.equal(r.body.version, 3);
    assert.deepEqual(p.status, {pending: 1, error: null});
    r.answer(200, annotation('a1', 4, {note: 'again'}));
    assert.equal((await again).version, 4);
    assert.deepEqual(p.status, {pending: 0, error: null});
  });

  test('a save the server cannot be reached for is not saved, and says so', async () => {
    const p = page([annotation('a1', 3)]);
    const done = p.chain.send(p.item('a1'), note('x'));
    (await p.wire.next()).fail('Failed to fetch');
    assert.equal(await done, null);
    assert.equal(p.item('a1').ann.version, 3);
    assert.match(p.status.error, /the server cannot be reached \(Failed to fetch\)/);
  });

  test('a save of an annotation deleted meanwhile (404) takes it away', async () => {
    const p = page([annotation('a1', 3)]);
    const done = p.chain.send(p.item('a1'), note('x'));
    (await p.wire.next()).answer(404, {error: {code: 'not_found', message: 'annotation not found'}});
    assert.equal(await done, null);
    assert.equal(p.item('a1'), undefined);
  });

  test('a drawing is created, or taken away when it cannot be', async () => {
    const p = page([]);
    const drawing = {ann: null, shown: moved};
    p.items.push(drawing);
    const body = {label: 'frigate', shape: 'point', geometry: moved, properties: {}};
    const made = p.chain.create(drawing, body);
    const r = await p.wire.next();
    assert.deepEqual([r.method, r.url, r.body], ['POST', '/api/v1/images/img1/annotations', body]);
    r.answer(201, annotation('a9', 1, {geometry: moved}));
    assert.equal((await made).id, 'a9');
    assert.equal(p.item('a9'), drawing);

    const other = {ann: null, shown: moved};
    p.items.push(other);
    const refused = p.chain.create(other, body);
    (await p.wire.next()).answer(422, {error: {code: 'invalid', field: 'geometry', message: 'the point is outside the image'}});
    assert.equal(await refused, null);
    assert.ok(!p.items.includes(other), 'the refused drawing stays on the map');
    assert.deepEqual(p.lastFlash(), {message: 'Could not save the new annotation: the point is outside the image', kind: 'error'});
  });
});

describe('conflicts', () => {
  // Ada saves a note on version 2; Ben saved version 3 first.
  async function refused() {
    const p = page([annotation('a1', 2)]);
    const item = p.item('a1');
    p.selected = item;
    const done = p.chain.send(item, note('mine'));
    const r = await p.wire.next();
    const theirs = annotation('a1', 3, {by: 'Ben Analyst', note: 'theirs'});
    r.answer(412, stale(theirs, 2));
    assert.equal(await done, null);
    return {p, item, theirs};
  }

  test('a stale save shows their version and keeps mine aside', async () => {
    const {p, item, theirs} = await refused();
    const c = p.chain.conflict();
    assert.equal(c.item, item);
    assert.deepEqual(c.theirs, theirs);
    assert.deepEqual(
      c.changes.map((ch) => ch.body),
      [{properties: {note: 'mine'}}],
    );
    assert.deepEqual(item.ann, theirs, 'the page does not show their version');
    assert.deepEqual(p.conflictsOpened, [item]);
    assert.deepEqual(p.lastFlash(), {
      message: 'Someone else changed this annotation: Ben Analyst saved version 3. Your change was not saved; choose what to keep in the editor.',
      kind: 'error',
    });
    assert.match(p.status.error, /at version 3, not 2/);
  });

  test('keep theirs drops my change and sends nothing', async () => {
    const {p, item, theirs} = await refused();
    p.chain.keepTheirs();
    await settled();
    assert.equal(p.chain.conflict(), null);
    assert.deepEqual(item.ann, theirs);
    assert.equal(p.wire.sent.length, 1);
    assert.deepEqual(p.status, {pending: 0, error: null}, 'the save state still says not saved');
    assert.deepEqual(p.lastFlash(), {message: 'Kept their version; your change was dropped.', kind: 'info'});
  });

  test('reapply mine sends my change again on top of their version', async () => {
    const {p, item} = await refused();
    const done = p.chain.reapplyMine();
    assert.equal(p.chain.conflict(), null);
    const r = await p.wire.next();
    assert.equal(r.method, 'PATCH');
    assert.deepEqual(r.body, {properties: {note: 'mine'}, version: 3});
    r.answer(200, annotation('a1', 4, {note: 'mine'}));
    const [saved] = await done;
    assert.equal(saved.version, 4);
    assert.equal(item.ann.version, 4);
    assert.equal(item.ann.properties.note, 'mine');
    assert.deepEqual(p.lastFlash(), {message: 'Saving your change on top of version 3.', kind: 'info'});
  });

  test('changes asked for before the conflict showed wait with the refused one, in order', async () => {
    const p = page([annotation('a1', 2)]);
    const item = p.item('a1');
    p.chain.send(item, note('first'));
    const later = p.chain.send(item, {kind: 'patch', body: {label: 'corvette'}, what: 'the label'});
    const theirs = annotation('a1', 3, {by: 'Ben Analyst'});
    (await p.wire.next()).answer(412, stale(theirs, 2));
    await settled();
    assert.equal(p.wire.sent.length, 1, 'the second change landed on a version the user has not seen');
    assert.equal(await later, null);
    assert.deepEqual(
      p.chain.conflict().changes.map((ch) => ch.body),
      [{properties: {note: 'first'}}, {label: 'corvette'}],
    );

    p.chain.reapplyMine();
    const r1 = await p.wire.next();
    assert.deepEqual(r1.body, {properties: {note: 'first'}, version: 3});
    r1.answer(200, annotation('a1', 4, {note: 'first'}));
    const r2 = await p.wire.next();
    assert.deepEqual(r2.body, {label: 'corvette', version: 4});
  });

  test('a change asked for after the conflict showed is sent on their version', async () => {
    const {p, item} = await refused();
    const done = p.chain.send(item, {kind: 'review', decision: 'submitted', reason: '', what: 'the review'});
    const r = await p.wire.next();
    assert.deepEqual(r.body, {decision: 'submitted', reason: '', version: 3});
    r.answer(200, annotation('a1', 4));
    assert.equal((await done).version, 4);
    assert.equal(p.chain.conflict().changes.length, 1, 'the refused change is still there to decide on');
  });

  test('a newer version saved during the conflict becomes theirs', async () => {
    const {p, item} = await refused();
    const newer = annotation('a1', 4, {by: 'Cy Analyst', note: 'newer'});
    p.chain.receive({type: 'annotation.updated', id: 'a1', version: 4, actor: 'Cy Analyst', data: newer});
    assert.deepEqual(p.chain.conflict().theirs, newer);
    assert.deepEqual(item.ann, newer);
    p.chain.reapplyMine();
    assert.equal((await p.wire.next()).body.version, 4);
  });

  test('the conflict goes with the annotation when someone deletes it', async () => {
    const {p} = await refused();
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 4, actor: 'Ben Analyst'});
    assert.equal(p.chain.conflict(), null);
    assert.equal(p.item('a1'), undefined);
    assert.deepEqual(p.lastFlash(), {
      message: 'Ben Analyst deleted the annotation you had selected (Vessel › Frigate); your unsaved change to it is lost.',
      kind: 'error',
    });
  });
});

describe('live updates', () => {
  const updated = (ann) => ({type: 'annotation.updated', id: ann.id, version: ann.version, actor: ann.updated_by, data: ann});

  test('a change by someone else is shown and highlighted', () => {
    const p = page([annotation('a1', 1)]);
    const theirs = annotation('a1', 2, {by: 'Ben Analyst', geometry: moved});
    p.chain.receive(updated(theirs));
    assert.deepEqual(p.item('a1').ann, theirs);
    assert.deepEqual(p.item('a1').shown, moved);
    assert.deepEqual(p.changed, ['a1']);
  });

  test('an older or repeated version does not overwrite a newer one', () => {
    const p = page([annotation('a1', 5, {note: 'five'})]);
    p.chain.receive(updated(annotation('a1', 4, {by: 'Ben Analyst', note: 'four'})));
    p.chain.receive(updated(annotation('a1', 5, {by: 'Ben Analyst', note: 'five again'})));
    assert.equal(p.item('a1').ann.properties.note, 'five');
    assert.deepEqual(p.changed, []);
  });

  test('a change to the annotation being edited waits, flagged, until the user stops', () => {
    const p = page([annotation('a1', 1, {note: 'old'})]);
    const item = p.item('a1');
    p.selected = item;
    p.editing.add(item);
    const theirs = annotation('a1', 2, {by: 'Ben Analyst', note: 'theirs'});
    p.chain.receive(updated(theirs));
    assert.equal(item.ann.version, 1, 'their change was applied over the user’s edit');
    assert.equal(p.chain.held(item).version, 2);
    assert.equal(p.chain.held(item).actor, 'Ben Analyst');
    assert.deepEqual(p.heldTold, [item]);

    p.chain.settle(item);
    assert.equal(item.ann.version, 1, 'settled while still editing');
    p.editing.delete(item);
    p.chain.settle(item);
    assert.deepEqual(item.ann, theirs);
    assert.equal(p.chain.held(item), undefined);
  });

  test('load theirs applies the waiting change at once', () => {
    const p = page([annotation('a1', 1)]);
    const item = p.item('a1');
    p.selected = item;
    p.editing.add(item);
    const theirs = annotation('a1', 2, {by: 'Ben Analyst', note: 'theirs'});
    p.chain.receive(updated(theirs));
    assert.equal(p.chain.loadTheirs(item), true);
    assert.deepEqual(item.ann, theirs);
    assert.equal(p.chain.held(item), undefined);
    assert.equal(p.chain.loadTheirs(item), false);
  });

  test('a change arriving while a save of ours is in flight waits for its answer', async () => {
    const p = page([annotation('a1', 1)]);
    const item = p.item('a1');
    const done = p.chain.send(item, note('mine'));
    const r = await p.wire.next();
    // Our own save announced before its answer, then Ben's on top of it.
    p.chain.receive(updated(annotation('a1', 2, {note: 'mine'})));
    const bens = annotation('a1', 3, {by: 'Ben Analyst', note: 'bens'});
    p.chain.receive(updated(bens));
    assert.equal(item.ann.version, 1);
    r.answer(200, annotation('a1', 2, {note: 'mine'}));
    await done;
    assert.deepEqual(item.ann, bens, 'our answer overwrote the newer version');
    assert.equal(p.chain.held(item), undefined);
  });

  test('a deletion of the selected annotation by someone else is reported', () => {
    const p = page([annotation('a1', 1), annotation('a2', 1)]);
    p.selected = p.item('a1');
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 2, actor: 'Ben Analyst'});
    assert.equal(p.item('a1'), undefined);
    assert.equal(p.selected, null);
    assert.deepEqual(p.lastFlash(), {message: 'Ben Analyst deleted the annotation you had selected (Vessel › Frigate).', kind: 'info'});

    p.chain.receive({type: 'annotation.deleted', id: 'a2', version: 2, actor: 'Ben Analyst'});
    assert.equal(p.item('a2'), undefined);
    assert.equal(p.flashes.length, 1, 'a deletion of one not selected is reported');
  });

  test('a deletion of the one being edited says the unsaved change is lost', () => {
    const p = page([annotation('a1', 1)]);
    p.selected = p.item('a1');
    p.editing.add(p.selected);
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 2, actor: 'Ben Analyst'});
    assert.deepEqual(p.lastFlash(), {
      message: 'Ben Analyst deleted the annotation you had selected (Vessel › Frigate); your unsaved change to it is lost.',
      kind: 'error',
    });
  });

  test('our own deletion announced before its answer leaves it to the answer', async () => {
    const p = page([annotation('a1', 1)]);
    const item = p.item('a1');
    p.selected = item;
    const done = p.chain.send(item, {kind: 'delete', what: 'the deletion'});
    const r = await p.wire.next();
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 2, actor: 'ada analyst'});
    assert.equal(p.item('a1'), item);
    r.answer(204);
    assert.equal(await done, true);
    assert.equal(p.item('a1'), undefined);
    assert.deepEqual(p.flashes, [{message: 'Deleted Vessel › Frigate.', kind: 'info'}]);
  });

  test('an annotation created by someone else is added and highlighted; ours is not highlighted', () => {
    const p = page([]);
    p.chain.receive({type: 'annotation.created', id: 'b1', version: 1, actor: 'Ben Analyst', data: annotation('b1', 1, {by: 'Ben Analyst'})});
    p.chain.receive({type: 'annotation.created', id: 'a1', version: 1, actor: 'Ada Analyst', data: annotation('a1', 1)});
    assert.deepEqual(
      p.items.map((it) => it.ann.id),
      ['b1', 'a1'],
    );
    assert.deepEqual(p.changed, ['b1']);
  });

  test('our drawing announced before its save answers is not added a second time', async () => {
    const p = page([]);
    const drawing = {ann: null, shown: moved};
    p.items.push(drawing);
    const made = p.chain.create(drawing, {label: 'frigate', shape: 'point', geometry: moved, properties: {}});
    const r = await p.wire.next();
    const saved = annotation('a9', 1, {geometry: moved});
    p.chain.receive({type: 'annotation.created', id: 'a9', version: 1, actor: 'Ada Analyst', data: saved});
    assert.equal(p.items.length, 1);
    r.answer(201, saved);
    await made;
    assert.deepEqual(
      p.items.map((it) => it.ann.id),
      ['a9'],
    );
  });

  test('an update for an annotation not on the page adds it', () => {
    const p = page([]);
    p.chain.receive(updated(annotation('b1', 3, {by: 'Ben Analyst'})));
    assert.equal(p.item('b1').ann.version, 3);
  });

  test('an event from before a deletion of ours made apart from the chain does not bring it back; a restore does', () => {
    // A bulk deletion (or an undo) takes a1 away at version 2; the live event of our
    // relabel to version 2 arrives after it.
    const p = page([annotation('a1', 2)]);
    p.chain.remove(p.item('a1'));
    p.chain.receive(updated(annotation('a1', 2)));
    p.chain.receive({type: 'annotation.created', id: 'a1', version: 1, actor: 'Ada Analyst', data: annotation('a1', 1)});
    assert.equal(p.item('a1'), undefined, 'a late event brought the deleted annotation back');
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 3, actor: 'Ada Analyst'});
    p.chain.receive(updated(annotation('a1', 3)));
    assert.equal(p.item('a1'), undefined, 'an event of the deletion version brought it back');
    p.chain.receive(updated(annotation('a1', 4))); // the restore: a version after the deletion
    assert.equal(p.item('a1').ann.version, 4);
  });

  test('an event from before a deletion by someone else does not bring it back', () => {
    const p = page([annotation('a1', 2)]);
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 3, actor: 'Ben Analyst'});
    p.chain.receive(updated(annotation('a1', 2, {by: 'Ben Analyst'})));
    assert.equal(p.item('a1'), undefined);
  });

  test('catching up after the stream broke drops the deleted, merges the newer, keeps what is being saved', async () => {
    const p = page([annotation('a1', 1), annotation('a2', 1), annotation('a3', 1)]);
    const a3 = p.item('a3');
    p.chain.send(a3, note('mine'));
    const save = await p.wire.next();
    const caught = p.chain.catchUp();
    const get = await p.wire.next();
    assert.deepEqual([get.method, get.url], ['GET', '/api/v1/images/img1/annotations?limit=2']);
    get.answer(200, [annotation('a1', 4, {by: 'Ben Analyst', note: 'four'}), annotation('b1', 1, {by: 'Ben Analyst'})]);
    assert.equal(await caught, true);
    assert.deepEqual(
      p.items.map((it) => [it.ann.id, it.ann.version]),
      [
        ['a1', 4],
        ['a3', 1],
        ['b1', 1],
      ],
    );
    save.answer(200, annotation('a3', 2, {note: 'mine'}));
  });
});
