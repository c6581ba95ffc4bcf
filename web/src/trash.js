// The trash (administrators): restore a deleted image, or purge it for good.

import {api, flash} from './common.js';

document.getElementById('trash').addEventListener('click', async (e) => {
  const row = e.target.closest('tr');
  if (!row || !row.dataset.imageId) return;
  const title = row.dataset.title;
  try {
    if (e.target.classList.contains('trash-restore')) {
      await api('POST', `/api/v1/trash/${row.dataset.imageId}/restore`);
      row.remove();
      flash(`“${title}” is back in the gallery.`);
    } else if (e.target.classList.contains('trash-purge')) {
      if (!confirm(`Purge “${title}”? Its original, tiles and annotations are removed for good.`)) return;
      await api('DELETE', `/api/v1/trash/${row.dataset.imageId}`);
      row.remove();
      flash(`“${title}” was purged.`);
    }
  } catch (err) {
    flash(`Not done: ${err.message}`, 'error');
  }
});
