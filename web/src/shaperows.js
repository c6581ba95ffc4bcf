// The annotator's compact list of an image's annotations (GET …/annotations/shapes,
// server/annotationshapes.go, annotations/shapeframe.go): the list's annotations in
// frames of typed arrays, with their strings in one JSON array each. With a hundred
// thousand annotations a page read the JSON rows and built every annotation's nested
// coordinates up front, and most of its load went to that and to collecting it again;
// here an annotation's geometry is built only when something reads it, and the map's
// comes straight from the frame's numbers (mapGeometryOf).
//
// A frame, little-endian throughout:
//   head  6 × uint32: n rows, s bytes of strings, j bytes of JSON, r ring counts,
//         k coordinates, m measures
//   s     a JSON array of strings: the rows' ids in order, then the other strings the rows
//         name ("string i" below is its element n + i)
//   j     a JSON array: the properties of each row that has any set, in order (no bytes
//         when none has)
//         zero bytes to a multiple of 4 from the frame's start
//   rows  n × 13 uint32: version, label id (string i), shape (string i), geometry type
//         (string i), rings (how many of the ring counts are the row's), properties
//         (0: {"confidence":"","identification":"","note":""}; p: element p-1 of the
//         JSON), measures given (bit b for MEASURES[b], each value next in the
//         measures), basis (0: none; b: string b-1), review_status, created_by,
//         created_at, updated_by, updated_at (string i each)
//   r     uint32: how many positions each ring has, the rows' rings in order
//         zero bytes to a multiple of 8 from the frame's start
//   k     float64: the positions' x and y, in order
//   m     float64: the measures given, in order
// A frame of no rows (24 zero bytes) ends the answer.

import LineString from 'ol/geom/LineString.js';
import Point from 'ol/geom/Point.js';
import Polygon from 'ol/geom/Polygon.js';

import {mapGeometry} from './geometry.js';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const HEAD = 24;
const ROW = 13;
const MEASURES = ['length_px', 'width_px', 'area_px2', 'perimeter_px', 'length_m', 'width_m', 'area_m2', 'perimeter_m', 'heading_deg'];

const bad = (why) => new Error(`the list of shapes is not what the server writes (${why})`);

// A decoded annotation keeps, in a property out of sight of Object.keys, JSON, copies and
// comparisons, where its geometry is: {frame, row} until it is built or replaced, then
// {frame: null, geometry}. It is defined from one descriptor whose value is set for each:
// a descriptor made for each (Object.defineProperties), or private fields (a WeakMap each
// in the es2020 bundle), cost more than the rest of a frame's decoding.
const LAZY = Symbol('where the geometry is');
const hidden = {value: null, writable: true, configurable: true};

const lazyGeometry = {
  get() {
    const l = this[LAZY];
    if (l.frame !== null) {
      l.geometry = nestedGeometry(l.frame, l.row);
      l.frame = null;
    }
    return l.geometry;
  },
  set(g) {
    const l = this[LAZY];
    l.geometry = g;
    l.frame = null;
  },
  enumerable: true,
  configurable: true,
};

// nestedGeometry is row i's GeoJSON geometry, as the list gives it.
function nestedGeometry(f, i) {
  const {coords, counts} = f;
  let at = f.coordAt[i];
  const rings = [];
  for (let r = f.ringAt[i], end = f.ringAt[i + 1]; r < end; r++) {
    const ring = new Array(counts[r]);
    for (let p = 0; p < ring.length; p++, at += 2) ring[p] = [coords[at], coords[at + 1]];
    rings.push(ring);
  }
  const type = f.types[i];
  if (type === 'Point') return {type, coordinates: rings[0][0]};
  if (type === 'LineString') return {type, coordinates: rings[0]};
  return {type, coordinates: rings};
}

// mapGeometryOf is the OpenLayers geometry of an annotation, as geometry.js's
// mapGeometry(ann.geometry) makes it: for one decoded here whose geometry nothing has
// read or replaced, straight from its frame's numbers, without the nested arrays.
export function mapGeometryOf(ann) {
  const l = ann[LAZY];
  if (!l || l.frame === null) return mapGeometry(ann.geometry);
  const {frame: f, row: i} = l;
  const {coords, counts} = f;
  const start = f.coordAt[i];
  const type = f.types[i];
  if (type === 'Point') return new Point([coords[start], -coords[start + 1]]);
  const flat = new Array(f.coordAt[i + 1] - start);
  for (let c = 0; c < flat.length; c += 2) {
    flat[c] = coords[start + c];
    flat[c + 1] = -coords[start + c + 1];
  }
  if (type === 'LineString') return new LineString(flat, 'XY');
  const ends = [];
  let end = 0;
  for (let r = f.ringAt[i]; r < f.ringAt[i + 1]; r++) ends.push((end += 2 * counts[r]));
  return new Polygon(flat, 'XY', ends);
}

// layout is where a frame's parts begin, from its head (a DataView over its first 24
// bytes), and its byte length.
function layout(head) {
  const [n, s, j, r, k, m] = [0, 4, 8, 12, 16, 20].map((o) => head.getUint32(o, true));
  const rowsAt = HEAD + s + j + ((4 - ((s + j) % 4)) % 4);
  const ringsAt = rowsAt + 4 * ROW * n;
  const coordsAt = ringsAt + 4 * r + ((8 - ((ringsAt + 4 * r) % 8)) % 8);
  const measuresAt = coordsAt + 8 * k;
  return {n, s, j, r, k, m, rowsAt, ringsAt, coordsAt, measuresAt, length: n === 0 ? HEAD : measuresAt + 8 * m};
}

// numbers is count little-endian numbers of Type at byte at of bytes, in place when the
// platform's order is theirs.
function numbers(Type, bytes, at, count) {
  if (littleEndian) return new Type(bytes.buffer, bytes.byteOffset + at, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * Type.BYTES_PER_ELEMENT);
  const out = new Type(count);
  for (let i = 0; i < count; i++) out[i] = Type === Float64Array ? view.getFloat64(8 * i, true) : view.getUint32(4 * i, true);
  return out;
}

function parseJSON(bytes, what) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw bad(`a frame's ${what} are not JSON`);
  }
}

// decodeFrame reads the frame at the start of bytes (a Uint8Array whose byteOffset is
// a multiple of 8, holding the whole frame) into the annotations of image imageId as the
// list route gives them, labelOf(id) giving each label. A frame cut short, or whose
// counts do not add up, is an error.
export function decodeFrame(bytes, imageId, labelOf) {
  if (bytes.length < HEAD) throw bad('a frame is cut short');
  const L = layout(new DataView(bytes.buffer, bytes.byteOffset, HEAD));
  const {n} = L;
  if (bytes.length < L.length) throw bad('a frame is cut short');
  if (n === 0) return [];
  const strs = parseJSON(bytes.subarray(HEAD, HEAD + L.s), 'strings');
  if (!Array.isArray(strs) || strs.length < n || strs.some((x) => typeof x !== 'string')) throw bad('a frame\'s strings are not a list of them');
  const props = L.j ? parseJSON(bytes.subarray(HEAD + L.s, HEAD + L.s + L.j), 'properties') : [];
  if (!Array.isArray(props)) throw bad('a frame\'s properties are not a list');
  const rows = numbers(Uint32Array, bytes, L.rowsAt, ROW * n);
  const counts = numbers(Uint32Array, bytes, L.ringsAt, L.r);
  const coords = numbers(Float64Array, bytes, L.coordsAt, L.k);
  const measures = numbers(Float64Array, bytes, L.measuresAt, L.m);

  const others = strs.length - n;
  const str = (i) => {
    if (i >= others) throw bad('a row names a string the frame does not have');
    return strs[n + i];
  };
  const labels = new Map(); // string index → label, asked for once a frame
  const frame = {types: new Array(n), counts, coords, ringAt: new Uint32Array(n + 1), coordAt: new Uint32Array(n + 1)};
  const out = new Array(n);
  let ring = 0;
  let coord = 0;
  let measure = 0;
  let prop = 0;
  for (let i = 0; i < n; i++) {
    const o = ROW * i;
    const rings = rows[o + 4];
    // Before they are counted: a row could say billions. The rest is checked at the end.
    if (ring + rings > L.r) throw bad('the rows have more rings than the frame');
    frame.ringAt[i] = ring;
    frame.coordAt[i] = coord;
    for (const end = ring + rings; ring < end; ring++) coord += 2 * counts[ring];
    const type = str(rows[o + 3]);
    if (rings === 0 || (type !== 'Polygon' && rings !== 1) || (type === 'Point' && counts[ring - 1] !== 1)) throw bad('a row\'s rings are not its geometry\'s');
    frame.types[i] = type;

    let properties;
    const p = rows[o + 5];
    if (p === 0) properties = {confidence: '', identification: '', note: ''};
    else if (p === prop + 1 && prop < props.length) properties = props[prop++];
    else throw bad('a row\'s properties are not the next');
    const given = rows[o + 6];
    if (given >>> MEASURES.length) throw bad('a row gives measures there are none of');
    const ms = {};
    for (let b = 0; b < MEASURES.length; b++) {
      if (given & (1 << b)) ms[MEASURES[b]] = measures[measure++];
    }
    if (rows[o + 7]) ms.basis = str(rows[o + 7] - 1);

    const labelAt = rows[o + 1];
    let label = labels.get(labelAt);
    if (label === undefined) labels.set(labelAt, (label = labelOf(str(labelAt))));
    const ann = {id: strs[i], image_id: imageId, label, shape: str(rows[o + 2])};
    Object.defineProperty(ann, 'geometry', lazyGeometry);
    hidden.value = {frame, row: i, geometry: undefined};
    Object.defineProperty(ann, LAZY, hidden);
    ann.properties = properties;
    ann.measures = ms;
    ann.review_status = str(rows[o + 8]);
    ann.created_by = str(rows[o + 9]);
    ann.created_at = str(rows[o + 10]);
    ann.updated_by = str(rows[o + 11]);
    ann.updated_at = str(rows[o + 12]);
    ann.version = rows[o];
    out[i] = ann;
  }
  frame.ringAt[n] = ring;
  frame.coordAt[n] = coord;
  if (ring !== L.r || coord !== L.k || measure !== L.m || prop !== props.length) throw bad('the rows do not use the frame\'s numbers');
  return out;
}

// shapeParts reads the shapes route's answer from a byte stream as it arrives and yields
// its annotations (as the list route gives them) in arrays of at least min (the last
// perhaps fewer). It rejects on an answer cut short or not in frames.
export async function* shapeParts(body, min, {imageId, labelOf}) {
  const reader = body.getReader();
  const chunks = []; // bytes not read into frames yet
  let have = 0;
  let ended = false;
  let part = [];
  // take removes the first size bytes into one new buffer (aligned for the Float64Array).
  const take = (size) => {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const c = chunks[0];
      const use = Math.min(c.length, size - filled);
      out.set(c.subarray(0, use), filled);
      filled += use;
      if (use === c.length) chunks.shift();
      else chunks[0] = c.subarray(use);
    }
    have -= size;
    return out;
  };
  const peekHead = () => {
    const h = new Uint8Array(HEAD);
    let filled = 0;
    for (const c of chunks) {
      const use = Math.min(c.length, HEAD - filled);
      h.set(c.subarray(0, use), filled);
      filled += use;
      if (filled === HEAD) break;
    }
    return new DataView(h.buffer);
  };
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    if (ended) {
      if (value.length) throw bad('bytes after the end');
      continue;
    }
    chunks.push(value);
    have += value.length;
    while (!ended && have >= HEAD) {
      const {n, length} = layout(peekHead());
      if (have < length) break;
      const frame = take(length);
      if (n === 0) {
        if (frame.some((b) => b !== 0)) throw bad('the end frame is not zeros');
        ended = true;
        if (have) throw bad('bytes after the end');
        break;
      }
      const anns = decodeFrame(frame, imageId, labelOf);
      for (const a of anns) part.push(a);
    }
    if (part.length >= min) {
      yield part;
      part = [];
    }
  }
  if (!ended) throw bad('it was cut short');
  if (part.length) yield part;
}
