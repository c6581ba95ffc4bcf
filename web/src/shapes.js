// The annotations on the annotator's map, fast with a hundred thousand of them. Every
// annotation nobody is working on is drawn by one WebGL vector layer: its shapes sit in
// the GPU's buffers and a pan or zoom only moves them. The few being worked on (the
// selected one, those selected together, those being saved, a drawing not saved yet)
// are lifted onto a canvas layer above it, with the page's own looks, so that moving,
// reshaping or relabelling one redraws that one alone. Label names show on a canvas
// layer when zoomed in on a few.
//
// Features carry their annotation as `ann`; the WebGL style reads the properties paint()
// puts beside it (colour, fill, shown).

import VectorLayer from 'ol/layer/Vector.js';
import WebGLVectorLayer from 'ol/layer/WebGLVector.js';
import WebGLVectorLayerRenderer from 'ol/renderer/webgl/VectorLayer.js';
import VectorSource from 'ol/source/Vector.js';
import {Fill, Stroke, Style, Text} from 'ol/style.js';
import {apply as applyToPixel, create as createTransform} from 'ol/transform.js';
import ViewHint from 'ol/ViewHint.js';

import {hexToRgba} from './common.js';

// Label names show below this resolution (image pixels per screen pixel), as on the
// lifted layer, and only while at most LABELS_MAX annotations are in view.
export const LABELS_BELOW = 4;
const LABELS_MAX = 400;

// The WebGL layer's look: the label's colour, a faint fill, points as dots, as the canvas
// style draws an annotation that is not selected. Those the sidebar's filter leaves out
// have shown = 0.
const glStyle = [
  {
    filter: ['==', ['get', 'shown'], 1],
    style: {
      'fill-color': ['get', 'fill'],
      'stroke-color': ['get', 'color'],
      'stroke-width': 2,
      'circle-radius': 6,
      'circle-fill-color': ['get', 'color'],
      'circle-stroke-color': '#000000',
      'circle-stroke-width': 1,
    },
  },
];

// ShapesRenderer is OpenLayers' WebGL vector renderer (10.11) with three changes, made
// through its internals (the version is pinned in package-lock.json):
//   - its buffers are made again only when the features change, not at every new view:
//     every annotation is in memory and in the buffers, so a new view needs only a new
//     transform (OpenLayers remakes them for sources that load by extent, and for text);
//   - onDrawn(revision) says, once new buffers are drawn, which revision of the source
//     they hold, so a feature moved from the canvas layer back to this one never blinks;
//   - hit detection honours the hit tolerance (its hit image is read at one point only).
class ShapesRenderer extends WebGLVectorLayerRenderer {
  constructor(layer, options, onDrawn) {
    super(layer, options);
    this.generated_ = -1; // the source's revision the newest buffers asked for hold
    this.onDrawn_ = onDrawn;
  }

  prepareFrameInternal(frameState) {
    if (!this.initialFeaturesAdded_) {
      this.addInitialFeatures_(frameState);
      this.initialFeaturesAdded_ = true;
    }
    const source = this.getLayer().getSource();
    const revision = source.getRevision();
    const moving = frameState.viewHints[ViewHint.ANIMATING] || frameState.viewHints[ViewHint.INTERACTING];
    if (moving || !this.styleRenderer_ || this.generated_ >= revision) return true;
    this.generated_ = revision;
    this.ready = false;
    const transform = this.helper.makeProjectionTransform(frameState, createTransform(), true);
    this.styleRenderer_.generateBuffers(this.batch_, transform, frameState.viewState.resolution).then((buffers) => {
      if (this.buffers_) this.disposeBuffers(this.buffers_);
      this.buffers_ = buffers;
      this.ready = this.generated_ === revision;
      this.getLayer()?.changed();
      this.drawnRevision_ = revision;
    });
    return true;
  }

  renderFrame(frameState) {
    const canvas = super.renderFrame(frameState);
    if (this.drawnRevision_ !== undefined) {
      const r = this.drawnRevision_;
      this.drawnRevision_ = undefined;
      this.onDrawn_(r);
    }
    return canvas;
  }

  forEachFeatureAtCoordinate(coordinate, frameState, hitTolerance, callback, matches) {
    const hit = super.forEachFeatureAtCoordinate(coordinate, frameState, 0, callback, matches);
    if (hit !== undefined || !hitTolerance) return hit;
    // The hit image has half the map's size: look about the point, nearest first.
    const [px, py] = applyToPixel(frameState.coordinateToPixelTransform, coordinate.slice());
    const seen = new Set();
    const once = (feature, layer, geometry) => {
      if (seen.has(feature)) return undefined;
      seen.add(feature);
      return callback(feature, layer, geometry);
    };
    for (const [dx, dy] of ringOffsets(hitTolerance)) {
      const at = applyToPixel(frameState.pixelToCoordinateTransform, [px + dx, py + dy]);
      const found = super.forEachFeatureAtCoordinate(at, frameState, 0, once, matches);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

// ringOffsets are the screen offsets within tolerance px, two apart (a pixel of the hit
// image), nearest first.
const offsetCache = new Map();
function ringOffsets(tolerance) {
  let offsets = offsetCache.get(tolerance);
  if (offsets) return offsets;
  offsets = [];
  for (let dx = -tolerance; dx <= tolerance; dx += 2) {
    for (let dy = -tolerance; dy <= tolerance; dy += 2) {
      if ((dx || dy) && Math.hypot(dx, dy) <= tolerance) offsets.push([dx, dy]);
    }
  }
  offsets.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
  offsetCache.set(tolerance, offsets);
  return offsets;
}

class ShapesLayer extends WebGLVectorLayer {
  constructor(options, onDrawn) {
    super(options);
    this.onDrawn_ = onDrawn;
  }

  createRenderer() {
    return new ShapesRenderer(this, {style: glStyle, variables: {}, disableHitDetection: false}, this.onDrawn_);
  }
}

// paint gives a feature the properties the WebGL style reads, from its annotation.
function paintOf(ann, shown) {
  const color = ann ? ann.label.color : '#ffffff';
  return {color, fill: hexToRgba(color, 0.12), shown: shown ? 1 : 0};
}

// annotationShapes keeps the annotations' features on the map.
//   lifted(feature)  whether it is being worked on (drawn on the canvas layer)
//   visible(ann)     whether the sidebar's filter keeps it
//   style(feature, resolution)  the canvas layer's style for a lifted feature
export function annotationShapes({lifted, visible, style}) {
  const glSource = new VectorSource();
  const liftSource = new VectorSource();
  const labelSource = new VectorSource();
  // Features back on the WebGL layer whose canvas copy waits until the WebGL buffers
  // hold them: feature → the source revision they were put back at.
  const lowering = new Map();
  let map = null;

  const glLayer = new ShapesLayer({source: glSource}, (revision) => {
    for (const [f, r] of lowering) {
      if (r > revision) continue;
      lowering.delete(f);
      if (!lifted(f)) liftSource.removeFeature(f);
    }
  });
  const liftLayer = new VectorLayer({source: liftSource, style});

  const labelStyles = new Map();
  const labelLayer = new VectorLayer({
    source: labelSource,
    maxResolution: LABELS_BELOW,
    style: (f) => {
      const ann = f.get('ann');
      if (!ann || !f.get('shown')) return null;
      let s = labelStyles.get(ann.label.name);
      if (!s) {
        s = new Style({
          text: new Text({
            text: ann.label.name,
            font: '12px system-ui, sans-serif',
            fill: new Fill({color: '#ffffff'}),
            stroke: new Stroke({color: '#000000', width: 3}),
            overflow: true,
            offsetY: -14,
          }),
        });
        labelStyles.set(ann.label.name, s);
      }
      return s;
    },
  });

  // The labels are those of the features in view, when few enough are.
  let labelsDue = false;
  function refreshLabels() {
    labelsDue = false;
    if (!map) return;
    const view = map.getView();
    const size = map.getSize();
    const inView = [];
    if (size && view.getResolution() < LABELS_BELOW) {
      glSource.forEachFeatureInExtent(view.calculateExtent(size), (f) => {
        if (f.get('shown') && !liftSource.hasFeature(f)) inView.push(f);
        return inView.length > LABELS_MAX ? true : undefined;
      });
    }
    labelSource.clear(true);
    if (inView.length <= LABELS_MAX) labelSource.addFeatures(inView);
  }
  function labelsLater() {
    if (labelsDue) return;
    labelsDue = true;
    requestAnimationFrame(refreshLabels);
  }
  glSource.on(['addfeature', 'removefeature'], labelsLater);

  function paint(f, silent) {
    f.setProperties(paintOf(f.get('ann'), !f.get('ann') || visible(f.get('ann'))), silent);
  }

  // toGL puts a feature (back) on the WebGL layer; its canvas copy stays until drawn there.
  function toGL(f) {
    glSource.addFeature(f);
    if (liftSource.hasFeature(f)) lowering.set(f, glSource.getRevision());
  }

  function lift(f) {
    lowering.delete(f);
    if (glSource.hasFeature(f)) glSource.removeFeature(f);
    if (labelSource.hasFeature(f)) labelSource.removeFeature(f);
    if (!liftSource.hasFeature(f)) liftSource.addFeature(f);
  }

  // restate moves a feature to the layer its state asks for.
  function restate(f) {
    if (!has(f)) return;
    if (lifted(f)) lift(f);
    else if (!glSource.hasFeature(f)) toGL(f);
    else liftLayer.changed(); // a canvas copy waiting: its look may have changed
  }

  const has = (f) => glSource.hasFeature(f) || liftSource.hasFeature(f);

  return {
    layers: [glLayer, labelLayer, liftLayer],
    glLayer,
    liftLayer,
    // attach follows the map's view for the labels.
    attach(m) {
      map = m;
      map.on('moveend', refreshLabels);
    },
    // add shows features, many at once in one step for each layer.
    add(features) {
      const up = [];
      const down = [];
      for (const f of features) {
        paint(f, true);
        (lifted(f) ? up : down).push(f);
      }
      if (up.length) liftSource.addFeatures(up);
      if (down.length) glSource.addFeatures(down);
    },
    // put gives a feature new properties (its annotation, saving) and geometry, at once.
    put(f, props, geometry) {
      const ann = 'ann' in props ? props.ann : f.get('ann');
      const next = {...props, ...paintOf(ann, !ann || visible(ann))};
      if (geometry) next.geometry = geometry;
      f.setProperties(next);
      restate(f);
    },
    remove(f) {
      lowering.delete(f);
      for (const s of [glSource, liftSource, labelSource]) if (s.hasFeature(f)) s.removeFeature(f);
    },
    restate,
    // restateLifted restates every lifted feature and the others given.
    restateLifted(others = []) {
      for (const f of new Set([...liftSource.getFeatures(), ...others])) restate(f);
      liftLayer.changed();
    },
    has,
    find: (id) => liftSource.getFeatureById(id) || glSource.getFeatureById(id),
    // all are every feature shown, once each.
    all() {
      const out = glSource.getFeatures();
      for (const f of liftSource.getFeatures()) if (!glSource.hasFeature(f)) out.push(f);
      return out;
    },
    // forEachIntersecting calls fn with each feature whose shape meets extent (map units).
    forEachIntersecting(extent, fn) {
      const seen = new Set();
      for (const s of [liftSource, glSource]) {
        s.forEachFeatureIntersectingExtent(extent, (f) => {
          if (seen.has(f)) return;
          seen.add(f);
          fn(f);
        });
      }
    },
    // refilter paints every feature again after the sidebar's filter changed.
    refilter() {
      for (const f of glSource.getFeatures()) paint(f, true);
      for (const f of liftSource.getFeatures()) paint(f, true);
      glSource.changed();
      liftLayer.changed();
      refreshLabels();
    },
    // restyle redraws the lifted layer (the selection's look changed).
    restyle: () => liftLayer.changed(),
    // stats say how many features each layer holds, for the tests and the benchmark.
    stats: () => ({gl: glSource.getFeatures().length, lifted: liftSource.getFeatures().length, lowering: lowering.size, labels: labelSource.getFeatures().length}),
  };
}
