// The annotator's "Import annotations" panel: pick a file, Check (a dry run: what would
// be created, which labels the taxonomy lacks, every feature refused and why), map the
// missing labels, Import. The new annotations reach the page as live updates.

import {can, el, flash, plural} from './common.js';

const FORMATS = [
  ['geojson', 'GeoJSON (satmark, QuPath, RFC 7946)', ['.geojson', '.json']],
  ['kml', 'KML / KMZ', ['.kml', '.kmz']],
  ['coco', 'COCO', []],
  ['yolo', 'YOLO (detect)', []],
  ['yolo-obb', 'YOLO-OBB', []],
  ['dota', 'DOTA', ['.txt']],
  ['cvat', 'CVAT for images XML', ['.xml']],
  ['voc', 'Pascal VOC XML', []],
  ['csv', 'CSV with WKT', ['.csv']],
  ['shapefile', 'Shapefile (zipped)', ['.shp']],
  ['gpkg', 'GeoPackage', ['.gpkg']],
];

// MAX_SHOWN is how many refusals the panel lists; the count says how many more.
const MAX_SHOWN = 100;

export function importPanel({imageId}) {
  const $ = (id) => document.getElementById(id);
  const panel = $('import-panel');
  if (!panel) return;
  const file = $('import-file');
  const format = $('import-format');
  const crs = $('import-crs');
  const check = $('import-check');
  const run = $('import-run');
  const out = $('import-report');
  let labels = [];
  let report = null; // the last check's, for the file and options it was made with
  const mapping = new Map(); // missing label → label id, or '*create*'

  format.replaceChildren(...FORMATS.map(([value, text]) => el('option', {value, text})));

  function csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : '';
  }

  // post sends the file, answering {status, body}.
  async function post(dryRun) {
    const q = new URLSearchParams({format: format.value});
    if (dryRun) q.set('dry_run', '1');
    if (crs.value) q.set('crs', crs.value);
    const map = {};
    let create = false;
    for (const [name, to] of mapping) {
      if (to === '*create*') create = true;
      else if (to) map[name] = to;
    }
    if (Object.keys(map).length) q.set('map', JSON.stringify(map));
    if (create) q.set('create_labels', '1');
    const form = new FormData();
    form.append('file', file.files[0]);
    const res = await fetch(`/api/v1/images/${encodeURIComponent(imageId)}/import?${q}`, {
      method: 'POST',
      headers: {Accept: 'application/json', 'X-CSRF-Token': csrf()},
      body: form,
    });
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: said below
    }
    return {status: res.status, body};
  }

  function ready() {
    const ok = report && report.refused.length === 0 && report.missing_labels.every((m) => mapping.get(m.name));
    run.disabled = !ok || !file.files.length;
    panel.dataset.ready = String(!run.disabled);
  }

  function reset() {
    report = null;
    mapping.clear();
    out.replaceChildren();
    delete panel.dataset.checked;
    ready();
  }

  function missingRow(m) {
    const select = el('select', {'aria-label': `label for ${m.name}`, dataset: {missing: m.name}},
      el('option', {value: '', text: 'map to…'}),
      ...(can('admin') ? [el('option', {value: '*create*', text: `create “${m.name}”`})] : []),
      ...labels.map((l) => el('option', {value: l.id, text: l.path.join(' › ')})));
    select.value = mapping.get(m.name) || '';
    select.addEventListener('change', () => {
      mapping.set(m.name, select.value);
      ready();
    });
    return el('li', {}, el('strong', {text: m.name}), ` (${plural(m.count, 'feature', 'features')}) `, select);
  }

  function show(r, errorMessage) {
    const parts = [];
    const verb = r.dry_run ? 'would be created' : 'created';
    parts.push(el('p', {class: 'import-summary', text: `${plural(r.features, 'feature', 'features')} in ${r.file || 'the file'}: ${r.dry_run ? r.create : r.created} ${verb}` +
      (r.refused.length ? `, ${r.refused.length} refused` : '') + (r.missing_labels.length ? `, ${plural(r.missing_labels.length, 'label', 'labels')} not in the taxonomy` : '') + '.'}));
    if (errorMessage) parts.push(el('p', {class: 'error', text: errorMessage}));
    if (r.missing_labels.length) {
      parts.push(el('p', {text: 'Labels the taxonomy lacks: map each to one of its labels.'}));
      parts.push(el('ul', {class: 'import-missing'}, ...r.missing_labels.map(missingRow)));
    }
    if (r.refused.length) {
      parts.push(el('p', {text: 'Refused (fix the file and check again; nothing is imported while any is refused):'}));
      parts.push(el('ol', {class: 'import-refused'}, ...r.refused.slice(0, MAX_SHOWN).map((f) =>
        el('li', {dataset: {index: f.index}}, el('strong', {text: `feature ${f.index}${f.id ? ` (${f.id})` : f.place ? ` (${f.place})` : ''}`}), `: ${f.reason}`))));
      if (r.refused.length > MAX_SHOWN) parts.push(el('p', {class: 'muted', text: `… and ${r.refused.length - MAX_SHOWN} more.`}));
    }
    out.replaceChildren(...parts);
  }

  check.addEventListener('click', async () => {
    if (!file.files.length) {
      flash('Choose a file to import first.', 'error');
      return;
    }
    check.disabled = true;
    out.replaceChildren(el('p', {class: 'muted', text: 'Checking…'}));
    try {
      if (!labels.length) labels = await (await fetch('/api/v1/labels', {headers: {Accept: 'application/json'}})).json();
      const {status, body} = await post(true);
      if (status === 200 || (status === 422 && body && body.features !== undefined)) {
        report = body;
        show(body);
        panel.dataset.checked = String(Date.now());
      } else {
        report = null;
        out.replaceChildren(el('p', {class: 'error', text: (body && body.error && body.error.message) || `The check failed (${status}).`}));
      }
    } catch (err) {
      out.replaceChildren(el('p', {class: 'error', text: `The check failed: ${err.message}`}));
    } finally {
      check.disabled = false;
      ready();
    }
  });

  run.addEventListener('click', async () => {
    run.disabled = true;
    try {
      const {status, body} = await post(false);
      if (status === 201) {
        flash(`Imported ${plural(body.created, 'annotation', 'annotations')} from ${body.file || 'the file'}.`);
        panel.dataset.imported = String(body.created);
        file.value = '';
        reset();
        return;
      }
      if (body && body.features !== undefined) {
        report = body;
        show(body, body.error && body.error.message);
      } else {
        flash((body && body.error && body.error.message) || `The import failed (${status}).`, 'error');
      }
    } catch (err) {
      flash(`The import failed: ${err.message}`, 'error');
    }
    ready();
  });

  // A new file or other options need a new check; the file's ending suggests its format.
  file.addEventListener('change', () => {
    const name = (file.files[0] && file.files[0].name.toLowerCase()) || '';
    const known = FORMATS.find(([, , ends]) => ends.some((e) => name.endsWith(e)));
    if (known) format.value = known[0];
    reset();
  });
  format.addEventListener('change', reset);
  crs.addEventListener('change', reset);
  panel.dataset.ready = 'false';
}
