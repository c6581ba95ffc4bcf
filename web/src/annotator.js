// The annotator: the image in an OpenLayers view beside its provenance and annotations.
// Every drawing, edit and deletion is saved at once, and what others save arrives live.
// A save based on a version someone else has since replaced is refused (412): the editor
// then names who saved what, shows their version, and lets the user keep it or reapply
// their own change on top. Viewers see everything, live, and change nothing. The saving,
// the conflicts and the merging of live updates are savechain.js's; this is the page.
// Selecting and changing many at once is bulk.js's; undo and redo, undobar.js's. The
// shapes on the map are shapes.js's (WebGL for the many, canvas for those being worked
// on), the list annotationlist.js's, and the loading page by page feed.js's.
// The selection, moving and reshaping are selection.js's, the tools drawtools.js's, the
// lifted shapes' looks annotationstyle.js's, the conflict bar conflictbar.js's and the
// live events liveevents.js's; this file wires them.

import Feature from 'ol/Feature.js';

import {api, can, el, flash, me} from './common.js';
import {annotationStyle} from './annotationstyle.js';
import {mapGeometry, toPixel} from './geometry.js';
import {measuresText} from './measurestext.js';
import {adjustPanel} from './adjustpanel.js';
import {importPanel} from './importpanel.js';
import {coveragePanel} from './coverage.js';
import {displayPanel} from './displaypanel.js';
import {isFiltering, matchesFilter} from './findwork.js';
import {findWorkPanel} from './findworkpanel.js';
import {keyHelp} from './keyhelp.js';
import {trackPanel} from './trackpanel.js';
import {claimPanel} from './claimpanel.js';
import {passesPanel} from './passes.js';
import {sunPanel} from './sunpanel.js';
import {discussionPanel} from './discussion.js';
import {suggestionsPanel} from './suggestions.js';
import {clipboard} from './clipboard.js';
import {shipBox, swapEnds} from './shipbox.js';
import {imageView, shownColours} from './imageview.js';
import {liveEvents} from './liveevents.js';
import {annotationFeed} from './feed.js';
import {annotationShapes} from './shapes.js';
import {annotationList} from './annotationlist.js';
import {labelPath, saveChain} from './savechain.js';
import {annotationSelection} from './selection.js';
import {drawTools} from './drawtools.js';
import {figurePanel} from './figurepanel.js';
import {conflictBar} from './conflictbar.js';
import {undoBar} from './undobar.js';
import {STATUSES, statusBadge} from './team.js';

const root = document.getElementById('annotator');
const imageId = root.dataset.imageId;
const tracks = trackPanel(imageId);
const claimsPanel = claimPanel(imageId);
passesPanel({imageId, editable: can('analyst')});
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);
const $ = (id) => document.getElementById(id);

const DRAW_LABEL_KEY = 'satmark.drawLabel';

// editable: analysts and administrators draw, edit, review and comment; viewers read.
const editable = can('analyst');
const myName = me ? me.name : '';

const state = {
  labels: [],
  labelsById: new window.Map(),
  selected: null,
  filter: null, // what the list and the map show (findwork.js); null until the form is read
  dirty: new Set(), // editor fields typed in but not yet saved
  modifying: false, // a move or reshape under way
  loaded: false, // the first page of annotations is shown
  queue: [], // events that arrived before it was
  recent: new window.Map(), // annotation id → timer, for changes by others
  shown: null, // {id, version} the editor panels were loaded for
  pending: 0, // saves not yet answered
};

// ---- map -------------------------------------------------------------------------------

// shown: whether the find-your-work filter keeps an annotation (the selection always shows).
const shown = (ann) => !state.filter || !isFiltering(state.filter) || matchesFilter(ann, state.filter, state.labelsById);

const styleFor = annotationStyle({shown});

// Lifted onto the canvas layer: what is being worked on, which then redraws alone.
const isLifted = (f) => isPicked(f) || !f.get('ann') || !!f.get('saving');
const shapes = annotationShapes({extent: [0, -height, width, 0], lifted: isLifted, visible: shown, style: (f, r) => styleFor(f, r, isPicked(f))});
// During a conflict, the change of ours that was refused, dashed, beside their version.
const conflicts = conflictBar({
  conflict: () => chain.conflict(),
  selected: () => state.selected,
  labelsById: state.labelsById,
  keepTheirs: () => chain.keepTheirs(),
  reapplyMine: () => chain.reapplyMine(),
});
const view = imageView({target: 'map', imageId, width, height, statusEl: $('image-status'), layers: [...shapes.layers, conflicts.layer]});
const map = view.map;
shapes.attach(map);
// A handle for the browser console and the end-to-end tests: the map and the pixel
// conversion, so a point of the image can be found on screen.
window.satmark = {
  map,
  toPixel,
  tileStats: view.tileStats,
  // The colours shown at points of the map (CSS pixels), every layer composed.
  shownColours: (points) => shownColours(map, points),
  // Rendered first: between a view change and the next frame the map answers from the old one.
  imagePixelToScreen: ([x, y]) => {
    map.renderSync();
    return map.getPixelFromCoordinate([x, -y]);
  },
  annotations: () => shapes.all().filter((f) => f.get('ann')).map((f) => f.get('ann')),
  // How many features each map layer holds (tiled: drawn in tiles; lifted: on the canvas
  // layer, those being worked on), and whether every page of annotations is in.
  shapes: () => ({...shapes.stats(), loaded: root.dataset.loaded === 'true'}),
};

// Find similar (suggestions.js): an accepted suggestion is an annotation like any other.
// A decision is undone like any change of ours (undo.js).
const suggestions = suggestionsPanel({map, imageId, editable,
  onAccepted: (ann) => {
    if (!shapes.find(ann.id)) addAnnotations([ann]);
  },
  onDeciding: (sent) => undo.after(sent),
  onDecided: (sg) => undo.record([{id: sg.id, from: 'pending', to: sg.status, suggestion: {decision: sg.status === 'accepted' ? 'accept' : 'reject'}}]),
});
window.satmark.suggestions = suggestions.state;

map.on('pointermove', (e) => {
  const [x, y] = toPixel(e.coordinate);
  const out = x < 0 || y < 0 || x > width || y > height;
  $('cursor').textContent = out ? '' : `x ${x.toFixed(1)}  y ${y.toFixed(1)} px`;
});

// ---- saving ----------------------------------------------------------------------------

const saveState = $('save-state');

function featureFor(ann) {
  const f = new Feature({geometry: mapGeometry(ann.geometry), ann});
  f.setId(ann.id);
  return f;
}

// addAnnotations shows annotations new to the page, many at once.
function addAnnotations(anns) {
  const features = anns.map(featureFor);
  shapes.add(features);
  list.add(features);
}

// applySaved puts the server's version of an annotation on its feature.
function applySaved(feature, ann) {
  if (feature.getId() !== ann.id) feature.setId(ann.id);
  shapes.put(feature, {ann, saving: chain.isSaving(feature)}, mapGeometry(ann.geometry));
  list.update(feature);
  if (state.selected === feature) renderEditor();
}

function removeFeature(f) {
  shapes.remove(f);
  list.remove(f);
  if (state.selected === f) select(null);
  bulk.forget();
}

// isEditing: the user has unsaved work on this annotation, which a change by someone
// else must not wipe from under them.
const isEditing = (f) => f === state.selected && (state.dirty.size > 0 || state.modifying);

// The save chain (savechain.js) sends the changes and merges what others save; the page
// shows what it reports.
const feed = annotationFeed({get: (path) => api.withHeaders('GET', path), stream: (path) => fetch(path, {headers: {Accept: 'application/json'}}), imageId, origin: location.origin});
const chain = saveChain({
  api,
  feed,
  imageId,
  myName,
  annotations: {
    find: (id) => shapes.find(id),
    has: (f) => shapes.has(f),
    get: (f) => f.get('ann'),
    all: () => shapes.all(),
    add: (ann) => addAnnotations([ann]),
    addAll: addAnnotations,
    put: applySaved,
    remove: removeFeature,
  },
  selected: () => state.selected,
  editing: isEditing,
  flash,
  on: {
    status: ({pending, error}) => {
      state.pending = pending;
      if (error) {
        saveState.textContent = `Not saved: ${error}`;
        saveState.className = 'save-state error';
      } else if (pending > 0) {
        saveState.textContent = 'Saving…';
        saveState.className = 'save-state';
      } else {
        saveState.textContent = 'All changes saved';
        saveState.className = 'save-state ok';
      }
    },
    saving: (f, saving) => shapes.put(f, {saving}),
    conflict: (f) => {
      if (state.selected !== f) select(f);
      state.dirty.clear();
      state.modifying = false;
      conflicts.showMine(chain.conflict().changes);
    },
    conflictChanged: () => conflicts.changed(),
    held: (f) => {
      if (state.selected === f) live.renderNotice();
    },
    changed: (id) => live.markChanged(id),
    saved: (s) => undo.saved(s),
  },
});

// Undo and redo of this page's own changes (undobar.js, undo.js), shown as they are saved.
const undo = undoBar({
  api,
  versionOf: (id) => shapes.find(id)?.get('ann')?.version ?? null,
  show: (id, ann) => {
    const f = shapes.find(id);
    if (!ann) {
      if (f) chain.remove(f);
    } else if (f) {
      applySaved(f, ann);
    } else {
      addAnnotations([ann]);
    }
  },
  showSuggestion: (sg) => suggestions.put(sg),
  busy: () => state.pending > 0,
  byWhom: (id) => shapes.find(id)?.get('ann')?.updated_by,
});

// ---- live updates (liveevents.js) ------------------------------------------------------

const live = liveEvents({
  imageId,
  root,
  myName,
  state,
  chain,
  suggestions,
  find: (id) => shapes.find(id),
  rowOf: (f) => list.rowOf(f),
  isEditing,
  addComment: (c) => addComment(c),
  loadReviews: (id) => loadReviews(id),
  loadComments: (id) => loadComments(id),
});

// ---- the selection, moving and reshaping it (selection.js) -------------------------------

const {select, bulk, isPicked, enable: enableSelecting, toolChanged} = annotationSelection({
  map,
  api,
  imageId,
  width,
  height,
  editable,
  state,
  shapes,
  chain,
  mark: (f) => list.mark(f),
  renderEditor: () => renderEditor(),
  put: applySaved,
  remove: (f) => chain.remove(f),
  record: (steps) => undo.record(steps),
  catchUp: () => live.catchUp(),
});

// A figure to publish of the current view, with the selected annotations.
figurePanel({imageId, width, height, map, selectedIds: () => {
  const picked = bulk.size() > 1 ? bulk.features() : [state.selected].filter(Boolean);
  return picked.map((f) => f.get('ann')?.id).filter(Boolean);
}});

// ---- the tools (drawtools.js) -------------------------------------------------------------

const tools = drawTools({map, view, root, api, imageId, width, height, editable, shapes, chain, select, bulk, enableSelecting, toolChanged});

const toolKeys = {1: 'point', 2: 'line', 3: 'polygon', 4: 'rectangle', 5: 'rotated_rectangle', 6: 'wand', 7: 'box_outline', r: 'ruler', R: 'ruler', b: 'box'};
document.addEventListener('keydown', (e) => {
  if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') {
    tools.stop();
  } else if (e.key === '?') {
    return; // the keyboard help's (keyhelp.js)
  } else if (toolKeys[e.key]) {
    tools.setTool(toolKeys[e.key]);
  } else if (e.key === 'p' || e.key === 'P') {
    $('pixels').click();
  } else if (!editable) {
    return;
  } else if (e.shiftKey && (e.key === 'B' || e.key === 'V') && state.selected) {
    if (e.key === 'B') toShipBox();
    else swapShipEnds();
  } else if ((e.key === 'Delete' || e.key === 'Backspace') && (state.selected || bulk.size() > 1)) {
    e.preventDefault();
    if (bulk.size() > 1) $('bulk-delete').click();
    else removeSelected();
  } else {
    const label = state.labels.find((l) => l.hotkey && l.hotkey.toLowerCase() === e.key.toLowerCase());
    if (!label) return;
    $('draw-label').value = label.id;
    if (bulk.size() > 1) bulk.relabel(label.id);
    else if (state.selected) chain.send(state.selected, {kind: 'patch', body: {label: label.id}, what: 'the label'});
  }
});

// Outline → ship box: a polygon becomes the smallest rotated rectangle around it, its
// first side along the ship from stern to bow (the bow is the narrower end), so length,
// beam and heading show at once; Shift+V turns it round when the bow is the other end.
function toShipBox() {
  const ann = editable && state.selected && state.selected.get('ann');
  if (!ann || ann.shape !== 'polygon') return;
  const ring = shipBox(ann.geometry.coordinates[0]);
  if (!ring) {
    flash('This outline encloses no area: there is no box to make of it.', 'error');
    return;
  }
  chain.send(state.selected, {kind: 'patch', body: {shape: 'rotated_rectangle', geometry: {type: 'Polygon', coordinates: [ring]}}, what: 'the ship box'});
}

function swapShipEnds() {
  const ann = editable && state.selected && state.selected.get('ann');
  if (!ann || ann.shape !== 'rotated_rectangle') return;
  chain.send(state.selected, {kind: 'patch', body: {geometry: {type: 'Polygon', coordinates: [swapEnds(ann.geometry.coordinates[0])]}}, what: 'bow and stern'});
}

function removeSelected() {
  if (editable && state.selected) chain.send(state.selected, {kind: 'delete', what: 'the deletion'});
}

// ---- sidebar: the list -----------------------------------------------------------------

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

const statusFilter = $('status-filter');
const findWork = findWorkPanel({
  onChange: (filter) => {
    state.filter = filter;
    shapes.refilter();
    list.refilter();
  },
});

// renderCounts shows how many annotations are in each review state (counts, a Map), and
// how many the filter keeps.
function renderCounts(counts, kept, all) {
  for (const s of STATUSES) {
    const n = counts.get(s) || 0;
    const badge = document.querySelector(`#review-counts [data-status="${s}"]`);
    if (badge.dataset.count === String(n)) continue;
    badge.dataset.count = n;
    badge.textContent = `${n} ${s}`;
    statusFilter.querySelector(`option[value="${s}"]`).textContent = `${s} (${n})`;
  }
  const count = $('annotation-count');
  count.textContent = kept < all ? `(${kept} of ${all})` : `(${all})`;
  count.dataset.shown = String(kept);
}

// The list shows its first rows and adds the next as it is scrolled to the end; a change
// touches its annotation's row only (annotationlist.js).
const list = annotationList({
  list: $('annotation-list'),
  row: listRow,
  keeps: shown,
  counted: renderCounts,
  authors: (names) => findWork.setAuthors(names),
});

function listRow(f) {
  const ann = f.get('ann');
  const classes = [isPicked(f) ? 'selected' : '', state.recent.has(ann.id) ? 'changed' : ''].filter(Boolean).join(' ');
  const li = el(
    'li',
    {class: classes, dataset: {annotationId: ann.id, status: ann.review_status}, tabindex: '0'},
    swatch(ann.label.color),
    el('span', {class: 'ann-label', text: labelPath(ann)}),
    el('span', {class: 'ann-shape muted', text: ann.shape.replace('_', ' ')}),
    ann.properties.confidence ? el('span', {class: `badge ${ann.properties.confidence}`, text: ann.properties.confidence}) : null,
    statusBadge(ann.review_status),
    ann.properties.identification ? el('span', {class: 'ann-ident', text: ann.properties.identification}) : null,
  );
  // With Shift, it joins the selection of many (bulk.js), or leaves it.
  const open = (e) => {
    if (editable && e.shiftKey) return bulk.toggle(f);
    bulk.clear();
    select(f, {zoom: true});
  };
  li.addEventListener('click', open);
  li.addEventListener('keydown', (e) => e.key === 'Enter' && open(e));
  return li;
}

$('annotation-list').addEventListener('scroll', (e) => {
  const ul = e.currentTarget;
  if (ul.scrollTop + ul.clientHeight >= ul.scrollHeight - 100) list.more();
});

// ---- sidebar: the editor ---------------------------------------------------------------

const editor = $('editor');
const historyEl = $('history');
const fields = {
  label: $('edit-label'),
  confidence: $('edit-confidence'),
  identification: $('edit-identification'),
  note: $('edit-note'),
};

function renderEditor() {
  const f = state.selected;
  const ann = f && f.get('ann');
  editor.hidden = !ann;
  suggestions.showFor(ann);
  if (!ann) {
    state.shown = null;
    conflicts.render();
    return;
  }
  if (editable) {
    $('ship-box').hidden = ann.shape !== 'polygon';
    $('swap-ends').hidden = ann.shape !== 'rotated_rectangle';
  }
  const fresh = !state.shown || state.shown.id !== ann.id;
  const newVersion = fresh || state.shown.version !== ann.version;
  state.shown = {id: ann.id, version: ann.version};
  if (fresh) {
    historyEl.hidden = true;
    historyEl.replaceChildren();
    $('reviews').replaceChildren();
    $('comment-list').replaceChildren();
    $('comment-count').textContent = '';
    if (editable) {
      $('review-reason').value = '';
      $('review-error').hidden = true;
    }
    loadComments(ann.id);
  }
  if (newVersion) {
    loadReviews(ann.id);
    if (!historyEl.hidden) loadHistory(ann.id);
  }
  labelOptions(fields.label, ann.label.id);
  fields.confidence.value = ann.properties.confidence || '';
  for (const name of ['identification', 'note']) {
    if (!state.dirty.has(name)) fields[name].value = ann.properties[name] || '';
  }
  $('edit-measures').textContent = measuresText(ann);
  renderReview(ann);
  tracks.render(ann);
  claimsPanel.render(ann);
  live.renderNotice();
  conflicts.render();
}

if (editable) {
  fields.label.addEventListener('change', () => state.selected && chain.send(state.selected, {kind: 'patch', body: {label: fields.label.value}, what: 'the label'}));
  for (const name of ['confidence', 'identification', 'note']) {
    fields[name].addEventListener('input', () => {
      const ann = state.selected && state.selected.get('ann');
      if (!ann || name === 'confidence') return;
      if (fields[name].value === (ann.properties[name] || '')) state.dirty.delete(name);
      else state.dirty.add(name);
      chain.settle(state.selected);
    });
    fields[name].addEventListener('change', () => {
      if (!state.selected) return;
      state.dirty.delete(name);
      chain.send(state.selected, {kind: 'patch', body: {properties: {[name]: fields[name].value}}, what: `the ${name}`});
    });
  }
  $('delete-annotation').addEventListener('click', removeSelected);
  $('ship-box').addEventListener('click', toShipBox);
  $('swap-ends').addEventListener('click', swapShipEnds);
}

// ---- sidebar: review, comments, history (discussion.js) --------------------------------

const {renderReview, loadReviews, loadComments, addComment, loadHistory} = discussionPanel({
  selected: () => state.selected, send: (f, change) => chain.send(f, change), editable, myName, historyEl,
});

// ---- image ---------------------------------------------------------------------------

// Pixels: show each image pixel as a crisp square when zoomed in, instead of smoothing.
$('pixels').addEventListener('click', (e) => {
  view.setInterpolate(!e.currentTarget.classList.toggle('active'));
});

// ---- search coverage, the sun and shadows, and the keyboard help -------------------------

const coverage = coveragePanel({map, imageId, width, height, editable, idle: () => tools.idle(), onMarking: tools.pauseSelecting});
window.satmark.coverage = coverage.state;
sunPanel({map, imageId, width, height, onMeasuring: tools.pauseSelecting});

const help = keyHelp({
  keys: [
    ['Esc', 'stop drawing or measuring; back to Select'],
    ...(editable
      ? [
          ['1', 'draw a point'],
          ['2', 'draw a line'],
          ['3', 'draw a polygon'],
          ['4', 'draw a rectangle'],
          ['5', 'draw a rotated rectangle (two corners along one side, then the width)'],
          ['6', 'the wand: click an object, or drag over its parts, to outline it by its colour'],
          ['7', 'box → outline: draw a loose box about an object to outline it'],
          ['[ ]', 'with the wand or box → outline: less or more sensitive (Shift + wheel too)'],
          ['Shift+B', 'the selected outline becomes a ship box (length, beam, heading)'],
          ['Shift+V', 'turn the selected ship box round (bow and stern swap)'],
          ['Delete Backspace', 'delete the selected annotation'],
          ['Ctrl+C Ctrl+V', 'copy the selected annotations; paste them here or on another placed image'],
          ['N', 'suggestions (Find similar): the next one, zoomed to'],
          ['A', 'accept the suggestion shown: it becomes an annotation'],
          ['X', 'reject the suggestion shown'],
          ['Ctrl+Z Ctrl+Shift+Z', 'undo and redo your last change (an acceptance or rejection of a suggestion too)'],
        ]
      : []),
    ['R', 'the ruler: measure without saving anything'],
    ['P', 'show image pixels as crisp squares'],
    ['Enter', 'in the list: select the annotation and zoom to it'],
    ['?', 'show or hide this help'],
  ],
  extra: () => (editable ? state.labels.filter((l) => l.hotkey).map((l) => [l.hotkey, `label ${l.path.join(' › ')} (the selection's, and the next drawing's)`]) : []),
});
$('key-help-button').addEventListener('click', () => help.open());

// ---- start -----------------------------------------------------------------------------

function showLabels(labels) {
  state.labels = labels;
  for (const l of labels) state.labelsById.set(l.id, l);
  findWork.setLabels(labels);
  const drawLabel = $('draw-label');
  if (drawLabel) {
    const remembered = localStorage.getItem(DRAW_LABEL_KEY);
    labelOptions(drawLabel, state.labelsById.has(remembered) ? remembered : labels.find((l) => l.path.length > 1)?.id);
    drawLabel.addEventListener('change', () => localStorage.setItem(DRAW_LABEL_KEY, drawLabel.value));
  }
  const bulkLabel = $('bulk-label');
  if (bulkLabel) {
    labelOptions(bulkLabel, null);
    bulkLabel.prepend(new Option('Relabel…', '', true, true));
  }
}

// openWanted selects the annotation a link names (?annotation=<id>, from the compare page
// or a shared link), once it is loaded; it says whether it was found.
const wanted = new URLSearchParams(location.search).get('annotation');
function openWanted() {
  const f = wanted && shapes.find(wanted);
  if (f) select(f, {zoom: true});
  return !!f;
}

async function start() {
  // Listen first, then load: nothing saved in between is missed. The stream normally
  // opens at once; without it the page still works, and catches up when it opens.
  await Promise.race([live.ready, new Promise((resolve) => setTimeout(resolve, 3000))]);
  const labels = api('GET', '/api/v1/labels');
  labels.catch(() => {}); // said below, with the first page
  let found = false;
  try {
    // The first page is shown at once; the others join it as they come.
    await feed.load(async (anns, first) => {
      if (!first) {
        chain.load(anns);
        found = found || (!!wanted && anns.some((a) => a.id === wanted) && openWanted());
        return;
      }
      showLabels(await labels);
      chain.load(anns);
      state.loaded = true;
      for (const ev of state.queue.splice(0)) live.handle(ev);
      found = !!wanted && openWanted();
      root.dataset.ready = 'true';
    });
    root.dataset.loaded = 'true';
    if (wanted && !found) flash('The annotation in the link is not on this image (it may have been deleted).', 'error');
  } catch (err) {
    flash(`Could not load the annotations: ${err.message}`, 'error');
  }
}

if (editable) {
  importPanel({imageId});
  clipboard({
    imageId,
    selectedIds: () => {
      const many = bulk.features();
      const fs = many.length ? many : state.selected ? [state.selected] : [];
      return fs.map((f) => f.get('ann')?.id).filter(Boolean);
    },
    pasted: (anns) => {
      addAnnotations(anns.filter((ann) => !shapes.find(ann.id)));
      const last = anns.length && shapes.find(anns[anns.length - 1].id);
      if (last) select(last);
    },
  });
}

start();
view.open().then((ok) => {
  if (ok) {
    root.dataset.imageReady = 'true';
    adjustPanel({imageId, view, editable: can('analyst')});
  }
  // After a change of display: the rebuild's progress, then its tiles.
  displayPanel({imageId, editable: can('analyst'), reopen: () => view.open()});
});
