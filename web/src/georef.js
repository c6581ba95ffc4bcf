// The georeference editor: the image on one side, the earth on the other. Pairs of
// points (a feature in the image and its place on the map, clicked or typed) are fitted
// by the server as soon as there are enough; each point's residual and the RMS update as
// points are dragged. Save stores the points and the transform. The image shows with
// its saved adjustments, which the Adjust panel changes and saves as the annotator's does.

import Feature from 'ol/Feature.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import Point from 'ol/geom/Point.js';
import Modify from 'ol/interaction/Modify.js';
import VectorLayer from 'ol/layer/Vector.js';
import {fromLonLat, toLonLat} from 'ol/proj.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';

import {adjustPanel} from './adjustpanel.js';
import {api, el, flash} from './common.js';
import {earthMap} from './earth.js';
import {imageView, shownColours, toMap, toPixel} from './imageview.js';

const root = document.getElementById('georef');
const imageId = root.dataset.imageId;
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);

// points: [{pixel: [x, y] | null, lonlat: [lon, lat] | null}]; residuals line up with
// the complete points, in order. suggestions: [{pixel, lonlat, score}] proposed by
// matching with a placed image, not yet accepted or dropped.
const state = {points: [], residuals: [], suggestions: [], mode: 'idle', minimum: 3};

const markerStyle = (f) => {
  const pending = f.get('pending');
  return new Style({
    image: new CircleStyle({radius: 7, fill: new Fill({color: pending ? '#ffb000' : '#ff3b30'}), stroke: new Stroke({color: '#fff', width: 2})}),
    text: new Text({text: String(f.get('n')), offsetY: -16, font: 'bold 12px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3})}),
  });
};

// Suggestions are hollow blue rings numbered S1, S2, …: not control points until accepted.
const suggestionStyle = (f) =>
  new Style({
    image: new CircleStyle({radius: 7, fill: new Fill({color: 'rgba(10, 132, 255, 0.25)'}), stroke: new Stroke({color: '#0a84ff', width: 2})}),
    text: new Text({text: `S${f.get('n')}`, offsetY: -16, font: 'bold 11px system-ui', fill: new Fill({color: '#cfe6ff'}), stroke: new Stroke({color: '#000', width: 3})}),
  });

// ---- the two maps ----------------------------------------------------------------------

const imageMarkers = new VectorSource();
const imageSuggestions = new VectorSource();
const image = imageView({target: 'image-map', imageId, width, height, statusEl: document.getElementById('image-status'),
  layers: [new VectorLayer({source: imageSuggestions, style: suggestionStyle}), new VectorLayer({source: imageMarkers, style: markerStyle})]});
image.open().then((ok) => {
  if (!ok) return;
  root.dataset.imageReady = 'true';
  // The image's adjustments, as in the annotator: live here, saved for everyone.
  adjustPanel({imageId, view: image, editable: true});
});

const earthMarkers = new VectorSource();
const footprint = new VectorSource();
const earth = earthMap('earth-map', document.getElementById('earth-status'));
earth.map.addLayer(new VectorLayer({source: footprint, style: new Style({stroke: new Stroke({color: '#ffd60a', width: 2}), fill: new Fill({color: 'rgba(255, 214, 10, 0.08)'})})}));
const earthSuggestions = new VectorSource();
earth.map.addLayer(new VectorLayer({source: earthSuggestions, style: suggestionStyle}));
earth.map.addLayer(new VectorLayer({source: earthMarkers, style: markerStyle}));

// A handle for the browser console and the end-to-end tests.
window.satmark = {
  imageMap: image.map,
  // The adjustments the image is shown with (those saved with it, or the panel's), and
  // the colours a map shows at points (CSS pixels), every layer composed.
  imageAdjustments: () => image.adjustments(),
  shownColours,
  earthMap: earth.map,
  state,
  imagePixelToScreen: ([x, y]) => image.map.getPixelFromCoordinate(toMap([x, y])),
  lonLatToScreen: ([lon, lat]) => earth.map.getPixelFromCoordinate(fromLonLat([lon, lat])),
  lonLatExtent: ([w, s, e, n]) => [...fromLonLat([w, s]), ...fromLonLat([e, n])],
  centerOn: (lonlat) => {
    earth.map.getView().setCenter(fromLonLat(lonlat));
    earth.map.renderSync();
  },
};

function drawMarkers() {
  imageMarkers.clear();
  earthMarkers.clear();
  imageSuggestions.clear();
  earthSuggestions.clear();
  state.suggestions.forEach((p, i) => {
    imageSuggestions.addFeature(new Feature({geometry: new Point(toMap(p.pixel)), n: i + 1}));
    earthSuggestions.addFeature(new Feature({geometry: new Point(fromLonLat(p.lonlat)), n: i + 1}));
  });
  state.points.forEach((p, i) => {
    const pending = !p.pixel || !p.lonlat;
    if (p.pixel) imageMarkers.addFeature(new Feature({geometry: new Point(toMap(p.pixel)), n: i + 1, i, pending}));
    if (p.lonlat) earthMarkers.addFeature(new Feature({geometry: new Point(fromLonLat(p.lonlat)), n: i + 1, i, pending}));
  });
}

for (const [source, map, fromMap] of [
  [imageMarkers, image.map, (c) => toPixel(c)],
  [earthMarkers, earth.map, (c) => toLonLat(c)],
]) {
  const modify = new Modify({source, pixelTolerance: 10});
  modify.on('modifyend', (e) => {
    for (const f of e.features.getArray()) {
      const p = state.points[f.get('i')];
      const c = fromMap(f.getGeometry().getCoordinates());
      if (source === imageMarkers) p.pixel = clampPixel(c);
      else p.lonlat = c;
    }
    changed();
  });
  map.addInteraction(modify);
}

const clampPixel = ([x, y]) => [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))];

// ---- adding points by clicking -----------------------------------------------------------

const help = document.getElementById('georef-help');
function setMode(mode) {
  state.mode = mode;
  root.dataset.mode = mode;
  document.getElementById('add-point').classList.toggle('active', mode !== 'idle');
  help.textContent = {
    idle: 'Click “Add a point”, then a feature on the image, then the same feature on the map. Or type the coordinates in the table. Drag any point to move it.',
    image: 'Now click the feature on the image (left). Esc cancels.',
    earth: 'Now click the same place on the map (right). Esc cancels.',
  }[mode];
}

document.getElementById('add-point').addEventListener('click', () => {
  if (state.mode !== 'idle') return cancelAdding();
  state.points.push({pixel: null, lonlat: null});
  setMode('image');
  renderTable();
});

function cancelAdding() {
  const last = state.points[state.points.length - 1];
  if (last && (!last.pixel || !last.lonlat)) state.points.pop();
  setMode('idle');
  changed();
}

image.map.on('click', (e) => {
  if (state.mode !== 'image' || !image.insideImage(e.coordinate)) return;
  state.points[state.points.length - 1].pixel = toPixel(e.coordinate);
  setMode('earth');
  drawMarkers();
  renderTable();
});

earth.map.on('click', (e) => {
  if (state.mode !== 'earth') return;
  state.points[state.points.length - 1].lonlat = toLonLat(e.coordinate);
  setMode('idle');
  changed();
});

document.addEventListener('keydown', (e) => {
  if (e.target.closest('input, textarea, select')) return;
  if (e.key === 'Escape' && state.mode !== 'idle') cancelAdding();
  if ((e.key === 'a' || e.key === 'A') && state.mode === 'idle') document.getElementById('add-point').click();
});

// ---- the table ---------------------------------------------------------------------------

const fmt = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? '' : v.toFixed(d));

// numberInput shows value to the given decimals (the point keeps its full precision
// until the user types a new value).
function numberInput(value, decimals, label, onChange) {
  const shown = value === null || value === undefined ? '' : String(Number(value.toFixed(decimals)));
  const input = el('input', {type: 'number', step: 'any', 'aria-label': label, value: shown});
  input.addEventListener('change', () => onChange(input.value === '' ? null : Number(input.value)));
  return input;
}

function renderTable() {
  const body = document.querySelector('#gcp-table tbody');
  let k = 0;
  body.replaceChildren(
    ...state.points.map((p, i) => {
      const complete = p.pixel && p.lonlat;
      const r = complete ? state.residuals[k++] : null;
      const setPixel = (j) => (v) => {
        p.pixel = p.pixel || [0, 0];
        p.pixel[j] = v ?? 0;
        changed();
      };
      const setLonLat = (j) => (v) => {
        p.lonlat = p.lonlat || [0, 0];
        p.lonlat[j] = v ?? 0;
        changed();
      };
      const remove = el('button', {type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove point ${i + 1}`});
      remove.addEventListener('click', () => {
        state.points.splice(i, 1);
        if (state.mode !== 'idle' && i === state.points.length) setMode('idle');
        changed();
      });
      return el(
        'tr',
        {class: complete ? '' : 'pending', dataset: {point: i}},
        el('td', {text: String(i + 1)}),
        el('td', {}, numberInput(p.pixel?.[0], 2, `point ${i + 1} pixel x`, setPixel(0))),
        el('td', {}, numberInput(p.pixel?.[1], 2, `point ${i + 1} pixel y`, setPixel(1))),
        el('td', {}, numberInput(p.lonlat?.[0], 7, `point ${i + 1} longitude`, setLonLat(0))),
        el('td', {}, numberInput(p.lonlat?.[1], 7, `point ${i + 1} latitude`, setLonLat(1))),
        el('td', {class: 'residual-px', text: r ? fmt(r.px, 2) : ''}),
        el('td', {class: 'residual-m', text: r ? fmt(r.m, 2) : ''}),
        el('td', {}, remove),
      );
    }),
  );
}

// ---- fitting ------------------------------------------------------------------------------

const summary = document.getElementById('fit-summary');
const transform = document.getElementById('transform');
const complete = () => state.points.filter((p) => p.pixel && p.lonlat);
let fitTimer = null;
let fitSeq = 0;

transform.addEventListener('change', changed);

function changed() {
  drawMarkers();
  renderTable();
  renderSuggestions();
  clearTimeout(fitTimer);
  fitTimer = setTimeout(refit, 120);
}

async function refit() {
  const pts = complete();
  const minimum = {similarity: 2, affine: 3, projective: 4, polynomial2: 6, tps: 3}[transform.value];
  state.residuals = [];
  showFootprint(pts.length === 0 ? state.savedFootprint : null);
  if (pts.length < minimum) {
    summary.className = 'fit-summary muted';
    summary.textContent = `${minimum - pts.length} more point${minimum - pts.length === 1 ? '' : 's'} needed for ${transform.selectedOptions[0].textContent.split(' (')[0]}`;
    renderTable();
    return;
  }
  const seq = ++fitSeq;
  try {
    const fit = await api('POST', `/api/v1/images/${imageId}/georeference/fit`, {transform: transform.value, gcps: pts});
    if (seq !== fitSeq) return;
    state.residuals = fit.fit.residuals;
    const f = fit.fit;
    summary.className = 'fit-summary ok';
    summary.textContent = `RMS ${f.rms_m.toFixed(2)} m (${f.rms_px.toFixed(2)} px) · mean error ${f.mean_error_m.toFixed(2)} m over ${pts.length} points`;
    root.dataset.rms = f.rms_m;
    showFootprint(fit.footprint);
  } catch (err) {
    if (seq !== fitSeq) return;
    summary.className = 'fit-summary error';
    summary.textContent = err.message;
  }
  renderTable();
}

const geojson = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});

function showFootprint(geometry) {
  footprint.clear();
  if (!geometry) return;
  footprint.addFeature(new Feature({geometry: geojson.readGeometry(geometry)}));
}

// ---- suggestions: control points proposed by matching with a placed image -----------------

const referenceSelect = document.getElementById('suggest-reference');
const suggestState = document.getElementById('suggest-state');
const acceptAll = document.getElementById('accept-all');
const dropAll = document.getElementById('drop-all');

// fillReferences lists the placed images to match with: those of this image's sites
// first (the first of them chosen), then every other placed image.
async function fillReferences() {
  const [images, sites] = await Promise.all([api('GET', '/api/v1/images'), api('GET', '/api/v1/sites').catch(() => [])]);
  const placed = images.filter((img) => img.georeferenced && img.id !== imageId);
  const mine = sites.filter((s) => s.images.some((img) => img.id === imageId));
  const inSite = new Map();
  for (const s of mine) for (const img of s.images) if (img.georeferenced && img.id !== imageId && !inSite.has(img.id)) inSite.set(img.id, s.name);
  const options = [];
  for (const img of placed.filter((i) => inSite.has(i.id))) options.push(el('option', {value: img.id, text: `${img.title} (site ${inSite.get(img.id)})`}));
  for (const img of placed.filter((i) => !inSite.has(i.id))) options.push(el('option', {value: img.id, text: img.title}));
  if (options.length) referenceSelect.replaceChildren(...options);
  document.getElementById('suggest').disabled = options.length === 0;
}

document.getElementById('suggest').addEventListener('click', async () => {
  const reference = referenceSelect.value;
  if (!reference) return;
  suggestState.className = 'save-state';
  suggestState.textContent = 'Matching…';
  root.dataset.suggesting = 'true';
  try {
    const r = await api('POST', `/api/v1/images/${imageId}/georeference/suggest`, {reference, max_points: 16});
    state.suggestions = r.points;
    suggestState.className = 'save-state ok';
    suggestState.textContent = `${r.points.length} points suggested (${r.inliers} features agree; ${r.rms_px.toFixed(2)} px RMS about one affine map)`;
  } catch (err) {
    state.suggestions = [];
    suggestState.className = 'save-state error';
    suggestState.textContent = err.code === 'no_match' ? `No match: ${err.message}` : `Could not suggest points: ${err.message}`;
  }
  delete root.dataset.suggesting;
  changed();
  // Show where the suggestions lie on the earth.
  if (state.suggestions.length && !footprint.getFeatures().length) earth.map.getView().fit(earthSuggestions.getExtent(), {padding: [40, 40, 40, 40], maxZoom: 17});
});

function accept(i) {
  const [p] = state.suggestions.splice(i, 1);
  state.points.push({pixel: p.pixel, lonlat: p.lonlat});
}

acceptAll.addEventListener('click', () => {
  while (state.suggestions.length) accept(0);
  changed();
});
dropAll.addEventListener('click', () => {
  state.suggestions = [];
  changed();
});

function renderSuggestions() {
  const table = document.getElementById('suggestion-table');
  table.hidden = acceptAll.hidden = dropAll.hidden = state.suggestions.length === 0;
  table.tBodies[0].replaceChildren(
    ...state.suggestions.map((p, i) => {
      const ok = el('button', {type: 'button', class: 'primary', text: 'Accept', 'aria-label': `Accept suggestion ${i + 1}`});
      ok.addEventListener('click', () => {
        accept(i);
        changed();
      });
      const drop = el('button', {type: 'button', text: 'Drop', 'aria-label': `Drop suggestion ${i + 1}`});
      drop.addEventListener('click', () => {
        state.suggestions.splice(i, 1);
        changed();
      });
      return el(
        'tr',
        {dataset: {suggestion: i}},
        el('td', {text: `S${i + 1}`}),
        el('td', {text: fmt(p.pixel[0], 2)}),
        el('td', {text: fmt(p.pixel[1], 2)}),
        el('td', {text: fmt(p.lonlat[0], 7)}),
        el('td', {text: fmt(p.lonlat[1], 7)}),
        el('td', {class: 'score', text: fmt(p.score, 2)}),
        el('td', {}, ok, drop),
      );
    }),
  );
}

// ---- saving -------------------------------------------------------------------------------

const saveState = document.getElementById('georef-state');

document.getElementById('save-georef').addEventListener('click', async () => {
  const pts = complete();
  try {
    const g = await api('PUT', `/api/v1/images/${imageId}/georeference`, {transform: transform.value, gcps: pts});
    saveState.className = 'save-state ok';
    saveState.textContent = `Saved: ${g.transform}, RMS ${g.fit.rms_m.toFixed(2)} m`;
    root.dataset.saved = 'true';
    flash('Georeference saved. Exports of this image are now in longitude and latitude.');
  } catch (err) {
    saveState.className = 'save-state error';
    saveState.textContent = `Not saved: ${err.message}`;
    flash(`Could not save the georeference: ${err.message}`, 'error');
  }
});

document.getElementById('remove-georef').addEventListener('click', async () => {
  if (!window.confirm('Remove this image’s georeference (and its ground sample distance)?')) return;
  try {
    await api('DELETE', `/api/v1/images/${imageId}/georeference`);
    state.points = [];
    document.getElementById('gsd').value = '';
    changed();
    saveState.className = 'save-state';
    saveState.textContent = 'Georeference removed';
  } catch (err) {
    flash(`Could not remove it: ${err.message}`, 'error');
  }
});

document.getElementById('save-gsd').addEventListener('click', async () => {
  const input = document.getElementById('gsd');
  try {
    await api('PUT', `/api/v1/images/${imageId}/georeference`, {gsd_m: input.value === '' ? null : Number(input.value)});
    flash(`Ground sample distance saved: ${input.value} m per pixel.`);
  } catch (err) {
    flash(`Could not save the ground sample distance: ${err.message}`, 'error');
  }
});

// ---- start ----------------------------------------------------------------------------------

async function start() {
  setMode('idle');
  try {
    const g = await api('GET', `/api/v1/images/${imageId}/georeference`);
    if (g.method === 'gcps') {
      state.points = g.gcps.map((p) => ({pixel: p.pixel, lonlat: p.lonlat}));
      transform.value = g.transform;
    } else if (g.method === 'grid') {
      summary.className = 'fit-summary';
      summary.textContent = `Placed by a ${g.origin === 'geotiff' ? 'GeoTIFF' : 'world file'} (${g.crs}). Control points you add and save replace it.`;
    }
    state.savedFootprint = g.footprint;
    showFootprint(g.footprint);
    const ext = footprint.getExtent();
    if (footprint.getFeatures().length) earth.map.getView().fit(ext, {padding: [40, 40, 40, 40], maxZoom: 17});
  } catch (err) {
    if (err.status !== 404) flash(`Could not load the georeference: ${err.message}`, 'error');
  }
  try {
    await fillReferences();
  } catch (err) {
    suggestState.textContent = `Could not list the placed images: ${err.message}`;
  }
  changed();
  root.dataset.ready = 'true';
}

start();
