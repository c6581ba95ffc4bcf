// The annotator's "Adjust" panel: brightness, contrast, saturation and gamma sliders and
// an auto-stretch from the whole image (the same at every zoom), applied live by the image view; Reset returns to
// neutral, Save (analysts) stores them for everyone (PUT …/adjustments).

import {autoLevels, neutral, same} from './adjustsettings.js';
import {api, flash} from './common.js';

const sliders = ['brightness', 'contrast', 'saturation', 'gamma'];

export function adjustPanel({imageId, view, editable}) {
  const $ = (id) => document.getElementById(id);
  const panel = $('adjust-panel');
  if (!panel) return;
  const stretchBox = $('adjust-stretch');
  const saveButton = $('adjust-save');
  let stretch = null;

  function current() {
    const a = {stretch};
    for (const k of sliders) a[k] = Number($(`adjust-${k}`).value);
    return a;
  }
  function showState() {
    const changed = !same(current(), view.saved());
    const s = view.saved();
    $('adjust-state').textContent = changed ? (editable ? 'Not saved.' : 'Shown to you only.') :
      s.updated_by ? `Saved by ${s.updated_by}.` : '';
    panel.dataset.changed = String(changed);
    if (saveButton) saveButton.disabled = !changed;
  }
  // show puts adjustments a into the fields and the view.
  function show(a) {
    for (const k of sliders) {
      $(`adjust-${k}`).value = String(a[k]);
      $(`adjust-${k}-value`).textContent = String(a[k]);
    }
    stretch = a.stretch || null;
    stretchBox.checked = !!stretch;
    $('adjust-stretch-value').textContent = stretch ? `${stretch.low}–${stretch.high}` : '';
    view.setAdjustments(current());
    showState();
  }
  for (const k of sliders) {
    $(`adjust-${k}`).addEventListener('input', () => {
      $(`adjust-${k}-value`).textContent = $(`adjust-${k}`).value;
      view.setAdjustments(current());
      showState();
    });
  }
  // The stretch comes from the whole image, not the part in view: the same whatever the
  // zoom, so the picture's brightness does not depend on where it was turned on.
  stretchBox.addEventListener('change', async () => {
    let levels = null;
    if (stretchBox.checked) {
      let why = 'the image is one flat value: nothing to stretch';
      try {
        levels = autoLevels(await view.imageSamples());
      } catch (err) {
        why = `could not read the image for the stretch: ${err.message || err}`;
      }
      if (!stretchBox.checked) return; // turned off meanwhile
      if (!levels) {
        flash(`No auto-stretch: ${why}.`, 'error');
        stretchBox.checked = false;
        return;
      }
    }
    show({...current(), stretch: levels});
  });
  $('adjust-reset').addEventListener('click', () => show(neutral));
  saveButton?.addEventListener('click', async () => {
    saveButton.disabled = true;
    try {
      const saved = await api('PUT', `/api/v1/images/${imageId}/adjustments`, current());
      view.setSaved(saved);
      show(saved);
      panel.dataset.saved = saved.updated_at;
    } catch (err) {
      flash(`Could not save the adjustments: ${err.message}`, 'error');
      showState();
    }
  });
  show(view.saved());
  panel.dataset.ready = 'true';
}
