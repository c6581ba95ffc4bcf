// The annotator's conflict bar: a save refused because someone else saved first (412,
// savechain.js) names who saved which version and says what ours would have done; their
// version is on the map and in the form, ours dashed beside it on the ghost layer. The
// bar's buttons keep theirs or reapply ours on top.

import Feature from 'ol/Feature.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Stroke, Style} from 'ol/style.js';

import {el} from './common.js';
import {mapGeometry} from './geometry.js';
import {describeChange, when} from './team.js';

const $ = (id) => document.getElementById(id);

// conflictBar runs the bar: conflict() is the save chain's conflict (null when none),
// selected() the feature the editor shows, labelsById the labels (to name a relabel),
// keepTheirs() and reapplyMine() the chain's answers. It returns the ghost layer (for the
// map), showMine(changes) to draw the refused change, changed() when the conflict comes
// or goes, and render() to show the bar for the selection.
export function conflictBar({conflict, selected, labelsById, keepTheirs, reapplyMine}) {
  const conflictEl = $('conflict');
  const ghostSource = new VectorSource();
  const layer = new VectorLayer({
    source: ghostSource,
    visible: false,
    style: new Style({
      stroke: new Stroke({color: '#ffd60a', width: 2, lineDash: [4, 4]}),
      image: new CircleStyle({radius: 8, stroke: new Stroke({color: '#ffd60a', width: 2, lineDash: [3, 3]})}),
    }),
  });

  function render() {
    const c = conflict();
    const show = !!c && c.item === selected();
    conflictEl.hidden = !show;
    layer.setVisible(show);
    if (!show) return;
    const t = c.theirs;
    conflictEl.dataset.theirsVersion = t.version;
    conflictEl.dataset.theirsBy = t.updated_by;
    $('conflict-text').replaceChildren(
      el('strong', {class: 'conflict-who', text: t.updated_by}),
      ` saved version ${t.version} at `,
      when(t.updated_at),
      ', after the version your change was based on. Their version is shown.',
    );
    $('conflict-mine').textContent = `Your change, not saved: ${c.changes.map((ch) => describeChange(ch, labelsById)).join('; ')}.`;
  }

  $('conflict-keep-theirs').addEventListener('click', () => keepTheirs());
  $('conflict-reapply').addEventListener('click', () => reapplyMine());

  return {
    layer,
    render,
    showMine(changes) {
      ghostSource.clear();
      for (const ch of changes) {
        if (ch.body && ch.body.geometry) ghostSource.addFeature(new Feature(mapGeometry(ch.body.geometry)));
      }
    },
    changed() {
      if (!conflict()) ghostSource.clear();
      render();
    },
  };
}
