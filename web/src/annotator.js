// The annotator: the image in an OpenLayers view beside its provenance and annotations.
// Every drawing, edit and deletion is saved at once, and what others save arrives live.
// A save based on a version someone else has since replaced is refused (412): the editor
// then names who saved what, shows their version, and lets the user keep it or reapply
// their own change on top. Viewers see everything, live, and change nothing. The saving,
// the conflicts and the merging of live updates are savechain.js's; this is the page.
// Selecting and changing many at once is bulk.js's; undo and redo, undobar.js's. The
// shapes on the map are shapes.js's (WebGL for the many, canvas for those being worked
// on), the list's rows annotationlist.js's, and the loading page by page feed.js's.
// The selection, moving and reshaping are selection.js's, the tools drawtools.js's, the
// lifted shapes' looks annotationstyle.js's, the conflict bar conflictbar.js's, the
// live events liveevents.js's, the sidebar list with its filter and counts listpanel.js's,
// the editor of the selected annotation annotationeditor.js's (its buttons' changes
// editactions.js's, the label choosers labelchoices.js's), the keys and the `?` help
// annotatorkeys.js's (keymap.js says what each key does) and the save state line
// savestate.js's; this file wires them.

import Feature from 'ol/Feature.js';

import {api, can, flash, me} from './common.js';
import {annotationStyle} from './annotationstyle.js';
import {toPixel} from './geometry.js';
import {mapGeometryOf} from './shaperows.js';
import {adjustPanel} from './adjustpanel.js';
import {importPanel} from './importpanel.js';
import {coveragePanel} from './coverage.js';
import {displayPanel} from './displaypanel.js';
import {keeps} from './findwork.js';
import {trackPanel} from './trackpanel.js';
import {claimPanel} from './claimpanel.js';
import {passesPanel} from './passes.js';
import {sunPanel} from './sunpanel.js';
import {discussionPanel} from './discussion.js';
import {suggestionsPanel} from './suggestions.js';
import {clipboard} from './clipboard.js';
import {imageView, shownColours} from './imageview.js';
import {liveEvents} from './liveevents.js';
import {annotationFeed} from './feed.js';
import {annotationShapes} from './shapes.js';
import {listPanel} from './listpanel.js';
import {saveChain} from './savechain.js';
import {annotationSelection} from './selection.js';
import {drawTools} from './drawtools.js';
import {figurePanel} from './figurepanel.js';
import {conflictBar} from './conflictbar.js';
import {undoBar} from './undobar.js';
import {annotationEditor} from './annotationeditor.js';
import {showSaveState} from './savestate.js';
import {editActions} from './editactions.js';
import {annotatorKeys} from './annotatorkeys.js';
import {showLabelChoices} from './labelchoices.js';

const root = document.getElementById('annotator');
const imageId = root.dataset.imageId;
const tracks = trackPanel(imageId);
const claimsPanel = claimPanel(imageId);
passesPanel({imageId, editable: can('analyst')});
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);
const $ = (id) => document.getElementById(id);

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
const shown = (ann) => keeps(ann, state.filter, state.labelsById);

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
  // Silently: nothing listens to a feature not shown yet, and telling was a tenth of a
  // hundred thousand annotations' load. The compact list's geometry comes straight from
  // its frame's numbers, without the nested arrays (shaperows.js).
  const f = new Feature(mapGeometryOf(ann));
  f.set('ann', ann, true);
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
  shapes.put(feature, {ann, saving: chain.isSaving(feature)}, mapGeometryOf(ann));
  list.update(feature);
  if (state.selected === feature) editor.render();
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
// The whole list comes compact (shaperows.js), its labels by id: a label made since the
// labels were read is read again once the list is in (labelsLater).
const unknownLabels = new Set();
const labelOf = (id) => state.labelsById.get(id) || (unknownLabels.add(id), {id, name: '', path: [], color: '#ffffff'});
const feed = annotationFeed({get: (path) => api.withHeaders('GET', path), stream: (path) => api.stream(path, {Accept: 'application/vnd.satmark.shapes, application/json'}), imageId, origin: location.origin, labelOf});
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
    status: (status) => {
      state.pending = status.pending;
      showSaveState(saveState, status);
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
  addComment: (c) => discussion.addComment(c),
  loadReviews: (id) => discussion.loadReviews(id),
  loadComments: (id) => discussion.loadComments(id),
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
  renderEditor: () => editor.render(),
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

// ---- the keys and the `?` help (annotatorkeys.js, keymap.js) ----------------------------

// What the editor's buttons and the keys do to the selected one (editactions.js).
const actions = editActions({editable, state, chain, flash});
annotatorKeys({editable, state, tools, bulk, chain, actions});

// ---- sidebar: the list, its filter and counts (listpanel.js) ----------------------------

const {list, setLabels: setFilterLabels} = listPanel({editable, state, keeps: shown, shapes, isPicked, select, bulk});

// ---- sidebar: review, comments, history (discussion.js) --------------------------------

const historyEl = $('history');
const discussion = discussionPanel({
  selected: () => state.selected, send: (f, change) => chain.send(f, change), editable, myName, historyEl,
});

// ---- sidebar: the editor (annotationeditor.js) -------------------------------------------

const editor = annotationEditor({editable, state, chain, actions, suggestions, conflicts, live, tracks, claims: claimsPanel, discussion, historyEl});

// ---- image ---------------------------------------------------------------------------

// Pixels: show each image pixel as a crisp square when zoomed in, instead of smoothing.
$('pixels').addEventListener('click', (e) => {
  view.setInterpolate(!e.currentTarget.classList.toggle('active'));
});

// ---- search coverage, the sun and shadows ----------------------------------------------

const coverage = coveragePanel({map, imageId, width, height, editable, idle: () => tools.idle(), onMarking: tools.pauseSelecting});
window.satmark.coverage = coverage.state;
sunPanel({map, imageId, width, height, onMeasuring: tools.pauseSelecting});

// ---- start -----------------------------------------------------------------------------

function showLabels(labels) {
  state.labels = labels;
  for (const l of labels) state.labelsById.set(l.id, l);
  setFilterLabels(labels);
  showLabelChoices(labels, state.labelsById);
}

// labelsLater reads the labels again and puts them on the annotations listed with a
// label the page did not know yet.
async function labelsLater() {
  showLabels(await api('GET', '/api/v1/labels'));
  for (const f of shapes.all()) {
    const ann = f.get('ann');
    if (ann && unknownLabels.has(ann.label.id) && state.labelsById.has(ann.label.id)) applySaved(f, {...ann, label: state.labelsById.get(ann.label.id)});
  }
  unknownLabels.clear();
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
    if (unknownLabels.size) await labelsLater();
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
