// The many annotations as tiles of pixels: a layer that draws the shapes of a vector
// source onto 256-pixel tiles, a set of them for each level of zoom (levels a factor
// of √2 apart), keeps the tiles it drew, and shows the view by copying tiles. A pan or a
// zoom costs a few copies however many annotations there are; a shape drawn, changed or
// removed makes only the tiles under it be drawn again. The tiles are drawn a few per
// frame, nearest the middle of the view first, so frames stay short; a tile not drawn
// yet shows its place from another level meanwhile. Tiles are drawn on one scratch
// canvas and kept as ImageBitmaps, not a canvas each, and copied to the nearest pixel
// while the view moves.
//
// On the machine this has to run on (headless Chromium without a GPU, the WebGL
// rasterised on the CPU), OpenLayers' WebGL vector layer took one to four seconds a
// frame for 10,000 annotations, and its canvas vector layer redraws every shape in view
// each frame; copying tiles is what stays fast.
//
// Features carry the properties the page paints them with: color (#rrggbb), fill (a CSS
// colour) and shown (1 drawn, 0 left out by the sidebar's filter).

import {buffer, getArea, intersects} from 'ol/extent.js';
import Layer from 'ol/layer/Layer.js';
import LayerRenderer from 'ol/renderer/Layer.js';
import {apply as applyTransform, compose as composeTransform, create as createTransform, multiply} from 'ol/transform.js';

import {ADD_FEATURES} from './shapesource.js';

const TILE = 256; // a tile's side in its own pixels
const MAX_TILES = 320; // tiles kept (each 256 KiB), the least recently shown dropped first
export const POINT_RADIUS = 6; // screen pixels, as the canvas style draws a point
const STROKE = 2;
// A frame draws tiles for at most this long (ms): at least one, when any is missing.
const BUDGET_MOVING = 6;
const BUDGET_STILL = 30;
// At most this many features added at once make only the tiles they reach go stale.
const FEW_ADDED = 256;

// levelFor is the level whose tile pixels are at most the size of a device pixel of the
// view, resolution being the view's (image pixels per device pixel).
const levelFor = (resolution) => Math.floor(2 * Math.log2(resolution) + 1e-9);
const resolutionOf = (level) => 2 ** (level / 2);

// tileExtent is the map extent of tile x, y of a level (x right, y down from the top).
function tileExtent(level, x, y) {
  const span = TILE * resolutionOf(level);
  return [x * span, -(y + 1) * span, (x + 1) * span, -y * span];
}

// A shape whose extent on a tile is at most this many tile pixels across is drawn as a
// square of its colour as wide as its stroke would make it: at the levels that show the
// whole image many shapes are that small, their stroke covers them all but a pixel or
// two, and tracing, filling and stroking each was what drawing the tiles spent its time on.
const SPECK = 3;

// pointSprite is a point's circle as POINT_RADIUS draws it, in colour, at pixelRatio,
// drawn once and copied for each point (to the nearest pixel) instead of an arc traced,
// filled and stroked for each; its middle is at (half, half).
const sprites = new Map();
function pointSprite(color, pixelRatio) {
  const key = `${color}/${pixelRatio}`;
  let s = sprites.get(key);
  if (!s) {
    const radius = POINT_RADIUS * pixelRatio;
    const half = Math.ceil(radius + pixelRatio);
    const canvas = new OffscreenCanvas(2 * half, 2 * half);
    const ctx = canvas.getContext('2d');
    ctx.beginPath();
    ctx.arc(half, half, radius, 0, 2 * Math.PI);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = pixelRatio;
    ctx.stroke();
    sprites.set(key, (s = {image: canvas.transferToImageBitmap(), half}));
  }
  return s;
}

// drawShapes draws features onto a tile's context: the tile's map extent is [x0, y0, x1,
// y1] at resolution r (map units per tile pixel), pixelRatio the device's. Features of
// one colour go in one path each for the fills and the strokes, traced from the
// geometries' flat coordinates (getCoordinates() would make arrays of each position for
// every tile drawn), the areas once for both their fill and their stroke; specks (SPECK)
// in one path of squares; points are copies of their sprite.
function drawShapes(ctx, features, [x0, , , y1], r, pixelRatio) {
  const byColour = new Map();
  const speck = SPECK * r;
  for (const f of features) {
    const color = f.get('color');
    let g = byColour.get(color);
    if (!g) byColour.set(color, (g = {fill: f.get('fill'), areas: [], lines: [], points: [], specks: []}));
    const geom = f.getGeometry();
    const type = geom.getType();
    if (type === 'Point') {
      g.points.push(geom);
      continue;
    }
    const e = geom.getExtent();
    if (e[2] - e[0] <= speck && e[3] - e[1] <= speck) g.specks.push(e);
    else if (type === 'LineString') g.lines.push(geom);
    else if (type === 'Polygon') g.areas.push(geom);
  }
  // trace adds the positions of flat from start to end (x, y pairs) to path.
  const trace = (path, flat, start, end, close) => {
    path.moveTo((flat[start] - x0) / r, (y1 - flat[start + 1]) / r);
    for (let i = start + 2; i < end; i += 2) path.lineTo((flat[i] - x0) / r, (y1 - flat[i + 1]) / r);
    if (close) path.closePath();
  };
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  const reach = (STROKE / 2) * pixelRatio;
  for (const [color, g] of byColour) {
    let areas = null;
    if (g.areas.length) {
      areas = new Path2D();
      for (const geom of g.areas) {
        const flat = geom.getFlatCoordinates();
        let start = 0;
        for (const end of geom.getEnds()) {
          trace(areas, flat, start, end, true);
          start = end;
        }
      }
      ctx.fillStyle = g.fill;
      ctx.fill(areas, 'evenodd');
    }
    if (areas || g.lines.length) {
      let strokes = areas;
      if (g.lines.length) {
        strokes = new Path2D();
        if (areas) strokes.addPath(areas);
        for (const geom of g.lines) {
          const flat = geom.getFlatCoordinates();
          trace(strokes, flat, 0, flat.length, false);
        }
      }
      ctx.strokeStyle = color;
      ctx.lineWidth = STROKE * pixelRatio;
      ctx.stroke(strokes);
    }
    if (g.specks.length) {
      ctx.beginPath();
      for (const [ex0, ey0, ex1, ey1] of g.specks) {
        const u = (ex0 - x0) / r - reach;
        const v = (y1 - ey1) / r - reach;
        ctx.rect(u, v, (ex1 - ex0) / r + 2 * reach, (ey1 - ey0) / r + 2 * reach);
      }
      ctx.fillStyle = color;
      ctx.fill();
    }
  }
  for (const [color, g] of byColour) {
    if (!g.points.length) continue;
    const {image, half} = pointSprite(color, pixelRatio);
    for (const geom of g.points) {
      const flat = geom.getFlatCoordinates();
      ctx.drawImage(image, Math.round((flat[0] - x0) / r) - half, Math.round((y1 - flat[1]) / r) - half);
    }
  }
}

// hitDistance is how far (screen pixels) coordinate c is from what is drawn of geometry
// geom at resolution res: 0 on it, null farther than tolerance.
function hitDistance(geom, c, res, tolerance) {
  const type = geom.getType();
  if (type === 'Point') {
    const [x, y] = geom.getCoordinates();
    const d = Math.hypot(x - c[0], y - c[1]) / res - POINT_RADIUS - 1;
    return d <= 0 ? 0 : d <= tolerance ? d : null;
  }
  const segments = (pts) => {
    let best = Infinity;
    for (let i = 1; i < pts.length; i++) best = Math.min(best, segmentDistance(c, pts[i - 1], pts[i]));
    return best;
  };
  let d;
  if (type === 'LineString') d = segments(geom.getCoordinates());
  else if (type === 'Polygon') {
    if (geom.intersectsCoordinate(c)) return 0; // the fill is drawn too
    d = Math.min(...geom.getCoordinates().map(segments));
  } else return null;
  d = d / res - STROKE / 2;
  return d <= 0 ? 0 : d <= tolerance ? d : null;
}

function segmentDistance(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len)) : 0;
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

class ShapeTilesRenderer extends LayerRenderer {
  constructor(layer, tiles) {
    super(layer);
    this.tiles_ = tiles;
    this.container_ = document.createElement('div');
    // A class of its own: the canvas layers above draw on canvases of their own.
    this.container_.className = 'ol-layer satmark-shape-tiles';
    this.container_.style.position = 'absolute';
    this.container_.style.width = '100%';
    this.container_.style.height = '100%';
    this.canvas_ = document.createElement('canvas');
    this.canvas_.className = 'ol-layer';
    this.canvas_.style.position = 'absolute';
    this.canvas_.style.width = '100%';
    this.canvas_.style.height = '100%';
    this.container_.append(this.canvas_);
    this.context_ = this.canvas_.getContext('2d');
  }

  prepareFrame() {
    return true;
  }

  renderFrame(frameState) {
    const [w, h] = frameState.size;
    const pr = frameState.pixelRatio;
    const width = Math.round(w * pr);
    const height = Math.round(h * pr);
    if (this.canvas_.width !== width || this.canvas_.height !== height) {
      this.canvas_.width = width;
      this.canvas_.height = height;
    } else {
      this.context_.setTransform(1, 0, 0, 1, 0, 0);
      this.context_.clearRect(0, 0, width, height);
    }
    this.container_.style.opacity = String(frameState.layerStatesArray[frameState.layerIndex].opacity);
    // Ready (for the map's rendercomplete) once the tiles in view show the shapes as they are.
    this.ready = this.tiles_.render(this.context_, frameState);
    return this.container_;
  }

  // Hits as OpenLayers' canvas layers give them: a shape under the point at once (the
  // smallest first), the others within the tolerance as matches sorted by distance.
  forEachFeatureAtCoordinate(coordinate, frameState, hitTolerance, callback, matches) {
    const res = frameState.viewState.resolution;
    const reach = (POINT_RADIUS + 2 + hitTolerance) * res;
    const on = [];
    for (const f of this.tiles_.source.getFeaturesInExtent(buffer([coordinate[0], coordinate[1], coordinate[0], coordinate[1]], reach))) {
      if (f.get('shown') !== 1) continue;
      const d = hitDistance(f.getGeometry(), coordinate, res, hitTolerance);
      if (d === null) continue;
      if (d === 0) on.push(f);
      else matches.push({feature: f, layer: this.getLayer(), geometry: f.getGeometry(), distanceSq: d * d, callback});
    }
    on.sort((a, b) => getArea(a.getGeometry().getExtent()) - getArea(b.getGeometry().getExtent()));
    for (const f of on) {
      const result = callback(f, this.getLayer(), f.getGeometry());
      if (result) return result;
    }
    return undefined;
  }
}

class ShapeTilesLayer extends Layer {
  constructor(tiles, options) {
    super({...options, source: tiles.source});
    this.tiles_ = tiles;
  }

  createRenderer() {
    return new ShapeTilesRenderer(this, this.tiles_);
  }
}

// shapeTiles draws the features of source (a ShapeSource, shapesource.js) inside extent (the
// image's, in map units). onDrawn() runs after each frame that drew tiles.
export function shapeTiles({source, extent, onDrawn}) {
  const cache = new Map(); // `${level}/${x}/${y}` → {image, level, x, y, extent, stale, used}
  // feature → the extent its shape was drawn at; a Map, its features removed with them
  // (a WeakMap of a hundred thousand made the garbage collector's every pass longer).
  const drawnAt = new Map();
  let pixelRatio = 1;
  let frame = 0;
  let layer = null;
  let shownLevel = null; // the level the last frame showed
  const drawCost = new Map(); // level → how long its last tile took to draw (ms)

  // Every tile is drawn on this one canvas and taken off it as its ImageBitmap (keep).
  const scratch = new OffscreenCanvas(TILE, TILE);
  const scratchCtx = scratch.getContext('2d');
  function keep(t) {
    t.image?.close();
    t.image = scratch.transferToImageBitmap(); // scratch is clear again
  }
  function drop(t) {
    t.image?.close();
    t.image = null;
  }

  // margin is how far past a tile's edge a shape may reach into it, in map units.
  const margin = (level) => (POINT_RADIUS + STROKE + 1) * pixelRatio * resolutionOf(level);

  // Extents whose tiles are to be drawn again, marked at the next frame (many at once
  // when a page of annotations arrives).
  let dirty = [];
  function invalidate(e) {
    if (!e) return;
    if (!dirty.length) layer?.changed();
    dirty.push(e);
  }

  function invalidateAll() {
    for (const t of cache.values()) t.stale = true;
    dirty = [];
    layer?.changed();
  }

  function markDirty() {
    if (dirty.length > 256) {
      invalidateAll();
      return;
    }
    for (const e of dirty) {
      for (const t of cache.values()) if (!t.stale && intersects(buffer(e, margin(t.level)), t.extent)) t.stale = true;
    }
    dirty = [];
  }

  function track(f) {
    const g = f.getGeometry();
    const e = g ? g.getExtent().slice() : null;
    invalidate(drawnAt.get(f));
    invalidate(e);
    if (e) drawnAt.set(f, e);
    else drawnAt.delete(f);
  }
  // Features added since the last frame are drawn over the tiles in view that are drawn
  // already (drawAdded), instead of those being drawn again whole: the rest of the list
  // comes in parts of many thousands, and drawing every tile in view again for each
  // part was most of the main thread's time while it came, and slowed reading it.
  let added = [];
  source.on(ADD_FEATURES, (e) => {
    if (!added.length && !dirty.length) layer?.changed();
    for (const f of e.features) {
      const g = f.getGeometry();
      if (!g) continue;
      drawnAt.set(f, g.getExtent().slice());
      added.push(f);
    }
  });
  source.on('changefeature', (e) => track(e.feature));
  source.on('removefeature', (e) => {
    invalidate(drawnAt.get(e.feature));
    drawnAt.delete(e.feature);
  });
  source.on('clear', () => {
    drawnAt.clear();
    added = [];
    invalidateAll();
  });

  // drawAdded draws the features added since the last frame over the tiles in view (of
  // level, those with used === frame) that are drawn and not stale. Other tiles go stale:
  // after a few added (a shape let go after its edit, one another analyst drew) only those
  // the features reach, after many (a page of the list) all of them. Each feature goes to
  // the tiles its extent reaches, found from the extent. It says whether it drew any.
  function drawAdded(level) {
    const adds = added.filter((f) => f.get('shown') === 1 && source.hasFeature(f));
    added = [];
    const few = adds.length <= FEW_ADDED;
    const reaches = (t) => adds.some((f) => intersects(buffer(drawnAt.get(f), margin(t.level)), t.extent));
    // x, y → {tile, features}, keyed by a number: a string made for each feature was
    // garbage by the hundred thousand.
    const at = (x, y) => y * 1e6 + x;
    const shown = new Map();
    for (const t of cache.values()) {
      if (t.stale) continue;
      if (t.used === frame && t.image) shown.set(at(t.x, t.y), {t, on: []});
      else if (!few || reaches(t)) t.stale = true;
    }
    if (!shown.size) return false;
    const span = TILE * resolutionOf(level);
    const m = margin(level);
    for (const f of adds) {
      const [x0, y0, x1, y1] = drawnAt.get(f);
      for (let y = Math.floor((-y1 - m) / span); y <= Math.floor((-y0 + m) / span); y++) {
        for (let x = Math.floor((x0 - m) / span); x <= Math.floor((x1 + m) / span); x++) shown.get(at(x, y))?.on.push(f);
      }
    }
    let drew = false;
    for (const {t, on} of shown.values()) {
      if (!on.length) continue;
      scratchCtx.drawImage(t.image, 0, 0);
      drawShapes(scratchCtx, on, t.extent, resolutionOf(t.level), pixelRatio);
      keep(t);
      drew = true;
    }
    return drew;
  }

  function draw(t) {
    const found = source.getFeaturesInExtent(buffer(t.extent, margin(t.level))).filter((f) => f.get('shown') === 1);
    drawShapes(scratchCtx, found, t.extent, resolutionOf(t.level), pixelRatio);
    keep(t);
    t.stale = false;
  }

  function evict() {
    if (cache.size <= MAX_TILES) return;
    const old = [...cache.entries()].filter(([, t]) => t.used < frame).sort((a, b) => a[1].used - b[1].used);
    for (const [k, t] of old.slice(0, cache.size - MAX_TILES)) {
      drop(t);
      cache.delete(k);
    }
  }

  // paint copies tile t onto ctx through the map's coordinate → device pixel transform.
  function paint(ctx, toDevice, t) {
    const r = resolutionOf(t.level);
    const m = multiply(toDevice.slice(), [r, 0, 0, -r, t.extent[0], t.extent[3]]);
    ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
    ctx.drawImage(t.image, 0, 0);
  }

  // covered says whether tile t shows something while it waits: what it drew before, or
  // another level's tiles (those standIn copies).
  function covered(t, level) {
    if (t.image) return true;
    for (const o of cache.values()) {
      if (o.image && o.level !== level && o.level >= level - 1 && o.level <= level + 4 && intersects(o.extent, t.extent)) return true;
    }
    return false;
  }

  // stand-in draws, clipped to the place of a missing tile, what another level has drawn
  // there (a coarser level first).
  function standIn(ctx, toDevice, missing, level) {
    for (const other of [level + 1, level + 2, level - 1, level + 3, level + 4]) {
      const covering = [...cache.values()].filter((t) => t.level === other && t.image && intersects(t.extent, missing.extent));
      if (!covering.length) continue;
      ctx.save();
      const [x0, y0, x1, y1] = missing.extent;
      const a = applyTransform(toDevice, [x0, y1]);
      const b = applyTransform(toDevice, [x1, y0]);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.beginPath();
      ctx.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
      ctx.clip();
      for (const t of covering) paint(ctx, toDevice, t);
      ctx.restore();
      return;
    }
  }

  // render shows the view on ctx (the layer's canvas, device pixels) and draws missing
  // and stale tiles within the frame's budget; while some remain it asks for a frame.
  // It says whether the tiles in view show the shapes as they are.
  function render(ctx, frameState) {
    frame++;
    markDirty();
    if (frameState.pixelRatio !== pixelRatio) {
      pixelRatio = frameState.pixelRatio;
      cache.forEach(drop);
      cache.clear();
    }
    const {resolution} = frameState.viewState;
    const moving = frameState.viewHints[0] || frameState.viewHints[1];
    // While the view moves tiles are copied to the nearest pixel: smoothing each copy was
    // most of a moving frame.
    ctx.imageSmoothingEnabled = !moving;
    const level = levelFor(resolution / pixelRatio);
    shownLevel = level;
    const toDevice = composeTransform(createTransform(), 0, 0, pixelRatio, pixelRatio, 0, 0, 0);
    multiply(toDevice, frameState.coordinateToPixelTransform);
    const span = TILE * resolutionOf(level);
    const view = frameState.extent;
    const [ex0, ey0, ex1, ey1] = [Math.max(view[0], extent[0]), Math.max(view[1], extent[1]), Math.min(view[2], extent[2]), Math.min(view[3], extent[3])];
    const wanted = [];
    if (ex0 < ex1 && ey0 < ey1) {
      for (let y = Math.floor(-ey1 / span); y < Math.ceil(-ey0 / span); y++) {
        for (let x = Math.floor(ex0 / span); x < Math.ceil(ex1 / span); x++) {
          const key = `${level}/${x}/${y}`;
          let t = cache.get(key);
          if (!t) cache.set(key, (t = {image: null, level, x, y, extent: tileExtent(level, x, y), stale: true}));
          t.used = frame;
          wanted.push(t);
        }
      }
    }
    const mid = [(view[0] + view[2]) / 2, (view[1] + view[3]) / 2];
    const far = (t) => Math.hypot((t.extent[0] + t.extent[2]) / 2 - mid[0], (t.extent[1] + t.extent[3]) / 2 - mid[1]);
    const drewAdded = added.length > 0 && drawAdded(level);
    const todo = wanted.filter((t) => t.stale).sort((a, b) => (!a.image - !b.image) * -1 || far(a) - far(b));
    const start = performance.now();
    let drew = false;
    const budget = moving ? BUDGET_MOVING : BUDGET_STILL;
    for (const t of todo) {
      const spent = performance.now() - start;
      if (drew && spent > budget) break;
      // While the view moves, a tile that something already stands in for waits when it
      // would not fit the frame: with a hundred thousand annotations one tile of the
      // whole image took longer than a frame.
      if (moving && spent + (drawCost.get(level) || 0) > budget && covered(t, level)) continue;
      const t0 = performance.now();
      draw(t);
      drawCost.set(level, performance.now() - t0);
      drew = true;
    }
    for (const t of wanted) {
      if (t.image) paint(ctx, toDevice, t);
      else standIn(ctx, toDevice, t, level);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    evict();
    const more = wanted.some((t) => t.stale);
    if (more) layer?.changed();
    if (drew || drewAdded) onDrawn();
    return !more;
  }

  const tiles = {
    source,
    render,
    invalidateAll,
    // freshAt says whether every tile the view shows over map extent e is drawn as the
    // source is now.
    freshAt(e) {
      if (shownLevel === null || dirty.length || added.length) return false;
      for (const t of cache.values()) {
        if (t.level === shownLevel && t.used === frame && intersects(buffer(e, margin(t.level)), t.extent) && (t.stale || !t.image)) return false;
      }
      return true;
    },
    // tilesKept counts the tiles drawn and kept, for the benchmark.
    tilesKept: () => cache.size,
  };
  layer = new ShapeTilesLayer(tiles, {extent});
  tiles.layer = layer;
  return tiles;
}
