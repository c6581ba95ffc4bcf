// What the editor's buttons and the keys do to the selected annotation: delete it, make
// an outline a ship box (Shift+B), turn a ship box round (Shift+V). The changes are built
// free of the page (shipBoxChange, swapEndsChange: unit-tested in test/editactions.test.js)
// and sent through the save chain.

import {shipBox, swapEnds} from './shipbox.js';

// shipBoxChange: a polygon becomes the smallest rotated rectangle around it, its first side
// along the ship from stern to bow (the bow is the narrower end), so length, beam and
// heading show at once. It returns {change} (for the save chain), {error} (an outline that
// encloses nothing) or null (not a polygon).
export function shipBoxChange(ann) {
  if (!ann || ann.shape !== 'polygon') return null;
  const ring = shipBox(ann.geometry.coordinates[0]);
  if (!ring) return {error: 'This outline encloses no area: there is no box to make of it.'};
  return {change: {kind: 'patch', body: {shape: 'rotated_rectangle', geometry: {type: 'Polygon', coordinates: [ring]}}, what: 'the ship box'}};
}

// swapEndsChange turns a ship box round when the bow is the other end (null: not a ship box).
export function swapEndsChange(ann) {
  if (!ann || ann.shape !== 'rotated_rectangle') return null;
  return {kind: 'patch', body: {geometry: {type: 'Polygon', coordinates: [swapEnds(ann.geometry.coordinates[0])]}}, what: 'bow and stern'};
}

// editActions takes editable, state (the page's: selected), chain (the save chain) and
// flash (to say why there is no ship box); each action does nothing for a viewer or
// without a selection.
export function editActions({editable, state, chain, flash}) {
  const selectedAnn = () => editable && state.selected && state.selected.get('ann');
  return {
    toShipBox() {
      const r = shipBoxChange(selectedAnn());
      if (r?.error) flash(r.error, 'error');
      else if (r) chain.send(state.selected, r.change);
    },
    swapShipEnds() {
      const change = swapEndsChange(selectedAnn());
      if (change) chain.send(state.selected, change);
    },
    removeSelected() {
      if (editable && state.selected) chain.send(state.selected, {kind: 'delete', what: 'the deletion'});
    },
  };
}
