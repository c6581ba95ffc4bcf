// The annotations on the annotator's map, fast with a hundred thousand of them. Every
// annotation nobody is working on is drawn into tiles of pixels (shapetiles.js): a pan
// or a zoom copies tiles, and a change draws again only the tiles under it. The few
// being worked on (the selected one, those selected together, those being saved, a
// drawing not saved yet) are lifted onto a canvas vector layer above, with the page's
// own looks, so that moving, reshaping or relabelling one redraws that one alone. Label
// names show on a canvas layer when zoomed in on a few.
//
// Features carry their annotation as `ann`, and beside it the properties the tiles are
// painted with (colour, fill, shown).

import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Fill, Stroke, Style, Text} from 'ol/style.js';

import {hexToRgba} from './common.js';
import {ADD_FEATURES, ShapeSource} from './shapesource.js';
import {shapeTiles} from './shapetiles.js';

// Label names show below this resolution (image pixels per screen pixel), as on the
// lifted layer, and only while at most LABELS_MAX annotations are in view.
export const LABELS_BELOW = 4;
const LABELS_MAX = 400;

// paintOf is what the tiles draw a feature with, from its annotation: one object for
// each colour and shown, shared (only read), not one made for each of many features.
const paints = new Map(); // colour → [left out, shown]
function paintOf(ann, shown) {
  const color = ann ? ann.label.color : '#ffffff';
  let p = paints.get(color);
  if (!p) {
    const fill = hexToRgba(color, 0.12);
    paints.set(color, (p = [0, 1].map((s) => Object.freeze({color, fill, shown: s}))));
  }
  return p[shown ? 1 : 0];
}

// annotationShapes keeps the annotations' features on the map of the image whose map
// extent is extent.
//   lifted(feature)  whether it is being worked on (drawn on the canvas layer)
//   visible(ann)     whether the sidebar's filter keeps it
//   style(feature, resolution)  the canvas layer's style for a lifted feature
export function annotationShapes({extent, lifted, visible, style}) {
  const tiledSource = new ShapeSource();
  const liftSource = new VectorSource();
  const labelSource = new VectorSource();
  // Features back in the tiles whose canvas copy waits until the tiles in view show them.
  const lowering = new Set();
  let map = null;

  const tiles = shapeTiles({
    source: tiledSource,
    extent,
    onDrawn: () => {
      for (const f of lowering) {
        if (!tiles.freshAt(f.getGeometry().getExtent())) continue;
        lowering.delete(f);
        if (!lifted(f)) liftSource.removeFeature(f);
      }
    },
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
      tiledSource.forEachFeatureInExtent(view.calculateExtent(size), (f) => {
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
  tiledSource.on([ADD_FEATURES, 'removefeature'], labelsLater);

  function paint(f, silent) {
    f.setProperties(paintOf(f.get('ann'), !f.get('ann') || visible(f.get('ann'))), silent);
  }

  // lower puts a feature (back) in the tiles; its canvas copy stays until they show it.
  function lower(f) {
    tiledSource.addFeature(f);
    if (liftSource.hasFeature(f)) lowering.add(f);
  }

  function lift(f) {
    lowering.delete(f);
    if (tiledSource.hasFeature(f)) tiledSource.removeFeature(f);
    if (labelSource.hasFeature(f)) labelSource.removeFeature(f);
    if (!liftSource.hasFeature(f)) liftSource.addFeature(f);
  }

  // restate moves a feature to the layer its state asks for.
  function restate(f) {
    if (!has(f)) return;
    if (lifted(f)) lift(f);
    else if (!tiledSource.hasFeature(f)) lower(f);
    else liftLayer.changed(); // a canvas copy waiting: its look may have changed
  }

  const has = (f) => tiledSource.hasFeature(f) || liftSource.hasFeature(f);

  return {
    layers: [tiles.layer, labelLayer, liftLayer],
    tiledLayer: tiles.layer,
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
      if (down.length) tiledSource.addFeatures(down);
    },
    // put gives a feature new properties (its annotation, saving) and geometry, at once:
    // the properties silently, then one change, of the geometry or changed() (an event
    // for each property made the tiles, the lifted layer and the source's index take it
    // up one by one). The geometry is set as OpenLayers sets it, so that its changes are
    // followed (the editing tools move it).
    put(f, props, geometry) {
      const ann = 'ann' in props ? props.ann : f.get('ann');
      f.setProperties({...props, ...paintOf(ann, !ann || visible(ann))}, true);
      if (geometry && geometry !== f.getGeometry()) f.setGeometry(geometry);
      else f.changed();
      restate(f);
    },
    remove(f) {
      lowering.delete(f);
      for (const s of [tiledSource, liftSource, labelSource]) if (s.hasFeature(f)) s.removeFeature(f);
    },
    restate,
    // restateLifted restates every lifted feature and the others given.
    restateLifted(others = []) {
      for (const f of new Set([...liftSource.getFeatures(), ...others])) restate(f);
      liftLayer.changed();
    },
    has,
    find: (id) => liftSource.getFeatureById(id) || tiledSource.getFeatureById(id),
    // all are every feature shown, once each.
    all() {
      const out = tiledSource.getFeatures();
      for (const f of liftSource.getFeatures()) if (!tiledSource.hasFeature(f)) out.push(f);
      return out;
    },
    // forEachIntersecting calls fn with each feature whose shape meets extent (map units).
    forEachIntersecting(box, fn) {
      const seen = new Set();
      for (const s of [liftSource, tiledSource]) {
        s.forEachFeatureIntersectingExtent(box, (f) => {
          if (seen.has(f)) return;
          seen.add(f);
          fn(f);
        });
      }
    },
    // refilter paints every feature again after the sidebar's filter changed.
    refilter() {
      for (const f of tiledSource.getFeatures()) paint(f, true);
      for (const f of liftSource.getFeatures()) paint(f, true);
      tiles.invalidateAll();
      liftLayer.changed();
      refreshLabels();
    },
    // restyle redraws the lifted layer (the selection's look changed).
    restyle: () => liftLayer.changed(),
    // stats say how many features each layer holds, for the tests and the benchmark.
    stats: () => ({tiled: tiledSource.getFeatures().length, lifted: liftSource.getFeatures().length, lowering: lowering.size, labels: labelSource.getFeatures().length, tiles: tiles.tilesKept()}),
  };
}
