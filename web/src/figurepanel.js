// The Figure menu of the annotator: the current view (cut to the image) as the region,
// the selected annotations (or all, or none), a width in pixels and a resolution, PNG or
// PDF; the server draws the figure (scale bar, north arrow, caption from the provenance)
// and the browser downloads it. Viewers may make figures: nothing is stored.

import {ApiError, requestHeaders} from './api.js';
import {csrfToken, flash} from './common.js';
import {figureBody, figureRegion} from './figuremodel.js';

// figurePanel wires the menu; selectedIds() gives the ids of the annotations selected.
export function figurePanel({imageId, width, height, map, selectedIds}) {
  const $ = (id) => document.getElementById(id);
  const form = $('figure-form');
  if (!form) return;
  const status = $('figure-status');
  const which = $('figure-annotations');

  function refresh() {
    const n = selectedIds().length;
    which.querySelector('option[value="selected"]').textContent = `the ${n} selected`;
    // A selection is what the figure is likely of; without one, all.
    if (n > 0 && which.value === 'all') which.value = 'selected';
    if (n === 0 && which.value === 'selected') which.value = 'all';
  }
  $('figure-menu').addEventListener('toggle', refresh);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const view = map.getView();
    const region = figureRegion(view.calculateExtent(map.getSize()), width, height);
    if (!region) {
      status.textContent = 'The view shows none of the image: pan back onto it.';
      return;
    }
    const format = $('figure-format').value;
    const body = figureBody({region, width: $('figure-width').value, dpi: $('figure-dpi').value, format,
      which: which.value, selectedIds: selectedIds(), labels: $('figure-labels').checked});
    status.textContent = 'Drawing the figure…';
    form.dataset.state = 'busy';
    try {
      const res = await fetch(`/api/v1/images/${imageId}/figure`, {method: 'POST', body: JSON.stringify(body),
        headers: requestHeaders(csrfToken(), {'Content-Type': 'application/json'})});
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${imageId}-figure.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      const bar = res.headers.get('Satmark-Scale-Bar');
      status.textContent = `${format.toUpperCase()} of ${region[2]}×${region[3]} image pixels` + (bar ? `; scale bar ${bar.split(';')[0]}` : '; no scale bar');
      form.dataset.state = 'done';
    } catch (err) {
      status.textContent = err.message;
      form.dataset.state = 'failed';
      flash(`The figure could not be made: ${err.message}`, 'error');
    }
  });
}
