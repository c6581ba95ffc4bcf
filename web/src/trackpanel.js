// The annotator's "Same object on other dates" panel: the object (track) the selected
// annotation follows across images, with its dates and places, or linking it to one.

import {api, can, el, flash} from './common.js';

const $ = (id) => document.getElementById(id);

// trackPanel runs the panel for the annotations of one image; render(ann) shows it for
// the selected annotation (null hides it).
export function trackPanel(imageId) {
  const editable = can('analyst');
  let tracks = null; // every track, as the API lists them
  let current = null; // the annotation shown

  async function load() {
    tracks = await api('GET', '/api/v1/tracks');
  }

  function trackOf(annId) {
    return (tracks || []).find((t) => t.positions.some((p) => p.annotation_id === annId)) || null;
  }

  function positionText(p) {
    return `${p.when || 'undated'} · ${p.image_title}${p.confidence ? ` (${p.confidence})` : ''}`;
  }

  function show() {
    const ann = current;
    const box = $('track');
    if (!box) return;
    box.hidden = !ann;
    if (!ann || tracks === null) return;
    const t = trackOf(ann.id);
    $('track-current').hidden = !t;
    if ($('track-link')) $('track-link').hidden = !!t || !editable; // (not on a viewer's page)
    if (t) {
      const name = $('track-name');
      name.textContent = t.name;
      box.dataset.trackId = t.id;
      const mine = t.positions.find((p) => p.annotation_id === ann.id);
      $('track-positions').replaceChildren(...t.positions.map((p) => el('li', {dataset: {annotationId: p.annotation_id}},
        p.image_id === imageId ? el('strong', {text: `${positionText(p)} — this one`})
          : el('a', {href: `/images/${encodeURIComponent(p.image_id)}?annotation=${encodeURIComponent(p.annotation_id)}`, text: positionText(p)}))));
      if (editable) $('track-confidence').value = mine ? mine.confidence : 'probable';
      return;
    }
    delete box.dataset.trackId;
    if (!editable) return;
    // Tracks this image is not in yet: one object is in a picture once.
    const open = tracks.filter((tr) => !tr.positions.some((p) => p.image_id === imageId));
    $('track-choose').replaceChildren(...open.map((tr) => el('option', {value: tr.id,
      text: `${tr.name} (${tr.positions.map((p) => p.when || 'undated').join(', ') || 'no dates yet'})`})));
    $('track-link-button').disabled = open.length === 0;
  }

  async function change(method, path, body) {
    try {
      await api(method, path, body);
      await load();
    } catch (err) {
      flash(err.message, 'error');
    }
    show();
  }

  if (editable && $('track')) {
    $('track-link-button').addEventListener('click', () => {
      const id = $('track-choose').value;
      if (current && id) change('PUT', `/api/v1/tracks/${encodeURIComponent(id)}/annotations/${encodeURIComponent(current.id)}`, {confidence: $('track-link-confidence').value});
    });
    $('track-new').addEventListener('click', () => {
      const name = $('track-new-name').value.trim();
      if (!current) return;
      if (!name) {
        flash('Name the object first (e.g. "Landing ship A").', 'error');
        return;
      }
      $('track-new-name').value = '';
      change('POST', '/api/v1/tracks', {name, annotations: [{annotation_id: current.id, confidence: $('track-link-confidence').value}]});
    });
    $('track-confidence').addEventListener('change', () => {
      const t = current && trackOf(current.id);
      if (t) change('PUT', `/api/v1/tracks/${encodeURIComponent(t.id)}/annotations/${encodeURIComponent(current.id)}`, {confidence: $('track-confidence').value});
    });
    $('track-unlink').addEventListener('click', () => {
      const t = current && trackOf(current.id);
      if (t) change('DELETE', `/api/v1/tracks/${encodeURIComponent(t.id)}/annotations/${encodeURIComponent(current.id)}`);
    });
  }

  return {
    render(ann) {
      const again = current && ann && current.id === ann.id;
      current = ann;
      if (again && tracks !== null) return show();
      show();
      load().then(show).catch((err) => flash(`Could not load the tracks: ${err.message}`, 'error'));
    },
  };
}
