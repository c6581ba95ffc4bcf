// OpenLayers' WebGL worker, started from its own file in dist/ (written by build.mjs)
// rather than from a blob: URL, which the pages' Content-Security-Policy refuses. The
// bundle uses this module in place of OpenLayers' ol/worker/webgl.js.

export function create() {
  return new Worker('/static/ol-webgl-worker.js');
}
