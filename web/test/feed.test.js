// Loading an image's annotations page by page (src/feed.js) and through the save chain:
// the pages in order, merged without bringing back what was deleted meanwhile, and after
// a broken stream only the changes since the last sequence number, or everything again
// when the server cannot say.

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {annotationFeed, arrayParts, nextLink} from '../src/feed.js';
import {apiClient} from '../src/api.js';
import {ORIGIN, annotation, page, wire} from './harness.js';

const updated = (a) => ({type: 'annotation.updated', id: a.id, version: a.version, actor: a.updated_by, data: a});
const ids = (p) => p.items.map((it) => [it.ann.id, it.ann.version]);

describe('the Link header', () => {
  test('names the next page, among other relations and parameters', () => {
    assert.equal(nextLink('</api/v1/images/i/annotations?limit=2&after=c2>; rel="next"'), '/api/v1/images/i/annotations?limit=2&after=c2');
    assert.equal(nextLink('<http://x/a?after=1>; rel="prev", <http://x/a?after=3>; title="more"; rel=next'), 'http://x/a?after=3');
  });
  test('without a next page, or without a header, says none', () => {
    assert.equal(nextLink('</a?after=1>; rel="prev"'), null);
    assert.equal(nextLink(null), null);
    assert.equal(nextLink(''), null);
  });
});

describe('loading', () => {
  test('the first page is shown as it comes, then the next ones, each asked for where the last ended', async () => {
    const p = page([]);
    const pages = [];
    const loaded = p.feed.load((anns, first) => {
      pages.push(first);
      p.chain.load(anns);
    });
    const r1 = await p.wire.next();
    assert.deepEqual([r1.method, r1.url], ['GET', '/api/v1/images/img1/annotations?limit=2']);
    r1.answer(200, [annotation('a1', 1), annotation('a2', 1)], {Link: '</api/v1/images/img1/annotations?limit=2&after=c2>; rel="next"', 'Satmark-Seq': '17'});
    const r2 = await p.wire.next();
    assert.deepEqual(ids(p), [['a1', 1], ['a2', 1]], 'the first page is not shown before the second is asked for');
    assert.equal(r2.url, '/api/v1/images/img1/annotations?limit=3&after=c2');
    r2.answer(200, [annotation('a3', 1), annotation('a4', 1), annotation('a5', 1)], {Link: `<${ORIGIN}/api/v1/images/img1/annotations?after=c5&limit=2>; rel="next"`, 'Satmark-Seq': '18'});
    const r3 = await p.wire.next();
    assert.equal(r3.url, '/api/v1/images/img1/annotations?after=c5&limit=3');
    r3.answer(200, [annotation('a6', 1)], {'Satmark-Seq': '18'});
    await loaded;
    assert.deepEqual(pages, [true, false, false]);
    assert.deepEqual(p.addedAll, [['a1', 'a2'], ['a3', 'a4', 'a5'], ['a6']], 'each page is added in one step');
    assert.equal(p.feed.seq(), '17', 'the changes to ask for later are those since the first page');
    assert.deepEqual(p.changed, [], 'loading highlights nothing as changed by others');
  });

  test('the next page is asked for while the page before is still being shown', async () => {
    const p = page([]);
    let showFirst;
    const shown = [];
    const loaded = p.feed.load((anns) => {
      shown.push(anns.map((a) => a.id));
      p.chain.load(anns);
      if (shown.length === 1) return new Promise((resolve) => (showFirst = resolve));
      return undefined;
    });
    const r1 = await p.wire.next();
    r1.answer(200, [annotation('a1', 1), annotation('a2', 1)], {Link: '</api/v1/images/img1/annotations?limit=2&after=c2>; rel="next"', 'Satmark-Seq': '3'});
    const r2 = await p.wire.next();
    assert.equal(r2.url, '/api/v1/images/img1/annotations?limit=3&after=c2');
    assert.equal(typeof showFirst, 'function', 'the first page is being shown');
    r2.answer(200, [annotation('a3', 1)], {'Satmark-Seq': '3'});
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(shown, [['a1', 'a2']], 'the second page waits until the first is shown');
    showFirst();
    await loaded;
    assert.deepEqual(shown, [['a1', 'a2'], ['a3']]);
  });

  test('what is deleted or changed while the pages load stays deleted or changed', async () => {
    const p = page([]);
    const loaded = p.feed.load((anns) => p.chain.load(anns));
    const r1 = await p.wire.next();
    r1.answer(200, [annotation('a1', 1), annotation('a2', 1)], {Link: '</api/v1/images/img1/annotations?after=c2>; rel="next"', 'Satmark-Seq': '5'});
    const r2 = await p.wire.next();
    // Meanwhile, Ben deletes a1 and a3 (not loaded yet) and changes a4.
    p.chain.receive({type: 'annotation.deleted', id: 'a1', version: 1, actor: 'Ben Analyst'});
    p.chain.receive({type: 'annotation.deleted', id: 'a3', version: 1, actor: 'Ben Analyst'});
    p.chain.receive(updated(annotation('a4', 2, {by: 'Ben Analyst', note: 'two'})));
    // The page was read before: it still holds a3, and a4 as it was.
    r2.answer(200, [annotation('a3', 1), annotation('a4', 1)], {'Satmark-Seq': '5'});
    await loaded;
    assert.deepEqual(ids(p), [['a2', 1], ['a4', 2]]);
  });

  test('a server that pages nothing answers everything at once', async () => {
    const p = page([]);
    const loaded = p.feed.load((anns) => p.chain.load(anns));
    (await p.wire.next()).answer(200, [annotation('a1', 1), annotation('a2', 1), annotation('a3', 1)]);
    await loaded;
    assert.deepEqual(ids(p), [['a1', 1], ['a2', 1], ['a3', 1]]);
    assert.equal(p.wire.sent.length, 1);
    assert.equal(p.feed.seq(), null);
  });
});

// bytes is a fetch body giving text in pieces of size bytes (cut inside strings and
// escapes alike).
function bytes(text, size) {
  const all = new TextEncoder().encode(text);
  return new ReadableStream({
    start(c) {
      for (let i = 0; i < all.length; i += size) c.enqueue(all.slice(i, i + size));
      c.close();
    },
  });
}

describe('the rest streamed in one answer', () => {
  test('after the first page, the whole list is asked for once and shown in parts, without what the first page gave', async () => {
    const asked = [];
    const a = (id, version, note = '') => ({...annotation(id, version), properties: {note}});
    const feed = annotationFeed({
      get: async (path) => {
        asked.push(path);
        return {data: [a('a1', 1), a('a2', 1)], headers: new Headers({Link: '</api/v1/images/img1/annotations?limit=2&after=c2>; rel="next"', 'Satmark-Seq': '17'})};
      },
      stream: async (path) => {
        asked.push(path);
        // a2 changed since the first page; a note that looks like JSON's punctuation.
        const all = [a('a1', 1), a('a2', 2), a('a3', 1, 'a "quote", {brace} [bracket] \\ and ü'), a('a4', 1), a('a5', 1)];
        return new Response(bytes(JSON.stringify(all) + '\n', 7), {headers: {'Satmark-Seq': '18'}});
      },
      imageId: 'img1',
      origin: ORIGIN,
      firstPage: 2,
      streamPart: 2,
    });
    const pages = [];
    await feed.load((anns, first) => pages.push([first, anns.map((x) => [x.id, x.version])]));
    assert.deepEqual(asked, ['/api/v1/images/img1/annotations?limit=2', '/api/v1/images/img1/annotations']);
    assert.deepEqual(pages, [
      [true, [['a1', 1], ['a2', 1]]],
      [false, [['a2', 2]]],
      [false, [['a3', 1], ['a4', 1]]],
      [false, [['a5', 1]]],
    ]);
    assert.equal(feed.seq(), '17', 'the changes to ask for later are those since the first page');
  });

  test('an answer cut short or not a list is an error, not a shorter list', async () => {
    const read = async (text) => {
      const got = [];
      for await (const part of arrayParts(bytes(text, 3), 1)) got.push(...part);
      return got;
    };
    assert.deepEqual(await read('[{"id":"a"},{"id":"b"}]'), [{id: 'a'}, {id: 'b'}]);
    assert.deepEqual(await read(' []\n'), []);
    await assert.rejects(read('[{"id":"a"},{"id":"b"'), /cut short/);
    await assert.rejects(read('[{"id":"a"},{"id":"b'), /cut short/);
    await assert.rejects(read('{"error":{}}'), /begin with \[/);
    await assert.rejects(read('[1,2]'), /not an object/);
  });

  test('a failing answer is said', async () => {
    const feed = annotationFeed({
      get: async () => ({data: [annotation('a1', 1)], headers: new Headers({Link: '</x?after=c1>; rel="next"'})}),
      stream: async () => new Response('{"error":{"message":"no"}}', {status: 500}),
      imageId: 'img1',
      origin: ORIGIN,
      firstPage: 1,
    });
    await assert.rejects(feed.load(() => {}), (err) => err.status === 500);
  });
});

describe('catching up', () => {
  async function loaded(anns, seq) {
    const p = page([]);
    const done = p.feed.load((got) => p.chain.load(got));
    (await p.wire.next()).answer(200, anns, seq ? {'Satmark-Seq': seq} : {});
    await done;
    return p;
  }

  test('asks for the changes since the last sequence number only, and merges them', async () => {
    const p = await loaded([annotation('a1', 1), annotation('a2', 1), annotation('a3', 1)], '40');
    const caught = p.chain.catchUp();
    const r = await p.wire.next();
    assert.deepEqual([r.method, r.url], ['GET', '/api/v1/images/img1/annotations/changes?since=40']);
    r.answer(200, {seq: 44, changed: [annotation('a2', 3, {by: 'Ben Analyst', note: 'three'}), annotation('b1', 1, {by: 'Ben Analyst'})], deleted: ['a3']});
    assert.equal(await caught, true);
    assert.deepEqual(ids(p), [['a1', 1], ['a2', 3], ['b1', 1]]);
    assert.deepEqual(p.changed.sort(), ['a2', 'b1'], 'what others changed is highlighted');
    const again = p.chain.catchUp();
    const r2 = await p.wire.next();
    assert.equal(r2.url, '/api/v1/images/img1/annotations/changes?since=44');
    r2.answer(200, {seq: 44, changed: [], deleted: []});
    assert.equal(await again, true);
  });

  test('a 410 (too long ago to say) loads everything again and drops what is gone', async () => {
    const p = await loaded([annotation('a1', 1), annotation('a2', 1), annotation('a3', 1)], '40');
    const caught = p.chain.catchUp();
    (await p.wire.next()).answer(410, {error: {code: 'gone', message: 'sequence 40 is too old'}});
    const r = await p.wire.next();
    assert.equal(r.url, '/api/v1/images/img1/annotations?limit=2');
    r.answer(200, [annotation('a1', 1), annotation('a3', 2, {by: 'Ben Analyst'})], {'Satmark-Seq': '90'});
    assert.equal(await caught, true);
    assert.deepEqual(ids(p), [['a1', 1], ['a3', 2]]);
    assert.equal(p.feed.seq(), '90');
  });

  test('without a sequence number from the server, everything is loaded again', async () => {
    const p = await loaded([annotation('a1', 1)], null);
    const caught = p.chain.catchUp();
    const r = await p.wire.next();
    assert.equal(r.url, '/api/v1/images/img1/annotations?limit=2');
    r.answer(200, [annotation('a1', 2, {by: 'Ben Analyst'})]);
    assert.equal(await caught, true);
    assert.deepEqual(ids(p), [['a1', 2]]);
  });

  test('an unreachable server is said (false), and nothing is dropped', async () => {
    const p = await loaded([annotation('a1', 1)], '3');
    const caught = p.chain.catchUp();
    (await p.wire.next()).fail('offline');
    assert.equal(await caught, false);
    assert.deepEqual(ids(p), [['a1', 1]]);
  });
});

test('the whole list asked for through the API client: a 401 for it (the session ended meanwhile) is heard as for any other request', async () => {
  const w = wire();
  const failures = [];
  const api = apiClient({fetch: w.fetch, csrfToken: () => '', onFailure: (status) => failures.push(status)});
  const feed = annotationFeed({get: (path) => api.withHeaders('GET', path), stream: (path) => api.stream(path), imageId: 'img1', origin: ORIGIN, firstPage: 1, labelOf: (id) => ({id})});
  const shown = [];
  const loaded = feed.load((anns) => shown.push(...anns.map((a) => a.id)));
  (await w.next()).answer(200, [annotation('a1', 1)], {Link: '</api/v1/images/img1/annotations?limit=1&after=c1>; rel="next"'});
  const rest = await w.next();
  assert.equal(rest.url, '/api/v1/images/img1/annotations/shapes');
  rest.answer(401, {error: {code: 'unauthenticated', message: 'your session has ended'}});
  await assert.rejects(loaded, {status: 401});
  assert.deepEqual(failures, [401]);
  assert.deepEqual(shown, ['a1']);
});
