// Undo and redo of this page's own changes, apart from the page, through the API's
// versions: undoing an edit restores the version before it, undoing a creation deletes
// the annotation, undoing a deletion restores it (with its id); redoing does the reverse.
// Only the user's own content changes are recorded (creations, edits, moves, relabels,
// deletions, bulk changes), not review decisions.
//
// A change is an entry of steps, one per annotation: {id, from, to}, the versions whose
// content was there before and after it (null: the annotation did not exist). An entry
// also keeps, per step, the versions at which those two states are live now (beforeAt,
// afterAt): undoing restores the content of `from`, which the server stores as a new
// version. Before anything is sent, every step's annotation must be at the version this
// page left it at; when someone else changed one since, nothing is sent and the page is
// asked (conflict), as with a refused save: keep theirs (the entry is dropped) or undo
// anyway, on top of their version.

import {annotationURL} from './savechain.js';

// undoHistory keeps the page's undo and redo stacks.
//
//   api(method, path, body, headers)  the JSON API client (api.js)
//   versionOf(id)  the version of annotation id the page shows, or null when it shows none
//   show(id, ann)  put the server's answer on the page: ann, or null when it was deleted
//   on.conflict(c)  someone else changed annotations of the entry about to be undone or
//                   redone: c is {direction, stale: [{id, ours, theirs}]}; settle it with
//                   keepTheirs() or applyAnyway()
//   on.changed()  the stacks changed (canUndo and canRedo may have)
//   limit  how many entries are kept
export function undoHistory({api, versionOf, show, on, limit = 100}) {
  const done = []; // entries that can be undone, the last on top
  const undone = []; // entries that can be redone, the last undone on top
  let conflict = null; // {entry, direction, stale}
  let running = Promise.resolve();

  // record adds a change the user made: steps are [{id, from, to}], from and to version
  // numbers or null. A step that changed nothing (from === to) is not kept.
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

  // goTo brings annotation step.id to the content of version target (null: deleted), from
  // its live version current (null: it does not exist). It resolves to the live version after.
  async function goTo(id, target, current) {
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
      if (theirs.has(s.id)) s[w.at] = theirs.get(s.id);
      else if (versionOf(s.id) !== s[w.at]) stale.push({id: s.id, ours: s[w.at], theirs: versionOf(s.id)});
    }
    if (stale.length) return refuse(entry, direction, stale);
    for (const s of entry.steps) {
      if (s.doneWay === direction) continue;
      let now;
      try {
        now = await goTo(s.id, s[w.target], s[w.at]);
      } catch (err) {
        // Changed between the check and the request: the same choice, for this one.
        if (err.status === 412 || err.status === 428) return refuse(entry, direction, [{id: s.id, ours: s[w.at], theirs: err.current ? err.current.version : versionOf(s.id)}]);
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
      const w = ways[conflict.direction];
      const i = w.stack.indexOf(conflict.entry);
      if (i >= 0) w.stack.splice(i, 1);
      conflict = null;
      on.changed();
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
