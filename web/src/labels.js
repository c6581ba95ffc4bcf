// The taxonomy page: administrators add labels, change colours and hotkeys, delete
// unused labels; everyone else sees the taxonomy.

import {api, flash} from './common.js';

// Swatches take their colour from data (no inline styles under the page's CSP).
for (const sw of document.querySelectorAll('.swatch[data-color]')) sw.style.background = sw.dataset.color;

for (const row of document.querySelectorAll('tr[data-label-id]')) {
  if (!row.querySelector('.label-color')) continue;
  const id = row.dataset.labelId;
  const name = row.querySelector('.label-path').textContent;
  row.querySelector('.label-color').addEventListener('change', async (e) => {
    try {
      await api('PATCH', `/api/v1/labels/${id}`, {color: e.target.value});
      flash(`${name} is now ${e.target.value}.`);
    } catch (err) {
      flash(`Could not change the colour: ${err.message}`, 'error');
    }
  });
  row.querySelector('.label-hotkey').addEventListener('change', async (e) => {
    try {
      await api('PATCH', `/api/v1/labels/${id}`, {hotkey: e.target.value.trim()});
      flash(`Hotkey of ${name} saved.`);
    } catch (err) {
      flash(`Could not change the hotkey: ${err.message}`, 'error');
    }
  });
  row.querySelector('.label-delete').addEventListener('click', async () => {
    if (!window.confirm(`Delete the label ${name}?`)) return;
    try {
      await api('DELETE', `/api/v1/labels/${id}`);
      row.remove();
      flash(`Deleted ${name}.`);
    } catch (err) {
      flash(`Could not delete ${name}: ${err.message}`, 'error');
    }
  });
}

document.getElementById('label-form')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = new FormData(e.target);
  try {
    await api('POST', '/api/v1/labels', {name: data.get('name'), parent_id: data.get('parent_id'), color: data.get('color')});
    window.location.reload();
  } catch (err) {
    flash(`Could not add the label: ${err.message}`, 'error');
  }
});
