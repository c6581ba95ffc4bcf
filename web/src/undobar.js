// The annotator's undo and redo: the toolbar's buttons, Ctrl+Z and Ctrl+Shift+Z (or
// Ctrl+Y), and the bar that asks, when someone else changed an annotation since, whether
// to keep their version or undo anyway (a review decision of ours someone else changed
// since can no longer be withdrawn: then the bar says so). The history itself is undo.js's.

import {flash} from './common.js';
import {savedStep, undoHistory} from './undo.js';

// What undoing a decision takes back, in words.
const DECISION = {submitted: 'submission', accepted: 'acceptance', disputed: 'dispute', rejected: 'rejection'};

const $ = (id) => document.getElementById(id);

// undoBar runs undo and redo for the page: api, versionOf(id), show(id, ann) and
// showSuggestion(sg) as undoHistory takes them, busy() (saves are under way: wait for
// them), and byWhom(id), who saved the version of annotation id the page shows. It returns record(steps) and
// saved(s), which records a change the save chain reports as saved (on.saved), and
// after(p), which holds undo and redo until a change on its way (p) is recorded.
export function undoBar({api, versionOf, show, showSuggestion, busy, byWhom = () => ''}) {
  const undoButton = $('undo');
  const redoButton = $('redo');
  const conflictEl = $('undo-conflict');

  const history = undoHistory({
    api,
    versionOf,
    show,
    showSuggestion,
    on: {
      changed: render,
      conflict: ({direction, stale}) => {
        const n = stale.length;
        const gone = stale.filter((s) => s.theirs === null).length;
        const names = [...new Set(stale.map((s) => (s.theirs === null ? '' : byWhom(s.id))).filter(Boolean))];
        const who = names.length ? names.join(' and ') : 'Someone else';
        const decisions = stale.filter((s) => s.review);
        // A decision someone changed since is no longer the latest: it cannot be withdrawn.
        const final = direction === 'undo' && decisions.length > 0;
        $('undo-conflict-text').textContent = final
          ? `${who} changed ${n === 1 ? 'this annotation' : `${n} of these annotations`} since your ${DECISION[decisions[0].review] || 'decision'}` +
            `${gone ? ` (${gone === n ? 'deleted it' : `deleted ${gone}`})` : ''}: it can no longer be withdrawn. Their version stays.`
          : `${who} changed ${n === 1 ? 'this annotation' : `${n} of these annotations`} since your change` +
            `${gone ? ` (${gone === n ? 'deleted it' : `deleted ${gone}`})` : ''}. ` +
            `${direction === 'undo' ? 'Undo' : 'Redo'} anyway, over their version, or keep theirs?`;
        $('undo-anyway').textContent = direction === 'undo' ? 'Undo anyway' : 'Redo anyway';
        $('undo-anyway').hidden = final;
        $('undo-keep-theirs').textContent = final ? 'OK' : 'Keep theirs';
        conflictEl.dataset.stale = stale.map((s) => s.id).join(',');
        conflictEl.hidden = false;
        render();
      },
    },
  });

  function render() {
    if (undoButton) undoButton.disabled = !history.canUndo();
    if (redoButton) redoButton.disabled = !history.canRedo();
    if (conflictEl && !history.conflict()) conflictEl.hidden = true;
  }

  async function go(direction) {
    if (history.conflict()) {
      flash('Choose first: keep their version, or undo anyway.', 'error');
      return;
    }
    if (busy()) {
      flash('Still saving; try again in a moment.', 'error');
      return;
    }
    try {
      if (await history[direction]()) flash(direction === 'undo' ? 'Undone.' : 'Redone.');
    } catch (err) {
      flash(`Could not ${direction}: ${err.message}`, 'error');
    }
    render();
  }

  if (undoButton) {
    undoButton.addEventListener('click', () => go('undo'));
    redoButton.addEventListener('click', () => go('redo'));
    $('undo-keep-theirs').addEventListener('click', () => {
      history.keepTheirs();
      flash('Kept their version; that change can no longer be undone.');
      render();
    });
    $('undo-anyway').addEventListener('click', async () => {
      conflictEl.hidden = true;
      try {
        await history.applyAnyway();
      } catch (err) {
        flash(`Could not undo: ${err.message}`, 'error');
      }
      render();
    });
    document.addEventListener('keydown', (e) => {
      // In a field, the keys undo typing, as everywhere.
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.target.closest('input, textarea, select')) return;
      const key = e.key.toLowerCase();
      if (key === 'z' && !e.shiftKey) go('undo');
      else if ((key === 'z' && e.shiftKey) || key === 'y') go('redo');
      else return;
      e.preventDefault();
    });
  }
  render();
  return {record: history.record, after: history.after, saved: (s) => history.record([savedStep(s)])};
}
