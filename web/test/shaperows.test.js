// The annotator's compact list (src/shaperows.js): testdata/shapes.bin is the server's
// GET …/annotations/shapes?limit=6 and testdata/shapes.json its GET …/annotations?limit=6,
// both of one image (points, a line, polygons with a hole, boxes, notes with quotes and
// line separators, attributes, ground measures), written by the server's test
// (`go test ./server -run TestAnnotationShapesAreTheList -update-shapes`). Read in pieces
// of any size, the one gives the other, value for value.

import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describe, test} from 'node:test';

import {annotationFeed} from '../src/feed.js';
import {shapeParts} from '../src/shaperows.js';

const bin = new Uint8Array(readFileSync(new URL('testdata/shapes.bin', import.meta.url)));
const list = JSON.parse(readFileSync(new URL('testdata/shapes.json', import.meta.url), 'utf8'));
const imageId = list[0].image_id;
const labels = new Map(list.map((a) => [a.label.id, a.label]));
const labelOf = (id) => labels.get(id);

// body is a fetch body giving b in pieces of size bytes.
function body(b, size) {
  return new ReadableStream({
    start(c) {
      for (let i = 0; i < b.length; i += size) c.enqueue(b.slice(i, i + size));
      c.close();
    },
  });
}

async function read(b, size, min = 1) {
  const parts = [];
  for await (const part of shapeParts(body(b, size), min, {imageId, labelOf})) parts.push(part);
  return parts;
}

describe('the compact list', () => {
  test('gives the annotations the list gives, read in pieces of any size', async () => {
    assert.equal(list.length, 6);
    for (const size of [1, 3, 7, 8, 64, 1000, bin.length]) {
      const parts = await read(bin, size);
      assert.deepStrictEqual(parts.flat(), list, `in pieces of ${size} bytes`);
    }
    const kinds = new Set(list.map((a) => a.geometry.type));
    assert.deepEqual([...kinds].sort(), ['LineString', 'Point', 'Polygon'], 'the fixture has every kind of geometry');
    assert.ok(list.some((a) => a.geometry.type === 'Polygon' && a.geometry.coordinates.length === 2), 'and a polygon with a hole');
  });

  test('shows them in parts of at least min', async () => {
    const parts = await read(bin, 5, 4);
    assert.deepEqual(parts.map((p) => p.length), [6], 'one frame of six');
  });

  test('an answer cut short, with bytes after its end, or not in frames is an error, not a shorter list', async () => {
    await assert.rejects(read(bin.slice(0, bin.length - 8), 16), /cut short/);
    await assert.rejects(read(bin.slice(0, 100), 16), /cut short/);
    await assert.rejects(read(new Uint8Array(0), 16), /cut short/);
    const after = new Uint8Array(bin.length + 3);
    after.set(bin);
    await assert.rejects(read(after, 16), /after the end/);
    const json = new TextEncoder().encode('{"error":{"code":"not_found","message":"no such image"}}');
    await assert.rejects(read(json, 16), /not what the server writes|cut short/);
    const garbled = bin.slice();
    garbled[9] = 0x7b; // the rows' '[' made '{'
    await assert.rejects(read(garbled, 16), /not JSON|not a list/);
  });
});

describe('the feed', () => {
  test('given the labels, streams the compact list after the first page, without what that page gave', async () => {
    const asked = [];
    const feed = annotationFeed({
      get: async (path) => {
        asked.push(path);
        return {data: list.slice(0, 2), headers: new Headers({Link: `</api/v1/images/${imageId}/annotations?limit=2&after=c2>; rel="next"`, 'Satmark-Seq': '9'})};
      },
      stream: async (path) => {
        asked.push(path);
        return new Response(body(bin, 100));
      },
      imageId,
      origin: 'http://satmark.test',
      labelOf,
      firstPage: 2,
    });
    const shown = [];
    await feed.load((anns) => shown.push(...anns));
    assert.deepEqual(asked, [`/api/v1/images/${imageId}/annotations?limit=2`, `/api/v1/images/${imageId}/annotations/shapes`]);
    assert.deepStrictEqual(shown, list);
  });
});
