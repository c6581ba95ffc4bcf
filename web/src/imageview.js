// The image in an OpenLayers view, in pixel space: IIIF tiles from satmark's own image
// service once the image's pyramid is built (with its progress shown until then), a
// crisp-pixels switch, and counts of loaded and failed tiles. The tiles are drawn by a
// WebGL tile layer with the image's saved adjustments (brightness, contrast, saturation,
// gamma, stretch) applied live; while they are neutral (most images, most of the time) a
// canvas tile layer shows the same tiles instead: headless Chromium without a GPU runs
// WebGL on the CPU, where the WebGL layer took over 100 ms a frame to pan and zoom (the
// most of each frame, with 100,000 annotations on the image too). The annotator, the georeference editor and the compare
// page's pixel views all show images this way.

import Map from 'ol/Map.js';
import View from 'ol/View.js';
import {getCenter} from 'ol/extent.js';
import IIIFInfo from 'ol/format/IIIFInfo.js';
import {defaults as defaultInteractions} from 'ol/interaction/defaults.js';
import TileLayer from 'ol/layer/Tile.js';
import WebGLTileLayer from 'ol/layer/WebGLTile.js';
import Projection from 'ol/proj/Projection.js';
import IIIF from 'ol/source/IIIF.js';

import {neutral, style, variables} from './adjustsettings.js';
import {api, el, flash} from './common.js';

// Pixel space is y down; the view is y up, with the image at [0, -height, width, 0].
export const toMap = ([x, y]) => [x, -y];
export const toPixel = ([x, y]) => [x, -y];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function imageView({target, imageId, width, height, statusEl, layers = []}) {
  const extent = [0, -height, width, 0];
  const projection = new Projection({code: 'satmark-image-pixels', units: 'pixels', extent});
  let adjustments = {...neutral};
  const imageLayer = new WebGLTileLayer({style: style(adjustments)});
  const plainLayer = new TileLayer(); // the same tiles, unadjusted
  const tileStats = {loaded: 0, failed: 0};
  const map = new Map({
    target,
    layers: [plainLayer, ...layers], // the first is the image's layer: one of the two
    interactions: defaultInteractions({doubleClickZoom: false}),
    view: new View({projection, center: getCenter(extent), extent, constrainOnlyCenter: true, minResolution: 1 / 16, maxResolution: Math.max(width, height) / 128}),
  });
  map.getView().fit(extent, {padding: [20, 20, 20, 20]});
  let options = null;
  let interpolate = true;
  let format = 'jpg';
  let wholeSamples = null; // a promise of imageSamples' answer, asked once per opening

  function setSource() {
    const source = new IIIF({...options, interpolate, zDirection: -1, projection});
    source.on('tileloadend', () => tileStats.loaded++);
    source.on('tileloaderror', () => {
      tileStats.failed++;
      flash(`${tileStats.failed} image tile${tileStats.failed === 1 ? '' : 's'} failed to load; zoom or pan to retry.`, 'error');
    });
    imageLayer.setSource(source);
    plainLayer.setSource(source);
  }

  function retryButton(onRetry) {
    const b = el('button', {type: 'button', text: 'Build again'});
    b.addEventListener('click', async () => {
      try {
        await api('POST', `/api/v1/images/${imageId}/pyramid`);
        onRetry();
      } catch (err) {
        flash(`Could not start the build: ${err.message}`, 'error');
      }
    });
    return b;
  }

  let saved = {...neutral};
  function setAdjustments(a) {
    adjustments = {...neutral, ...a};
    imageLayer.updateStyleVariables(variables(adjustments));
    const shown = Object.keys(neutral).every((k) => adjustments[k] === neutral[k]) ? plainLayer : imageLayer;
    if (map.getLayers().item(0) !== shown) map.getLayers().setAt(0, shown);
  }

  // open waits for the pyramid, showing its progress, then shows the tiles.
  async function open() {
    for (;;) {
      let img;
      try {
        img = await api('GET', `/api/v1/images/${imageId}`);
      } catch (err) {
        statusEl.hidden = false;
        statusEl.textContent = `Cannot reach the server: ${err.message}`;
        await sleep(3000);
        continue;
      }
      const p = img.pyramid;
      if (p.state === 'done') break;
      statusEl.hidden = false;
      if (p.state === 'failed') {
        statusEl.replaceChildren(`The image's tiles could not be built: ${p.error} `, retryButton(open));
        return false;
      }
      statusEl.textContent = `Preparing the image for deep zoom: ${p.state === 'queued' ? 'waiting its turn' : `${Math.round(100 * p.progress)}%`}…`;
      await sleep(1000);
    }
    statusEl.hidden = true;
    // The saved adjustments, at the first opening (not after a rebuild, which keeps what is shown).
    if (!options) {
      try {
        saved = await api('GET', `/api/v1/images/${imageId}/adjustments`);
        setAdjustments(saved);
      } catch (err) {
        flash(`Could not read the image's adjustments (showing it without them): ${err.message}`, 'error');
      }
    }
    const info = await (await fetch(`/iiif/3/${encodeURIComponent(imageId)}/info.json`)).json();
    // The tiles come in info.json's preferred format: png for an image with transparency
    // (nodata, alpha, a mask), so the view's background shows where the image has no data.
    options = new IIIFInfo(info).getTileSourceOptions();
    format = (info.preferredFormats || [])[0] || 'jpg';
    wholeSamples = null; // a rebuild may show other values
    setSource();
    return true;
  }

  async function readWhole() {
    const size = `!${Math.min(512, width)},${Math.min(512, height)}`;
    const img = new Image();
    img.src = `/iiif/3/${encodeURIComponent(imageId)}/full/${size}/0/default.${format}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) out.push([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    return out;
  }

  return {
    map,
    projection,
    extent,
    tileStats,
    open,
    // setInterpolate: false shows each image pixel as a crisp square when zoomed in.
    setInterpolate(on) {
      interpolate = on;
      if (options) setSource();
    },
    // The adjustments shown now, and those saved with the image (read by open).
    adjustments: () => ({...adjustments}),
    saved: () => ({...saved}),
    setAdjustments,
    setSaved(a) {
      saved = {...neutral, ...a};
    },
    // imageSamples are the [r, g, b, a] of the whole image at most 512 pixels a side (as
    // the tiles hold them, before adjustments), for the auto-stretch: the same at every
    // zoom level and over every part of the image shown. Read once per opening.
    imageSamples() {
      if (!wholeSamples) {
        wholeSamples = readWhole().catch((err) => {
          wholeSamples = null;
          throw err;
        });
      }
      return wholeSamples;
    },
    insideImage(coordinate) {
      const [x, y] = toPixel(coordinate);
      return x >= 0 && y >= 0 && x <= width && y <= height;
    },
  };
}

// shownColours are the [r, g, b, a] a map shows at each of points (CSS pixels): every
// layer's canvas composed, as OpenLayers' export example does, right after a render (so
// a WebGL canvas still holds its frame).
export function shownColours(map, points) {
  map.renderSync();
  const [w, h] = map.getSize();
  const out = document.createElement('canvas');
  out.width = w;
  out.height = h;
  const ctx = out.getContext('2d', {willReadFrequently: true});
  for (const canvas of map.getViewport().querySelectorAll('.ol-layer canvas, canvas.ol-layer')) {
    if (canvas.width === 0) continue;
    const opacity = canvas.parentNode.style.opacity || canvas.style.opacity;
    ctx.globalAlpha = opacity === '' ? 1 : Number(opacity);
    const m = canvas.style.transform.match(/^matrix\(([^(]*)\)$/);
    ctx.setTransform(...(m ? m[1].split(',').map(Number) : [w / canvas.width, 0, 0, h / canvas.height, 0, 0]));
    ctx.drawImage(canvas, 0, 0);
  }
  return points.map(([x, y]) => [...ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data]);
}
