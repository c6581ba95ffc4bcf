// Many annotations at once on the annotator's page: shift-click (on the map or in the
// list) adds to or takes from the selection, the Box tool picks every annotation a drag
// touches, and the bulk bar relabels, sets the confidence, submits for review or deletes
// them all in one request (POST /api/v1/images/{id}/annotations/bulk), all or nothing.
// One refused because some changed since (412) shows which in a conflict bar
// (bulkconflict.js), to reload theirs or apply it again on top.

import DragBox from 'ol/interaction/DragBox.js';

import {bulkConflictBar} from './bulkconflict.js';
import {flash} from './common.js';

// bulkBody is the bulk request for anns: action update (patch), review (decision) or delete.
function bulkBody(anns, action, {patch, decision} = {}) {
  const body = {action, annotations: anns.map((a) => ({id: a.id, version: a.version}))};
  if (patch) body.patch = patch;
  if (decision) body.decision = decision;
  return body;
}

// bulkSteps are the undo history's steps of a bulk change: the versions before and
// after, and for a review the decision (which undoing withdraws).
function bulkSteps(before, after, action, {decision} = {}) {
  return before.map((a, i) => {
    const step = {id: a.id, from: a.version, to: action === 'delete' ? null : after[i].version};
    return action === 'review' ? {...step, review: {decision, reason: ''}} : step;
  });
}

const $ = (id) => document.getElementById(id);

// bulkSelection runs the selection of many on the page. page gives:
//   api, imageId, map, shapes (the annotations on the map, shapes.js)
//   select(feature)  select one (null for none), as a plain click does
//   selectedFeatures  the Select interaction's collection (what Translate and Modify move)
//   isSaving(feature)  a save of it is under way
//   put(feature, ann), remove(feature)  show the server's answer
//   record(steps)  add a change to the undo history
//   refresh()  show the selection again (on the map, in the list)
export function bulkSelection(page) {
  const picked = new Set();
  const bar = $('bulk-bar');

  // sync shows the selection of many: on the map (where a move moves them all), in the
  // bar. With fewer than two, the page's own selection of one is what shows.
  function sync() {
    if (picked.size >= 2) {
      const features = page.selectedFeatures;
      features.clear();
      for (const f of picked) features.push(f);
    }
    if (bar) {
      bar.hidden = picked.size < 2;
      $('bulk-count').textContent = `${picked.size} selected`;
    }
    page.refresh();
  }

  // toggle adds a feature to the selection or takes it out; with one left, that one is
  // selected as by a plain click.
  function toggle(f) {
    if (!f) return;
    if (picked.size === 0 && page.selectedFeature()) picked.add(page.selectedFeature());
    if (picked.has(f)) picked.delete(f);
    else picked.add(f);
    settle();
  }

  function settle() {
    if (picked.size === 1) {
      const [only] = picked;
      picked.clear();
      page.select(only);
      sync();
      return;
    }
    page.select(null);
    sync();
  }

  function clear() {
    if (!picked.size) return;
    picked.clear();
    sync();
  }

  // The Box tool: every annotation the dragged box touches joins the selection.
  const box = new DragBox({className: 'box-select'});
  box.on('boxend', () => {
    const extent = box.getGeometry().getExtent();
    if (picked.size === 0 && page.selectedFeature()) picked.add(page.selectedFeature());
    page.shapes.forEachIntersecting(extent, (f) => {
      if (f.get('ann')) picked.add(f);
    });
    settle();
  });
  box.setActive(false);
  page.map.addInteraction(box);

  // forget takes features gone from the page out of the selection.
  function forget() {
    let gone = false;
    for (const f of picked) {
      if (!page.shapes.has(f)) {
        picked.delete(f);
        gone = true;
      }
    }
    if (gone) settle();
  }

  const conflict = bulkConflictBar({api: page.api, find: (id) => page.shapes.find(id), put: page.put, remove: page.remove});

  // apply sends one bulk change of the selection (or of chosen, when it is sent again).
  async function apply(action, opts, what, chosen = null) {
    conflict.close();
    let features = (chosen || [...picked]).filter((f) => page.shapes.has(f));
    // Those already submitted or accepted are left as they are.
    if (action === 'review') features = features.filter((f) => ['draft', 'disputed', 'rejected'].includes(f.get('ann').review_status));
    if (!features.length) return false;
    if (features.some(page.isSaving)) {
      flash('Some of them are still being saved; try again in a moment.', 'error');
      return false;
    }
    const before = features.map((f) => f.get('ann'));
    let res;
    try {
      res = await page.api('POST', `/api/v1/images/${encodeURIComponent(page.imageId)}/annotations/bulk`, bulkBody(before, action, opts));
    } catch (err) {
      if (err.status === 412 && err.stale) {
        conflict.show({what, count: before.length, stale: err.stale, retry: () => apply(action, opts, what, features)});
        return false;
      }
      flash(`Could not ${what} the ${before.length} annotations: ${err.message}`, 'error');
      return false;
    }
    if (action === 'delete') picked.clear();
    features.forEach((f, i) => (action === 'delete' ? page.remove(f) : page.put(f, res.annotations[i])));
    page.record(bulkSteps(before, res.annotations, action, opts));
    flash(`${what[0].toUpperCase()}${what.slice(1)}: ${before.length} annotations.`);
    sync();
    return true;
  }

  if (bar) {
    $('bulk-label').addEventListener('change', (e) => {
      if (e.target.value) apply('update', {patch: {label: e.target.value}}, 'relabel');
      e.target.value = '';
    });
    $('bulk-confidence').addEventListener('change', (e) => {
      if (e.target.value !== '-') apply('update', {patch: {properties: {confidence: e.target.value}}}, 'set the confidence of');
      e.target.value = '-';
    });
    $('bulk-submit').addEventListener('click', () => apply('review', {decision: 'submitted'}, 'submit'));
    $('bulk-delete').addEventListener('click', () => apply('delete', {}, 'delete'));
    $('bulk-clear').addEventListener('click', () => {
      clear();
      page.select(null);
    });
  }

  return {
    // relabel gives every selected annotation the label (a label's hotkey).
    relabel: (labelId) => apply('update', {patch: {label: labelId}}, 'relabel'),
    toggle,
    clear,
    forget,
    has: (f) => picked.has(f),
    size: () => picked.size,
    // features are the annotations selected together (none when one or none is).
    features: () => [...picked],
    // setBoxTool turns the Box tool on or off.
    setBoxTool: (on) => box.setActive(on),
  };
}
