// A claim's page: the claim in the publisher's words, where it stands on its evidence,
// the evidence by stance (each with a thumbnail of its annotation, the analyst's
// assessment and confidence), and a viewer zoomed to the piece chosen, its annotation
// drawn on its image.

import Feature from 'ol/Feature.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {LineString, Point, Polygon} from 'ol/geom.js';
import {Circle as CircleStyle, Stroke, Style} from 'ol/style.js';

import {api, el, flash, plural} from './common.js';
import {STANCES} from './claimpanel.js';
import {imageView, toMap} from './imageview.js';

const page = document.querySelector('.claim-page');
const claimId = page.dataset.claimId;
const $ = (id) => document.getElementById(id);

const headings = {supports: 'Supports the claim', contradicts: 'Contradicts the claim', context: 'Context'};
const states = {
  supported: 'supported by its evidence', contradicted: 'contradicted by its evidence',
  contested: 'contested: evidence both supports and contradicts it', unassessed: 'not assessed yet: no evidence for or against it',
};

// thumbnail is the IIIF crop of the box around an annotation, with a margin, at most 160 px.
export function thumbnailURL(e, size = 160) {
  const [x0, y0, x1, y1] = e.bbox;
  const pad = Math.max(16, 0.25 * Math.max(x1 - x0, y1 - y0));
  const x = Math.max(0, Math.floor(x0 - pad));
  const y = Math.max(0, Math.floor(y0 - pad));
  const w = Math.max(1, Math.min(e.image_width, Math.ceil(x1 + pad)) - x);
  const h = Math.max(1, Math.min(e.image_height, Math.ceil(y1 + pad)) - y);
  const fit = w <= size && h <= size ? 'max' : `!${size},${size}`;
  return `/iiif/3/${encodeURIComponent(e.image_id)}/${x},${y},${w},${h}/${fit}/0/default.jpg`;
}

function geometryOf(g) {
  const ring = (r) => r.map(toMap);
  switch (g.type) {
    case 'Point': return new Point(toMap(g.coordinates));
    case 'LineString': return new LineString(ring(g.coordinates));
    default: return new Polygon(g.coordinates.map(ring));
  }
}

const stanceColour = {supports: '#2dc653', contradicts: '#e63946', context: '#ffd60a'};
const outline = new VectorSource();
let viewer = null; // {imageId, view} of the image shown

async function showEvidence(e, li) {
  for (const other of document.querySelectorAll('.evidence-item.chosen')) other.classList.remove('chosen');
  li.classList.add('chosen');
  $('claim-viewer-title').textContent = `${e.label} on ${e.image_title}`;
  const status = $('claim-viewer-status');
  if (!viewer || viewer.imageId !== e.image_id) {
    if (viewer) viewer.view.map.setTarget(null);
    const colour = () => stanceColour[page.dataset.shownStance] || '#fff';
    const layer = new VectorLayer({source: outline, style: () => new Style({
      stroke: new Stroke({color: colour(), width: 3}),
      image: new CircleStyle({radius: 7, stroke: new Stroke({color: colour(), width: 3})}),
    })});
    const view = imageView({target: 'claim-viewer', imageId: e.image_id, width: e.image_width, height: e.image_height, statusEl: status, layers: [layer]});
    viewer = {imageId: e.image_id, view};
    view.open();
  }
  page.dataset.shownStance = e.stance;
  page.dataset.shownEvidence = e.id;
  outline.clear();
  try {
    const ann = await api('GET', `/api/v1/annotations/${encodeURIComponent(e.annotation_id)}`);
    outline.addFeature(new Feature(geometryOf(ann.geometry)));
  } catch (err) {
    flash(`Could not read the annotation: ${err.message}`, 'error');
  }
  const [x0, y0, x1, y1] = e.bbox;
  const pad = Math.max(24, 0.5 * Math.max(x1 - x0, y1 - y0));
  viewer.view.map.getView().fit([x0 - pad, -(y1 + pad), x1 + pad, -(y0 - pad)], {padding: [20, 20, 20, 20]});
  status.hidden = false;
  status.textContent = `${e.stance} · confidence ${e.confidence} · by ${e.created_by}`;
}

function evidenceItem(e) {
  const li = el('li', {class: 'evidence-item', dataset: {evidenceId: e.id, annotationId: e.annotation_id, stance: e.stance}});
  const thumb = el('img', {class: 'evidence-thumb', src: thumbnailURL(e), alt: `${e.label} on ${e.image_title}`, loading: 'lazy'});
  const open = el('button', {type: 'button', class: 'evidence-show', text: 'Show on the image'});
  open.addEventListener('click', () => showEvidence(e, li));
  thumb.addEventListener('click', () => showEvidence(e, li));
  li.append(thumb, el('div', {class: 'evidence-text'},
    el('strong', {text: e.label}), ' on ',
    el('a', {href: `/images/${encodeURIComponent(e.image_id)}?annotation=${encodeURIComponent(e.annotation_id)}`, text: e.image_title}),
    el('div', {class: 'evidence-confidence muted', text: `confidence ${e.confidence} · ${e.created_by}`}),
    el('p', {class: 'evidence-assessment', text: e.assessment || 'No assessment written.'}),
    open));
  return li;
}

async function load() {
  let c;
  try {
    c = await api('GET', `/api/v1/claims/${encodeURIComponent(claimId)}`);
  } catch (err) {
    flash(`Could not load the claim: ${err.message}`, 'error');
    return;
  }
  $('claim-text').textContent = c.text;
  const src = $('claim-source');
  src.textContent = [c.source.publisher, c.source.title].filter(Boolean).join(' · ') || 'an unnamed release';
  if (c.source.url) src.href = c.source.url;
  const when = [c.claimed_from, c.claimed_to].filter(Boolean).join(' – ');
  $('claim-when').textContent = [when && `Claimed for ${when}`, c.place_name && `at ${c.place_name}`].filter(Boolean).join(' ');
  $('claim-state').textContent = states[c.state] || c.state;
  $('claim-state').dataset.state = c.state;
  const by = Object.fromEntries(STANCES.map((s) => [s, c.evidence.filter((e) => e.stance === s)]));
  $('claim-counts').textContent = `(${STANCES.map((s) => `${by[s].length} ${s === 'context' ? 'context' : s}`).join(', ')})`;
  $('claim-no-evidence').hidden = c.evidence.length > 0;
  $('claim-groups').replaceChildren(...STANCES.filter((s) => by[s].length).map((s) => el('section', {class: `evidence-group stance-${s}`, dataset: {stance: s}},
    el('h2', {text: `${headings[s]} (${plural(by[s].length, 'annotation', 'annotations')})`}),
    el('ul', {class: 'evidence-list'}, ...by[s].map(evidenceItem)))));
  const first = document.querySelector('.evidence-item');
  if (first) first.querySelector('.evidence-show').click();
}

load();
