// The annotator's "Sun & shadows" panel: where the sun stood over a placed image in its
// claimed capture window (GET …/sun), the directions its shadows fall drawn on the image
// (a thin line for every daylight hour of the window, an arrow for the window's middle or
// the daylight hour nearest it), and the Shadow tool: click an object's foot, then the tip
// of its shadow, and the server (POST …/shadow) gives the shadow's length and direction,
// the object's height, and the moments of the window when the sun cast it so, or says
// that none fits the claim. Nothing here is saved. The overlay is a vector layer in the
// view's pixel space (the image at [0, -height, width, 0]).

import Feature from 'ol/Feature.js';
import LineString from 'ol/geom/LineString.js';
import Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';

import {api, el} from './common.js';
import {toMap, toPixel} from './geometry.js';
import {arrow, describeFit, describeShadow, describeSun, fmtDeg, fmtMetres, fmtTime, inside, keyDirection, sweep} from './sunmodel.js';

const styles = {
  fan: new Style({stroke: new Stroke({color: 'rgba(255, 214, 10, 0.55)', width: 1.5})}),
  arrow: new Style({stroke: new Stroke({color: '#ff9f0a', width: 3})}),
  shadow: new Style({stroke: new Stroke({color: '#64d2ff', width: 2.5})}),
  end: new Style({image: new CircleStyle({radius: 5, fill: new Fill({color: '#64d2ff'}), stroke: new Stroke({color: '#003', width: 1})})}),
};
const labelStyle = (text) =>
  new Style({
    text: new Text({text, font: '12px sans-serif', offsetY: -12, fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3})}),
  });

// sunPanel fills the #sun-panel placeholder and draws over map. onMeasuring(on) is told
// when the Shadow tool starts and stops waiting for clicks, so the page stops selecting
// meanwhile.
export function sunPanel({map, imageId, width, height, onMeasuring}) {
  const panel = document.getElementById('sun-panel');
  if (!panel) return null;
  const source = new VectorSource();
  // Drawn only while the panel is open: the arrows sit at the middle of the view, over
  // the pixels an analyst is looking at.
  const layer = new VectorLayer({source, zIndex: 20, style: (f) => f.get('style'), visible: panel.open});
  map.addLayer(layer);
  panel.addEventListener('toggle', () => layer.setVisible(panel.open));

  const info = el('div', {id: 'sun-info'});
  const toolButton = el('button', {type: 'button', id: 'sun-shadow-tool', 'aria-pressed': 'false', title: "Click an object's foot, then the tip of its shadow"}, 'Shadow');
  const hint = el('span', {id: 'sun-shadow-hint', class: 'muted'});
  const result = el('div', {id: 'sun-shadow-result', 'aria-live': 'polite'});
  panel.append(el('summary', {text: 'Sun & shadows'}), info, el('div', {class: 'row'}, toolButton, ' ', hint), result);

  let answer = null; // GET …/sun
  let measured = null; // POST …/shadow, with the two points
  let measuring = false;
  let foot = null;

  const feature = (geom, style) => {
    const f = new Feature(geom);
    f.set('style', style);
    return f;
  };

  // draw puts the shadows' directions at the middle of the view (inside the image), a
  // fifth of the view long, and the measured shadow where it was measured.
  function draw() {
    source.clear();
    const size = map.getSize();
    if (answer && size) {
      const view = map.getView();
      const [x0, y0, x1, y1] = view.calculateExtent(size);
      const c = toPixel(view.getCenter());
      const start = [Math.min(width, Math.max(0, c[0])), Math.min(height, Math.max(0, c[1]))];
      const length = 0.2 * Math.min(x1 - x0, y1 - y0);
      for (const h of answer.daylight) {
        if (h.shadow_image_deg === undefined) continue;
        source.addFeature(feature(new LineString(arrow(start, h.shadow_image_deg, length * 0.8).shaft.map(toMap)), styles.fan));
      }
      const key = keyDirection(answer);
      if (key) {
        const a = arrow(start, key.shadow_image_deg, length);
        source.addFeature(feature(new LineString(a.shaft.map(toMap)), styles.arrow));
        source.addFeature(feature(new LineString(a.head.map(toMap)), styles.arrow));
        source.addFeature(feature(new Point(toMap(a.tip)), labelStyle(`shadows ${fmtTime(key.time)}`)));
      }
    }
    const ends = measured ? [measured.object, measured.shadow_tip] : foot ? [foot] : [];
    if (ends.length === 2) source.addFeature(feature(new LineString(ends.map(toMap)), styles.shadow));
    for (const p of ends) source.addFeature(feature(new Point(toMap(p)), styles.end));
    const drawn = source.getFeatures().map((f) => f.get('style'));
    panel.dataset.fan = String(drawn.filter((st) => st === styles.fan).length);
    panel.dataset.arrow = String(drawn.includes(styles.arrow));
  }
  map.on('moveend', draw);

  function renderInfo(error) {
    if (!answer) {
      info.replaceChildren(el('p', {class: 'error-message', id: 'sun-error', text: error}));
      toolButton.disabled = true;
      return;
    }
    toolButton.disabled = false;
    const p = answer.place;
    const where = `${Math.abs(p.lat).toFixed(4)}° ${p.lat < 0 ? 'S' : 'N'}, ${Math.abs(p.lon).toFixed(4)}° ${p.lon < 0 ? 'W' : 'E'}`;
    const w = answer.window;
    const given = w.given_from === w.given_to ? w.given_from : `${w.given_from} – ${w.given_to}`;
    const key = keyDirection(answer);
    const arc = sweep(answer.daylight.map((h) => h.shadow_azimuth_deg));
    info.replaceChildren(
      el('p', {id: 'sun-place'}, `${where} (${p.basis === 'georeference' ? "the image's centre, by its georeference" : 'from its location name'})`),
      el('p', {id: 'sun-window'}, `${w.basis === 'capture_window' ? 'Claimed capture window' : 'Window'} ${given}: ${fmtTime(w.from)} – ${fmtTime(w.to)} (dates as whole days in ${w.zone})`),
      el('ul', {id: 'sun-at', class: 'sun-at'}, ...answer.at.map((a) => el('li', {dataset: {when: a.when}}, describeSun(a)))),
      el(
        'p',
        {id: 'sun-daylight'},
        arc
          ? `${answer.daylight.length} daylight hours in the window: shadows fall from ${fmtDeg(arc.from)} round to ${fmtDeg(arc.to)} (thin lines on the image).`
          : 'The sun is not up at any whole hour of the window.',
      ),
      el(
        'p',
        {id: 'sun-arrow', class: 'muted'},
        key
          ? `The arrow: where shadows fall at ${fmtTime(key.time)}${key.when === 'middle' ? " (the window's middle)" : ''}.`
          : answer.north_image_deg === undefined
            ? 'North in the image is unknown (placed by its location name): no directions are drawn.'
            : 'No arrow: the sun is down all window.',
      ),
    );
  }

  function renderResult(error) {
    if (error) {
      result.replaceChildren(el('p', {class: 'error-message', id: 'sun-shadow-error', text: error}));
      return;
    }
    if (!measured) {
      result.replaceChildren();
      return;
    }
    const m = measured;
    const fits = m.fits_claim === undefined ? 'unknown' : String(m.fits_claim);
    panel.dataset.fits = fits;
    const heightLine = m.height_m !== undefined ? `Height at the window's middle (${fmtTime(m.middle.time)}): ${fmtMetres(m.height_m)}.` : `At the window's middle (${fmtTime(m.middle.time)}) the sun is down: no height then.`;
    const verdict =
      fits === 'true'
        ? el('p', {id: 'sun-fits', class: 'fits yes'}, `Fits: ${m.fits.length} time${m.fits.length === 1 ? '' : 's'} in the window when the sun cast this shadow.`)
        : fits === 'false'
          ? el('p', {id: 'sun-fits', class: 'fits no'}, 'Does not fit: ' + m.summary)
          : el('p', {id: 'sun-fits', class: 'fits muted'}, m.summary);
    result.replaceChildren(
      el('p', {id: 'sun-shadow-length'}, describeShadow(m)),
      el('p', {id: 'sun-shadow-height'}, heightLine),
      verdict,
      el('ol', {id: 'sun-fit-list', class: 'sun-fits'}, ...m.fits.map((f) => el('li', {}, describeFit(f)))),
    );
  }

  function setMeasuring(on) {
    measuring = on;
    foot = null;
    toolButton.setAttribute('aria-pressed', String(on));
    toolButton.classList.toggle('active', on);
    panel.dataset.measuring = String(on);
    hint.textContent = on ? "Click the object's foot." : '';
    onMeasuring(on);
    draw();
  }

  async function measure(object, tip) {
    hint.textContent = 'Measuring…';
    try {
      const m = await api('POST', `/api/v1/images/${imageId}/shadow`, {object, shadow_tip: tip});
      measured = {...m, object, shadow_tip: tip};
      hint.textContent = '';
      renderResult();
    } catch (err) {
      measured = null;
      hint.textContent = '';
      renderResult(err.message);
    }
    draw();
    panel.dataset.measured = String(Date.now());
  }

  toolButton.addEventListener('click', () => {
    if (!measuring) measured = null;
    setMeasuring(!measuring);
  });
  map.on('singleclick', (e) => {
    if (!measuring) return;
    const p = toPixel(e.coordinate);
    if (!inside(p, width, height)) {
      hint.textContent = 'Click on the image.';
      return;
    }
    if (!foot) {
      foot = p;
      hint.textContent = "Now click the tip of its shadow.";
      draw();
      return;
    }
    const object = foot;
    setMeasuring(false);
    measure(object, p);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && measuring) setMeasuring(false);
  });

  async function load() {
    panel.dataset.state = 'loading';
    try {
      answer = await api('GET', `/api/v1/images/${imageId}/sun`);
      panel.dataset.state = 'ready';
      renderInfo();
    } catch (err) {
      answer = null;
      panel.dataset.state = err.code || 'error';
      renderInfo(err.message);
    }
    draw();
  }
  load();
  return {reload: load};
}
