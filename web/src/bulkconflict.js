// The bar a bulk change refused as stale (412) shows, as the conflict bar does for one
// annotation: which of the annotations changed since the page loaded them, who saved
// them and as which version; "Reload theirs" shows their versions and drops the change,
// "Apply mine again on top" shows their versions and sends the same change on them.

import {el, flash} from './common.js';
import {annotationURL, labelPath} from './savechain.js';

const $ = (id) => document.getElementById(id);

// bulkConflictBar runs the bar. page gives api, find(id) → the page's feature of an
// annotation, put(feature, ann) and remove(feature) to show the server's version.
export function bulkConflictBar(page) {
  const bar = $('bulk-conflict');
  let open = null; // {stale, retry}

  function close() {
    open = null;
    if (bar) bar.hidden = true;
  }

  // theirs fetches the stale annotations and shows them; those deleted since leave the page.
  async function theirs(stale) {
    await Promise.all(stale.map(async (s) => {
      const f = page.find(s.id);
      try {
        const ann = await page.api('GET', annotationURL(s.id));
        if (f) page.put(f, ann);
      } catch (err) {
        if (err.status !== 404) throw err;
        if (f) page.remove(f);
      }
    }));
  }

  // show opens the bar for a change of count annotations (what: "relabel", …) refused
  // because of stale ([{id, given, current, updated_by}]); retry() sends it again.
  function show({what, count, stale, retry}) {
    if (!bar) return;
    open = {stale, retry};
    const names = [...new Set(stale.map((s) => s.updated_by).filter(Boolean))];
    $('bulk-conflict-text').textContent =
      `${names.length ? names.join(' and ') : 'Someone else'} changed ${stale.length} of the ${count} annotations since you loaded them, ` +
      `so nothing was changed (${what}):`;
    $('bulk-conflict-list').replaceChildren(...stale.map((s) => {
      const ann = page.find(s.id)?.get('ann');
      return el('li', {dataset: {annotationId: s.id, version: s.current}},
        el('span', {class: 'ann-label', text: ann ? labelPath(ann) : s.id}),
        ' — ',
        el('strong', {class: 'who', text: s.updated_by || 'someone'}),
        ` saved version ${s.current} (you had ${s.given})`);
    }));
    bar.dataset.stale = stale.map((s) => s.id).join(',');
    bar.hidden = false;
  }

  async function settle(apply) {
    const c = open;
    if (!c) return;
    close();
    try {
      await theirs(c.stale);
    } catch (err) {
      flash(`Could not load their versions: ${err.message}`, 'error');
      return;
    }
    if (apply) await c.retry();
    else flash('Their versions are shown; your change was not made.');
  }

  if (bar) {
    $('bulk-reload-theirs').addEventListener('click', () => settle(false));
    $('bulk-apply-mine').addEventListener('click', () => settle(true));
  }

  return {show, close, isOpen: () => !!open};
}
