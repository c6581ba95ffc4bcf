// What the save chain's tests run it against: the wire (a fetch whose every request waits
// for the test to answer it, as the server would) and a page of annotations that keeps
// what the chain shows and tells.

import {apiClient} from '../src/api.js';
import {annotationFeed} from '../src/feed.js';
import {saveChain} from '../src/savechain.js';

export const CSRF = 'csrf-token-of-the-session';
// ORIGIN is the page's, for the Link headers' URLs.
export const ORIGIN = 'http://satmark.test';

// wire is the far end of fetch: sent lists every request in order, next() resolves to the
// first not yet taken, and each request waits for answer(status, body, headers) or
// fail(message).
export function wire() {
  const sent = [];
  const untaken = [];
  const waiting = [];
  function fetch(url, init) {
    return new Promise((resolve, reject) => {
      const req = {
        url,
        method: init.method,
        headers: init.headers,
        body: init.body === undefined ? undefined : JSON.parse(init.body),
        answer(status, body, headers = {}) {
          const text = body === undefined ? null : JSON.stringify(body);
          resolve(new Response(text, {status, headers: {'Content-Type': 'application/json', ...headers}}));
        },
        fail(message) {
          reject(new TypeError(message));
        },
      };
      sent.push(req);
      if (waiting.length) waiting.shift()(req);
      else untaken.push(req);
    });
  }
  const next = () => (untaken.length ? Promise.resolve(untaken.shift()) : new Promise((resolve) => waiting.push(resolve)));
  return {fetch, sent, next};
}

// settled resolves once every promise chain that waits on nothing outside has run: the
// chain's work after an answer is all promise continuations.
export const settled = () => new Promise((resolve) => setImmediate(resolve));

// annotation is one as the API returns it.
export function annotation(id, version, {by = 'Ada Analyst', note = '', geometry = {type: 'Point', coordinates: [10, 20]}} = {}) {
  return {
    id,
    image_id: 'img1',
    label: {id: 'frigate', name: 'Frigate', path: ['Vessel', 'Frigate'], color: '#ff0000'},
    shape: 'point',
    geometry,
    properties: note ? {note} : {},
    version,
    created_by: 'Ada Analyst',
    updated_by: by,
    created_at: '2026-12-03T08:00:00Z',
    updated_at: '2026-12-03T08:00:00Z',
    review_status: 'draft',
  };
}

// stale is the server's 412 answer to a save based on an older version than current.
export function stale(current, given) {
  return {error: {code: 'stale_version', field: 'version', message: `annotation ${current.id} is at version ${current.version}, not ${given}: it was changed since you loaded it`, current}};
}

// page runs a save chain for Ada over anns. An item is {ann, shown}: shown is the geometry
// on the map, which the user may have moved away from ann's. The page records what the
// chain tells it: flashes, the save state, held changes, highlights and conflicts.
export function page(anns, {me = 'Ada Analyst'} = {}) {
  const w = wire();
  const items = anns.map((ann) => ({ann, shown: ann.geometry}));
  const p = {
    wire: w,
    items,
    selected: null,
    editing: new Set(), // items with unsaved work
    flashes: [],
    status: {pending: 0, error: null},
    saving: new Map(),
    changed: [],
    heldTold: [],
    conflictsOpened: [],
    conflictChanges: 0,
    savedTold: [], // what on.saved said, for the undo history
    addedAll: [], // the ids of each addAll, in order
    item: (id) => items.find((it) => it.ann && it.ann.id === id),
    lastFlash: () => p.flashes[p.flashes.length - 1],
  };
  const api = apiClient({fetch: w.fetch, csrfToken: () => CSRF, onFailure: () => {}});
  p.feed = annotationFeed({get: (path) => api.withHeaders('GET', path), imageId: 'img1', origin: ORIGIN, firstPage: 2, nextPage: 3});
  p.chain = saveChain({
    api,
    feed: p.feed,
    imageId: 'img1',
    myName: me,
    annotations: {
      find: (id) => p.item(id),
      has: (item) => items.includes(item),
      get: (item) => item.ann,
      all: () => [...items],
      add: (ann) => items.push({ann, shown: ann.geometry}),
      addAll: (added) => {
        for (const ann of added) items.push({ann, shown: ann.geometry});
        p.addedAll.push(added.map((a) => a.id));
      },
      put: (item, ann) => {
        item.ann = ann;
        item.shown = ann.geometry;
      },
      remove: (item) => {
        if (items.includes(item)) items.splice(items.indexOf(item), 1);
        if (p.selected === item) p.selected = null;
      },
    },
    selected: () => p.selected,
    editing: (item) => item === p.selected && p.editing.has(item),
    flash: (message, kind = 'info') => p.flashes.push({message, kind}),
    on: {
      status: (s) => (p.status = s),
      saving: (item, saving) => p.saving.set(item, saving),
      conflict: (item) => {
        p.conflictsOpened.push(item);
        p.selected = item;
        p.editing.delete(item);
      },
      conflictChanged: () => p.conflictChanges++,
      held: (item) => p.heldTold.push(item),
      changed: (id) => p.changed.push(id),
      saved: (s) => p.savedTold.push(s),
    },
  });
  return p;
}
