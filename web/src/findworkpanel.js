// The sidebar's find-your-work form: words, label, status, author and days. It reads the
// form into a filter (findwork.js says what a filter keeps) and tells onChange.

import {el} from './common.js';
import {emptyFilter} from './findwork.js';

export function findWorkPanel({onChange}) {
  const $ = (id) => document.getElementById(id);
  const form = $('find-work');
  const inputs = {text: $('find-text'), label: $('find-label'), status: $('status-filter'), author: $('find-author'), from: $('find-from'), to: $('find-to')};
  let filter = emptyFilter();

  function read() {
    const f = emptyFilter();
    for (const [k, input] of Object.entries(inputs)) f[k] = input.value.trim();
    if (JSON.stringify(f) === JSON.stringify(filter)) return;
    filter = f;
    onChange(filter);
  }
  form.addEventListener('input', read);
  form.addEventListener('change', read);
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('reset', () => setTimeout(read)); // after the form has emptied its fields

  // options replaces a select's choices after its first ("any"), keeping the choice.
  function options(select, items) {
    const keep = select.value;
    select.replaceChildren(select.options[0], ...items.map(([value, text]) => el('option', {value, text})));
    select.value = items.some(([v]) => v === keep) ? keep : '';
  }

  return {
    filter: () => filter,
    setLabels: (labels) => options(inputs.label, labels.map((l) => [l.id, `${'  '.repeat(l.path.length - 1)}${l.path.join(' › ')}`])),
    setAuthors: (names) => {
      const now = [...inputs.author.options].slice(1).map((o) => o.value);
      if (JSON.stringify(now) !== JSON.stringify(names)) options(inputs.author, names.map((n) => [n, n]));
    },
  };
}
