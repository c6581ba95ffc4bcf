// How the annotator draws the annotations being worked on (the lifted ones, shapes.js):
// the label's colour, heavier and haloed when selected, dashed while saving, the label's
// name when zoomed in; nothing for one the find-your-work filter hides.

import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';

import {hexToRgba} from './common.js';
import {LABELS_BELOW} from './shapes.js';

// annotationStyle gives styleFor(feature, resolution, selected); shown(ann) says whether
// the filter keeps an annotation (the selection always shows).
export function annotationStyle({shown}) {
  // Styles are made once per look and shared: with many annotations, making new ones for
  // every feature in every frame was most of the drawing's time.
  const styleCache = new window.Map();

  return function styleFor(feature, resolution, selected) {
    const ann = feature.get('ann');
    if (ann && !selected && !shown(ann)) return null;
    const color = ann ? ann.label.color : '#ffffff';
    const saving = !!feature.get('saving');
    const text = ann && resolution < LABELS_BELOW ? ann.label.name : '';
    const key = `${color}|${selected ? 1 : 0}|${saving ? 1 : 0}|${text}`;
    let styles = styleCache.get(key);
    if (styles) return styles;
    const stroke = new Stroke({color, width: selected ? 3 : 2, lineDash: saving ? [6, 4] : undefined});
    styles = [];
    if (selected) styles.push(new Style({stroke: new Stroke({color: '#ffffff', width: 6}), image: new CircleStyle({radius: 9, fill: new Fill({color: '#ffffff'})})}));
    styles.push(
      new Style({
        stroke,
        fill: new Fill({color: hexToRgba(color, selected ? 0.25 : 0.12)}),
        image: new CircleStyle({radius: 6, fill: new Fill({color}), stroke: new Stroke({color: '#000000', width: 1})}),
        text: text
          ? new Text({
              text,
              font: '12px system-ui, sans-serif',
              fill: new Fill({color: '#ffffff'}),
              stroke: new Stroke({color: '#000000', width: 3}),
              overflow: true,
              offsetY: -14,
            })
          : undefined,
      }),
    );
    styleCache.set(key, styles);
    return styles;
  };
}
