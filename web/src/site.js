// A site's page: its area and images on the map, its images on a timeline by capture
// date, their annotations counted by label, and (for analysts) images added by hand,
// left out, and the site deleted.

import GeoJSON from 'ol/format/GeoJSON.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';
import {createEmpty, extend, isEmpty} from 'ol/extent.js';

import {api, can, el, flash, plural} from './common.js';
import {earthMap, imageTileLayer} from './earth.js';
import {defaultPair} from './comparemodel.js';
import {chartBars, layoutTimeline} from './sitemodel.js';

const page = document.querySelector('.site-page');
const siteId = page.dataset.siteId;
const format = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});
const {map} = earthMap('site-map', document.getElementById('earth-status'));

const area = new VectorSource();
const areaLayer = new VectorLayer({
  source: area,
  style: new Style({stroke: new Stroke({color: '#4cc9f0', width: 3, lineDash: [8, 6]}), fill: new Fill({color: 'rgba(76, 201, 240, 0.08)'})}),
});
map.addLayer(areaLayer);
const footprints = new VectorSource();
map.addLayer(new VectorLayer({
  source: footprints,
  style: (f) => new Style({
    stroke: new Stroke({color: '#ffd60a', width: 2}),
    text: new Text({text: f.get('title'), font: '12px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true}),
  }),
}));

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function day(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function drawTimeline(images) {
  const box = document.getElementById('site-timeline');
  const width = Math.max(320, box.clientWidth || 600);
  const t = layoutTimeline(images, width);
  const rowH = 22;
  const height = 28 + Math.max(1, t.rows) * rowH;
  const root = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, class: 'timeline'});
  root.append(svg('line', {x1: 0, x2: width, y1: height - 20, y2: height - 20, class: 'axis'}));
  for (const k of t.ticks) {
    root.append(svg('line', {x1: k.x, x2: k.x, y1: height - 24, y2: height - 16, class: 'tick'}));
    root.append(svg('text', {x: k.x, y: height - 4, 'text-anchor': 'middle', class: 'tick-label'}, k.label));
  }
  for (const it of t.items) {
    const g = svg('g', {class: `item ${it.kind}`, 'data-image-id': it.id});
    const y = 6 + it.row * rowH;
    const when = it.kind === 'release' ? `released ${day(it.from)}` : it.kind === 'day' ? day(it.from) : `${day(it.from)} – ${day(it.to - 1)}`;
    g.append(svg('title', {}, `${it.title}: ${when}`));
    g.append(svg('rect', {x: it.x0, y, width: it.x1 - it.x0, height: 14, rx: it.kind === 'window' ? 3 : 7}));
    const a = svg('a', {href: `/images/${encodeURIComponent(it.id)}`});
    a.append(g);
    root.append(a);
  }
  box.replaceChildren(root);
  if (t.undated.length) {
    box.append(el('p', {class: 'muted', text: `Undated: ${t.undated.map((i) => i.title).join(', ')}`}));
  }
}

function drawChart(images) {
  const box = document.getElementById('site-chart');
  const bars = chartBars(images);
  box.replaceChildren(...bars.map((b) => el('div', {class: 'chart-row', dataset: {imageId: b.id}},
    el('span', {class: 'chart-title', text: b.title}),
    el('span', {class: 'chart-bar'}, ...b.parts.map((p) => {
      const seg = el('span', {class: 'chart-seg', title: `${p.label}: ${p.count}`});
      seg.style.width = `${(p.share * 100).toFixed(2)}%`;
      seg.style.background = p.color;
      return seg;
    })),
    el('span', {class: 'chart-total', text: String(b.total)}))));
  if (bars.length === 0) box.replaceChildren(el('p', {class: 'muted', text: 'No images, so no annotations.'}));
  const legend = new Map();
  for (const img of images) for (const l of img.labels) legend.set(l.label, l.color);
  if (legend.size) {
    box.append(el('p', {class: 'chart-legend'}, ...[...legend].map(([label, color]) => {
      const sw = el('span', {class: 'swatch'});
      sw.style.background = color;
      return el('span', {class: 'legend-item'}, sw, label);
    })));
  }
}

let site = null;

async function change(method, path, body) {
  try {
    site = await api(method, path, body);
    render();
  } catch (err) {
    flash(err.message, 'error');
  }
}

function imageItem(img, leftOut) {
  const when = img.captured_from ? `captured ${img.captured_from}${img.captured_to && img.captured_to !== img.captured_from ? ` – ${img.captured_to}` : ''}`
    : img.released_at ? `released ${img.released_at}` : 'undated';
  const why = img.membership === 'added' ? 'added by hand' : 'footprint meets the area';
  const li = el('li', {dataset: {imageId: img.id, membership: img.membership}},
    el('img', {src: img.thumbnail, alt: '', loading: 'lazy', class: 'site-thumb'}),
    el('span', {class: 'site-image-text'},
      el('a', {href: `/images/${encodeURIComponent(img.id)}`, text: img.title}),
      el('span', {class: 'muted', text: ` ${when} · ${plural(img.annotation_count, 'annotation', 'annotations')} · ${why}${img.georeferenced ? '' : ' · not georeferenced'}`})));
  if (can('analyst')) {
    const path = `/api/v1/sites/${encodeURIComponent(siteId)}/images/${encodeURIComponent(img.id)}`;
    let button;
    if (leftOut) button = el('button', {type: 'button', class: 'site-put-back', text: 'Put back'});
    else if (img.membership === 'added') button = el('button', {type: 'button', class: 'site-remove', text: 'Remove'});
    else button = el('button', {type: 'button', class: 'site-leave-out', text: 'Leave out'});
    button.addEventListener('click', () => (leftOut || img.membership === 'added')
      ? change('DELETE', path) : change('PUT', path, {member: false}));
    li.append(button);
  }
  return li;
}

async function fillAddSelect() {
  const select = document.getElementById('site-add-image');
  if (!select) return;
  const images = await api('GET', '/api/v1/images');
  const inSite = new Set(site.images.map((i) => i.id));
  const options = images.filter((i) => !inSite.has(i.id)).map((i) => el('option', {value: i.id, text: i.title}));
  select.replaceChildren(...options);
  document.getElementById('site-add').disabled = options.length === 0;
}

// fillCompare offers two of the site's images to compare, the two latest placed ones
// picked; the form opens the compare page.
function fillCompare() {
  const pair = defaultPair(site.images);
  document.getElementById('site-compare-block').hidden = !pair;
  if (!pair) return;
  for (const key of ['a', 'b']) {
    const select = document.getElementById(`site-compare-${key}`);
    const was = select.value;
    select.replaceChildren(...site.images.map((i) => el('option', {value: i.id, text: `${i.title}${i.when ? ` (${i.when.slice(0, 10)})` : ''}${i.georeferenced ? '' : ' · not placed'}`})));
    select.value = site.images.some((i) => i.id === was) ? was : pair[key];
  }
}

function render() {
  document.getElementById('site-name').textContent = site.name;
  document.getElementById('site-notes').textContent = site.notes;
  document.title = `${site.name} · satmark`;
  drawTimeline(site.images);
  drawChart(site.images);
  document.getElementById('site-images').replaceChildren(...site.images.map((i) => imageItem(i, false)));
  document.getElementById('site-no-images').hidden = site.images.length > 0;
  document.getElementById('site-left-out').replaceChildren(...site.left_out.map((i) => imageItem(i, true)));
  document.getElementById('site-left-out-block').hidden = site.left_out.length === 0;
  area.clear();
  area.addFeature(format.readFeature({type: 'Feature', geometry: site.area, properties: {}}));
  fillCompare();
  fillAddSelect().catch((err) => flash(err.message, 'error'));
  showFootprints();
  showTracks().catch((err) => flash(`Could not load the tracks: ${err.message}`, 'error'));
  page.dataset.ready = 'true';
  page.dataset.version = String(site.version);
}

// The objects followed across the site's images: a list, and their paths on the map.
const trackSource = new VectorSource();
map.addLayer(new VectorLayer({
  source: trackSource,
  style: (f) => new Style({
    stroke: new Stroke({color: '#ff6b6b', width: 3}),
    text: new Text({text: f.get('label'), font: '11px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true, offsetY: -10}),
    image: new CircleStyle({radius: 5, fill: new Fill({color: '#ff6b6b'}), stroke: new Stroke({color: '#000', width: 1})}),
  }),
}));

async function showTracks() {
  const tracks = await api('GET', `/api/v1/tracks?site=${encodeURIComponent(siteId)}`);
  document.getElementById('site-tracks').replaceChildren(...tracks.map((t) => el('li', {dataset: {trackId: t.id}},
    el('strong', {text: t.name}), ' ',
    ...t.positions.map((p) => el('a', {href: `/images/${encodeURIComponent(p.image_id)}?annotation=${encodeURIComponent(p.annotation_id)}`,
      class: 'track-stop', text: `${p.when || 'undated'} (${p.confidence})`})))));
  document.getElementById('site-no-tracks').hidden = tracks.length > 0;
  trackSource.clear();
  for (const t of tracks) {
    const placed = t.positions.filter((p) => p.lonlat);
    if (placed.length > 1) {
      trackSource.addFeature(format.readFeature({type: 'Feature', geometry: {type: 'LineString', coordinates: placed.map((p) => p.lonlat)}, properties: {label: t.name}}));
    }
    for (const p of placed) {
      trackSource.addFeature(format.readFeature({type: 'Feature', geometry: {type: 'Point', coordinates: p.lonlat}, properties: {label: p.when ? p.when.slice(0, 10) : ''}}));
    }
  }
}

let allFootprints = null;
let tileLayers = [];
async function showFootprints() {
  allFootprints ??= await fetch('/api/v1/footprints.geojson').then((r) => r.json());
  const ids = new Set(site.images.map((i) => i.id));
  footprints.clear();
  const mine = allFootprints.features.filter((f) => ids.has(f.id));
  footprints.addFeatures(format.readFeatures({type: 'FeatureCollection', features: mine}));
  // The images themselves, warped, under the outlines.
  for (const l of tileLayers) map.removeLayer(l);
  tileLayers = mine.map(imageTileLayer).filter(Boolean);
  for (const l of tileLayers.reverse()) map.getLayers().insertAt(map.getLayers().getArray().indexOf(areaLayer), l);
}

let fitted = false;
async function start() {
  try {
    site = await api('GET', `/api/v1/sites/${encodeURIComponent(siteId)}`);
    render();
    if (!fitted) {
      const ext = createEmpty();
      area.getFeatures().forEach((f) => extend(ext, f.getGeometry().getExtent()));
      if (!isEmpty(ext)) map.getView().fit(ext, {padding: [40, 40, 40, 40], maxZoom: 17});
      fitted = true;
    }
  } catch (err) {
    flash(`Could not load the site: ${err.message}`, 'error');
  }
  document.getElementById('site-add-form')?.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = document.getElementById('site-add-image').value;
    if (id) change('PUT', `/api/v1/sites/${encodeURIComponent(siteId)}/images/${encodeURIComponent(id)}`, {member: true});
  });
  document.getElementById('site-delete')?.addEventListener('click', async () => {
    if (!confirm(`Delete the site “${site.name}”? Its images stay.`)) return;
    try {
      await api('DELETE', `/api/v1/sites/${encodeURIComponent(siteId)}?version=${site.version}`);
      location.assign('/sites');
    } catch (err) {
      flash(err.message, 'error');
    }
  });
}

start();
