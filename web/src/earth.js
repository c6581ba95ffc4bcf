// A map of the earth for the georeference editor and the map page: OpenStreetMap tiles
// when the browser can reach them, and always a longitude/latitude grid, which is all
// there is offline.

import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Graticule from 'ol/layer/Graticule.js';
import TileLayer from 'ol/layer/Tile.js';
import OSM from 'ol/source/OSM.js';
import {Stroke, Style, Text, Fill} from 'ol/style.js';

export function earthMap(target, statusEl) {
  const osm = new TileLayer({source: new OSM()});
  const grid = new Graticule({
    showLabels: true,
    wrapX: false,
    strokeStyle: new Stroke({color: 'rgba(120, 160, 200, 0.6)', width: 1}),
    lonLabelStyle: new Text({font: '11px system-ui', textBaseline: 'bottom', fill: new Fill({color: '#cfe3ff'}), stroke: new Stroke({color: '#000', width: 3})}),
    latLabelStyle: new Text({font: '11px system-ui', textAlign: 'end', fill: new Fill({color: '#cfe3ff'}), stroke: new Stroke({color: '#000', width: 3})}),
  });
  const map = new Map({target, layers: [osm, grid], view: new View({center: [0, 0], zoom: 2, maxZoom: 21})});
  let failed = 0;
  let loaded = 0;
  osm.getSource().on('tileloadend', () => loaded++);
  osm.getSource().on('tileloaderror', () => {
    failed++;
    if (loaded === 0 && failed >= 2 && osm.getVisible()) {
      osm.setVisible(false);
      if (statusEl) {
        statusEl.textContent = 'OpenStreetMap cannot be reached: showing a longitude/latitude grid.';
        statusEl.hidden = false;
      }
    }
  });
  return {map, osm, grid};
}

export const lineStyle = (color, width = 2) => new Style({stroke: new Stroke({color, width})});
