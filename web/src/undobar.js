// The annotator's undo and redo: the toolbar's buttons, Ctrl+Z and Ctrl+Shift+Z (or
// Ctrl+Y), and the bar that asks, when someone else changed an annotation since, whether
// to keep their version or undo anyway. The history itself is undo.js's.

import {flash} from './common.js';
import {undoHistory} from './undo.js';

const $ = (id) => document.getElementById(id);

// undoBar runs undo and redo for the page: api, versionOf(id), show(id, ann) as
// undoHistory takes them, and busy() (saves are under way: wait for them).
export function undoBar({api, versionOf, show, busy}) {
  const undoButton = $('undo');
  const redoButton = $('redo');
  const conflictEl = $('undo-conflict');

  const history = undoHistory({
    api,
    versionOf,
    show,
    on: {
      changed: render,
      conflict: ({direction, stale}) => {
        const n = stale.length;
        const gone = stale.filter((s) => s.theirs === null).length;
        $('undo-conflict-text').textContent =
          `Someone else changed ${n === 1 ? 'this annotation' : `${n} of these annotations`} since your change` +
          `${gone ? ` (${gone === n ? 'deleted it' : `deleted ${gone}`})` : ''}. ` +
          `${direction === 'undo' ? 'Undo' : 'Redo'} anyway, over their version, or keep theirs?`;
        $('undo-anyway').textContent = direction === 'undo' ? 'Undo anyway' : 'Redo anyway';
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
  return {record: history.record};
}
