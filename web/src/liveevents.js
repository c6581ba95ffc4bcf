// What others save, arriving on the annotator's page live (the stream is live.js's): each
// event goes where it belongs (annotations to the save chain, comments to the discussion,
// suggestions to their panel), a row changed by someone else flashes in the list, the
// notice says when someone changed the annotation being edited, and after a break in the
// stream what was missed is caught up. The live state shows in the toolbar.

import {el, flash} from './common.js';
import {liveUpdates} from './live.js';
import {sameName} from './savechain.js';

const $ = (id) => document.getElementById(id);

// liveEvents listens to the image's events. page gives:
//   imageId, root (the page's element: data-live), myName
//   state  the page's: selected, dirty, loaded, queue (events before the first page), recent
//   chain  the save chain (savechain.js); suggestions  the Find similar panel
//   find(id), rowOf(feature)  an annotation's feature, and its row in the list
//   isEditing(feature)  the user has unsaved work on it
//   addComment(c), loadReviews(id), loadComments(id)  the discussion's (discussion.js)
// It returns handle(ev) (for the events queued before the first page), catchUp(),
// markChanged(id), renderNotice() and ready, which resolves once the stream first opens.
export function liveEvents({imageId, root, myName, state, chain, suggestions, find, rowOf, isEditing, addComment, loadReviews, loadComments}) {
  const notice = $('live-notice');

  function markChanged(id) {
    clearTimeout(state.recent.get(id));
    state.recent.set(
      id,
      setTimeout(() => {
        state.recent.delete(id);
        listItem(id)?.classList.remove('changed');
      }, 1500),
    );
    listItem(id)?.classList.add('changed');
  }

  function listItem(id) {
    const f = find(id);
    return f ? rowOf(f) : null;
  }

  function receiveComment(ev) {
    const ann = state.selected && state.selected.get('ann');
    if (ann && ann.id === ev.id && ev.data) addComment(ev.data);
    if (!sameName(ev.actor, myName)) markChanged(ev.id);
  }

  function handle(ev) {
    switch (ev.type) {
      case 'comment.created':
        receiveComment(ev);
        break;
      case 'image.trashed':
        flash(`${ev.actor} moved this image to the trash.`, 'error');
        break;
      case 'suggestion.created':
      case 'suggestion.updated':
        suggestions.receive(ev);
        break;
      default:
        chain.receive(ev);
    }
  }

  // catchUp merges what was missed while the stream was broken.
  async function catchUp() {
    suggestions.reload();
    if (!(await chain.catchUp())) return;
    const sel = state.selected && state.selected.get('ann');
    if (sel) {
      loadReviews(sel.id);
      loadComments(sel.id);
    }
  }

  function renderNotice() {
    const f = state.selected;
    const ev = f && chain.held(f);
    notice.hidden = !ev || !isEditing(f);
    if (notice.hidden) return;
    notice.dataset.version = ev.version;
    $('live-notice-text').replaceChildren(
      el('strong', {text: ev.actor}),
      ` changed this annotation (version ${ev.version}) while you were editing. Your edits are kept; saving them will ask which to keep.`,
    );
  }

  $('live-load-theirs').addEventListener('click', () => {
    const f = state.selected;
    if (!f || !chain.held(f)) return;
    state.dirty.clear();
    chain.loadTheirs(f);
  });

  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const liveState = $('live-state');
  liveUpdates(imageId, {
    onEvent: (ev) => (state.loaded ? handle(ev) : state.queue.push(ev)),
    onReady: () => {
      resolveReady();
      if (state.loaded) catchUp();
    },
    onState: (live, stopped) => {
      root.dataset.live = String(live);
      liveState.textContent = live ? 'live' : stopped ? 'stopped' : 'reconnecting…';
      liveState.className = live ? 'live-state on' : 'live-state off';
    },
  });

  return {handle, catchUp, markChanged, renderNotice, ready};
}
