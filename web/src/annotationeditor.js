// The annotator's editor of the selected annotation: its label, confidence, identification
// and note (each saved when it changes; typing marks it unsaved in state.dirty, so a change
// by someone else does not wipe it), the measures, the ship-box and delete buttons, and the
// panels about it (review, comments and history, track, evidence, live notice, conflict bar,
// the suggestion it came from), refreshed by render() when the selection or its version
// changes.
//
// annotationEditor takes: editable; state (the page's: selected, labels, dirty, shown);
// chain (the save chain: send, settle); actions (editactions.js); and the panels it renders:
// suggestions (showFor), conflicts (render), live (renderNotice), tracks and claims
// (render(ann)), discussion (renderReview(ann), loadReviews(id), loadComments(id),
// loadHistory(id)), historyEl (the history list, shown on demand). It returns {render}.

import {labelOptions} from './labelchoices.js';
import {measuresText} from './measurestext.js';

const $ = (id) => document.getElementById(id);

export function annotationEditor({editable, state, chain, actions, suggestions, conflicts, live, tracks, claims, discussion, historyEl}) {
  const editor = $('editor');
  const fields = {
    label: $('edit-label'),
    confidence: $('edit-confidence'),
    identification: $('edit-identification'),
    note: $('edit-note'),
  };

  function render() {
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
      discussion.loadComments(ann.id);
    }
    if (newVersion) {
      discussion.loadReviews(ann.id);
      if (!historyEl.hidden) discussion.loadHistory(ann.id);
    }
    labelOptions(fields.label, state.labels, ann.label.id);
    fields.confidence.value = ann.properties.confidence || '';
    for (const name of ['identification', 'note']) {
      if (!state.dirty.has(name)) fields[name].value = ann.properties[name] || '';
    }
    $('edit-measures').textContent = measuresText(ann);
    discussion.renderReview(ann);
    tracks.render(ann);
    claims.render(ann);
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
    $('delete-annotation').addEventListener('click', actions.removeSelected);
    $('ship-box').addEventListener('click', actions.toShipBox);
    $('swap-ends').addEventListener('click', actions.swapShipEnds);
  }

  return {render};
}
