// The map page: every georeferenced image's footprint and its annotations on the earth.

import GeoJSON from 'ol/format/GeoJSON.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';
import {createEmpty, extend, isEmpty} from 'ol/extent.js';

import {el, flash, hexToRgba} from './common.js';
import {earthMap} from './earth.js';


const format = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});
const {map} = earthMap('world-map', document.getElementById('earth-status'));

const footprints = new VectorSource();
map.addLayer(new VectorLayer({
  source: footprints,
  style: (f) => new Style({
    stroke: new Stroke({color: '#ffd60a', width: 2}),
    fill: new Fill({color: 'rgba(255, 214, 10, 0.06)'}),
    text: new Text({text: f.get('title'), font: '12px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true}),
  }),
}));

const annotations = new VectorSource();
map.addLayer(new VectorLayer({
  source: annotations,
  style: (f) => {
    const color = f.get('classification')?.color ? `rgb(${f.get('classification').color.join(',')})` : '#fff';
    return new Style({
      stroke: new Stroke({color, width: 2}),
      fill: new Fill({color: color.startsWith('rgb(') ? color.replace('rgb(', 'rgba(').replace(')', ', 0.15)') : hexToRgba('#ffffff', 0.15)}),
      image: new CircleStyle({radius: 5, fill: new Fill({color}), stroke: new Stroke({color: '#000', width: 1})}),
    });
  },
}));

// Clicking a footprint opens its image.
map.on('click', (e) => {
  const f = map.forEachFeatureAtPixel(e.pixel, (hit) => hit, {layerFilter: (l) => l.getSource() === footprints});
  if (f) window.location.href = `/images/${encodeURIComponent(f.getId())}`;
});

async function start() {
  try {
    const [fp, anns] = await Promise.all([
      fetch('/api/v1/footprints.geojson').then((r) => r.json()),
      fetch('/api/v1/export.geojson?crs=wgs84').then((r) => r.json()),
    ]);
    footprints.addFeatures(format.readFeatures(fp));
    annotations.addFeatures(format.readFeatures(anns));
    const list = document.getElementById('footprint-list');
    list.replaceChildren(
      ...fp.features.map((f) =>
        el('li', {}, el('a', {href: `/images/${encodeURIComponent(f.id)}`, text: f.properties.title}), ' ',
          el('span', {class: 'muted', text: `${f.properties.annotation_count} annotations · ${f.properties.transform}`})),
      ),
    );
    document.getElementById('map-empty').hidden = fp.features.length > 0;
    const ext = createEmpty();
    footprints.getFeatures().forEach((f) => extend(ext, f.getGeometry().getExtent()));
    if (!isEmpty(ext)) map.getView().fit(ext, {padding: [60, 60, 60, 60], maxZoom: 16});
    document.querySelector('.earth-page').dataset.ready = 'true';
  } catch (err) {
    flash(`Could not load the map: ${err.message}`, 'error');
  }
}

start();
