// Live updates of one image over server-sent events: every annotation created, changed,
// reviewed, commented on or deleted there, and every suggestion found or decided, by
// anyone, as it is saved.

import {api, flash} from './common.js';

const TYPES = ['annotation.created', 'annotation.updated', 'annotation.deleted', 'comment.created', 'image.trashed', 'suggestion.created', 'suggestion.updated'];

// liveUpdates listens to an image's events, passing each to onEvent. onReady runs each
// time the stream opens: after a reconnect, events may have been missed meanwhile.
// onState(live, stopped) says whether the stream is open, and when not whether it stopped for good. When the server ends the stream because
// the user's sign-in ended (auth.ended), it says so and stops listening.
export function liveUpdates(imageId, {onEvent, onReady, onState}) {
  let source = null;

  function connect() {
    source = new EventSource(`/api/v1/images/${encodeURIComponent(imageId)}/events`);
    source.addEventListener('ready', () => {
      onState(true);
      onReady();
    });
    for (const type of TYPES) {
      source.addEventListener(type, (e) => {
        let ev;
        try {
          ev = JSON.parse(e.data);
        } catch {
          return;
        }
        onEvent(ev);
      });
    }
    source.addEventListener('auth.ended', (e) => {
      source.close();
      onState(false, true);
      let why = {};
      try {
        why = JSON.parse(e.data);
      } catch {
        // say it without the server's words
      }
      if (why.status !== 401) {
        flash(`Live updates stopped: ${why.message || 'you may no longer see this image'}.`, 'error');
        return;
      }
      flash(`You were signed out, so live updates stopped: ${why.message || 'sign in again'}.`, 'error');
      setTimeout(() => location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search)), 3000);
    });
    source.onerror = () => {
      onState(false);
      // The browser retries by itself after a network error, but gives up on an error
      // status (the session ended, the image went). Ask the API why, which sends the
      // user to sign in if that is it, and try again later otherwise.
      if (source.readyState === EventSource.CLOSED) setTimeout(retry, 3000);
    };
  }

  async function retry() {
    try {
      await api('GET', '/api/v1/me');
      connect();
    } catch {
      setTimeout(retry, 10000);
    }
  }

  connect();
  return {close: () => source.close()};
}
