// The gallery: upload by drag and drop or file picker, with the provenance form (for
// analysts). Several files in one go become one release: the first creates it, the rest
// join it; the sidecar files of a satellite delivery among them (.IMD, .RPB, world files,
// …) go with the raster they belong to (delivery.js). Each card counts its image's
// annotations, in all and by review state.

import {api, el, flash, plural, upload} from './common.js';
import {groupDelivery} from './delivery.js';
import {STATUSES} from './team.js';

function thumbnail(img) {
  return el('img', {src: `/api/v1/images/${encodeURIComponent(img.id)}/thumbnail`, alt: '', width: 256, height: 192});
}

function pyramidText(p) {
  switch (p.state) {
    case 'queued':
      return 'waiting to prepare tiles…';
    case 'running':
      return `preparing tiles: ${Math.round(100 * p.progress)}%`;
    case 'failed':
      return `tiles failed: ${p.error}`;
  }
  return '';
}

function pending(p) {
  return el('span', {class: 'thumb-pending'}, el('progress', {max: 1, value: p.progress}), el('span', {class: 'pending-text', text: pyramidText(p)}));
}

// reviewCounts shows the review states that have annotations, as the page template does.
function reviewCounts(counts) {
  return el(
    'span',
    {class: 'card-reviews', title: 'Annotations by review state'},
    ...STATUSES.filter((st) => counts[st] > 0).map((st) =>
      el('span', {class: `badge review-badge review-count status-${st}`, dataset: {status: st, count: counts[st]}, text: `${counts[st]} ${st}`}),
    ),
  );
}

function card(img) {
  const existing = document.querySelector(`.card[data-image-id="${CSS.escape(img.id)}"]`);
  if (existing) return existing;
  const ready = img.pyramid.state === 'done';
  const li = el(
    'li',
    {class: 'card', dataset: {imageId: img.id, pyramid: img.pyramid.state}},
    el('a', {href: `/images/${encodeURIComponent(img.id)}`}, ready ? thumbnail(img) : pending(img.pyramid), el('span', {class: 'card-title', text: img.title})),
    el('span', {class: 'card-publisher', text: img.source.publisher}),
    el(
      'span',
      {class: 'card-meta'},
      el('span', {class: 'card-released', text: img.source.released_at ? `released ${img.source.released_at}` : 'release date unknown'}),
      el('span', {class: 'card-count', dataset: {count: img.annotation_count}, text: plural(img.annotation_count, 'annotation', 'annotations')}),
    ),
    reviewCounts(img.review_counts || {}),
    el('span', {class: 'card-size muted', text: `${img.width} × ${img.height} px`}),
  );
  document.getElementById('no-images')?.remove();
  document.getElementById('cards').prepend(li);
  watchPending();
  return li;
}

// Cards of images whose tiles are still being prepared show the build's progress until
// their thumbnail can be shown.
let watching = false;
async function watchPending() {
  if (watching) return;
  watching = true;
  while (document.querySelector('.card:not([data-pyramid=done]):not([data-pyramid=failed])')) {
    await new Promise((r) => setTimeout(r, 1000));
    let images;
    try {
      images = await api('GET', '/api/v1/images');
    } catch {
      continue;
    }
    for (const img of images) {
      const c = document.querySelector(`.card[data-image-id="${CSS.escape(img.id)}"]`);
      if (!c || c.dataset.pyramid === img.pyramid.state && img.pyramid.state !== 'running') continue;
      c.dataset.pyramid = img.pyramid.state;
      const slot = c.querySelector('.thumb-pending, img');
      slot.replaceWith(img.pyramid.state === 'done' ? thumbnail(img) : pending(img.pyramid));
      if (img.pyramid.state === 'failed') c.append(retry(img));
    }
  }
  watching = false;
}

function retry(img) {
  const b = el('button', {type: 'button', class: 'retry', text: 'Build tiles again'});
  b.addEventListener('click', async () => {
    try {
      const job = await api('POST', `/api/v1/images/${encodeURIComponent(img.id)}/pyramid`);
      const c = b.closest('.card');
      c.dataset.pyramid = job.state;
      c.querySelector('.thumb-pending').replaceWith(pending(job));
      b.remove();
      watchPending();
    } catch (err) {
      flash(`Could not start the build: ${err.message}`, 'error');
    }
  });
  return b;
}

for (const c of document.querySelectorAll('.card[data-pyramid=failed]')) {
  c.append(retry({id: c.dataset.imageId}));
}
watchPending();

// Uploading is for analysts: viewers' pages have no form.
const form = document.getElementById('upload-form');
if (form) setUpUpload();

function setUpUpload() {
  const fileInput = document.getElementById('upload-file');
  const dropzone = document.getElementById('dropzone');
  const chosen = document.getElementById('chosen-files');
  const results = document.getElementById('upload-results');
  const sourceSelect = document.getElementById('upload-source');
  const maxBytes = Number(form.dataset.maxBytes) || 0;
  let dropped = null;

  function files() {
    return dropped || Array.from(fileInput.files);
  }

  function showChosen() {
    const {groups, leftover} = groupDelivery(files());
    chosen.textContent = groups.map((g) => (g.sidecars.length ? `${g.file.name} (with ${g.sidecars.map((s) => s.name).join(', ')})` : g.file.name))
      .concat(leftover.map((s) => s.name)).join(', ');
  }

  fileInput.addEventListener('change', () => {
    dropped = null;
    showChosen();
  });

  for (const type of ['dragenter', 'dragover']) {
    dropzone.addEventListener(type, (e) => {
      e.preventDefault();
      dropzone.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) {
    dropzone.addEventListener(type, () => dropzone.classList.remove('over'));
  }
  dropzone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropped = Array.from(e.dataTransfer.files);
    showChosen();
  });

  function toggleReleaseFields() {
    document.querySelector('.new-release').hidden = sourceSelect.value !== '';
  }
  sourceSelect.addEventListener('change', toggleReleaseFields);
  toggleReleaseFields();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const {groups, leftover} = groupDelivery(files());
    const list = groups.map((g) => g.file);
    if (!list.length) {
      flash(leftover.length ? `${leftover.map((s) => s.name).join(', ')}: sidecar files go with their raster; choose or drop the image too.`
        : 'Choose or drop at least one image first.', 'error');
      return;
    }
    if (list.length > 1 && document.getElementById('upload-worldfile').files.length) {
      flash('A world file places one image: upload that image on its own to use it. The others go in without it.', 'error');
    }
    const submit = document.getElementById('upload-submit');
    submit.disabled = true;
    let sourceId = sourceSelect.value;
    let stored = 0;
    for (const {file, sidecars} of groups) {
      const item = el('li', {}, el('span', {class: 'file', text: file.name}), ' ', el('progress', {max: 1, value: 0}), ' ', el('span', {class: 'status', text: 'uploading…'}));
      results.prepend(item);
      const status = item.querySelector('.status');
      const progress = item.querySelector('progress');
      if (maxBytes && file.size > maxBytes) {
        status.textContent = `not uploaded: ${file.name} is ${file.size} bytes, over the limit of ${maxBytes}`;
        item.className = 'error';
        progress.remove();
        continue;
      }
      const data = new FormData(form);
      data.delete('file');
      for (const f of ['worldfile', 'prj']) {
        const v = data.get(f);
        // Nothing chosen, or several images at once: a world file belongs to one image.
        if (!(v instanceof File) || v.size === 0 || list.length > 1) data.delete(f);
      }
      data.set('source_id', sourceId);
      if (sourceId) {
        for (const f of ['publisher', 'source_url', 'released_at', 'credit', 'license', 'claim', 'notes']) data.delete(f);
      }
      if (!data.has('publisher_markup')) data.set('publisher_markup', 'false');
      data.append('file', file, file.name);
      for (const s of sidecars) data.append('sidecar', s, s.name);
      try {
        const {status: code, body: img} = await upload('/api/v1/images', data, (p) => (progress.value = p));
        progress.remove();
        status.replaceChildren(
          code === 201 ? 'stored. ' : 'already in the library (same SHA-256); nothing new stored. ',
          el('a', {href: `/images/${encodeURIComponent(img.id)}`, class: 'open-image', text: `Open “${img.title}”`}),
        );
        // A near copy of an earlier image (cropped, rescaled, recompressed) says so.
        for (const m of img.reuse?.released_before ?? []) {
          status.append(' · ', el('a', {href: m.url, class: 'released-before', text: m.message}));
        }
        item.className = code === 201 ? 'ok' : 'existing';
        card(img);
        stored++;
        if (!sourceId && list.length > 1) sourceId = img.source.id;
      } catch (err) {
        progress.remove();
        status.textContent = `failed: ${err.message}`;
        item.className = 'error';
      }
    }
    submit.disabled = false;
    if (stored) flash(`${plural(stored, 'image', 'images')} ready.`);
  });
}
