// An image's annotations from the server, page by page, and what changed since: the
// annotator shows the first page at once and the rest as it comes, and after its live
// updates were broken it asks only for the changes since the last it heard of.
//
// The server's contract: GET /api/v1/images/{id}/annotations?limit=N[&after=C] answers a
// page (a JSON array) with `Link: <url>; rel="next"` while more remain, and
// `Satmark-Seq: S` on every page; GET …/annotations/changes?since=S answers
// {seq, changed: [annotations], deleted: [ids]}, or 410 when S is too old to say (then
// everything is loaded again). A server that pages nothing (no Link) answers all at
// once; one without Satmark-Seq cannot say what changed, and is asked for everything.

// With a hundred thousand annotations the pages, each read whole by the server before it
// answers and each asked for only when the one before has come, took most of the load
// (ten of 10,000, a second each). Given stream(path) → a fetch Response, the feed asks
// after the first page for the whole list in one answer, which the server writes as it
// reads it, and shows it in parts as it arrives (arrayParts below), without the
// annotations the first page had already given. Given labelOf(id) → the label, the whole
// list is the compact one (GET …/annotations/shapes, shaperows.js): the same
// annotations, value for value, in about half the bytes and without the coordinates as
// text, which was most of what was left of the load.

import {shapeParts} from './shaperows.js';

// The first page is small, to show something at once; the others are larger.
export const FIRST_PAGE = 2000;
// A streamed list is shown in parts of at least this many annotations.
export const STREAM_PART = 25000;
// The server takes pages of 1 to 10,000 (MaxPageSize in annotations/pages.go).
export const NEXT_PAGE = 10000;

// nextLink is the URL of a Link header's rel="next", or null.
export function nextLink(header) {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = part.match(/^\s*<([^>]*)>\s*;(.*)$/);
    if (m && /(^|;)\s*rel="?next"?\s*(;|$)/.test(m[2])) return m[1];
  }
  return null;
}

// withLimit is url (a path, or absolute on this origin) asking for limit annotations.
function withLimit(url, limit, origin) {
  const u = new URL(url, origin);
  u.searchParams.set('limit', String(limit));
  return u.origin === origin ? `${u.pathname}${u.search}` : u.href;
}

// annotationFeed reads image imageId's annotations through get(path) → {data, headers}
// (api.js's getWithHeaders), origin being the page's (for the Link header's URLs).
export function annotationFeed({get, stream, imageId, origin, labelOf = null, firstPage = FIRST_PAGE, nextPage = NEXT_PAGE, streamPart = STREAM_PART}) {
  const base = `/api/v1/images/${encodeURIComponent(imageId)}/annotations`;
  let seq = null; // the server's sequence number the annotations shown are up to, if it says

  // load reads every page, calling onPage(annotations, first) for each in order, and
  // resolves once the last is read (rejects when one cannot be). The next page is asked
  // for before onPage shows the one before, so that the server reads it meanwhile. The
  // changes after it are those since the first page's sequence number: anything changed
  // while the others were read is in them again.
  async function load(onPage) {
    let asked = get(`${base}?limit=${firstPage}`);
    let first = true;
    while (asked) {
      const {data, headers} = await asked;
      if (first) {
        const s = headers.get('Satmark-Seq');
        seq = s === null || s === '' ? null : s;
      }
      const next = nextLink(headers.get('Link'));
      if (next && first && stream) {
        const rest = stream(labelOf ? `${base}/shapes` : base);
        rest.catch(() => {}); // said below
        const anns = Array.isArray(data) ? data : [];
        await onPage(anns, true);
        await streamRest(await rest, anns, onPage);
        return;
      }
      asked = next ? get(withLimit(next, nextPage, origin)) : null;
      // A page that fails while this one is shown is said by the await above, next turn.
      asked?.catch(() => {});
      await onPage(Array.isArray(data) ? data : [], first);
      first = false;
    }
  }

  // streamRest shows the whole list answered in res, but for the annotations of the first
  // page (as they were then: a newer version is shown like a later page's).
  async function streamRest(res, firstAnns, onPage) {
    if (!res.ok || !res.body) {
      const err = new Error(`the server answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    const had = new Map(firstAnns.map((a) => [a.id, a.version]));
    const parts = labelOf ? shapeParts(res.body, streamPart, {imageId, labelOf}) : arrayParts(res.body, streamPart);
    for await (const part of parts) {
      const fresh = had.size ? part.filter((a) => had.get(a.id) !== a.version) : part;
      for (const a of part) had.delete(a.id);
      if (fresh.length) await onPage(fresh, false);
    }
  }

  // changes resolves to what changed since the last sequence number heard of,
  // {changed, deleted}, or to null when only loading everything again can say (the
  // server has no sequence number, or says 410). It rejects when the server cannot be
  // asked.
  async function changes() {
    if (seq === null) return null;
    let res;
    try {
      res = await get(`${base}/changes?since=${encodeURIComponent(seq)}`);
    } catch (err) {
      if (err.status === 410 || err.status === 404) return null;
      throw err;
    }
    const {data} = res;
    seq = data.seq === undefined || data.seq === null ? seq : String(data.seq);
    return {changed: data.changed || [], deleted: data.deleted || []};
  }

  return {load, changes, seq: () => seq};
}

// arrayParts reads a JSON array of objects from a byte stream as it arrives and yields its
// elements in arrays of at least min (the last perhaps fewer), each decoded with one
// JSON.parse. It rejects on a stream cut short or not an array of objects.
export async function* arrayParts(body, min) {
  const decoder = new TextDecoder();
  let text = ''; // what is not decoded into elements yet: from the start of an element
  let pos = 0; // where the scan is in text
  let depth = -1; // -1 before the '[', then the nesting inside it
  let inString = false;
  let escaped = false;
  let start = -1; // where the element being scanned starts in text
  let done = []; // element texts not yielded yet
  let count = 0;
  let closed = false;
  const bad = (why) => new Error(`the list of annotations is not a JSON array of objects (${why})`);
  const reader = body.getReader();
  for (;;) {
    const {value, done: end} = await reader.read();
    if (end) break;
    text += decoder.decode(value, {stream: true});
    const n = text.length;
    for (; pos < n; pos++) {
      const c = text.charCodeAt(pos);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true; // backslash
        else if (c === 34) inString = false;
        continue;
      }
      if (depth === 0 && c !== 123 && c !== 93 && c !== 44 && c !== 32 && c !== 10 && c !== 13 && c !== 9) {
        throw bad('an element is not an object');
      }
      if (c === 34) {
        inString = true;
        // Jump to the next quote or backslash: most of the text is inside strings.
        let q = pos + 1;
        while (q < n) {
          const d = text.charCodeAt(q);
          if (d === 34 || d === 92) break;
          q++;
        }
        pos = q - 1;
      } else if (c === 123 || c === 91) { // { [
        if (depth === -1) {
          if (c !== 91) throw bad('it does not begin with [');
        } else if (depth === 0) {
          if (c !== 123) throw bad('an element is not an object');
          start = pos;
        }
        depth++;
      } else if (c === 125 || c === 93) { // } ]
        depth--;
        if (depth === 0) {
          done.push(text.slice(start, pos + 1));
          count++;
          start = -1;
        } else if (depth === -1) {
          closed = true;
        }
      }
    }
    // Keep only the element being scanned.
    const keep = start >= 0 ? start : pos;
    text = text.slice(keep);
    pos -= keep;
    if (start >= 0) start = 0;
    if (count >= min) {
      yield JSON.parse(`[${done.join(',')}]`);
      done = [];
      count = 0;
    }
  }
  if (!closed || inString) throw bad('it was cut short');
  if (count) yield JSON.parse(`[${done.join(',')}]`);
}
