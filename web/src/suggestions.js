// Suggestions (find similar): "Find similar" on a selected annotation searches the image
// on the server for objects like it (POST /api/v1/annotations/{id}/similar) and the
// places found come back as suggestions: not annotations, drawn dashed in their own
// colour on their own layer, and reviewed at speed in a strip above the map: N shows the
// next and zooms to it, A accepts it (it becomes an annotation, the accepter's), X rejects
// it; Ctrl+Z takes the last decision back (undo.js), Ctrl+Shift+Z makes it again. Until
// accepted a suggestion is in no export. Everyone sees the pending ones, live: what others
// find, accept or reject arrives as they do (receive); only analysts get the button and
// the strip.

import Feature from 'ol/Feature.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import {Fill, Stroke, Style, Text} from 'ol/style.js';

import {api, flash, plural} from './common.js';
import {mapGeometry} from './geometry.js';
import {suggestionQueue} from './suggestionqueue.js';

const COLOUR = '#ff4fd8';
const AREA_SHAPES = ['polygon', 'rectangle', 'rotated_rectangle'];

const plain = new Style({stroke: new Stroke({color: COLOUR, width: 2, lineDash: [6, 5]}), fill: new Fill({color: 'rgba(255, 79, 216, 0.06)'})});
const halo = new Style({stroke: new Stroke({color: '#ffffff', width: 6, lineDash: [6, 5]})});

// suggestionsPanel runs the suggestions of image imageId on map. onAccepted(annotation)
// is told of each annotation an accepted suggestion became, onDeciding(promise) of each
// decision sent (it settles once onDecided was told), onDecided(suggestion) of each
// decision made here (to undo). It returns showFor(ann), which shows "Find similar" for
// the selected annotation (or none); put(sg), which shows the server's word on a
// suggestion (pending: back in the queue, shown; decided: out of it); receive(ev) for
// the live events about suggestions, reload() after the stream was broken, and state()
// for tests.
export function suggestionsPanel({map, imageId, editable, onAccepted, onDeciding = () => {}, onDecided = () => {}}) {
  const $ = (id) => document.getElementById(id);
  const queue = suggestionQueue();
  const source = new VectorSource();
  const layer = new VectorLayer({
    source,
    style: (f, resolution) => {
      const sg = f.get('suggestion');
      if (f.getId() !== queue.current()?.id) return plain;
      const label = new Text({
        text: `${sg.label.name}? ${sg.score.toFixed(2)}`, font: '12px system-ui, sans-serif', overflow: true, offsetY: -16,
        fill: new Fill({color: '#ffffff'}), stroke: new Stroke({color: COLOUR, width: 3}),
      });
      return [halo, new Style({stroke: new Stroke({color: COLOUR, width: 3, lineDash: [6, 5]}), text: resolution < 8 ? label : undefined})];
    },
  });
  layer.setZIndex(10);
  map.addLayer(layer);

  const strip = $('suggestion-strip');
  const button = $('find-similar');
  let searching = false; // a Find similar runs
  let sending = false; // a decision is on its way
  let selected = null;

  function render() {
    layer.changed();
    if (!strip) return;
    const n = queue.size();
    strip.hidden = n === 0;
    strip.dataset.left = String(n);
    $('suggestion-count').textContent = `${plural(n, 'suggestion', 'suggestions')} left`;
    const cur = queue.current();
    strip.dataset.current = cur ? cur.id : '';
    $('suggestion-current').textContent = cur
      ? `${queue.position()} of ${n}: ${cur.label.path.join(' › ')}, score ${cur.score.toFixed(2)}`
      : 'N to start';
    $('suggestion-accept').disabled = !cur || searching || sending;
    $('suggestion-reject').disabled = !cur || searching || sending;
    $('suggestion-next').disabled = n === 0;
  }

  function add(list) {
    queue.add(list);
    for (const sg of list) {
      if (source.getFeatureById(sg.id)) continue;
      const f = new Feature(mapGeometry(sg.geometry));
      f.setId(sg.id);
      f.set('suggestion', sg);
      source.addFeature(f);
    }
    render();
  }

  function zoomTo(sg) {
    if (!sg) return;
    const f = source.getFeatureById(sg.id);
    const view = map.getView();
    if (f) view.fit(f.getGeometry().getExtent(), {padding: [120, 120, 120, 120], maxZoom: view.getZoomForResolution(0.5), duration: 250});
  }

  function next() {
    zoomTo(queue.next());
    render();
  }

  function drop(id) {
    const f = source.getFeatureById(id);
    if (f) source.removeFeature(f);
    zoomTo(queue.remove(id));
    render();
  }

  // A key pressed while a decision is still on its way (its live event can show the next
  // suggestion before the answer comes) is not lost: it is sent after that one, for the
  // suggestion shown when it was pressed, unless that one was decided meanwhile.
  let deciding = Promise.resolve();

  function decide(decision) {
    const cur = queue.current();
    if (!cur || searching) return Promise.resolve();
    const sent = deciding.then(() => (queue.get(cur.id) ? send(cur, decision) : undefined));
    deciding = sent.catch(() => {});
    onDeciding(sent);
    return sent;
  }

  async function send(cur, decision) {
    sending = true;
    render();
    try {
      const r = await api('POST', `/api/v1/suggestions/${encodeURIComponent(cur.id)}/${decision}`);
      if (decision === 'accept') onAccepted(r.annotation);
      drop(cur.id);
      onDecided(r.suggestion);
    } catch (err) {
      flash(err.message, 'error');
      if (err.status === 409 || err.status === 404) drop(cur.id); // decided by someone else meanwhile
    } finally {
      sending = false;
      render();
    }
  }

  async function find() {
    const ann = selected;
    if (!ann || searching || sending) return;
    searching = true;
    button.disabled = true;
    button.textContent = 'Searching…';
    try {
      const r = await api('POST', `/api/v1/annotations/${encodeURIComponent(ann.id)}/similar`, {});
      if (r.suggestions.length === 0) {
        flash(r.message, 'info');
      } else {
        flash(`Found ${plural(r.suggestions.length, 'place', 'places')} like this ${ann.label.name}: N shows each, A accepts, X rejects.`, 'info');
        add(r.suggestions);
      }
    } catch (err) {
      flash(`Find similar: ${err.message}`, 'error');
    } finally {
      searching = false;
      button.disabled = false;
      button.textContent = 'Find similar';
      render();
    }
  }

  if (editable && strip) {
    button.addEventListener('click', find);
    $('suggestion-next').addEventListener('click', next);
    $('suggestion-accept').addEventListener('click', () => decide('accept'));
    $('suggestion-reject').addEventListener('click', () => decide('reject'));
    // Before the page's own keys (a label's hotkey may be one of these letters), and only
    // while there is something to review.
    document.addEventListener('keydown', (e) => {
      if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey || queue.size() === 0) return;
      const key = e.key.toLowerCase();
      const act = key === 'n' ? next : key === 'a' && queue.current() ? () => decide('accept') : key === 'x' && queue.current() ? () => decide('reject') : null;
      if (!act) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      act();
    }, true);
  }

  // put shows sg as the server says it is now; a pending one comes back as the one shown
  // when focus is set (an undone decision of ours).
  function put(sg, focus) {
    if (sg.status !== 'pending') {
      drop(sg.id);
      return;
    }
    add([sg]);
    if (focus) zoomTo(queue.show(sg.id));
    render();
  }

  // reload takes the pending suggestions again: those decided meanwhile go, new ones come.
  async function reload() {
    try {
      const pending = await api('GET', `/api/v1/images/${encodeURIComponent(imageId)}/suggestions?status=pending`);
      const ids = new Set(pending.map((sg) => sg.id));
      for (const sg of queue.all()) if (!ids.has(sg.id)) drop(sg.id);
      add(pending);
    } catch (err) {
      flash(`Could not load the suggestions: ${err.message}`, 'error');
    }
  }
  reload();

  return {
    put: (sg) => put(sg, true),
    receive(ev) {
      if (ev.type === 'suggestion.created') add(ev.data || []);
      else if (ev.type === 'suggestion.updated' && ev.data) put(ev.data, false);
    },
    reload,
    showFor(ann) {
      selected = ann || null;
      if (button) button.hidden = !editable || !ann || !AREA_SHAPES.includes(ann.shape);
    },
    state: () => ({left: queue.size(), current: queue.current()?.id || null, ids: queue.all().map((s) => s.id)}),
  };
}
