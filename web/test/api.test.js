// The JSON API client (src/api.js): what it sends, and the errors the save chain reads.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {ApiError, apiClient} from '../src/api.js';
import {CSRF, annotation, stale, wire} from './harness.js';

function client() {
  const w = wire();
  const failures = [];
  const api = apiClient({fetch: w.fetch, csrfToken: () => CSRF, onFailure: (status) => failures.push(status)});
  return {w, api, failures};
}

test('a request sends JSON with the CSRF token and resolves to the decoded answer', async () => {
  const {w, api} = client();
  const got = api('PATCH', '/api/v1/annotations/a1', {version: 2}, {'If-Match': '"2"'});
  const r = await w.next();
  assert.equal(r.method, 'PATCH');
  assert.deepEqual(r.headers, {Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': CSRF, 'If-Match': '"2"'});
  assert.deepEqual(r.body, {version: 2});
  r.answer(200, annotation('a1', 3));
  assert.equal((await got).version, 3);
});

test('no token, no CSRF header; 204 resolves to null', async () => {
  const w = wire();
  const api = apiClient({fetch: w.fetch, csrfToken: () => '', onFailure: () => {}});
  const got = api('DELETE', '/api/v1/annotations/a1');
  const r = await w.next();
  assert.equal('X-CSRF-Token' in r.headers, false);
  assert.equal(r.body, undefined);
  r.answer(204);
  assert.equal(await got, null);
});

test('a 412 rejects with the current annotation, and onFailure hears of it', async () => {
  const {w, api, failures} = client();
  const got = api('PATCH', '/api/v1/annotations/a1', {version: 2});
  const theirs = annotation('a1', 3, {by: 'Ben Analyst'});
  (await w.next()).answer(412, stale(theirs, 2));
  await assert.rejects(got, (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 412);
    assert.equal(err.code, 'stale_version');
    assert.equal(err.field, 'version');
    assert.deepEqual(err.current, theirs);
    return true;
  });
  assert.deepEqual(failures, [412]);
});

test('an answer that is not JSON still rejects with its status', async () => {
  const {w, api} = client();
  const got = api('GET', '/api/v1/me');
  const r = await w.next();
  r.answer(502);
  await assert.rejects(got, {status: 502, message: 'request failed with status 502'});
});

test('a network failure rejects with status 0', async () => {
  const {w, api, failures} = client();
  const got = api('GET', '/api/v1/me');
  (await w.next()).fail('Failed to fetch');
  await assert.rejects(got, {status: 0, message: 'the server cannot be reached (Failed to fetch)'});
  assert.deepEqual(failures, []);
});

test('a streamed answer resolves to the Response, its body unread, asked for with the headers given', async () => {
  const {w, api, failures} = client();
  const got = api.stream('/api/v1/images/img1/annotations/shapes', {Accept: 'application/vnd.satmark.shapes, application/json'});
  const r = await w.next();
  assert.equal(r.method, 'GET');
  assert.deepEqual(r.headers, {Accept: 'application/vnd.satmark.shapes, application/json', 'X-CSRF-Token': CSRF});
  r.answer(200, [1, 2]);
  const res = await got;
  assert.equal(res.bodyUsed, false);
  assert.deepEqual(await res.json(), [1, 2]);
  assert.deepEqual(failures, []);
});

test('a streamed answer of 401 (the session ended) is heard by onFailure and rejects with the server\'s error', async () => {
  const {w, api, failures} = client();
  const got = api.stream('/api/v1/images/img1/annotations/shapes');
  (await w.next()).answer(401, {error: {code: 'unauthenticated', message: 'sign in first'}});
  await assert.rejects(got, (err) => err instanceof ApiError && err.status === 401 && err.code === 'unauthenticated' && err.message === 'sign in first');
  assert.deepEqual(failures, [401], 'the page is sent to sign in, as for any other request');
  const offline = api.stream('/x');
  (await w.next()).fail('offline');
  await assert.rejects(offline, {status: 0});
});
