// The annotator's "Bands & stretch" panel for a raster whose display can be chosen: band
// pickers for red, green and blue (green and blue "—" for one band, then a colour ramp),
// presets, the stretch and gamma. Apply stores them (PUT …/display), and the image view
// shows the rebuild's progress, then the new tiles. Viewers see the settings read-only.

import {api, el, flash} from './common.js';
import {presets, requestBody} from './displaysettings.js';

export async function displayPanel({imageId, editable, reopen}) {
  const $ = (id) => document.getElementById(id);
  const panel = $('display-panel');
  if (!panel) return;
  let d;
  try {
    d = await api('GET', `/api/v1/images/${imageId}/display`);
  } catch (err) {
    flash(`Could not read the display settings: ${err.message}`, 'error');
    return;
  }
  if (!d.choosable) return;
  panel.hidden = false;
  const pickers = ['display-r', 'display-g', 'display-b'].map($);
  pickers.forEach((sel, i) => {
    if (i > 0) sel.append(el('option', {value: '', text: '—'}));
    for (let b = 1; b <= d.band_count; b++) {
      const interp = d.color_interp[b - 1];
      sel.append(el('option', {value: String(b), text: interp && interp !== 'Undefined' ? `${b} (${interp})` : String(b)}));
    }
  });
  const ramp = $('display-ramp');
  for (const r of d.ramps) ramp.append(el('option', {value: r, text: r}));
  const preset = $('display-preset');
  preset.append(el('option', {value: '', text: 'choose…'}));
  const offered = presets(d.band_count, d.color_interp);
  for (const p of offered) preset.append(el('option', {value: p.id, text: p.name}));

  function show(settings) {
    const bands = settings.bands || [];
    pickers.forEach((sel, i) => { sel.value = bands[i] === undefined ? '' : String(bands[i]); });
    ramp.value = settings.ramp || 'grey';
    $('display-gamma').value = String(settings.gamma || 1);
    const from = ((settings.stretch || [])[0] || {}).from || '';
    $('display-stretch').value = from.startsWith('min/max') ? 'min/max' : 'percentile';
    const m = /percentile ([\d.]+)–([\d.]+)/.exec(from);
    if (m) [$('display-low').value, $('display-high').value] = [m[1], m[2]];
    const s = (settings.stretch || []).map((st, i) => `band ${bands[i]}: ${st.min}–${st.max}`).join(', ');
    $('display-now').textContent = `Bands ${bands.join(', ')}${s ? `; ${s}` : ''}`;
    ramp.disabled = !editable || bands.length !== 1;
  }
  if (d.settings) show(d.settings);
  if (!editable) return;

  preset.addEventListener('change', () => {
    const p = offered.find((x) => x.id === preset.value);
    if (!p) return;
    pickers.forEach((sel, i) => { sel.value = p.bands[i] === undefined ? '' : String(p.bands[i]); });
    ramp.disabled = p.bands.length !== 1;
  });
  pickers.slice(1).forEach((sel) => sel.addEventListener('change', () => { ramp.disabled = pickers[1].value !== '' || pickers[2].value !== ''; }));
  $('display-apply').addEventListener('click', async () => {
    const bands = pickers.map((s) => s.value).filter((v) => v !== '');
    let body;
    try {
      body = requestBody({bands: bands.length === 3 ? bands : bands.slice(0, 1), stretch: $('display-stretch').value,
        low: $('display-low').value, high: $('display-high').value, gamma: $('display-gamma').value, ramp: ramp.value});
    } catch (err) {
      flash(err.message, 'error');
      return;
    }
    const apply = $('display-apply');
    apply.disabled = true;
    try {
      const answer = await api('PUT', `/api/v1/images/${imageId}/display`, body);
      show(answer.settings);
      await reopen();
      panel.dataset.applied = answer.stored;
    } catch (err) {
      flash(`Could not change the display: ${err.message}`, 'error');
    } finally {
      apply.disabled = false;
    }
  });
}
