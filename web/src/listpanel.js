// The annotator's sidebar list: a row for each annotation the find-your-work filter keeps
// (label, shape, confidence, review state, identification; the selected and the just
// changed by others marked), the count of each review state and of those kept, and the
// filter's form (findworkpanel.js; findwork.js says what it keeps). A click or Enter on a
// row selects it and zooms to it; with Shift, it joins or leaves the selection of many.
// The rows themselves come and go through annotationlist.js, a page at a time as the list
// is scrolled.
//
// listPanel takes: editable; state (the page's: filter, set here, and recent); keeps(ann)
// (what the filter keeps: findwork.js's keeps on state.filter); shapes (the map's, refiltered
// with the list); isPicked(feature), select(feature, {zoom}) and bulk (selection.js's). It
// returns the list (annotationlist.js's: add, update, remove, mark, rowOf, refilter, more)
// and setLabels(labels), for the filter's label choice.

import {el} from './common.js';
import {annotationList} from './annotationlist.js';
import {keptText} from './findwork.js';
import {findWorkPanel} from './findworkpanel.js';
import {labelPath} from './savechain.js';
import {STATUSES, statusBadge} from './team.js';

const $ = (id) => document.getElementById(id);

function swatch(color) {
  const s = el('span', {class: 'swatch'});
  s.style.background = color;
  return s;
}

export function listPanel({editable, state, keeps, shapes, isPicked, select, bulk}) {
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
    count.textContent = keptText(kept, all);
    count.dataset.shown = String(kept);
  }

  function row(f) {
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

  // The list shows its first rows and adds the next as it is scrolled to the end; a change
  // touches its annotation's row only (annotationlist.js).
  const list = annotationList({
    list: $('annotation-list'),
    row,
    keeps,
    counted: renderCounts,
    authors: (names) => findWork.setAuthors(names),
  });

  $('annotation-list').addEventListener('scroll', (e) => {
    const ul = e.currentTarget;
    if (ul.scrollTop + ul.clientHeight >= ul.scrollHeight - 100) list.more();
  });

  return {list, setLabels: (labels) => findWork.setLabels(labels)};
}
