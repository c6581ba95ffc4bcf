// Conversions between the image's pixel space (what the API stores: y down, origin at the
// top-left corner) and the OpenLayers view (y up, image at extent [0, -height, width, 0]),
// and the shape rules the server enforces, applied while drawing so saves succeed.

import LineString from 'ol/geom/LineString.js';
import Point from 'ol/geom/Point.js';
import Polygon from 'ol/geom/Polygon.js';

export const toMap = ([x, y]) => [x, -y];
export const toPixel = ([x, y]) => [x, -y];

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

// pixelGeometry turns an OpenLayers geometry into GeoJSON in pixel space, clamped to the
// image (a vertex dragged a hair past the edge lands on it).
export function pixelGeometry(geom, width, height) {
  const px = (c) => {
    const [x, y] = toPixel(c);
    return [clamp(x, 0, width), clamp(y, 0, height)];
  };
  switch (geom.getType()) {
    case 'Point':
      return {type: 'Point', coordinates: px(geom.getCoordinates())};
    case 'LineString':
      return {type: 'LineString', coordinates: geom.getCoordinates().map(px)};
    case 'Polygon':
      return {type: 'Polygon', coordinates: geom.getCoordinates().map((ring) => closeRing(ring.map(px)))};
  }
  throw new Error(`cannot store a ${geom.getType()}`);
}

function closeRing(ring) {
  const [a, b] = [ring[0], ring[ring.length - 1]];
  if (a[0] !== b[0] || a[1] !== b[1]) ring.push([a[0], a[1]]);
  else ring[ring.length - 1] = [a[0], a[1]];
  return ring;
}

// mapGeometry turns stored pixel GeoJSON into an OpenLayers geometry. Its coordinates go
// straight into the flat arrays OpenLayers keeps: with a hundred thousand annotations
// the arrays of each position, made and dropped, were much of the collector's work.
export function mapGeometry(g) {
  switch (g.type) {
    case 'Point':
      return new Point(toMap(g.coordinates));
    case 'LineString':
      return new LineString(flatMap(g.coordinates, [], null), 'XY');
    case 'Polygon': {
      const flat = [];
      const ends = [];
      for (const ring of g.coordinates) flatMap(ring, flat, ends);
      return new Polygon(flat, 'XY', ends);
    }
  }
  throw new Error(`unknown geometry ${g.type}`);
}

// flatMap appends positions (pixel space) to flat as map x, y, and the end to ends.
function flatMap(positions, flat, ends) {
  for (const [x, y] of positions) flat.push(x, -y);
  ends?.push(flat.length);
  return flat;
}

// rotatedBox builds the rectangle whose first side runs from a to b and whose other side
// reaches the line through c parallel to it. Returns a closed 5-position ring.
export function rotatedBox(a, b, c) {
  const ux = b[0] - a[0];
  const uy = b[1] - a[1];
  const len = Math.hypot(ux, uy) || 1;
  const nx = -uy / len;
  const ny = ux / len;
  const d = (c[0] - b[0]) * nx + (c[1] - b[1]) * ny;
  const p2 = [b[0] + nx * d, b[1] + ny * d];
  const p3 = [a[0] + nx * d, a[1] + ny * d];
  return [a, b, p2, p3, [a[0], a[1]]];
}

// Draw's geometryFunction for rotated rectangles: two clicks along one side, a third for
// the width.
export function rotatedBoxGeometry(coordinates, geometry) {
  const pts = coordinates;
  let ring;
  if (pts.length < 3) {
    const a = pts[0];
    const b = pts[1] || pts[0];
    ring = [a, b, b, a, a];
  } else {
    ring = rotatedBox(pts[0], pts[1], pts[2]);
  }
  if (!geometry) geometry = new Polygon([ring]);
  else geometry.setCoordinates([ring]);
  return geometry;
}

// squareUp restores a box after one corner was dragged: the dragged corner and the
// opposite one stay, and the sides keep the directions they had (the image axes for a
// rectangle, the box's own axes for a rotated rectangle).
export function squareUp(before, after) {
  const b = before.slice(0, 4);
  const a = after.slice(0, 4);
  if (a.length !== 4 || b.length !== 4) return null;
  let m = -1;
  let best = 0;
  for (let i = 0; i < 4; i++) {
    const d = Math.hypot(a[i][0] - b[i][0], a[i][1] - b[i][1]);
    if (d > best) [best, m] = [d, i];
  }
  if (m < 0) return null;
  const p = a[m];
  const q = b[(m + 2) % 4];
  // Side i runs from corner i to corner i+1: along u for even i, along v for odd i.
  const l = Math.hypot(b[1][0] - b[0][0], b[1][1] - b[0][1]) || 1;
  const u = [(b[1][0] - b[0][0]) / l, (b[1][1] - b[0][1]) / l];
  const v = [-u[1], u[0]];
  const [along, across] = m % 2 === 0 ? [u, v] : [v, u];
  const toward = (axis) => {
    const t = (q[0] - p[0]) * axis[0] + (q[1] - p[1]) * axis[1];
    return [p[0] + axis[0] * t, p[1] + axis[1] * t];
  };
  const c = [];
  c[m] = p;
  c[(m + 1) % 4] = toward(along);
  c[(m + 2) % 4] = q;
  c[(m + 3) % 4] = toward(across);
  return [...c, [c[0][0], c[0][1]]];
}

// Planar measures in image pixels, for the editor.
export function measures(g) {
  const len = (pts) => pts.slice(1).reduce((s, p, i) => s + Math.hypot(p[0] - pts[i][0], p[1] - pts[i][1]), 0);
  const area = (ring) => Math.abs(ring.slice(1).reduce((s, p, i) => s + ring[i][0] * p[1] - p[0] * ring[i][1], 0)) / 2;
  switch (g.type) {
    case 'LineString':
      return {length: len(g.coordinates)};
    case 'Polygon': {
      const [outer, ...holes] = g.coordinates;
      return {
        area: area(outer) - holes.reduce((s, h) => s + area(h), 0),
        perimeter: g.coordinates.reduce((s, r) => s + len(r), 0),
      };
    }
  }
  return {};
}
