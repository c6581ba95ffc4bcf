// The annotator's compact list of an image's annotations (GET …/annotations/shapes,
// server/annotationshapes.go): the list's annotations in frames of JSON rows without
// their coordinates, and the coordinates as float64. With a hundred thousand annotations
// it is about half the JSON list's bytes (43.9 of 83.3 MB), and the coordinates are not read from text.
//
// A frame: uint32 n, uint32 k (little-endian), n bytes of JSON (an array of rows), zero
// bytes to a multiple of 8 from the frame's start, k float64 (little-endian). A frame
// with n = 0 ends the answer. A row (Annotation.AppendShapeRow):
//   [id, version, label id, shape, geometry type, [positions in each ring], properties,
//    measures, review_status, created_by, created_at, updated_by, updated_at]

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const bad = (why) => new Error(`the list of shapes is not what the server writes (${why})`);

// annotationOf puts a row back as the list route gives the annotation: coords are the
// frame's numbers from at, label the label object of the row's label id.
function annotationOf(row, coords, at, imageId, label) {
  const [id, version, , shape, type, rings, properties, measures, reviewStatus, createdBy, createdAt, updatedBy, updatedAt] = row;
  let coordinates;
  if (type === 'Point' && rings.length === 1 && rings[0] === 1) {
    // Without the rings around it: two arrays fewer for each point.
    coordinates = [coords[at], coords[at + 1]];
    at += 2;
  } else {
    const nested = [];
    for (const count of rings) {
      const ring = new Array(count);
      for (let i = 0; i < count; i++, at += 2) ring[i] = [coords[at], coords[at + 1]];
      nested.push(ring);
    }
    coordinates = nested;
    if (type === 'Point') coordinates = nested[0][0];
    else if (type === 'LineString') coordinates = nested[0];
  }
  return {
    ann: {id, image_id: imageId, label, shape, geometry: {type, coordinates}, properties, measures,
      review_status: reviewStatus, created_by: createdBy, created_at: createdAt, updated_by: updatedBy, updated_at: updatedAt, version},
    at,
  };
}

// decodeFrame reads the frame at the start of bytes (a Uint8Array whose byteOffset is
// a multiple of 8, holding the whole frame) into annotations of image imageId, labelOf(id)
// giving each label.
export function decodeFrame(bytes, imageId, labelOf) {
  const head = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n = head.getUint32(0, true);
  const k = head.getUint32(4, true);
  const start = 8 + n + ((8 - ((8 + n) % 8)) % 8);
  if (bytes.length < start + 8 * k) throw bad('a frame is cut short');
  let coords;
  if (littleEndian) {
    coords = new Float64Array(bytes.buffer, bytes.byteOffset + start, k);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, 8 * k);
    coords = new Float64Array(k);
    for (let i = 0; i < k; i++) coords[i] = view.getFloat64(8 * i, true);
  }
  let rows;
  try {
    rows = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw bad('a frame\'s rows are not JSON');
  }
  if (!Array.isArray(rows)) throw bad('a frame\'s rows are not a list');
  const out = new Array(rows.length);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== 13 || !Array.isArray(row[5])) throw bad('a row is not one');
    const got = annotationOf(row, coords, at, imageId, labelOf(row[2]));
    out[i] = got.ann;
    at = got.at;
  }
  if (at !== k) throw bad('the rows do not use their numbers');
  return out;
}

// frameLength is the byte length of the frame whose first 8 bytes are head, 8 for the
// end frame.
function frameLength(head) {
  const n = head.getUint32(0, true);
  const k = head.getUint32(4, true);
  if (n === 0) return 8;
  return 8 + n + ((8 - ((8 + n) % 8)) % 8) + 8 * k;
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
    const h = new Uint8Array(8);
    let filled = 0;
    for (const c of chunks) {
      const use = Math.min(c.length, 8 - filled);
      h.set(c.subarray(0, use), filled);
      filled += use;
      if (filled === 8) break;
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
    while (!ended && have >= 8) {
      const size = frameLength(peekHead());
      if (have < size) break;
      const frame = take(size);
      if (size === 8) {
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
