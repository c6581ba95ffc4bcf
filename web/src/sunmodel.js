// What the "Sun & shadows" panel shows, apart from the page: which shadow direction to
// draw as the arrow, the range the window's daylight shadows sweep, an arrow's points in
// image pixels, and the words for times, angles and fits. The numbers are the server's
// (GET …/sun, POST …/shadow); nothing here computes where the sun is.

// fmtDeg writes an angle with one decimal and a degree sign.
export const fmtDeg = (d) => `${(Math.round(d * 10) / 10).toFixed(1)}°`;

// fmtMetres writes a length or height: one decimal under 100 m, none above.
export const fmtMetres = (m) => `${m < 100 ? m.toFixed(1) : Math.round(m)} m`;

// fmtTime writes an instant as "2024-10-08 01:24 UTC" (to the minute; to the second with
// seconds true).
export function fmtTime(iso, seconds = false) {
  const s = new Date(iso).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, seconds ? 19 : 16)} UTC`;
}

// keyDirection is the sun whose shadows the panel draws as its arrow: at the window's
// middle when the sun is up there and the image has a north; else the sun highest in
// the sky within 12 hours of the middle (the local noon nearest it: a release's dates
// make a middle at midnight), else the daylight hour nearest the middle; null when no
// moment of the window has shadows to draw.
export function keyDirection(answer) {
  const drawn = (a) => a.shadow_image_deg !== undefined && a.shadow_image_deg !== null;
  const middle = (answer.at || []).find((a) => a.when === 'middle');
  if (middle && drawn(middle)) return middle;
  const hours = (answer.daylight || []).filter(drawn);
  if (!hours.length) return null;
  const t = middle ? Date.parse(middle.time) : Date.parse(hours[0].time);
  const away = (a) => Math.abs(Date.parse(a.time) - t);
  const near = hours.filter((a) => away(a) <= 12 * 3600e3);
  if (near.length) return near.reduce((best, a) => (a.elevation_deg > best.elevation_deg ? a : best));
  return hours.reduce((best, a) => (away(a) < away(best) ? a : best));
}

// sweep is the arc of directions (degrees clockwise from north) a set of directions
// covers: from where it starts to where it ends going clockwise, across north if need
// be; null for none. It is the smallest such arc: the complement of the largest gap.
export function sweep(degrees) {
  if (!degrees.length) return null;
  const d = degrees.map((x) => ((x % 360) + 360) % 360).sort((a, b) => a - b);
  let gapAt = d.length - 1;
  let gap = d[0] + 360 - d[d.length - 1];
  for (let i = 0; i + 1 < d.length; i++) {
    if (d[i + 1] - d[i] > gap) {
      gap = d[i + 1] - d[i];
      gapAt = i;
    }
  }
  const from = d[(gapAt + 1) % d.length];
  const to = d[gapAt];
  return {from, to, width: (to - from + 360) % 360};
}

// arrow is an arrow in image pixels from start, length long, along the image direction
// deg (clockwise from the image's up): its shaft and the two barbs of its head.
export function arrow(start, deg, length) {
  const r = (deg * Math.PI) / 180;
  const tip = [start[0] + Math.sin(r) * length, start[1] - Math.cos(r) * length];
  const barb = (side) => {
    const b = r + Math.PI + side * 0.45;
    return [tip[0] + Math.sin(b) * length * 0.18, tip[1] - Math.cos(b) * length * 0.18];
  };
  return {shaft: [start, tip], head: [barb(-1), tip, barb(1)], tip};
}

// inside reports whether a pixel position is on the image (its edges included).
export const inside = ([x, y], width, height) => x >= 0 && y >= 0 && x <= width && y <= height;

// describeSun is one line about the sun at a moment.
export function describeSun(a) {
  const when = {from: 'Start', middle: 'Middle', to: 'End'}[a.when] || '';
  const pos = a.above_horizon
    ? `sun at ${fmtDeg(a.azimuth_deg)}, ${fmtDeg(a.elevation_deg)} high; shadows towards ${fmtDeg(a.shadow_azimuth_deg)}`
    : `sun ${fmtDeg(-a.elevation_deg)} below the horizon: no shadows`;
  return `${when ? when + ' ' : ''}${fmtTime(a.time)}: ${pos}`;
}

// describeFit is one line about a span of the window when the shadow fits.
export function describeFit(f) {
  const [from, to] = [fmtTime(f.from).replace(' UTC', ''), fmtTime(f.to)];
  const span = from.slice(0, 10) === to.slice(0, 10) ? `${from}–${to.slice(11)}` : `${from} – ${to}`;
  const height = f.height_m !== undefined && f.height_m !== null ? `height ${fmtMetres(f.height_m)}` : 'height unknown';
  const range = f.height_range_m ? ` (${f.height_range_m.map((h) => h.toFixed(1)).join('–')} m)` : '';
  return `${span}: sun at ${fmtDeg(f.best.azimuth_deg)}, ${fmtDeg(f.best.elevation_deg)} high; ${height}${range}`;
}

// describeShadow is the measured shadow in words.
export function describeShadow(s) {
  const dir = s.azimuth_deg !== undefined && s.azimuth_deg !== null ? ` towards ${fmtDeg(s.azimuth_deg)} (±${fmtDeg(s.tolerance_deg)})` : '';
  const basis = s.length_basis === 'gsd' ? 'by the ground sample distance' : 'through the georeference';
  return `Shadow ${fmtMetres(s.length_m)}${dir}, ${basis}.`;
}
