import assert from 'node:assert/strict';
import {test} from 'node:test';

import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';

import {ADD_FEATURES, ShapeSource} from '../src/shapesource.js';

const at = (id, x, y) => {
  const f = new Feature(new Point([x, y]));
  if (id) f.setId(id);
  return f;
};

test('features added at once are told of in one event, those refused left out', () => {
  const s = new ShapeSource();
  const told = [];
  s.on(ADD_FEATURES, (e) => told.push(e.features));
  const a = at('a', 1, 1);
  s.addFeature(a);
  const b = at('b', 2, 2);
  const again = at('a', 3, 3); // an id the source has
  const twin = at('b', 4, 4); // an id given twice in the same list
  const plain = at(undefined, 5, 5);
  s.addFeatures([b, again, twin, plain, a]);
  assert.deepEqual(told, [[a], [b, plain]]);
  assert.equal(s.getFeatures().length, 3);
  s.addFeatures([a, b]);
  assert.equal(told.length, 2, 'nothing new, no event');
});

test('OpenLayers still tells of each feature to whoever listens for that', () => {
  const s = new ShapeSource();
  const each = [];
  s.on('addfeature', (e) => each.push(e.feature.getId()));
  s.addFeatures([at('a', 1, 1), at('b', 2, 2)]);
  assert.deepEqual(each, ['a', 'b']);
});

test('changes to a feature are followed until it is removed', () => {
  const s = new ShapeSource();
  const f = at('a', 1, 1);
  s.addFeatures([f]);
  let changed = 0;
  s.on('changefeature', () => changed++);
  f.setGeometry(new Point([50, 50]));
  assert.ok(changed > 0, 'a new geometry');
  assert.deepEqual(s.getFeaturesInExtent([40, 40, 60, 60]), [f], 'found at its new place');
  assert.deepEqual(s.getFeaturesInExtent([0, 0, 2, 2]), [], 'not at its old one');
  const before = changed;
  f.set('shown', 0);
  assert.ok(changed > before, 'a property changed');
  s.removeFeature(f);
  const removed = changed;
  f.setGeometry(new Point([9, 9]));
  assert.equal(changed, removed, 'not followed once removed');
  assert.equal(f.getListeners('change'), undefined);
  s.addFeatures([f]);
  f.setId('b');
  assert.equal(s.getFeatureById('b'), f, 'the id index follows the feature');
});
