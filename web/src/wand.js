// The wand tool: a click on the image grows a region of similar colour on the server
// (POST /api/v1/images/{id}/wand, on the pyramid level the view shows), a drag grows one
// from every point it passes over and joins them (as QuPath's wand paints an object:
// deck, superstructure, bridge); the outline goes to the annotator, which makes a polygon
// of it. The sensitivity (an RGB distance) changes with [ and ], or with the wheel while
// Shift is held. While the wand is on, dragging paints instead of panning.

import DragPan from 'ol/interaction/DragPan.js';

import {api, flash} from './common.js';
import {toPixel} from './geometry.js';

const MIN = 5;
const MAX = 150;

// wandTool runs the tool on map for one image. onRegion(geometry) receives each outline
// (a GeoJSON Polygon in full-resolution pixels). setActive turns it on and off.
export function wandTool({map, imageId, statusEl, onRegion}) {
  let active = false; // the sensitivity keys and its status
  let painting = false; // clicks and drags outline
  let tolerance = Number(localStorage.getItem('satmark.wand.tolerance')) || 40;
  let busy = false;

  const show = () => {
    if (statusEl) {
      statusEl.textContent = `sensitivity ${tolerance}`;
      statusEl.hidden = !active;
    }
  };
  const setTolerance = (t) => {
    tolerance = Math.max(MIN, Math.min(MAX, Math.round(t)));
    localStorage.setItem('satmark.wand.tolerance', String(tolerance));
    show();
  };

  let stroke = null; // the drag's points, in image pixels, and its last screen position
  const send = async (points) => {
    busy = true;
    try {
      const r = await api('POST', `/api/v1/images/${encodeURIComponent(imageId)}/wand`, {points, tolerance, resolution: map.getView().getResolution()});
      onRegion(r.geometry);
    } catch (err) {
      flash(err.code === 'no_region' ? err.message : `The wand failed: ${err.message}`, 'error');
    } finally {
      busy = false;
    }
  };
  const imagePoint = (e) => toPixel(map.getCoordinateFromPixel(map.getEventPixel(e)));
  const viewport = map.getViewport();
  viewport.addEventListener('pointerdown', (e) => {
    if (!painting || busy || e.button !== 0) return;
    stroke = {points: [imagePoint(e)], last: [e.clientX, e.clientY]};
  });
  viewport.addEventListener('pointermove', (e) => {
    if (!stroke) return;
    if (Math.hypot(e.clientX - stroke.last[0], e.clientY - stroke.last[1]) < 3) return;
    // Every 3 screen pixels along the way, as a brush paints (at most 256 points).
    const to = imagePoint(e);
    const from = stroke.points[stroke.points.length - 1];
    const n = Math.max(1, Math.round(Math.hypot(e.clientX - stroke.last[0], e.clientY - stroke.last[1]) / 3));
    for (let i = 1; i <= n && stroke.points.length < 256; i++) {
      stroke.points.push([from[0] + ((to[0] - from[0]) * i) / n, from[1] + ((to[1] - from[1]) * i) / n]);
    }
    stroke.last = [e.clientX, e.clientY];
  });
  window.addEventListener('pointerup', () => {
    if (!stroke) return;
    const {points} = stroke;
    stroke = null;
    send(points);
  });
  const panning = () => map.getInteractions().getArray().filter((i) => i instanceof DragPan);

  document.addEventListener('keydown', (e) => {
    if (!active || e.target.closest('input, textarea, select')) return;
    if (e.key === '[') setTolerance(tolerance - 5);
    else if (e.key === ']') setTolerance(tolerance + 5);
  });
  map.getViewport().addEventListener('wheel', (e) => {
    if (!active || !e.shiftKey) return;
    e.preventDefault();
    e.stopPropagation();
    setTolerance(tolerance + (e.deltaY < 0 ? 5 : -5));
  }, {capture: true, passive: false});

  return {
    // setActive turns the tool on (on) and says whether clicks and drags outline (paint;
    // box → outline only borrows the sensitivity).
    setActive(on, paint = on) {
      active = on;
      painting = on && paint;
      stroke = null;
      for (const p of panning()) p.setActive(!painting);
      show();
    },
    tolerance: () => tolerance,
    setTolerance,
  };
}
