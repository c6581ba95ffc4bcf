// The compare page: two images of a site, A (the earlier) and B, each shown with the
// adjustments saved with it (brightness, contrast, …) in every mode. Overlay: both warped
// onto one map, the top one clipped left of a divider the user drags, faded by a
// slider, swapped with B by F (flicker). Side by side: two maps sharing one view. Pixels:
// each image in its own pixel space, the views linked through where both lie on the
// earth (or not linked, with the reason). The annotations of both show in every mode;
// clicking one opens it in its annotator, and in the pixel views analysts move and
// reshape them in place, saved through the annotator's save chain.

import Feature from 'ol/Feature.js';
import View from 'ol/View.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import Modify from 'ol/interaction/Modify.js';
import Select from 'ol/interaction/Select.js';
import Translate from 'ol/interaction/Translate.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {createEmpty, extend, getArea, isEmpty} from 'ol/extent.js';
import {getRenderPixel} from 'ol/render.js';
import {Circle as CircleStyle, Fill, RegularShape, Stroke, Style} from 'ol/style.js';

import {api, can, el, flash, hexToRgba, me} from './common.js';
import {MODES, defaultPair, inMapSpace, linkedView, matchedLink, modeFor, pixelLink, swipeFraction} from './comparemodel.js';
import {neutral} from './adjustsettings.js';
import {adjustedTileLayer, earthMap} from './earth.js';
import {mapGeometry, pixelGeometry, squareUp} from './geometry.js';
import {imageView, shownColours} from './imageview.js';
import {liveUpdates} from './live.js';
import {labelPath, saveChain} from './savechain.js';

const root = document.getElementById('compare');
const $ = (id) => document.getElementById(id);
const siteId = root.dataset.siteId;
const params = new URLSearchParams(location.search);
const lonLat = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});
const editable = can('analyst');

// The two images: {key: 'a'|'b', img, georef, footprint, pixelSource, groundSource, chain}.
const sides = {a: null, b: null};
const state = {mode: null, top: 'b', swipe: 0.5, opacity: 1, selected: null};
const built = {};

// ---- annotations -----------------------------------------------------------------------

// The annotations of A are drawn solid, those of B dashed, points of B as squares: the
// label colours say what, the dash says whose.
const DASH = {a: undefined, b: [8, 5]};

function annotationStyle(key, color, selected) {
  const stroke = new Stroke({color, width: selected ? 4 : 2, lineDash: DASH[key]});
  const fill = new Fill({color: hexToRgba(color, selected ? 0.3 : 0.12)});
  const point = key === 'a'
    ? new CircleStyle({radius: 6, fill: new Fill({color}), stroke: new Stroke({color: '#000', width: 1})})
    : new RegularShape({points: 4, radius: 7, angle: Math.PI / 4, fill: new Fill({color}), stroke: new Stroke({color: '#000', width: 1})});
  const styles = [];
  if (selected) styles.push(new Style({stroke: new Stroke({color: '#fff', width: 7})}));
  styles.push(new Style({stroke, fill, image: point}));
  return styles;
}

const rgbHex = (rgb) => (rgb ? `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}` : '#ffffff');

// A lon/lat feature of annotations.geojson, or a pixel one holding its annotation.
const colorOf = (f) => (f.get('ann') ? f.get('ann').label.color : rgbHex(f.get('classification')?.color));
const labelOf = (f) => (f.get('ann') ? labelPath(f.get('ann')) : (f.get('label_path') || []).join(' › '));

function annotationLayer(key, source) {
  return new VectorLayer({
    source,
    zIndex: 10,
    properties: {image: key},
    style: (f) => annotationStyle(key, colorOf(f), state.selected && state.selected.key === key && state.selected.id === f.getId()),
  });
}

async function loadGround(side) {
  if (!side.img.georeferenced) return;
  const fc = await api('GET', `/api/v1/images/${encodeURIComponent(side.img.id)}/annotations.geojson?crs=wgs84`);
  side.groundSource.clear();
  side.groundSource.addFeatures(lonLat.readFeatures(fc));
}

function refreshAnnotationLayers() {
  for (const b of Object.values(built)) for (const l of b.annotationLayers || []) l.changed();
}

// select shows which annotation is selected (on every map) and links to it in its
// image's annotator.
function select(key, id) {
  state.selected = id ? {key, id} : null;
  const box = $('selection');
  box.hidden = !id;
  if (id) {
    const side = sides[key];
    const f = side.pixelSource.getFeatureById(id) || side.groundSource.getFeatureById(id);
    $('selection-text').textContent = `${key.toUpperCase()} · ${side.img.title}: ${f ? labelOf(f) : 'annotation'}`;
    $('selection-open').href = `/images/${encodeURIComponent(side.img.id)}?annotation=${encodeURIComponent(id)}`;
    box.dataset.image = key;
    box.dataset.annotationId = id;
  }
  refreshAnnotationLayers();
}

// clickToSelect selects the annotation clicked on a map (of either image): the smallest
// under the pointer, so that a ship is picked from inside the base around it.
function clickToSelect(map) {
  map.on('singleclick', (e) => {
    let hit = null;
    map.forEachFeatureAtPixel(e.pixel, (f, layer) => {
      const size = getArea(f.getGeometry().getExtent());
      if (!hit || size < hit.size) hit = {key: layer.get('image'), id: f.getId(), size};
    }, {layerFilter: (l) => !!l.get('image'), hitTolerance: 4});
    select(hit && hit.key, hit && hit.id);
  });
}

// ---- saving (the pixel views) ----------------------------------------------------------

const saveState = $('save-state');

function chainFor(side) {
  const {pixelSource: source, img} = side;
  const featureFor = (ann) => {
    const f = new Feature({geometry: mapGeometry(ann.geometry)});
    f.setId(ann.id);
    f.set('ann', ann);
    return f;
  };
  const put = (f, ann) => {
    f.set('ann', ann);
    f.setGeometry(mapGeometry(ann.geometry));
    groundStale(side);
  };
  const chain = saveChain({
    api,
    imageId: img.id,
    myName: me ? me.name : '',
    annotations: {
      find: (id) => source.getFeatureById(id),
      has: (f) => source.hasFeature(f),
      get: (f) => f.get('ann'),
      all: () => source.getFeatures(),
      add: (ann) => {
        source.addFeature(featureFor(ann));
        groundStale(side);
      },
      put,
      remove: (f) => {
        if (source.hasFeature(f)) source.removeFeature(f);
        if (state.selected && state.selected.id === f.getId()) select(null);
        groundStale(side);
      },
    },
    selected: () => (state.selected && state.selected.key === side.key ? source.getFeatureById(state.selected.id) : null),
    editing: () => side.modifying,
    flash,
    on: {
      status: ({pending, error}) => {
        saveState.textContent = error ? `Not saved: ${error}` : pending > 0 ? 'Saving…' : 'All changes saved';
        saveState.className = `save-state ${error ? 'error' : pending > 0 ? '' : 'ok'}`;
      },
      saving: () => {},
      // There is no editor here to settle a conflict in: their version stays.
      conflict: (f) => setTimeout(() => {
        const theirs = chain.conflict()?.theirs;
        chain.keepTheirs();
        flash(`${theirs ? theirs.updated_by : 'Someone'} saved this annotation first: their version is shown and your change was not saved. Open it in the annotator to redo it.`, 'error');
        if (state.selected && state.selected.id === f.getId()) select(side.key, f.getId());
      }),
      conflictChanged: () => {},
      held: () => {},
      changed: () => {},
    },
  });
  return {chain, featureFor};
}

// groundStale reloads an image's lon/lat annotations, soon, after a change in pixels.
function groundStale(side) {
  clearTimeout(side.groundTimer);
  side.groundTimer = setTimeout(() => loadGround(side).catch(() => {}), 300);
}

// editInPlace lets analysts move and reshape the annotations of one pixel view.
function editInPlace(side, map, layer) {
  const selectI = new Select({layers: [layer], style: null, hitTolerance: 4});
  selectI.on('select', (e) => {
    const f = e.selected[0];
    select(f ? side.key : null, f ? f.getId() : null);
  });
  map.addInteraction(selectI);
  side.selectInteraction = selectI;
  if (!editable) return;
  const send = (f, what) => {
    const ann = f.get('ann');
    if (!ann) return;
    const geometry = pixelGeometry(f.getGeometry(), side.img.width, side.img.height);
    if (JSON.stringify(geometry) === JSON.stringify(ann.geometry)) return;
    side.chain.send(f, {kind: 'patch', body: {geometry}, what});
  };
  const translate = new Translate({features: selectI.getFeatures(), hitTolerance: 4});
  translate.on('translatestart', () => (side.modifying = true));
  translate.on('translateend', (e) => {
    side.modifying = false;
    for (const f of e.features.getArray()) send(f, 'the move');
  });
  const isBox = (f) => ['rectangle', 'rotated_rectangle'].includes(f.get('ann')?.shape);
  const modify = new Modify({features: selectI.getFeatures(), pixelTolerance: 8, insertVertexCondition: () => !selectI.getFeatures().getArray().some(isBox)});
  let before = null;
  modify.on('modifystart', (e) => {
    side.modifying = true;
    const f = e.features.item(0);
    before = f && f.getGeometry().getType() === 'Polygon' ? f.getGeometry().getCoordinates()[0].map((c) => [...c]) : null;
  });
  modify.on('modifyend', (e) => {
    side.modifying = false;
    for (const f of e.features.getArray()) {
      if (isBox(f) && before) {
        const ring = squareUp(before, f.getGeometry().getCoordinates()[0]);
        if (ring) f.getGeometry().setCoordinates([ring]);
      }
      send(f, 'the new shape');
    }
  });
  map.addInteraction(translate);
  map.addInteraction(modify);
}

// ---- overlay ---------------------------------------------------------------------------

const swipeEl = $('swipe');

function footprintExtent() {
  const ext = createEmpty();
  for (const s of [sides.a, sides.b]) if (s.footprint) extend(ext, lonLat.readFeature(s.footprint).getGeometry().getExtent());
  return ext;
}

function fit(map) {
  const ext = footprintExtent();
  if (!isEmpty(ext)) map.getView().fit(ext, {padding: [30, 30, 30, 30], maxZoom: 18});
}

// tileLayerOf is an image's warped tiles, with its saved adjustments applied.
function tileLayerOf(side) {
  const layer = adjustedTileLayer(side.footprint, side.adjustments);
  layer.set('tilesOf', side.key);
  return layer;
}

function buildOverlay() {
  const {map} = earthMap('overlay-map', $('earth-status'));
  const layers = {a: tileLayerOf(sides.a), b: tileLayerOf(sides.b)};
  // The top image is clipped left of the divider, as in OpenLayers' WebGL layer-swipe
  // example (the layers are WebGL ones, for the adjustments): a scissor in render pixels.
  for (const [key, layer] of Object.entries(layers)) {
    layer.on('prerender', (e) => {
      if (key !== state.top) return;
      const gl = e.context;
      const [w, h] = map.getSize();
      const bottomLeft = getRenderPixel(e, [0, h]);
      const topRight = getRenderPixel(e, [w * state.swipe, 0]);
      gl.enable(gl.SCISSOR_TEST);
      gl.scissor(bottomLeft[0], bottomLeft[1], Math.round(topRight[0] - bottomLeft[0]), Math.round(topRight[1] - bottomLeft[1]));
    });
    layer.on('postrender', (e) => e.context.disable(e.context.SCISSOR_TEST));
    map.addLayer(layer);
  }
  const annotationLayers = [annotationLayer('a', sides.a.groundSource), annotationLayer('b', sides.b.groundSource)];
  for (const l of annotationLayers) map.addLayer(l);
  clickToSelect(map);
  fit(map);
  built.overlay = {map, layers, annotationLayers, rendered: false};
  // Whether every tile in view is drawn (for the tests: what shows is what will show).
  map.on('movestart', () => (built.overlay.rendered = false));
  map.on('rendercomplete', () => (built.overlay.rendered = true));
  applyOverlay();
  dragSwipe(map);
}

// applyOverlay puts the top image over the other, at its opacity, clipped at the swipe.
function applyOverlay() {
  const o = built.overlay;
  if (!o) return;
  const bottom = state.top === 'a' ? 'b' : 'a';
  o.layers[state.top].setZIndex(2);
  o.layers[state.top].setOpacity(state.opacity);
  o.layers[bottom].setZIndex(1);
  o.layers[bottom].setOpacity(1);
  swipeEl.style.left = `${(state.swipe * 100).toFixed(3)}%`;
  swipeEl.setAttribute('aria-valuenow', String(Math.round(state.swipe * 100)));
  $('top-name').textContent = `On top: ${state.top.toUpperCase()} (${sides[state.top].img.title})`;
  root.dataset.top = state.top;
  o.map.render();
}

function dragSwipe(map) {
  const setFrom = (clientX) => {
    state.swipe = swipeFraction(clientX, map.getViewport().getBoundingClientRect());
    applyOverlay();
  };
  swipeEl.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    swipeEl.setPointerCapture(e.pointerId);
    const move = (ev) => setFrom(ev.clientX);
    const up = () => {
      swipeEl.removeEventListener('pointermove', move);
      swipeEl.removeEventListener('pointerup', up);
      swipeEl.removeEventListener('pointercancel', up);
    };
    swipeEl.addEventListener('pointermove', move);
    swipeEl.addEventListener('pointerup', up);
    swipeEl.addEventListener('pointercancel', up);
  });
  swipeEl.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? 0.1 : 0.02;
    if (e.key === 'ArrowLeft') state.swipe = Math.max(0, state.swipe - step);
    else if (e.key === 'ArrowRight') state.swipe = Math.min(1, state.swipe + step);
    else return;
    e.preventDefault();
    applyOverlay();
  });
}

$('opacity').addEventListener('input', (e) => {
  state.opacity = Number(e.target.value) / 100;
  applyOverlay();
});

function flicker() {
  state.top = state.top === 'a' ? 'b' : 'a';
  applyOverlay();
}
$('flicker').addEventListener('click', flicker);

// ---- side by side on the map -----------------------------------------------------------

function buildSide() {
  const view = new View({center: [0, 0], zoom: 2, maxZoom: 21});
  const maps = {};
  const annotationLayers = [];
  for (const key of ['a', 'b']) {
    const {map} = earthMap(`side-map-${key}`, $('earth-status'));
    map.setView(view);
    map.addLayer(tileLayerOf(sides[key]));
    const l = annotationLayer(key, sides[key].groundSource);
    annotationLayers.push(l);
    map.addLayer(l);
    clickToSelect(map);
    maps[key] = map;
  }
  fit(maps.a);
  built.side = {view, maps, annotationLayers};
}

// ---- side by side in pixels ------------------------------------------------------------

function buildPixels() {
  const views = {};
  const annotationLayers = [];
  for (const key of ['a', 'b']) {
    const side = sides[key];
    const layer = annotationLayer(key, side.pixelSource);
    annotationLayers.push(layer);
    views[key] = imageView({target: `pixel-map-${key}`, imageId: side.img.id, width: side.img.width, height: side.img.height, statusEl: $(`pixel-status-${key}`), layers: [layer]});
    editInPlace(side, views[key].map, layer);
    views[key].open().then((ok) => {
      if (ok) $(`pixel-map-${key}`).dataset.imageReady = 'true';
    });
  }
  const link = pixelLink(sides.a.georef?.samples, sides.b.georef?.samples, {a: sides.a.img.title, b: sides.b.img.title});
  built.pixels = {views, annotationLayers, link};
  if (link.aToB) {
    linkViews(views, link, 'The two views move together: each shows the ground the other shows, through where both images lie on the earth.');
    return;
  }
  const linkEl = $('link-state');
  linkEl.textContent = link.reason;
  linkEl.className = 'help warn';
  root.dataset.linked = 'false';
  // One placed, one not: an analyst can relate them by matching the unplaced one to the
  // placed one (the georeference editor's suggestions), for this view only.
  const placedA = !!sides.a.georef?.samples?.length;
  const placedB = !!sides.b.georef?.samples?.length;
  if (placedA === placedB || !can('analyst')) return;
  const unplaced = placedA ? sides.b : sides.a;
  const placed = placedA ? sides.a : sides.b;
  const button = el('button', {type: 'button', id: 'link-by-matching', text: 'Link them by matching'});
  linkEl.append(' ', button);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Matching…';
    try {
      const found = await api('POST', `/api/v1/images/${encodeURIComponent(unplaced.img.id)}/georeference/suggest`, {reference: placed.img.id});
      const matched = matchedLink(found.points, !placedA);
      if (!matched.aToB) throw new Error(matched.reason);
      built.pixels.link = matched;
      linkViews(views, matched, `The two views move together through ${found.points.length} points found by matching “${unplaced.img.title}” to “${placed.img.title}” (RMS ${found.rms_px.toFixed(2)} px). They are not a georeference: place the image in its georeference editor to keep them.`);
    } catch (err) {
      linkEl.textContent = `Could not link them by matching: ${err.message}`;
      linkEl.className = 'help warn';
    }
  });
}

// linkViews makes two pixel views follow each other through link ({aToB, bToA}).
function linkViews(views, link, message) {
  const linkEl = $('link-state');
  linkEl.textContent = message;
  linkEl.className = 'help muted';
  root.dataset.linked = 'true';
  const toB = inMapSpace(link.aToB);
  const toA = inMapSpace(link.bToA);
  let syncing = false;
  const follow = (from, to, t) => {
    if (syncing) return;
    syncing = true;
    const v = from.getView();
    const next = linkedView({center: v.getCenter(), resolution: v.getResolution(), rotation: v.getRotation()}, t);
    const w = to.getView();
    w.setRotation(next.rotation);
    w.setResolution(next.resolution);
    w.setCenter(next.center);
    syncing = false;
  };
  for (const ev of ['change:center', 'change:resolution', 'change:rotation']) {
    views.a.map.getView().on(ev, () => follow(views.a.map, views.b.map, toB));
    views.b.map.getView().on(ev, () => follow(views.b.map, views.a.map, toA));
  }
  follow(views.a.map, views.b.map, toB);
}

// ---- modes -----------------------------------------------------------------------------

function mapsOf(mode) {
  const b = built[mode];
  if (!b) return [];
  if (mode === 'overlay') return [b.map];
  if (mode === 'side') return Object.values(b.maps);
  return Object.values(b.views).map((v) => v.map);
}

const BUILD = {overlay: buildOverlay, side: buildSide, pixels: buildPixels};
const PANES = {overlay: 'overlay-panes', side: 'side-panes', pixels: 'pixel-panes'};

function showMode(asked) {
  const mode = modeFor(asked, sides.a.img, sides.b.img);
  if (asked && mode !== asked) flash(`Both images must be georeferenced to compare them on the map: showing their pixels.`, 'error');
  state.mode = mode;
  for (const [m, id] of Object.entries(PANES)) $(id).hidden = m !== mode;
  for (const b of document.querySelectorAll('[data-mode]')) {
    b.classList.toggle('active', b.dataset.mode === mode);
    b.disabled = b.dataset.mode !== 'pixels' && !(sides.a.img.georeferenced && sides.b.img.georeferenced);
  }
  $('overlay-tools').hidden = mode !== 'overlay';
  $('link-state').hidden = mode !== 'pixels';
  if (!built[mode]) BUILD[mode]();
  // (a map laid out while hidden has no size)
  for (const m of mapsOf(mode)) m.updateSize();
  root.dataset.mode = mode;
  const url = new URL(location.href);
  url.searchParams.set('a', sides.a.img.id);
  url.searchParams.set('b', sides.b.img.id);
  url.searchParams.set('mode', mode);
  history.replaceState(null, '', url);
}

for (const b of document.querySelectorAll('[data-mode]')) b.addEventListener('click', () => showMode(b.dataset.mode));

document.addEventListener('keydown', (e) => {
  // (the opacity slider has no use for letters: F flickers from it too)
  if (e.target.closest('input:not([type=range]), textarea, select') || e.ctrlKey || e.metaKey || e.altKey || !state.mode) return;
  if ((e.key === 'f' || e.key === 'F') && state.mode === 'overlay') flicker();
  else if (['1', '2', '3'].includes(e.key)) {
    const mode = MODES[Number(e.key) - 1];
    if (!document.querySelector(`[data-mode="${mode}"]`).disabled) showMode(mode);
  } else if (e.key === 'Escape') {
    for (const s of [sides.a, sides.b]) s.selectInteraction?.getFeatures().clear();
    select(null);
  }
});

// ---- start -----------------------------------------------------------------------------

// adjustmentsOf are the adjustments saved with an image (neutral, said, when they cannot be read).
async function adjustmentsOf(img) {
  try {
    return await api('GET', `/api/v1/images/${encodeURIComponent(img.id)}/adjustments`);
  } catch (err) {
    flash(`Could not read the adjustments of ${img.title} (showing it without them): ${err.message}`, 'error');
    return {...neutral};
  }
}

async function loadSide(key, id) {
  const img = await api('GET', `/api/v1/images/${encodeURIComponent(id)}`);
  let georef = null;
  if (img.georeferenced) georef = await api('GET', `/api/v1/images/${encodeURIComponent(id)}/georeference`);
  // (the pixel views read them themselves, as every image view does)
  const adjustments = img.georeferenced ? await adjustmentsOf(img) : {...neutral};
  const side = {key, img, georef, adjustments, footprint: null, pixelSource: new VectorSource(), groundSource: new VectorSource(), modifying: false};
  const {chain, featureFor} = chainFor(side);
  side.chain = chain;
  const anns = await api('GET', `/api/v1/images/${encodeURIComponent(id)}/annotations`);
  side.pixelSource.addFeatures(anns.map(featureFor));
  await loadGround(side);
  return side;
}

function pickers(site, pair) {
  const known = new Map(site.images.map((i) => [i.id, i]));
  for (const key of ['a', 'b']) {
    const s = sides[key];
    if (!known.has(s.img.id)) known.set(s.img.id, {id: s.img.id, title: s.img.title, georeferenced: s.img.georeferenced});
  }
  for (const key of ['a', 'b']) {
    const picker = $(`pick-${key}`);
    picker.replaceChildren(...[...known.values()].map((i) => el('option', {value: i.id, text: `${i.title}${i.when ? ` (${i.when.slice(0, 10)})` : ''}${i.georeferenced ? '' : ' · not placed'}`})));
    picker.value = pair[key];
    picker.addEventListener('change', () => {
      const url = new URL(location.href);
      url.searchParams.set(key, picker.value);
      location.assign(url);
    });
  }
}

async function start() {
  let site;
  try {
    site = await api('GET', `/api/v1/sites/${encodeURIComponent(siteId)}`);
  } catch (err) {
    flash(`Could not load the site: ${err.message}`, 'error');
    return;
  }
  const fallback = defaultPair(site.images) || {};
  const pair = {a: root.dataset.a || fallback.a, b: root.dataset.b || fallback.b};
  if (!pair.a || !pair.b) {
    flash('This site needs two images to compare.', 'error');
    return;
  }
  if (pair.a === pair.b) flash('A and B are the same image: pick another for one of them.', 'error');
  try {
    [sides.a, sides.b] = await Promise.all([loadSide('a', pair.a), loadSide('b', pair.b)]);
    if (sides.a.img.georeferenced || sides.b.img.georeferenced) {
      const fp = await fetch('/api/v1/footprints.geojson').then((r) => r.json());
      for (const s of [sides.a, sides.b]) s.footprint = fp.features.find((f) => f.id === s.img.id) || null;
      // An image whose tiles the map cannot show is not on the map here either.
      for (const s of [sides.a, sides.b]) if (!s.footprint || !s.footprint.properties.tiles) s.img = {...s.img, georeferenced: false};
    }
  } catch (err) {
    flash(`Could not load the images: ${err.message}`, 'error');
    return;
  }
  document.title = `Compare ${sides.a.img.title} and ${sides.b.img.title} · satmark`;
  for (const key of ['a', 'b']) {
    for (const where of ['side', 'pixel']) $(`${where}-title-${key}`).textContent = `${key.toUpperCase()} · ${sides[key].img.title}`;
  }
  pickers(site, pair);
  showMode(params.get('mode') || '');
  for (const key of ['a', 'b']) {
    const side = sides[key];
    liveUpdates(side.img.id, {
      onEvent: (ev) => {
        side.chain.receive(ev);
        if (ev.type && ev.type.startsWith('annotation.')) groundStale(side);
      },
      onReady: () => side.chain.catchUp(),
      onState: () => {},
    });
  }
  root.dataset.ready = 'true';
}

// For the browser tests and the console: the maps, the layers, and the colour a map
// shows at a pixel (every layer's canvas composed, as OpenLayers' export example does).
window.satmark = {
  state,
  built,
  sides,
  shownColours,
};

start();
