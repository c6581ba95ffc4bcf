// The annotator's tools (the toolbar's [data-tool] buttons): Select, Box (many at once,
// bulk.js), the drawing tools (point, line, polygon, rectangle, rotated rectangle), the
// wand (wand.js) and box → outline, whose outlines are saved as polygons, and the ruler,
// which measures without saving anything. A drawing is saved with the label chosen for
// drawing, and selected.

import Feature from 'ol/Feature.js';
import Draw, {createBox} from 'ol/interaction/Draw.js';
import Overlay from 'ol/Overlay.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Stroke, Style} from 'ol/style.js';

import {el, flash} from './common.js';
import {mapGeometry, pixelGeometry, rotatedBoxGeometry, toPixel} from './geometry.js';
import {rulerText} from './measurestext.js';
import {wandTool} from './wand.js';

const $ = (id) => document.getElementById(id);

const drawOptions = {
  point: {type: 'Point'},
  line: {type: 'LineString'},
  polygon: {type: 'Polygon'},
  rectangle: {type: 'Circle', geometryFunction: createBox()},
  rotated_rectangle: {type: 'LineString', maxPoints: 3, minPoints: 3, geometryFunction: rotatedBoxGeometry},
};

// drawTools wires the toolbar. page gives:
//   map, view (imageview.js), root (the page's element: data-tool), api, imageId, width,
//   height, editable
//   shapes  the annotations on the map (shapes.js); chain  the save chain (savechain.js)
//   select(feature), bulk (bulk.js), enableSelecting(selecting, editing), toolChanged()
//     the selection's (selection.js)
// It returns setTool(tool), stop() (Esc: drop the drawing under way and the ruler's line,
// back to Select), pauseSelecting(on) (a panel takes the map's clicks) and idle() (no
// drawing tool is on).
export function drawTools({map, view, root, api, imageId, width, height, editable, shapes, chain, select, bulk, enableSelecting, toolChanged}) {
  async function createFromDrawing(feature, shape) {
    const label = $('draw-label').value;
    const geometry = pixelGeometry(feature.getGeometry(), width, height);
    if (await chain.create(feature, {label, shape, geometry, properties: {}})) select(feature);
  }

  const insideImage = (e) => view.insideImage(e.coordinate);

  // The ruler measures a line without storing anything: in metres when the image is
  // georeferenced or has a ground sample distance, else in pixels.
  const rulerSource = new VectorSource();
  map.addLayer(new VectorLayer({source: rulerSource, style: new Style({stroke: new Stroke({color: '#ffd60a', width: 2, lineDash: [8, 6]})})}));
  const rulerLabel = el('div', {class: 'ruler-label', id: 'ruler-result'});
  const rulerOverlay = new Overlay({element: rulerLabel, offset: [8, -8], positioning: 'bottom-left'});
  map.addOverlay(rulerOverlay);

  async function measureRuler(feature) {
    const geometry = pixelGeometry(feature.getGeometry(), width, height);
    rulerOverlay.setPosition(feature.getGeometry().getLastCoordinate());
    rulerLabel.textContent = 'measuring…';
    try {
      const m = await api('POST', `/api/v1/images/${imageId}/measure`, {shape: 'line', geometry});
      rulerLabel.textContent = rulerText(m, geometry);
    } catch (err) {
      rulerLabel.textContent = `cannot measure: ${err.message}`;
    }
  }

  let draw = null;
  // The wand: a click outlines the object under it; the outline is saved as a polygon of
  // the label chosen for drawing.
  const wand = editable ? wandTool({map, imageId, statusEl: $('wand-status'), onRegion: (geometry) => {
    const f = new Feature(mapGeometry(geometry));
    shapes.add([f]);
    createFromDrawing(f, 'polygon');
  }}) : null;

  async function outlineFromBox(feature) {
    const [x0, y0, x1, y1] = feature.getGeometry().getExtent();
    const [ax, ay] = toPixel([x0, y1]);
    const [bx, by] = toPixel([x1, y0]);
    setTimeout(() => rulerSource.removeFeature(feature));
    try {
      const r = await api('POST', `/api/v1/images/${encodeURIComponent(imageId)}/outline`, {
        box: [Math.max(0, ax), Math.max(0, ay), Math.min(width, bx), Math.min(height, by)], tolerance: wand.tolerance(), resolution: map.getView().getResolution(),
      });
      const f = new Feature(mapGeometry(r.geometry));
      shapes.add([f]);
      createFromDrawing(f, 'polygon');
    } catch (err) {
      flash(err.message, 'error');
    }
  }

  function setTool(tool) {
    if (!editable && (drawOptions[tool] || tool === 'wand' || tool === 'box_outline')) return;
    toolChanged();
    if (draw) map.removeInteraction(draw);
    draw = null;
    for (const b of document.querySelectorAll('[data-tool]')) b.classList.toggle('active', b.dataset.tool === tool);
    const drawing = tool !== 'select' && tool !== 'box';
    enableSelecting(!drawing, tool === 'select');
    // (the wand first: it gives DragPan back, which the Box tool then takes)
    wand?.setActive(tool === 'wand' || tool === 'box_outline', tool === 'wand');
    bulk.setBoxTool(tool === 'box');
    root.dataset.tool = tool;
    if (!drawing) return;
    bulk.clear();
    select(null);
    if (tool === 'wand') return; // its clicks go to the server (wand.js)
    if (tool === 'box_outline') {
      // Box → outline: a loose box about an object; the server outlines what in it differs
      // from its edges, and that outline is saved as a polygon.
      draw = new Draw({source: rulerSource, type: 'Circle', geometryFunction: createBox(), condition: insideImage});
      draw.on('drawend', (e) => outlineFromBox(e.feature));
    } else if (tool === 'ruler') {
      draw = new Draw({source: rulerSource, type: 'LineString', condition: insideImage});
      draw.on('drawstart', () => {
        rulerSource.clear();
        rulerOverlay.setPosition(undefined);
      });
      draw.on('drawend', (e) => measureRuler(e.feature));
    } else {
      draw = new Draw({condition: insideImage, ...drawOptions[tool]});
      draw.on('drawend', (e) => {
        shapes.add([e.feature]);
        createFromDrawing(e.feature, tool);
      });
    }
    map.addInteraction(draw);
  }

  for (const b of document.querySelectorAll('[data-tool]')) b.addEventListener('click', () => setTool(b.dataset.tool));

  return {
    setTool,
    stop() {
      if (draw) draw.abortDrawing();
      rulerSource.clear();
      rulerOverlay.setPosition(undefined);
      setTool('select');
    },
    // pauseSelecting stops map clicks selecting while a panel takes them (marking cells,
    // measuring a shadow).
    pauseSelecting(on) {
      setTool('select');
      enableSelecting(!on, !on);
      if (on) select(null);
    },
    idle: () => !draw,
  };
}
