// Search coverage on the annotator: a grid over the image whose cells an analyst marks
// as searched while looking through the scene, each with who and when, and the share of
// the image searched. The grid is stored in image pixels; when the image has a ground
// sample distance or a georeference the cell size can be given in metres. The overlay is
// an OpenLayers vector layer in the view's pixel space (the image at [0, -height, width, 0]).

import Feature from 'ol/Feature.js';
import MultiLineString from 'ol/geom/MultiLineString.js';
import Polygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Fill, Stroke, Style} from 'ol/style.js';

import {api, flash} from './common.js';
import {cellAt, cellBox, cellPxFor, gridLines, percent, share} from './coveragemodel.js';
import {toMap, toPixel} from './geometry.js';
import {when} from './team.js';

const lineStyle = new Style({stroke: new Stroke({color: 'rgba(255, 214, 10, 0.7)', width: 1})});
const cellStyle = new Style({fill: new Fill({color: 'rgba(48, 209, 88, 0.28)'}), stroke: new Stroke({color: 'rgba(48, 209, 88, 0.9)', width: 1})});

// coveragePanel wires the grid's toolbar button and sidebar panel to map. onMarking(on)
// is told when marking starts and stops, so the page can stop selecting meanwhile.
// idle() says no drawing tool is in use, when a click may mark a cell.
export function coveragePanel({map, imageId, width, height, editable, onMarking, idle = () => true}) {
  const $ = (id) => document.getElementById(id);
  const url = `/api/v1/images/${imageId}/coverage`;
  const source = new VectorSource();
  const layer = new VectorLayer({source, visible: false, style: (f) => (f.get('cell') ? cellStyle : lineStyle)});
  map.addLayer(layer);
  const panel = $('coverage-panel');
  const toggle = $('coverage-toggle');
  const markButton = $('coverage-mark');
  const sizeInput = $('coverage-size');
  const unitSelect = $('coverage-unit');
  let cov = null; // the server's answer
  let marking = false;
  let busy = false;
  let pendingClear = null; // the cell size a second "Set grid" would clear the marks for

  const cellKey = (c) => `${c.col},${c.row}`;
  const marked = () => new Map((cov?.cells || []).map((c) => [cellKey(c), c]));

  function draw() {
    source.clear();
    if (!cov || !cov.cell_px) return;
    const lines = gridLines(width, height, cov.cell_px).map((l) => l.map(toMap));
    if (lines.length) source.addFeature(new Feature(new MultiLineString(lines)));
    for (const c of cov.cells) {
      const [x0, y0, x1, y1] = cellBox(c.col, c.row, width, height, cov.cell_px);
      const f = new Feature(new Polygon([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]].map(toMap)]));
      f.set('cell', c);
      source.addFeature(f);
    }
  }

  function render() {
    draw();
    const has = !!(cov && cov.cell_px);
    const mpp = cov?.metres_per_px;
    const n = cov?.cells.length || 0;
    panel.dataset.cells = String(n);
    panel.dataset.share = String(cov?.share || 0);
    $('coverage-share').textContent = has
      ? `Searched: ${percent(share(cov.cells, width, height, cov.cell_px))} of the image (${n} of ${cov.cols * cov.rows} cells)`
      : 'No search grid yet.';
    const size = has ? `${cov.cell_px} px cells` + (mpp ? ` (${(cov.cell_px * mpp).toFixed(mpp * cov.cell_px < 10 ? 1 : 0)} m)` : '') : '';
    $('coverage-grid').textContent = has ? `${size}, ${cov.cols} × ${cov.rows}, set by ${cov.updated_by}` : '';
    const last = [...(cov?.cells || [])].sort((a, b) => b.at.localeCompare(a.at))[0];
    $('coverage-last').replaceChildren(...(last ? [`Last searched: cell ${last.col + 1},${last.row + 1} by ${last.by}, `, when(last.at)] : []));
    if (unitSelect) {
      const metres = unitSelect.querySelector('option[value="m"]');
      metres.disabled = !mpp;
      metres.title = mpp ? `1 px ≈ ${mpp.toPrecision(3)} m (${cov.basis === 'gsd' ? 'ground sample distance' : 'georeference'})` : 'the image has no ground sample distance or georeference';
      if (!mpp && unitSelect.value === 'm') unitSelect.value = 'px';
    }
    if (markButton) markButton.disabled = !has;
    if (!has && marking) setMarking(false);
  }

  async function load() {
    try {
      cov = await api('GET', url);
    } catch (err) {
      flash(`Could not load the search grid: ${err.message}`, 'error');
      return;
    }
    if (sizeInput && cov.cell_px && !sizeInput.value) sizeInput.value = String(cov.cell_px);
    render();
    panel.dataset.ready = 'true';
  }

  function setMarking(on) {
    marking = on;
    if (markButton) {
      markButton.classList.toggle('active', on);
      markButton.setAttribute('aria-pressed', String(on));
      markButton.textContent = on ? 'Stop marking' : 'Mark cells searched';
    }
    map.getTargetElement().classList.toggle('marking', on);
    onMarking?.(on);
  }

  function show(on) {
    layer.setVisible(on);
    panel.hidden = !on;
    toggle.classList.toggle('active', on);
    toggle.setAttribute('aria-pressed', String(on));
    if (on && !cov) load();
    if (!on && marking) setMarking(false);
  }
  toggle.addEventListener('click', () => show(layer.getVisible() ? false : true));

  async function send(method, path, body) {
    busy = true;
    try {
      cov = await api(method, url + path, body);
      render();
      return true;
    } catch (err) {
      flash(`The search grid was not changed: ${err.message}`, 'error');
      return false;
    } finally {
      busy = false;
    }
  }

  if (editable) {
    markButton.addEventListener('click', () => setMarking(!marking));
    document.addEventListener('keydown', (e) => e.key === 'Escape' && marking && setMarking(false));
    $('coverage-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const px = cellPxFor(sizeInput.value, unitSelect.value, cov?.metres_per_px);
      if (px === null) {
        flash('Give the cells a size greater than nothing.', 'error');
        return;
      }
      if (cov && px === cov.cell_px) return;
      // A new size unmarks every cell: the first "Set grid" says so, the second does it.
      const hint = $('coverage-hint');
      const clear = !!cov && cov.cells.length > 0;
      if (clear && pendingClear !== px) {
        pendingClear = px;
        hint.textContent = `${cov.cells.length} cells are marked searched; ${px} px cells unmark them all. Set grid again to do it.`;
        hint.hidden = false;
        return;
      }
      pendingClear = null;
      hint.hidden = true;
      await send('PUT', '/grid', {cell_px: px, clear});
    });
    map.on('singleclick', (e) => {
      if (!marking || busy || !cov?.cell_px || !idle()) return;
      const cell = cellAt(toPixel(e.coordinate), width, height, cov.cell_px);
      if (!cell) return;
      const on = !marked().has(cellKey(cell));
      send(on ? 'PUT' : 'DELETE', `/cells/${cell.col}/${cell.row}`);
    });
  }

  // Who searched the cell under the pointer, and when.
  map.on('pointermove', (e) => {
    if (!layer.getVisible() || !cov?.cell_px) return;
    const cell = cellAt(toPixel(e.coordinate), width, height, cov.cell_px);
    const info = $('coverage-cell');
    if (!cell) {
      info.replaceChildren();
      return;
    }
    const m = marked().get(cellKey(cell));
    info.replaceChildren(...(m ? [`Cell ${cell.col + 1},${cell.row + 1}: searched by ${m.by}, `, when(m.at)] : [`Cell ${cell.col + 1},${cell.row + 1}: not searched yet`]));
  });

  return {state: () => cov, marking: () => marking, show, reload: load};
}
