// The annotator's measurements in words: the ruler's answer, and the line under the
// editor that gives an annotation's shape, version, author and size (in metres when the
// server could measure it so, else in image pixels). Pure, so node tests it.

import {measures} from './geometry.js';

// rulerText is the ruler's label for the server's measure m of the line geometry: metres
// when known, always pixels, and "geodesic" for a two-point line on a georeferenced image.
export function rulerText(m, geometry) {
  const parts = [];
  if (m.length_m !== undefined) parts.push(`${m.length_m.toFixed(2)} m`);
  parts.push(`${m.length_px.toFixed(1)} px`);
  if (m.length_m !== undefined && geometry.coordinates.length === 2 && m.basis === 'georeference') parts.push('geodesic');
  return parts.join(' · ');
}

// measuresText is the editor's line for ann: its shape, version and author, then the
// server's measures (ann.measures), and in pixels what the server gave no metres for.
export function measuresText(ann) {
  const m = ann.measures || {};
  const px = measures(ann.geometry);
  const parts = [`${ann.shape.replace('_', ' ')}`, `version ${ann.version}`, `by ${ann.updated_by}`];
  if (m.length_m !== undefined) parts.push(`length ${m.length_m.toFixed(1)} m`);
  if (m.width_m !== undefined) parts.push(`beam ${m.width_m.toFixed(1)} m`);
  if (m.heading_deg !== undefined) parts.push(`heading ${m.heading_deg.toFixed(1)}°`);
  if (m.area_m2 !== undefined) parts.push(`area ${m.area_m2.toFixed(0)} m²`, `perimeter ${m.perimeter_m.toFixed(1)} m`);
  if (m.basis === 'gsd') parts.push('(from the ground sample distance)');
  if (m.length_m === undefined && px.length !== undefined) parts.push(`length ${px.length.toFixed(1)} px`);
  if (m.area_m2 === undefined && px.area !== undefined) parts.push(`area ${px.area.toFixed(0)} px²`, `perimeter ${px.perimeter.toFixed(1)} px`);
  if (m.length_m === undefined && m.width_px) parts.push(`${m.length_px.toFixed(1)} × ${m.width_px.toFixed(1)} px`);
  return parts.join(' · ');
}
