// Satellite passes on the annotator: which satellites, of the element sets (TLEs) the
// team stored, passed over the image's place within its claimed capture window, how high
// they stood and how far off nadir they looked, so an analyst sees which could have taken
// the picture. Analysts paste or upload element sets here too.

import {api, el, flash, upload} from './common.js';

const utc = (iso) => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
const stamp = (iso) => iso.slice(0, 10) + ' ' + iso.slice(11, 19);
const clock = (iso) => iso.slice(11, 16);
const deg = (x) => `${x.toFixed(1)}°`;

// passesPanel fills the "Satellite passes" panel of image imageId; editable shows the
// element-set box. The passes are looked up when the panel is first opened, and again
// after element sets are added or the limits change.
export function passesPanel({imageId, editable}) {
  const $ = (id) => document.getElementById(id);
  const panel = $('passes-panel');
  if (!panel) return;
  const status = $('passes-status');
  const table = $('passes-table');
  const body = table.querySelector('tbody');
  const errors = $('passes-errors');
  const maxOff = $('passes-max-off-nadir');
  const minEl = $('passes-min-elevation');
  let loaded = false;

  function row(p) {
    const ageCell = el('td', {class: p.warning ? 'stale' : '', title: p.warning || ''}, `${p.tle_age_days.toFixed(1)} d`);
    if (p.warning) ageCell.prepend('⚠ ');
    return el('tr', {class: p.could_image ? 'could-image' : '', dataset: {noradId: String(p.norad_id), couldImage: String(p.could_image)}},
      el('td', {}, el('span', {class: 'pass-name', text: p.name || `#${p.norad_id}`}), el('span', {class: 'muted', text: ` ${p.norad_id}`})),
      el('td', {class: 'when', title: `rise ${utc(p.rise.time)}, set ${utc(p.set.time)}`},
        stamp(p.culmination.time),
        el('span', {class: 'muted', text: ` up ${clock(p.rise.time)}–${clock(p.set.time)}${p.starts_before_window ? ', under way at the start' : ''}${p.ends_after_window ? ', under way at the end' : ''}`})),
      el('td', {class: 'num'}, deg(p.culmination.elevation)),
      el('td', {class: 'num'}, deg(p.culmination.off_nadir)),
      ageCell,
      el('td', {class: 'could'}, p.could_image ? 'yes' : 'no'),
    );
  }

  async function load() {
    loaded = true;
    const q = new URLSearchParams({max_off_nadir: maxOff.value || '30', min_elevation: minEl.value || '0'});
    status.textContent = 'Looking for passes…';
    table.hidden = true;
    errors.replaceChildren();
    try {
      const r = await api('GET', `/api/v1/images/${imageId}/passes?${q}`);
      body.replaceChildren(...r.passes.map(row));
      table.hidden = r.passes.length === 0;
      const could = r.passes.filter((p) => p.could_image).length;
      status.textContent = r.satellites === 0
        ? 'No element sets stored yet: paste TLEs of the satellites to check below.'
        : `${r.passes.length} passes of ${r.satellites} satellite${r.satellites === 1 ? '' : 's'} over ${r.site[1].toFixed(4)}°, ${r.site[0].toFixed(4)}° between ${utc(r.from)} and ${utc(r.to)}; ${could} within ${r.max_off_nadir}° off nadir could have taken the picture.`;
      errors.replaceChildren(...r.errors.map((e) => el('li', {}, `${e.name || '#' + e.norad_id}: ${e.message}`)));
      panel.dataset.passes = String(r.passes.length);
    } catch (err) {
      status.textContent = err.message;
      panel.dataset.passes = 'error';
    }
  }

  panel.addEventListener('toggle', () => {
    if (panel.open && !loaded) load();
  });
  $('passes-form').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });

  const box = $('tle-box');
  box.hidden = !editable;
  if (!editable) return;
  const refusals = $('tle-refusals');
  $('tle-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('tle-text').value;
    const file = $('tle-file').files[0];
    const form = new FormData();
    if (file) form.append('file', file);
    else form.append('text', text);
    refusals.replaceChildren();
    try {
      const {body: r} = await upload('/api/v1/tles', form);
      flash(`Stored ${r.added} element set${r.added === 1 ? '' : 's'}${r.existing ? `, ${r.existing} already stored` : ''}.`);
      $('tle-text').value = '';
      $('tle-file').value = '';
      if (panel.open) load();
    } catch (err) {
      flash(err.message, 'error');
      refusals.replaceChildren(...(err.refusals || []).map((x) => el('li', {}, `line ${x.line}: ${x.reason}`)));
    }
  });
}
