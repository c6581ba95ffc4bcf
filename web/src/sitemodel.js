// What the site page draws, apart from the page: the timeline's layout and the chart's
// bars, from the site's images as the API gives them. DOM-free, so node tests it.

const DAY = 86400000;

// instant reads an RFC 3339 date or date-time as milliseconds (a date is its midnight
// UTC); NaN for anything else.
function instant(s) {
  if (!s) return NaN;
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
}

// span is when an image was taken, [start, end) in milliseconds, and how that is known:
// 'window' (a capture window of more than a day), 'day' (one day or one instant), or
// 'release' (no capture known: its release date); null when nothing dates it.
export function span(img) {
  let from = instant(img.captured_from);
  let to = instant(img.captured_to);
  if (Number.isNaN(from)) from = to;
  if (Number.isNaN(to)) to = from;
  if (!Number.isNaN(from)) {
    // A date-only end means the end of that day.
    if (/^\d{4}-\d{2}-\d{2}$/.test(img.captured_to || img.captured_from || '')) to += DAY;
    if (to <= from) to = from + 1;
    return {from, to, kind: to - from > DAY ? 'window' : 'day'};
  }
  const rel = instant(img.released_at);
  if (Number.isNaN(rel)) return null;
  return {from: rel, to: rel + DAY, kind: 'release'};
}

// layoutTimeline places each dated image on a timeline width pixels wide: x0, x1 (at
// least minWidth apart, so a day shows), and a row, so that no two items of one row
// overlap. Undated images are listed apart. The axis has a tick at each day when the
// span is under 3 weeks, else at each month's first.
export function layoutTimeline(images, width, {minWidth = 8, pad = 12} = {}) {
  const dated = [];
  const undated = [];
  for (const img of images) {
    const s = span(img);
    if (s) dated.push({img, ...s});
    else undated.push(img);
  }
  if (dated.length === 0) return {items: [], undated, ticks: [], rows: 0};
  let lo = Math.min(...dated.map((d) => d.from));
  let hi = Math.max(...dated.map((d) => d.to));
  if (hi - lo < DAY) hi = lo + DAY;
  const margin = (hi - lo) * 0.04;
  lo -= margin;
  hi += margin;
  const x = (t) => pad + ((t - lo) / (hi - lo)) * (width - 2 * pad);
  dated.sort((a, b) => a.from - b.from || a.to - b.to);
  const rowEnds = [];
  const items = dated.map((d) => {
    const x0 = x(d.from);
    const x1 = Math.max(x(d.to), x0 + minWidth);
    let row = rowEnds.findIndex((end) => end + 2 <= x0);
    if (row < 0) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = x1;
    return {id: d.img.id, title: d.img.title, kind: d.kind, from: d.from, to: d.to, x0, x1, row};
  });
  const ticks = [];
  const start = new Date(lo);
  if (hi - lo < 21 * DAY) {
    for (let t = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()) + DAY; t < hi; t += DAY) {
      ticks.push({x: x(t), label: new Date(t).toISOString().slice(5, 10)});
    }
  } else {
    for (let m = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)); m.getTime() < hi; m.setUTCMonth(m.getUTCMonth() + 1)) {
      ticks.push({x: x(m.getTime()), label: m.toISOString().slice(0, 7)});
    }
  }
  return {items, undated, ticks, rows: rowEnds.length};
}

// chartBars turns each image's label counts into stacked bars scaled to the largest
// total: [{id, title, total, parts: [{label, color, count, share}]}], share of the width.
export function chartBars(images) {
  const totals = images.map((img) => (img.labels || []).reduce((n, l) => n + l.count, 0));
  const most = Math.max(1, ...totals);
  return images.map((img, i) => ({
    id: img.id,
    title: img.title,
    total: totals[i],
    parts: (img.labels || []).map((l) => ({label: l.label, color: l.color, count: l.count, share: l.count / most})),
  }));
}

// dateSpan says from when to when a site's images were taken (or released).
export function dateSpan(images) {
  const days = images.map((i) => i.when).filter(Boolean).map((d) => d.slice(0, 10)).sort();
  if (days.length === 0) return 'undated';
  return days[0] === days[days.length - 1] ? days[0] : `${days[0]} – ${days[days.length - 1]}`;
}
