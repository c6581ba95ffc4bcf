// Undo and redo of this page's own changes, apart from the page, through the API's
// versions: undoing an edit restores the version before it, undoing a creation deletes
// the annotation, undoing a deletion restores it (with its id); redoing does the reverse.
// Undoing one's own review decision (a submission, an acceptance, a dispute, a rejection)
// withdraws it, which returns the annotation to the state before it as a new version;
// redoing makes the decision again. Only the user's own changes are recorded.
//
// A change is an entry of steps, one per annotation: {id, from, to}, the versions whose
// content was there before and after it (null: the annotation did not exist), and for a
// review decision review: {decision, reason}. An entry also keeps, per step, the
// versions at which those two states are live now (beforeAt, afterAt): undoing restores
// the content of `from`, which the server stores as a new version. Before anything is
// sent, every step's annotation must be at the version this page left it at; when
// someone else changed one since, nothing is sent and the page is asked (conflict), as
// with a refused save: keep theirs (the entry is dropped) or undo anyway, on top of their
// version. A decision can only be withdrawn while it is the annotation's latest version:
// when the server refuses to withdraw it or to make it again (403, 409), the entry no
// longer applies and is dropped.
//
// A decision on a suggestion (find similar) is a step too: {id: the suggestion's,
// from: 'pending', to: 'accepted' or 'rejected', suggestion: {decision: 'accept' or
// 'reject'}}. Undoing it reopens the suggestion (the annotation an acceptance became is
// deleted); redoing decides it again (an acceptance makes a new annotation). The server
// checks that nobody else changed it since (409: the entry is dropped).

import {annotationURL} from './savechain.js';

// savedStep is the undo step of a change of ours the save chain reports as saved
// ({id, from, to, kind, change}): a review decision's keeps the decision, to make it again.
export function savedStep({id, from, to, kind, change}) {
  if (kind !== 'review') return {id, from, to};
  return {id, from, to, review: {decision: change.decision, reason: change.reason || ''}};
}

// undoHistory keeps the page's undo and redo stacks.
//
//   api(method, path, body, headers)  the JSON API client (api.js)
//   versionOf(id)  the version of annotation id the page shows, or null when it shows none
//   show(id, ann)  put the server's answer on the page: ann, or null when it was deleted
//   on.conflict(c)  someone else changed annotations of the entry about to be undone or
//                   redone: c is {direction, stale: [{id, ours, theirs}]}; settle it with
//                   keepTheirs() or applyAnyway()
//   on.changed()  the stacks changed (canUndo and canRedo may have)
//   showSuggestion(sg)  put the server's answer about a suggestion on the page
//   limit  how many entries are kept
export function undoHistory({api, versionOf, show, showSuggestion = () => {}, on, limit = 100}) {
  const done = []; // entries that can be undone, the last on top
  const undone = []; // entries that can be redone, the last undone on top
  let conflict = null; // {entry, direction, stale}
  let running = Promise.resolve();

  // record adds a change the user made: steps are [{id, from, to, review?}], from and to
  // version numbers or null. A step that changed nothing (from === to) is not kept.
  function record(steps) {
    const kept = steps.filter((s) => s.from !== s.to).map((s) => ({...s, beforeAt: s.from, afterAt: s.to}));
    if (!kept.length) return;
    done.push({steps: kept});
    if (done.length > limit) done.shift();
    undone.length = 0;
    on.changed();
  }

  // Going one way: from which state to which, and the version fields that say where each is live.
  const ways = {
    undo: {stack: done, other: undone, target: 'from', at: 'afterAt', lands: 'beforeAt'},
    redo: {stack: undone, other: done, target: 'to', at: 'beforeAt', lands: 'afterAt'},
  };

  // goTo brings annotation s.id to the content of version target (null: deleted), from
  // its live version current (null: it does not exist); a review step is withdrawn
  // (undo) or decided again (redo) instead. It resolves to the live version after.
  async function goTo(s, direction, target, current) {
    const {id} = s;
    if (s.suggestion) {
      const path = `/api/v1/suggestions/${encodeURIComponent(id)}/${direction === 'undo' ? 'reopen' : s.suggestion.decision}`;
      const r = await api('POST', path);
      if (r.deleted_annotation) show(r.deleted_annotation, null);
      if (r.annotation) show(r.annotation.id, r.annotation);
      showSuggestion(r.suggestion);
      return target;
    }
    if (s.review) {
      const body = direction === 'undo' ? {decision: 'withdrawn', version: current} : {...s.review, version: current};
      if (!body.reason) delete body.reason;
      const ann = await api('POST', annotationURL(id, '/reviews'), body);
      show(id, ann);
      return ann.version;
    }
    if (target === null) {
      if (current === null) return null;
      await api('DELETE', annotationURL(id), undefined, {'If-Match': `"${current}"`});
      show(id, null);
      return null;
    }
    const body = current === null ? {version: target} : {version: target, current};
    const ann = await api('POST', annotationURL(id, '/restore'), body);
    show(id, ann);
    return ann.version;
  }

  // move the entry on top of direction's stack: check every step is where this page left
  // it, then send each. theirs, after a conflict the user chose to override, gives the
  // versions to go from instead (id → version). It resolves to true when the entry was
  // moved to the other stack.
  async function move(direction, theirs = new Map()) {
    const w = ways[direction];
    const entry = w.stack[w.stack.length - 1];
    if (!entry) return false;
    const stale = [];
    for (const s of entry.steps) {
      if (s.doneWay === direction) continue; // sent already, before a refusal
      if (s.suggestion) continue; // the server checks it
      if (theirs.has(s.id)) s[w.at] = theirs.get(s.id);
      else if (versionOf(s.id) !== s[w.at]) stale.push(staleStep(s, s[w.at], versionOf(s.id)));
    }
    if (stale.length) return refuse(entry, direction, stale);
    for (const s of entry.steps) {
      if (s.doneWay === direction) continue;
      let now;
      try {
        now = await goTo(s, direction, s[w.target], s[w.at]);
      } catch (err) {
        // Changed between the check and the request: the same choice, for this one, with
        // their version shown.
        if (err.status === 412 || err.status === 428) {
          if (err.current) show(s.id, err.current);
          return refuse(entry, direction, [staleStep(s, s[w.at], err.current ? err.current.version : versionOf(s.id))]);
        }
        if ((s.review || s.suggestion) && (err.status === 403 || err.status === 404 || err.status === 409)) {
          drop(w.stack, entry);
          throw err;
        }
        if (err.status !== 404 || s[w.target] !== null) throw err;
        now = null; // deleted already
      }
      relink(w, s, now);
      s[w.lands] = now;
      s.doneWay = direction;
    }
    for (const s of entry.steps) delete s.doneWay;
    w.stack.pop();
    w.other.push(entry);
    on.changed();
    return true;
  }

  // staleStep is a step someone else changed since: at ours here, theirs there.
  function staleStep(s, ours, theirs) {
    return s.review ? {id: s.id, ours, theirs, review: s.review.decision} : {id: s.id, ours, theirs};
  }

  function drop(stack, entry) {
    const i = stack.indexOf(entry);
    if (i >= 0) stack.splice(i, 1);
    for (const s of entry.steps) delete s.doneWay;
    on.changed();
  }

  function refuse(entry, direction, stale) {
    conflict = {entry, direction, stale};
    on.conflict({direction, stale});
    return false;
  }

  // relink: the entry next in line below on w's stack for the same annotation was made on
  // top of (undo) or under (redo) the state step now leaves for; when nobody changed it in
  // between, that state now lives at version now.
  function relink(w, step, now) {
    const was = step[w.lands];
    if (was === null) return;
    for (let i = w.stack.length - 2; i >= 0; i--) {
      const s = w.stack[i].steps.find((x) => x.id === step.id);
      if (!s) continue;
      if (s[w.at] === was) s[w.at] = now;
      return;
    }
  }

  function run(direction, theirs) {
    const r = running.then(() => move(direction, theirs));
    running = r.catch(() => {});
    return r;
  }

  return {
    record,
    // after(p): a change of ours is on its way and is recorded when p settles; an undo
    // or redo asked for meanwhile waits for it, so Ctrl+Z straight after a decision
    // undoes that decision and not the change before it.
    after(p) {
      running = running.then(() => p).catch(() => {});
    },
    // undo undoes the last change; it resolves to whether it was undone (false when there
    // was none, or a conflict now waits for the user).
    undo: () => run('undo'),
    redo: () => run('redo'),
    canUndo: () => done.length > 0,
    canRedo: () => undone.length > 0,
    conflict: () => conflict && {direction: conflict.direction, stale: conflict.stale},
    // keepTheirs settles a conflict by dropping the entry: it no longer applies.
    keepTheirs() {
      if (!conflict) return;
      const {entry, direction} = conflict;
      conflict = null;
      drop(ways[direction].stack, entry);
    },
    // applyAnyway settles a conflict by undoing (or redoing) on top of their versions.
    applyAnyway() {
      if (!conflict) return Promise.resolve(false);
      const {direction, stale} = conflict;
      conflict = null;
      return run(direction, new Map(stale.map((st) => [st.id, st.theirs])));
    },
  };
}
