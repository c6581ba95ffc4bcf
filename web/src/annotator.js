// The annotator: the image in an OpenLayers view beside its provenance and annotations.
// Every drawing, edit and deletion is saved at once; a failed save is shown and undone.

import Feature from 'ol/Feature.js';
import Draw, {createBox} from 'ol/interaction/Draw.js';
import Modify from 'ol/interaction/Modify.js';
import Select from 'ol/interaction/Select.js';
import Translate from 'ol/interaction/Translate.js';
import Overlay from 'ol/Overlay.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';

import {api, el, flash} from './common.js';
import {mapGeometry, measures, pixelGeometry, rotatedBoxGeometry, squareUp, toPixel} from './geometry.js';
import {imageView} from './imageview.js';

const root = document.getElementById('annotator');
const imageId = root.dataset.imageId;
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);

const DRAW_LABEL_KEY = 'satmark.drawLabel';

const state = {
  labels: [],
  labelsById: new window.Map(),
  selected: null,
  pending: 0,
};

// ---- map -------------------------------------------------------------------------------

const source = new VectorSource();

function hexToRgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function styleFor(feature, resolution, selected) {
  const ann = feature.get('ann');
  const color = ann ? ann.label.color : '#ffffff';
  const saving = feature.get('saving');
  const stroke = new Stroke({color, width: selected ? 3 : 2, lineDash: saving ? [6, 4] : undefined});
  const styles = [];
  if (selected) styles.push(new Style({stroke: new Stroke({color: '#ffffff', width: 6}), image: new CircleStyle({radius: 9, fill: new Fill({color: '#ffffff'})})}));
  styles.push(
    new Style({
      stroke,
      fill: new Fill({color: hexToRgba(color, selected ? 0.25 : 0.12)}),
      image: new CircleStyle({radius: 6, fill: new Fill({color}), stroke: new Stroke({color: '#000000', width: 1})}),
      text:
        ann && resolution < 4
          ? new Text({
              text: ann.label.name,
              font: '12px system-ui, sans-serif',
              fill: new Fill({color: '#ffffff'}),
              stroke: new Stroke({color: '#000000', width: 3}),
              overflow: true,
              offsetY: -14,
            })
          : undefined,
    }),
  );
  return styles;
}

const vectorLayer = new VectorLayer({source, style: (f, r) => styleFor(f, r, f === state.selected)});
const view = imageView({target: 'map', imageId, width, height, statusEl: document.getElementById('image-status'), layers: [vectorLayer]});
const map = view.map;
// A handle for the browser console and the end-to-end tests: the map and the pixel
// conversion, so a point of the image can be found on screen.
window.satmark = {
  map,
  toPixel,
  tileStats: view.tileStats,
  imagePixelToScreen: ([x, y]) => map.getPixelFromCoordinate([x, -y]),
  annotations: () => source.getFeatures().filter((f) => f.get('ann')).map((f) => f.get('ann')),
};

map.on('pointermove', (e) => {
  const [x, y] = toPixel(e.coordinate);
  const out = x < 0 || y < 0 || x > width || y > height;
  document.getElementById('cursor').textContent = out ? '' : `x ${x.toFixed(1)}  y ${y.toFixed(1)} px`;
});

// ---- saving ----------------------------------------------------------------------------

const saveState = document.getElementById('save-state');

function setSaving(delta, error) {
  state.pending += delta;
  if (error) {
    saveState.textContent = `Not saved: ${error}`;
    saveState.className = 'save-state error';
  } else if (state.pending > 0) {
    saveState.textContent = 'Saving…';
    saveState.className = 'save-state';
  } else if (!saveState.classList.contains('error')) {
    saveState.textContent = 'All changes saved';
    saveState.className = 'save-state ok';
  }
}

async function save(what, fn) {
  setSaving(+1);
  try {
    const result = await fn();
    saveState.classList.remove('error');
    setSaving(-1);
    return result;
  } catch (err) {
    setSaving(-1, err.message);
    flash(`Could not save ${what}: ${err.message}`, 'error');
    throw err;
  }
}

function featureFor(ann) {
  const f = new Feature({geometry: mapGeometry(ann.geometry)});
  f.setId(ann.id);
  f.set('ann', ann);
  return f;
}

// applySaved puts the server's version of an annotation on its feature.
function applySaved(feature, ann) {
  feature.set('ann', ann);
  feature.setId(ann.id);
  feature.set('saving', false);
  feature.setGeometry(mapGeometry(ann.geometry));
  renderList();
  if (state.selected === feature) renderEditor();
}

async function createFromDrawing(feature, shape) {
  const label = document.getElementById('draw-label').value;
  const geometry = pixelGeometry(feature.getGeometry(), width, height);
  feature.set('saving', true);
  try {
    const ann = await save('the new annotation', () => api('POST', `/api/v1/images/${imageId}/annotations`, {label, shape, geometry, properties: {}}));
    applySaved(feature, ann);
    select(feature);
  } catch {
    source.removeFeature(feature);
  }
}

async function patch(feature, body, what) {
  const ann = feature.get('ann');
  feature.set('saving', true);
  try {
    const saved = await save(what, () => api('PATCH', `/api/v1/annotations/${ann.id}`, {...body, version: ann.version}));
    applySaved(feature, saved);
  } catch (err) {
    if (err.status === 412 && err.current) {
      flash(`Someone else changed this annotation (now version ${err.current.version}, by ${err.current.updated_by}); showing their version. Your change was not saved.`, 'error');
      applySaved(feature, err.current);
    } else if (err.status === 404) {
      source.removeFeature(feature);
      if (state.selected === feature) select(null);
      renderList();
    } else {
      applySaved(feature, ann); // back to what is stored
    }
  }
}

async function remove(feature) {
  const ann = feature.get('ann');
  try {
    await save('the deletion', () => api('DELETE', `/api/v1/annotations/${ann.id}`, undefined, {'If-Match': `"${ann.version}"`}));
    source.removeFeature(feature);
    if (state.selected === feature) select(null);
    renderList();
    flash(`Deleted ${ann.label.path.join(' › ')}.`);
  } catch (err) {
    if (err.status === 412 && err.current) applySaved(feature, err.current);
  }
}

// ---- interactions ----------------------------------------------------------------------

const selectInteraction = new Select({layers: [vectorLayer], style: null, hitTolerance: 4});
selectInteraction.on('select', (e) => select(e.selected[0] || null, {fromMap: true}));

const isBox = (f) => f && ['rectangle', 'rotated_rectangle'].includes(f.get('ann')?.shape);

const translate = new Translate({features: selectInteraction.getFeatures(), hitTolerance: 4});
translate.on('translateend', (e) => {
  for (const f of e.features.getArray()) patch(f, {geometry: pixelGeometry(f.getGeometry(), width, height)}, 'the move');
});

const modify = new Modify({
  features: selectInteraction.getFeatures(),
  insertVertexCondition: () => !isBox(state.selected),
  pixelTolerance: 8,
});
let beforeModify = null;
modify.on('modifystart', (e) => {
  const f = e.features.item(0);
  beforeModify = f && f.getGeometry().getType() === 'Polygon' ? f.getGeometry().getCoordinates()[0].map((c) => [...c]) : null;
});
modify.on('modifyend', (e) => {
  for (const f of e.features.getArray()) {
    if (isBox(f) && beforeModify) {
      const ring = squareUp(beforeModify, f.getGeometry().getCoordinates()[0]);
      if (ring) f.getGeometry().setCoordinates([ring]);
    }
    patch(f, {geometry: pixelGeometry(f.getGeometry(), width, height)}, 'the new shape');
  }
});

map.addInteraction(selectInteraction);
map.addInteraction(translate);
map.addInteraction(modify);

const insideImage = (e) => view.insideImage(e.coordinate);

const drawOptions = {
  point: {type: 'Point'},
  line: {type: 'LineString'},
  polygon: {type: 'Polygon'},
  rectangle: {type: 'Circle', geometryFunction: createBox()},
  rotated_rectangle: {type: 'LineString', maxPoints: 3, minPoints: 3, geometryFunction: rotatedBoxGeometry},
};

// The ruler measures a line without storing anything: in metres when the image is
// georeferenced or has a ground sample distance, else in pixels.
const rulerSource = new VectorSource();
map.addLayer(new VectorLayer({source: rulerSource, style: new Style({stroke: new Stroke({color: '#ffd60a', width: 2, lineDash: [8, 6]})})}));
const rulerLabel = el('div', {class: 'ruler-label', id: 'ruler-result'});
const rulerOverlay = new Overlay({element: rulerLabel, offset: [8, -8], positioning: 'bottom-left'});
map.addOverlay(rulerOverlay);

async function measureRuler(feature) {
  const geometry = pixelGeometry(feature.getGeometry(), width, height);
  rulerOverlay.setPosition(feature.getGeometry().getLastCoordinate());
  rulerLabel.textContent = 'measuring…';
  try {
    const m = await api('POST', `/api/v1/images/${imageId}/measure`, {shape: 'line', geometry});
    const parts = [];
    if (m.length_m !== undefined) parts.push(`${m.length_m.toFixed(2)} m`);
    parts.push(`${m.length_px.toFixed(1)} px`);
    if (m.length_m !== undefined && geometry.coordinates.length === 2 && m.basis === 'georeference') parts.push('geodesic');
    rulerLabel.textContent = parts.join(' · ');
  } catch (err) {
    rulerLabel.textContent = `cannot measure: ${err.message}`;
  }
}

let draw = null;
function setTool(tool) {
  if (draw) map.removeInteraction(draw);
  draw = null;
  for (const b of document.querySelectorAll('[data-tool]')) b.classList.toggle('active', b.dataset.tool === tool);
  const drawing = tool !== 'select';
  selectInteraction.setActive(!drawing);
  translate.setActive(!drawing);
  modify.setActive(!drawing);
  root.dataset.tool = tool;
  if (!drawing) return;
  select(null);
  if (tool === 'ruler') {
    draw = new Draw({source: rulerSource, type: 'LineString', condition: insideImage});
    draw.on('drawstart', () => {
      rulerSource.clear();
      rulerOverlay.setPosition(undefined);
    });
    draw.on('drawend', (e) => measureRuler(e.feature));
  } else {
    draw = new Draw({source, condition: insideImage, ...drawOptions[tool]});
    draw.on('drawend', (e) => createFromDrawing(e.feature, tool));
  }
  map.addInteraction(draw);
}

for (const b of document.querySelectorAll('[data-tool]')) b.addEventListener('click', () => setTool(b.dataset.tool));

const toolKeys = {1: 'point', 2: 'line', 3: 'polygon', 4: 'rectangle', 5: 'rotated_rectangle', r: 'ruler', R: 'ruler'};
document.addEventListener('keydown', (e) => {
  if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') {
    if (draw) draw.abortDrawing();
    rulerSource.clear();
    rulerOverlay.setPosition(undefined);
    setTool('select');
  } else if (toolKeys[e.key]) {
    setTool(toolKeys[e.key]);
  } else if (e.key === 'p' || e.key === 'P') {
    document.getElementById('pixels').click();
  } else if ((e.key === 'Delete' || e.key === 'Backspace') && state.selected) {
    e.preventDefault();
    remove(state.selected);
  } else {
    const label = state.labels.find((l) => l.hotkey && l.hotkey.toLowerCase() === e.key.toLowerCase());
    if (!label) return;
    document.getElementById('draw-label').value = label.id;
    if (state.selected) patch(state.selected, {label: label.id}, 'the label');
  }
});

// ---- sidebar ---------------------------------------------------------------------------

function select(feature, {fromMap = false, zoom = false} = {}) {
  state.selected = feature;
  const selected = selectInteraction.getFeatures();
  if (!fromMap) {
    selected.clear();
    if (feature) selected.push(feature);
  }
  if (feature && zoom) map.getView().fit(feature.getGeometry().getExtent(), {padding: [80, 80, 80, 80], maxZoom: map.getView().getZoomForResolution(0.5), duration: 250});
  vectorLayer.changed();
  renderList();
  renderEditor();
}

function labelOptions(selectEl, selectedId) {
  selectEl.replaceChildren(
    ...state.labels.map((l) => {
      const o = el('option', {value: l.id, text: `${'  '.repeat(l.path.length - 1)}${l.path.join(' › ')}${l.hotkey ? ` (${l.hotkey})` : ''}`});
      o.style.color = l.color;
      if (l.id === selectedId) o.selected = true;
      return o;
    }),
  );
}

function swatch(color) {
  const s = el('span', {class: 'swatch'});
  s.style.background = color;
  return s;
}

function renderList() {
  const list = document.getElementById('annotation-list');
  const features = source.getFeatures().filter((f) => f.get('ann'));
  features.sort((a, b) => a.get('ann').created_at.localeCompare(b.get('ann').created_at));
  document.getElementById('annotation-count').textContent = `(${features.length})`;
  list.replaceChildren(
    ...features.map((f) => {
      const ann = f.get('ann');
      const li = el(
        'li',
        {class: f === state.selected ? 'selected' : '', dataset: {annotationId: ann.id}, tabindex: '0'},
        swatch(ann.label.color),
        el('span', {class: 'ann-label', text: ann.label.path.join(' › ')}),
        el('span', {class: 'ann-shape muted', text: ann.shape.replace('_', ' ')}),
        ann.properties.confidence ? el('span', {class: `badge ${ann.properties.confidence}`, text: ann.properties.confidence}) : null,
        ann.properties.identification ? el('span', {class: 'ann-ident', text: ann.properties.identification}) : null,
      );
      li.addEventListener('click', () => select(f, {zoom: true}));
      li.addEventListener('keydown', (e) => e.key === 'Enter' && select(f, {zoom: true}));
      return li;
    }),
  );
}

const editor = document.getElementById('editor');
const fields = {
  label: document.getElementById('edit-label'),
  confidence: document.getElementById('edit-confidence'),
  identification: document.getElementById('edit-identification'),
  note: document.getElementById('edit-note'),
};

function renderEditor() {
  const f = state.selected;
  const ann = f && f.get('ann');
  editor.hidden = !ann;
  document.getElementById('history').hidden = true;
  if (!ann) return;
  labelOptions(fields.label, ann.label.id);
  fields.confidence.value = ann.properties.confidence || '';
  if (document.activeElement !== fields.identification) fields.identification.value = ann.properties.identification || '';
  if (document.activeElement !== fields.note) fields.note.value = ann.properties.note || '';
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
  document.getElementById('edit-measures').textContent = parts.join(' · ');
}

fields.label.addEventListener('change', () => state.selected && patch(state.selected, {label: fields.label.value}, 'the label'));
for (const name of ['confidence', 'identification', 'note']) {
  fields[name].addEventListener('change', () => state.selected && patch(state.selected, {properties: {[name]: fields[name].value}}, `the ${name}`));
}
document.getElementById('delete-annotation').addEventListener('click', () => state.selected && remove(state.selected));

document.getElementById('show-history').addEventListener('click', async () => {
  const ann = state.selected && state.selected.get('ann');
  if (!ann) return;
  const list = document.getElementById('history');
  try {
    const revs = await api('GET', `/api/v1/annotations/${ann.id}/history`);
    list.replaceChildren(
      ...revs.map((r) =>
        el(
          'li',
          {},
          el('strong', {text: `v${r.version} ${r.action}`}),
          ` by `,
          el('span', {class: 'actor', text: r.actor}),
          ` · `,
          el('time', {datetime: r.at, text: new Date(r.at).toLocaleString()}),
          r.changes && r.changes.length ? el('span', {class: 'muted', text: ` · ${r.changes.join(', ')}`}) : null,
        ),
      ),
    );
    list.hidden = false;
  } catch (err) {
    flash(`Could not load the history: ${err.message}`, 'error');
  }
});

// ---- image ---------------------------------------------------------------------------

// Pixels: show each image pixel as a crisp square when zoomed in, instead of smoothing.
document.getElementById('pixels').addEventListener('click', (e) => {
  view.setInterpolate(!e.currentTarget.classList.toggle('active'));
});

// ---- start -----------------------------------------------------------------------------

async function start() {
  try {
    const [labels, anns] = await Promise.all([api('GET', '/api/v1/labels'), api('GET', `/api/v1/images/${imageId}/annotations`)]);
    state.labels = labels;
    for (const l of labels) state.labelsById.set(l.id, l);
    const drawLabel = document.getElementById('draw-label');
    const remembered = localStorage.getItem(DRAW_LABEL_KEY);
    labelOptions(drawLabel, state.labelsById.has(remembered) ? remembered : labels.find((l) => l.path.length > 1)?.id);
    drawLabel.addEventListener('change', () => localStorage.setItem(DRAW_LABEL_KEY, drawLabel.value));
    source.addFeatures(anns.map(featureFor));
    renderList();
    root.dataset.ready = 'true';
  } catch (err) {
    flash(`Could not load the annotations: ${err.message}`, 'error');
  }
}

start();
view.open().then((ok) => {
  if (ok) root.dataset.imageReady = 'true';
});
