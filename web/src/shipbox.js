// Outline → ship box: the minimum-area rectangle around an outline (rotating calipers
// over its convex hull), as a rotated rectangle whose first side runs along the ship from
// stern to bow, so that its length, beam and heading come from one click. DOM-free.

// hull is the convex hull of points [x, y], counter-clockwise in a y-down frame's terms
// of the monotone chain (Andrew's), without repeating the first point.
export function hull(points) {
  const ps = [...new Map(points.map((p) => [`${p[0]},${p[1]}`, p])).values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (ps.length < 3) return ps;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const p of ps) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper = [];
  for (let i = ps.length - 1; i >= 0; i--) {
    const p = ps[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

// minAreaRect finds the smallest rectangle holding the points: its centre, its long axis
// (a unit vector), length and width. One side of the smallest rectangle lies along an
// edge of the hull, so each edge's direction is tried.
export function minAreaRect(points) {
  const h = hull(points);
  if (h.length < 3) return null;
  let best = null;
  for (let i = 0; i < h.length; i++) {
    const [x0, y0] = h[i];
    const [x1, y1] = h[(i + 1) % h.length];
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len === 0) continue;
    const u = [(x1 - x0) / len, (y1 - y0) / len];
    const v = [-u[1], u[0]];
    let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const [x, y] of h) {
      const a = x * u[0] + y * u[1];
      const b = x * v[0] + y * v[1];
      minU = Math.min(minU, a);
      maxU = Math.max(maxU, a);
      minV = Math.min(minV, b);
      maxV = Math.max(maxV, b);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (!best || area < best.area) best = {area, u, v, minU, maxU, minV, maxV};
  }
  if (!best || best.area === 0) return null;
  let {u, v, minU, maxU, minV, maxV} = best;
  if (maxV - minV > maxU - minU) { // the long axis is v
    [u, v] = [v, [-v[1], v[0]]];
    [minU, maxU, minV, maxV] = [minV, maxV, -maxU, -minU];
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  return {centre: [cu * u[0] + cv * v[0], cu * u[1] + cv * v[1]], axis: u, length: maxU - minU, width: maxV - minV};
}

// bowIsAhead tells which end of the rectangle's long axis the bow is at, from the outline:
// a ship's hull narrows to its bow, so the end whose last fifth of the outline is the
// narrower is the bow. True when the bow is ahead along axis.
export function bowIsAhead(points, rect) {
  const {centre, axis, length} = rect;
  const v = [-axis[1], axis[0]];
  const spread = (sign) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const [x, y] of points) {
      const a = (x - centre[0]) * axis[0] + (y - centre[1]) * axis[1];
      if (sign * a < length * 0.3) continue;
      const b = (x - centre[0]) * v[0] + (y - centre[1]) * v[1];
      lo = Math.min(lo, b);
      hi = Math.max(hi, b);
    }
    return hi - lo;
  };
  const ahead = spread(1);
  const behind = spread(-1);
  if (!(ahead >= 0)) return true; // (no outline point there: -Infinity)
  if (!(behind >= 0)) return false;
  return ahead <= behind;
}

// shipBox turns an outline (a polygon's ring, closed or not) into a rotated rectangle's
// closed ring: stern on one side, bow on the same side, bow on the other, stern on the
// other, stern again. The first side runs stern → bow, which is how satmark reads a
// rotated rectangle's heading. Null for an outline with no area.
export function shipBox(ring) {
  const pts = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1] ? ring.slice(0, -1) : ring;
  const rect = minAreaRect(pts);
  if (!rect) return null;
  const ahead = bowIsAhead(pts, rect);
  const a = ahead ? rect.axis : [-rect.axis[0], -rect.axis[1]];
  const b = [-a[1], a[0]];
  const hl = rect.length / 2;
  const hw = rect.width / 2;
  const at = (s, t) => [rect.centre[0] + s * hl * a[0] + t * hw * b[0], rect.centre[1] + s * hl * a[1] + t * hw * b[1]];
  const r = [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
  return [...r, r[0]];
}

// swapEnds turns a rotated rectangle's ring the other way round: bow becomes stern.
export function swapEnds(ring) {
  const r = ring.slice(0, 4);
  const out = [r[2], r[3], r[0], r[1]];
  return [...out, out[0]];
}
