// The map page: every georeferenced image's footprint and its annotations on the earth.

import GeoJSON from 'ol/format/GeoJSON.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Circle as CircleStyle, Fill, Stroke, Style, Text} from 'ol/style.js';
import {createEmpty, extend, isEmpty} from 'ol/extent.js';
import Draw from 'ol/interaction/Draw.js';
import {fromLonLat} from 'ol/proj.js';

import {api, can, el, flash, hexToRgba} from './common.js';
import {earthMap, imageTileLayer} from './earth.js';


const format = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});
const {map} = earthMap('world-map', document.getElementById('earth-status'));
// For the browser tests and the console: where a lon/lat is on the screen.
window.satmark = {map, imageLayers: () => imageLayers, tilesShown: () => tilesShown, lonLatToScreen: (ll) => map.getPixelFromCoordinate(fromLonLat(ll))};

// The images themselves, warped onto the map by satmark's XYZ tiles, under the outlines.
const imageLayers = [];
let tilesShown = 0;
function addImageLayers(fc) {
  for (const f of fc.features) {
    const layer = imageTileLayer(f);
    if (!layer) continue;
    layer.getSource().on('tileloadend', () => tilesShown++);
    imageLayers.push(layer);
    map.getLayers().insertAt(map.getLayers().getArray().indexOf(footprintLayer), layer);
  }
}

const footprints = new VectorSource();
const footprintLayer = new VectorLayer({
  source: footprints,
  style: (f) => new Style({
    stroke: new Stroke({color: '#ffd60a', width: 2}),
    fill: new Fill({color: 'rgba(255, 214, 10, 0.06)'}),
    text: new Text({text: f.get('title'), font: '12px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true}),
  }),
});
map.addLayer(footprintLayer);

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

const sites = new VectorSource();
map.addLayer(new VectorLayer({
  source: sites,
  style: (f) => new Style({
    stroke: new Stroke({color: '#4cc9f0', width: 2, lineDash: [8, 6]}),
    fill: new Fill({color: 'rgba(76, 201, 240, 0.06)'}),
    text: new Text({text: f.get('name'), font: 'bold 12px system-ui', fill: new Fill({color: '#4cc9f0'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true}),
  }),
}));

// The objects followed across images: their paths, each stop labelled with its date.
const trackSource = new VectorSource();
map.addLayer(new VectorLayer({
  source: trackSource,
  style: (f) => new Style({
    stroke: new Stroke({color: '#ff6b6b', width: 3}),
    image: new CircleStyle({radius: 5, fill: new Fill({color: '#ff6b6b'}), stroke: new Stroke({color: '#000', width: 1})}),
    text: new Text({text: f.get('label'), font: '11px system-ui', fill: new Fill({color: '#fff'}), stroke: new Stroke({color: '#000', width: 3}), overflow: true, offsetY: -10}),
  }),
}));

async function loadTracks() {
  const fc = await api('GET', '/api/v1/tracks.geojson');
  trackSource.clear();
  for (const t of fc.features) {
    if (!t.geometry) continue;
    trackSource.addFeature(format.readFeature({...t, properties: {label: t.properties.name}}));
    const coords = t.geometry.type === 'Point' ? [t.geometry.coordinates] : t.geometry.coordinates;
    coords.forEach((c, i) => trackSource.addFeature(format.readFeature({type: 'Feature', geometry: {type: 'Point', coordinates: c},
      properties: {label: (t.properties.coordTimes[i] || '').slice(0, 10)}})));
  }
}

async function loadSites() {
  const list = await api('GET', '/api/v1/sites');
  sites.clear();
  sites.addFeatures(list.map((s) => format.readFeature({type: 'Feature', id: s.id, geometry: s.area, properties: {name: s.name}})));
  document.getElementById('site-list').replaceChildren(...list.map((s) =>
    el('li', {dataset: {siteId: s.id}}, el('a', {href: `/sites/${encodeURIComponent(s.id)}`, text: s.name}), ' ',
      el('span', {class: 'muted', text: `${s.images.length} images`}))));
}

// Drawing a site: a polygon on the map, then its name.
function siteDrawing() {
  const button = document.getElementById('draw-site');
  if (!button || !can('analyst')) return;
  const form = document.getElementById('draw-site-form');
  const save = document.getElementById('draw-site-save');
  const drawn = new VectorSource();
  map.addLayer(new VectorLayer({source: drawn, style: new Style({stroke: new Stroke({color: '#4cc9f0', width: 3}), fill: new Fill({color: 'rgba(76, 201, 240, 0.15)'})})}));
  let draw = null;
  const stop = () => {
    drawing = false;
    if (draw) map.removeInteraction(draw);
    draw = null;
    drawn.clear();
    form.hidden = true;
    button.hidden = false;
    save.disabled = true;
  };
  const begin = () => {
    stop();
    button.hidden = true;
    form.hidden = false;
    drawing = true;
    draw = new Draw({source: drawn, type: 'Polygon'});
    draw.on('drawend', () => {
      // (the click that ends the drawing is still to come: let it pass first)
      setTimeout(() => {
        if (draw) map.removeInteraction(draw);
        draw = null;
      });
      save.disabled = false;
      document.getElementById('draw-site-name').focus();
    });
    map.addInteraction(draw);
  };
  button.addEventListener('click', begin);
  document.getElementById('draw-site-cancel').addEventListener('click', stop);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = drawn.getFeatures()[0];
    if (!f) return;
    const area = format.writeGeometryObject(f.getGeometry(), {decimals: 7});
    try {
      const site = await api('POST', '/api/v1/sites', {name: document.getElementById('draw-site-name').value, area});
      flash(`Site “${site.name}” saved: ${site.images.length} images.`);
      stop();
      await loadSites();
    } catch (err) {
      flash(`Could not save the site: ${err.message}`, 'error');
    }
  });
  if (new URLSearchParams(location.search).get('draw') === 'site') begin();
}

// Clicking a footprint opens its image, except while a site is drawn over it.
let drawing = false;
map.on('click', (e) => {
  if (drawing) return;
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
    addImageLayers(fp);
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
    await loadSites();
    await loadTracks();
    siteDrawing();
    document.querySelector('.earth-page').dataset.ready = 'true';
  } catch (err) {
    flash(`Could not load the map: ${err.message}`, 'error');
  }
}

start();
