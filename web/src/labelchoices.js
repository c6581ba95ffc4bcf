// The annotator's label choosers: the editor's label, the label of the next drawing
// (remembered in localStorage across pages) and the bulk bar's relabel, each a select of
// every label, indented by depth, with its hotkey.

import {el} from './common.js';

const DRAW_LABEL_KEY = 'satmark.drawLabel';

// labelOptions fills selectEl with the labels, selectedId chosen.
export function labelOptions(selectEl, labels, selectedId) {
  selectEl.replaceChildren(
    ...labels.map((l) => {
      const o = el('option', {value: l.id, text: `${'  '.repeat(l.path.length - 1)}${l.path.join(' › ')}${l.hotkey ? ` (${l.hotkey})` : ''}`});
      o.style.color = l.color;
      if (l.id === selectedId) o.selected = true;
      return o;
    }),
  );
}

// showLabelChoices fills the drawing's chooser (the label remembered, else the first that
// is not a top one) and the bulk bar's (Relabel… first), where the page has them (not for
// viewers). labelsById: the labels by id.
export function showLabelChoices(labels, labelsById) {
  const drawLabel = document.getElementById('draw-label');
  if (drawLabel) {
    const remembered = localStorage.getItem(DRAW_LABEL_KEY);
    labelOptions(drawLabel, labels, labelsById.has(remembered) ? remembered : labels.find((l) => l.path.length > 1)?.id);
    drawLabel.addEventListener('change', () => localStorage.setItem(DRAW_LABEL_KEY, drawLabel.value));
  }
  const bulkLabel = document.getElementById('bulk-label');
  if (bulkLabel) {
    labelOptions(bulkLabel, labels, null);
    bulkLabel.prepend(new Option('Relabel…', '', true, true));
  }
}
