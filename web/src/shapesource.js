// The source of the many annotations' features: OpenLayers' vector source, telling of
// features added with one 'addfeatures' event for each addition (all the features a page
// of the list brings, or the one shape let go after its edit), carrying those added as
// features. OpenLayers' own 'addfeature' is an event object and a dispatch for every
// feature; with a hundred thousand annotations they were about half a second of the
// page's load in a profile. It sends them still to whoever listens for them; nothing here
// does. It also follows every feature's changes with one listener function (OpenLayers
// binds two for each feature).
//
// It reaches into OpenLayers' vector source (addToIndex_, setupChangeEvents_,
// handleFeatureChange_, featureChangeKeys_, as ol 10.11 names them): the version is pinned
// in package.json, and web/test/shapesource.test.js checks the events against it.

import BaseEvent from 'ol/events/Event.js';
import EventType from 'ol/events/EventType.js';
import ObjectEventType from 'ol/ObjectEventType.js';
import VectorSource from 'ol/source/Vector.js';

export const ADD_FEATURES = 'addfeatures';

class FeaturesAdded extends BaseEvent {
  constructor(features) {
    super(ADD_FEATURES);
    this.features = features;
  }
}

export class ShapeSource extends VectorSource {
  // addToIndex_ takes a feature into the source's indexes, or refuses it (added before,
  // or another of its id is in): those taken are noted for the event.
  addToIndex_(featureKey, feature) {
    const taken = super.addToIndex_(featureKey, feature);
    if (taken) this.taken_?.push(feature);
    return taken;
  }

  addFeatureInternal(feature) {
    this.tell_(() => super.addFeatureInternal(feature));
  }

  addFeaturesInternal(features) {
    this.tell_(() => super.addFeaturesInternal(features));
  }

  tell_(add) {
    this.taken_ = [];
    add();
    const added = this.taken_;
    this.taken_ = null;
    if (added.length) this.dispatchEvent(new FeaturesAdded(added));
  }

  setupChangeEvents_(featureKey, feature) {
    const listener = (this.featureChanged_ ??= (e) => this.handleFeatureChange_(e));
    const keys = [];
    for (const type of [EventType.CHANGE, ObjectEventType.PROPERTYCHANGE]) {
      feature.addEventListener(type, listener);
      keys.push({target: feature, type, listener});
    }
    this.featureChangeKeys_[featureKey] = keys;
  }
}
