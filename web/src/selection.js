// What is selected on the annotator's page, and moving and reshaping it: a map click
// selects one (the Select interaction), Shift-click, the Box tool and the bulk bar many
// (bulk.js); the selected are dragged to move them (Translate) and their corners to
// reshape them (Modify: a box stays a box), each change sent through the save chain.
// The selected are lifted on the map and marked in the list.

import {never, shiftKeyOnly, singleClick} from 'ol/events/condition.js';
import Modify from 'ol/interaction/Modify.js';
import Select from 'ol/interaction/Select.js';
import Translate from 'ol/interaction/Translate.js';

import {bulkSelection} from './bulk.js';
import {pixelGeometry, squareUp} from './geometry.js';

const isBox = (f) => f && ['rectangle', 'rotated_rectangle'].includes(f.get('ann')?.shape);

// annotationSelection adds the interactions to the map. page gives:
//   map, api, imageId, width, height, editable
//   state  the page's: selected (the one the editor shows), dirty, modifying
//   shapes  the annotations on the map (shapes.js); chain  the save chain (savechain.js)
//   mark(feature)  mark its row in the list as it now is
//   renderEditor()  show the selected one in the editor
//   put(feature, ann), remove(feature), record(steps), catchUp()  as bulk.js takes them
// It returns select(feature, {fromMap, zoom}), isPicked(feature) (selected, alone or
// with others), bulk (bulk.js's), enable(selecting, editing) (map clicks select; the
// selected move and reshape) and toolChanged(), said when the tool changes.
export function annotationSelection({map, api, imageId, width, height, editable, state, shapes, chain, mark, renderEditor, put, remove, record, catchUp}) {
  const isShapesLayer = (l) => l === shapes.tiledLayer || l === shapes.liftLayer;

  // A map click selects 250 ms later, once it is sure not to be a double click: one made
  // with a drawing tool must not select when the tool has changed to Select meanwhile.
  let toolChangedAt = 0;
  const selectInteraction = new Select({
    layers: isShapesLayer,
    style: null,
    hitTolerance: 4,
    // Shift-click adds to the selection (bulk.js); on nothing, it leaves the selection be.
    condition: (e) =>
      singleClick(e) &&
      e.originalEvent.timeStamp >= toolChangedAt &&
      !(shiftKeyOnly(e) && !map.hasFeatureAtPixel(e.pixel, {layerFilter: isShapesLayer, hitTolerance: 4})),
    toggleCondition: never,
  });
  selectInteraction.on('select', (e) => {
    // A click on one of many selected leaves it in the collection, not in e.selected.
    const f = e.selected[0] || selectInteraction.getFeatures().item(0) || null;
    if (editable && shiftKeyOnly(e.mapBrowserEvent)) {
      bulk.toggle(f);
      return;
    }
    bulk.clear();
    select(f, {fromMap: true});
  });
  map.addInteraction(selectInteraction);

  // Many at once: shift-click, the Box tool and the bulk bar.
  const bulk = bulkSelection({
    api,
    imageId,
    map,
    shapes,
    select: (f) => select(f),
    selectedFeature: () => state.selected,
    selectedFeatures: selectInteraction.getFeatures(),
    isSaving: (f) => chain.isSaving(f),
    put,
    remove,
    record,
    catchUp,
    refresh: () => syncPicked(),
  });

  function sendGeometry(f, what) {
    const ann = f.get('ann');
    if (!ann) return;
    const geometry = pixelGeometry(f.getGeometry(), width, height);
    if (JSON.stringify(geometry) === JSON.stringify(ann.geometry)) return; // a click, not a move
    chain.send(f, {kind: 'patch', body: {geometry}, what});
  }

  let translate = null;
  let modify = null;
  if (editable) {
    translate = new Translate({features: selectInteraction.getFeatures(), hitTolerance: 4});
    translate.on('translatestart', () => (state.modifying = true));
    translate.on('translateend', (e) => {
      state.modifying = false;
      for (const f of e.features.getArray()) sendGeometry(f, 'the move');
    });

    modify = new Modify({
      features: selectInteraction.getFeatures(),
      insertVertexCondition: () => !isBox(state.selected),
      pixelTolerance: 8,
    });
    let beforeModify = null;
    modify.on('modifystart', (e) => {
      state.modifying = true;
      const f = e.features.item(0);
      beforeModify = f && f.getGeometry().getType() === 'Polygon' ? f.getGeometry().getCoordinates()[0].map((c) => [...c]) : null;
    });
    modify.on('modifyend', (e) => {
      state.modifying = false;
      for (const f of e.features.getArray()) {
        if (isBox(f) && beforeModify) {
          const ring = squareUp(beforeModify, f.getGeometry().getCoordinates()[0]);
          if (ring) f.getGeometry().setCoordinates([ring]);
        }
        sendGeometry(f, 'the new shape');
      }
    });
    map.addInteraction(translate);
    map.addInteraction(modify);
  }

  function select(feature, {fromMap = false, zoom = false} = {}) {
    const prev = state.selected;
    if (prev !== feature) {
      state.dirty.clear();
      state.modifying = false;
    }
    state.selected = feature;
    const selected = selectInteraction.getFeatures();
    if (!fromMap) {
      selected.clear();
      if (feature) selected.push(feature);
    }
    if (feature && zoom) map.getView().fit(feature.getGeometry().getExtent(), {padding: [80, 80, 80, 80], maxZoom: map.getView().getZoomForResolution(0.5), duration: 250});
    syncPicked();
    renderEditor();
    if (prev && prev !== feature && shapes.has(prev)) chain.settle(prev);
  }

  // syncPicked shows what is selected (one, or many together): lifted on the map, marked
  // in the list; and what no longer is, back as it was.
  let pickedShown = new Set();
  function syncPicked() {
    const now = new Set(bulk.features());
    if (state.selected) now.add(state.selected);
    for (const f of pickedShown) if (!now.has(f)) mark(f);
    for (const f of now) if (!pickedShown.has(f)) mark(f);
    shapes.restateLifted([...now, ...pickedShown]);
    pickedShown = now;
  }

  return {
    select,
    bulk,
    isPicked: (f) => f === state.selected || bulk.has(f),
    enable(selecting, editing) {
      selectInteraction.setActive(selecting);
      translate?.setActive(editing);
      modify?.setActive(editing);
    },
    toolChanged() {
      toolChangedAt = performance.now();
    },
  };
}
