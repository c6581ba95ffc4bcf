// Builds the front end into dist/ (npm run build, which `make web` runs): every page's
// script and the stylesheet bundled by esbuild, and OpenLayers' WebGL worker as a file.
//
// OpenLayers' WebGL vector layer (the annotator's shapes) makes its buffers in a worker
// that it starts from a blob: URL, which the pages' Content-Security-Policy
// (script-src 'self') refuses. The same worker's code is written to dist/ instead, and
// the bundle starts it from there (src/olworker.js takes the place of OpenLayers' module).

import {writeFile} from 'node:fs/promises';
import {fileURLToPath} from 'node:url';

import {build} from 'esbuild';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const pages = ['gallery', 'annotator', 'georef', 'map', 'sites', 'site', 'compare', 'labels', 'account', 'users', 'trash'];

// olWorkerSource is the code OpenLayers' ol/worker/webgl.js would start a worker with.
async function olWorkerSource() {
  const {Worker: worker} = globalThis;
  const {createObjectURL} = URL;
  let started = null;
  globalThis.Worker = class {
    constructor(url) {
      started = url;
    }
  };
  URL.createObjectURL = (blob) => blob;
  try {
    const {create} = await import('ol/worker/webgl.js');
    create();
  } finally {
    globalThis.Worker = worker;
    URL.createObjectURL = createObjectURL;
  }
  if (!(started instanceof Blob)) throw new Error('ol/worker/webgl.js no longer starts its worker from a Blob: see build.mjs');
  return started.text();
}

// The worker module OpenLayers' renderers import, replaced by ours.
const olWorker = {
  name: 'ol-webgl-worker',
  setup(b) {
    b.onResolve({filter: /[/\\]worker[/\\]webgl\.js$/}, (args) => (args.importer.includes(`${'node_modules'}/ol/`) ? {path: here('src/olworker.js')} : undefined));
  },
};

await build({
  entryPoints: [...pages.map((p) => here(`src/${p}.js`)), here('src/app.css')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  loader: {'.json': 'file'},
  publicPath: '/static',
  outdir: here('dist'),
  logLevel: 'warning',
  plugins: [olWorker],
});
await writeFile(here('dist/ol-webgl-worker.js'), await olWorkerSource());
