// The annotator's compact list (src/shaperows.js): testdata/shapes.bin is the server's
// GET …/annotations/shapes?limit=3, page after page joined into one answer (three frames,
// the end frame last), and testdata/shapes.json its GET …/annotations, both of one
// georeferenced image (points, one at the corner, lines, polygons with holes, boxes and
// a rotated box, ground measures and a heading, properties of every JSON kind with
// Cyrillic, emoji, quotes, tabs and line separators, two analysts, an edited and
// submitted annotation), written by the server's test
// (`go test ./server -run TestAnnotationShapesOfEveryKind -update-shapes`). Read in
// pieces of any size, the one gives the other, value for value.

import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describe, test} from 'node:test';

import {annotationFeed} from '../src/feed.js';
import {mapGeometry} from '../src/geometry.js';
import {decodeFrame, mapGeometryOf, shapeParts} from '../src/shaperows.js';

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

// head is a frame's six counts; frames are the answer's frames but the end, each a copy
// (at a byteOffset of 0, as the reader gives them).
const head = (b) => [0, 4, 8, 12, 16, 20].map((o) => new DataView(b.buffer, b.byteOffset).getUint32(o, true));
function frames(b) {
  const out = [];
  for (let off = 0; ;) {
    const [n, s, j, r, k, m] = head(b.subarray(off));
    if (n === 0) return out;
    const rows = 24 + s + j + ((4 - ((s + j) % 4)) % 4);
    const rings = rows + 4 * 13 * n + 4 * r;
    const len = rings + ((8 - (rings % 8)) % 8) + 8 * (k + m);
    out.push(b.slice(off, off + len));
    off += len;
  }
}

describe('the compact list', () => {
  test('gives the annotations the list gives, read in pieces of any size, value for value and in the list\'s order of keys', async () => {
    assert.equal(list.length, 8);
    for (const size of [1, 3, 7, 8, 24, 64, 1000, bin.length]) {
      const got = (await read(bin, size)).flat();
      assert.deepStrictEqual(got, list, `in pieces of ${size} bytes`);
      assert.deepEqual(got.map((a) => JSON.stringify(a)), list.map((a) => JSON.stringify(a)), `in pieces of ${size} bytes, as JSON`);
    }
    assert.equal(frames(bin).length, 3, 'the fixture is in three frames');
    const kinds = new Set(list.map((a) => a.shape));
    assert.deepEqual([...kinds].sort(), ['line', 'point', 'polygon', 'rectangle', 'rotated_rectangle'], 'the fixture has every kind of shape');
    assert.ok(list.some((a) => a.geometry.type === 'Polygon' && a.geometry.coordinates.length === 3), 'and a polygon with holes');
    assert.ok(list.some((a) => a.measures.heading_deg !== undefined && a.measures.basis === 'georeference'), 'and ground measures with a heading');
    assert.ok(list.some((a) => /Ропуха/.test(a.properties.identification)) && list.some((a) => /🚢/.test(a.properties.note)), 'and unicode');
  });

  test('shows them in parts of at least min', async () => {
    const parts = await read(bin, 5, 4);
    assert.deepEqual(parts.map((p) => p.length), [6, 2], 'frames of three, given by two');
  });

  test('builds an annotation\'s nested geometry when it is read, once, and takes one given instead', () => {
    const anns = decodeFrame(frames(bin)[1], imageId, labelOf);
    const a = anns[0];
    assert.deepStrictEqual(Object.keys(a), Object.keys(list[3]));
    assert.equal(a.geometry, a.geometry, 'the same geometry each time it is read');
    assert.deepStrictEqual(a.geometry, list[3].geometry);
    const moved = {type: 'Point', coordinates: [5, 6]};
    a.geometry = moved;
    assert.equal(a.geometry, moved);
    assert.deepStrictEqual({...anns[1]}, list[4], 'a copy has the geometry');
    assert.deepStrictEqual(structuredClone(anns[2]), list[5], 'and a clone');
  });

  test('makes the map\'s geometry straight from the numbers, as mapGeometry makes it from the list\'s', () => {
    const anns = frames(bin).flatMap((f) => decodeFrame(f, imageId, labelOf));
    const asMap = (g) => ({type: g.getType(), flat: g.getFlatCoordinates(), ends: g.getType() === 'Polygon' ? g.getEnds() : null});
    for (let i = 0; i < list.length; i++) {
      assert.deepStrictEqual(asMap(mapGeometryOf(anns[i])), asMap(mapGeometry(list[i].geometry)), `annotation ${i}`);
    }
    // One whose geometry was replaced gives the new one's; a plain annotation its own.
    anns[0].geometry = {type: 'LineString', coordinates: [[1, 2], [3, 4]]};
    assert.deepStrictEqual(mapGeometryOf(anns[0]).getFlatCoordinates(), [1, -2, 3, -4]);
    assert.deepStrictEqual(asMap(mapGeometryOf(list[3])), asMap(mapGeometry(list[3].geometry)));
  });

  test('an answer cut short, with bytes after its end, or not in frames is an error, not a shorter list', async () => {
    await assert.rejects(read(bin.slice(0, bin.length - 24), 16), /cut short/);
    await assert.rejects(read(bin.slice(0, bin.length - 1), 16), /cut short/);
    await assert.rejects(read(bin.slice(0, 100), 16), /cut short/);
    await assert.rejects(read(new Uint8Array(0), 16), /cut short/);
    const after = new Uint8Array(bin.length + 3);
    after.set(bin);
    await assert.rejects(read(after, 16), /after the end/);
    const json = new TextEncoder().encode('{"error":{"code":"not_found","message":"no such image"}}');
    await assert.rejects(read(json, 16), /not what the server writes|cut short/);
    const garbled = bin.slice();
    garbled[24] = 0x7b; // the strings' '[' made '{'
    await assert.rejects(read(garbled, 16), /strings are not/);
    const end = bin.slice();
    end[end.length - 1] = 1;
    await assert.rejects(read(end, 16), /end frame is not zeros/);
  });

  test('a frame cut short, or whose counts do not add up, is an error that says so', () => {
    const frame = frames(bin)[1];
    const [n, s, j, r] = head(frame);
    const rows = 24 + s + j + ((4 - ((s + j) % 4)) % 4);
    const rings = rows + 4 * 13 * n;
    // changed is the frame with a uint32 at byte at set to v.
    const changed = (at, v) => {
      const c = frame.slice();
      new DataView(c.buffer).setUint32(at, v, true);
      return c;
    };
    const word = (at) => new DataView(frame.buffer).getUint32(at, true);
    const bad = (b, why, what) => assert.throws(() => decodeFrame(b, imageId, labelOf), (err) => {
      assert.match(err.message, /^the list of shapes is not what the server writes/, what);
      assert.match(err.message, why, what);
      return true;
    });
    assert.equal(decodeFrame(frame, imageId, labelOf).length, 3, 'as it is, three rows');
    bad(frame.slice(0, frame.length - 8), /a frame is cut short/, 'a measure short');
    bad(frame.slice(0, 20), /a frame is cut short/, 'a head short');
    bad(changed(0, n + 1), /a frame is cut short/, 'a row more than it holds');
    bad(changed(rows + 4 * 4, word(rows + 4 * 4) + 1), /more rings than the frame|do not use/, 'a row with a ring more');
    bad(changed(rows + 4 * 4, 0), /rings are not/, 'a row without rings');
    bad(changed(rings, word(rings) + 1), /do not use the frame's numbers/, 'a ring with a position more');
    bad(changed(rows + 4 * 1, 1e6), /names a string the frame does not have/, 'a label that is not in the strings');
    bad(changed(rows + 4 * 3, 1e6), /names a string the frame does not have/, 'a geometry type that is not');
    bad(changed(rows + 4 * 5, 7), /properties are not the next/, 'properties that are not there');
    bad(changed(rows + 4 * 6, 1 << 9), /measures there are none of/, 'a measure that is none');
    bad(changed(rows + 4 * 6, 0x1ff), /do not use the frame's numbers/, 'every measure, for a frame of fewer');
    bad(changed(rows + 4 * 6, 0), /do not use the frame's numbers/, 'no measures, for a frame of some');
    bad(changed(12, r - 1), /cut short|more rings|do not use|rings are not/, 'a ring count fewer');
    const garbled = frame.slice();
    garbled[24 + s] = 0x7d; // the properties' '[' made '}'
    bad(garbled, /properties are not JSON/, 'properties that are not JSON');
    // The first frame's first row is a point: one ring of one position.
    const points = frames(bin)[0];
    const [pn, ps, pj] = head(points);
    const pointRings = 24 + ps + pj + ((4 - ((ps + pj) % 4)) % 4) + 4 * 13 * pn;
    const twice = points.slice();
    new DataView(twice.buffer).setUint32(pointRings, 2, true);
    bad(twice, /rings are not its geometry's/, 'a point of two positions');
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
