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

// The first page is small, to show something at once; the others are larger.
export const FIRST_PAGE = 2000;
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
export function annotationFeed({get, imageId, origin, firstPage = FIRST_PAGE, nextPage = NEXT_PAGE}) {
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
      asked = next ? get(withLimit(next, nextPage, origin)) : null;
      // A page that fails while this one is shown is said by the await above, next turn.
      asked?.catch(() => {});
      await onPage(Array.isArray(data) ? data : [], first);
      first = false;
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
