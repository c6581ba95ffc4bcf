// A map of the earth for the georeference editor, the map and the site pages:
// OpenStreetMap tiles when the browser can reach them, over Natural Earth's land and
// country borders (1:50 million, from the world-atlas package, served by satmark itself,
// so they show with no internet), and a longitude/latitude grid.

import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Graticule from 'ol/layer/Graticule.js';
import TileLayer from 'ol/layer/Tile.js';
import WebGLTileLayer from 'ol/layer/WebGLTile.js';
import OSM from 'ol/source/OSM.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import TopoJSON from 'ol/format/TopoJSON.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import XYZ from 'ol/source/XYZ.js';
import {Stroke, Style, Text, Fill} from 'ol/style.js';

import {style} from './adjustsettings.js';

// (esbuild copies the file into dist/ and gives its URL)
import countriesURL from 'world-atlas/countries-50m.json';

// offlineBase is Natural Earth's land (filled) and country borders.
function offlineBase() {
  const land = new Style({fill: new Fill({color: '#2b3a2e'}), stroke: new Stroke({color: '#7d8f80', width: 0.8})});
  return new VectorLayer({
    source: new VectorSource({url: countriesURL, format: new TopoJSON({layers: ['countries'], dataProjection: 'EPSG:4326'}), overlaps: false}),
    style: land,
    background: '#0e2233',
    properties: {name: 'natural-earth'},
  });
}

export function earthMap(target, statusEl) {
  const osm = new TileLayer({source: new OSM()});
  const grid = new Graticule({
    showLabels: true,
    wrapX: false,
    strokeStyle: new Stroke({color: 'rgba(120, 160, 200, 0.6)', width: 1}),
    lonLabelStyle: new Text({font: '11px system-ui', textBaseline: 'bottom', fill: new Fill({color: '#cfe3ff'}), stroke: new Stroke({color: '#000', width: 3})}),
    latLabelStyle: new Text({font: '11px system-ui', textAlign: 'end', fill: new Fill({color: '#cfe3ff'}), stroke: new Stroke({color: '#000', width: 3})}),
  });
  const base = offlineBase();
  const map = new Map({target, layers: [base, osm, grid], view: new View({center: [0, 0], zoom: 2, maxZoom: 21})});
  let failed = 0;
  let loaded = 0;
  osm.getSource().on('tileloadend', () => loaded++);
  osm.getSource().on('tileloaderror', () => {
    failed++;
    if (loaded === 0 && failed >= 2 && osm.getVisible()) {
      osm.setVisible(false);
      if (statusEl) {
        statusEl.textContent = 'OpenStreetMap cannot be reached: showing the offline map (Natural Earth coastlines and borders) and a longitude/latitude grid.';
        statusEl.hidden = false;
      }
    }
  });
  return {map, osm, grid, base};
}

export const lineStyle = (color, width = 2) => new Style({stroke: new Stroke({color, width})});

const geojson = new GeoJSON({dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857'});

// tileLayerOptions are a layer's options for the XYZ tiles of footprint feature f.
const tileLayerOptions = (f) => ({
  source: new XYZ({url: f.properties.tiles, maxZoom: f.properties.max_zoom, transition: 0}),
  extent: geojson.readFeature(f).getGeometry().getExtent(),
  properties: {imageId: f.id, title: f.properties.title},
});

// imageTileLayer draws one georeferenced image on a map, warped by satmark's XYZ tiles,
// from a feature of /api/v1/footprints.geojson; null when it has no tiles.
export function imageTileLayer(f) {
  if (!f.properties.tiles) return null;
  return new TileLayer(tileLayerOptions(f));
}

// adjustedTileLayer is imageTileLayer's image drawn by a WebGL tile layer with the
// image's adjustments (adjustsettings.js) applied; null when it has no tiles.
export function adjustedTileLayer(f, adjustments) {
  if (!f.properties.tiles) return null;
  return new WebGLTileLayer({...tileLayerOptions(f), style: style(adjustments)});
}
