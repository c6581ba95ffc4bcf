// The annotator's save chain, apart from the page: every change of an annotation is sent
// after the ones before it, on the version the last one returned; a save refused because
// someone else saved first (412) becomes a conflict the user settles by keeping their
// version or reapplying their own change on top; what others save arrives live and is
// merged without wiping the user's unsaved work.
//
// Items are the page's own objects for annotations (the annotator's OpenLayers features):
// the chain reaches them and their annotations only through the `annotations` it is given.

// labelPath is an annotation's label with its parents: "Vessel › Frigate".
export const labelPath = (ann) => ann.label.path.join(' › ');
// sameName compares user names ignoring case, as the server keeps them unique.
export const sameName = (a, b) => (a || '').toLowerCase() === (b || '').toLowerCase();
// annotationURL is the API path of annotation id, with rest after it.
export const annotationURL = (id, rest = '') => `/api/v1/annotations/${encodeURIComponent(id)}${rest}`;

// wroteSinceAccepted says which version of an annotation name wrote since it was last
// accepted (0: none), from its history, oldest first: the server's rule for who may not
// decide on it (annotations.checkIndependent). Drawing, editing, restoring and submitting
// are writing; review decisions are not, nor are withdrawals (r.withdrew), which take back
// the version before them as if neither had been.
export function wroteSinceAccepted(revisions, name) {
  let wrote = 0;
  const before = []; // wrote before each revision that is not a withdrawal
  for (const r of revisions) {
    if (r.withdrew) {
      if (before.length) wrote = before.pop();
      continue;
    }
    before.push(wrote);
    const status = r.after ? r.after.review_status : '';
    if (status === 'accepted') wrote = 0;
    else if ((status === 'draft' || status === 'submitted') && sameName(r.actor, name)) wrote = r.version;
  }
  return wrote;
}

// A change is what the user asked of an annotation, kept so that it can be sent again on
// top of someone else's version: {kind: 'patch', body} | {kind: 'delete'} |
// {kind: 'review', decision, reason} | {kind: 'restore', version}, with what (for messages).
function request(api, change, id, version) {
  switch (change.kind) {
    case 'patch':
      return api('PATCH', annotationURL(id), {...change.body, version});
    case 'delete':
      return api('DELETE', annotationURL(id), undefined, {'If-Match': `"${version}"`});
    case 'review':
      return api('POST', annotationURL(id, '/reviews'), {decision: change.decision, reason: change.reason, version});
    case 'restore':
      return api('POST', annotationURL(id, '/restore'), {version: change.version, current: version});
  }
  throw new Error(`unknown change ${change.kind}`);
}

// saveChain saves and receives the annotations of image imageId for the user named myName.
//
//   api(method, path, body, headers)  the JSON API client (api.js)
//   feed         the image's annotations page by page and their changes (feed.js)
//   annotations  the page's annotations: find(id) → item or undefined, has(item), get(item)
//                → its annotation, all() → every item (a drawing not yet saved has no
//                annotation), add(ann) shows a new one, addAll(anns) many at once,
//                put(item, ann) shows the server's version on item, remove(item) takes
//                it off the page
//   selected()   the selected item or null
//   editing(item)  whether the user has unsaved work on item (typed fields, a move under way)
//   flash(message, kind)  tells the user ('info' or 'error')
//   on.status({pending, error})  saves not yet answered; the last failure's message or null
//   on.saving(item, saving)  whether item has saves not yet answered
//   on.conflict(item)  a save of item was refused as stale: conflict() holds it, its
//                changes and their version, which put then shows
//   on.conflictChanged()  the conflict was settled, or gained a change waiting with it
//   on.held(item)  a change by someone else to item waits for the user, or no longer does
//   on.changed(id)  someone else created or changed annotation id
//   on.saved({id, from, to, kind})  optional: a change of ours was saved, annotation id
//                went from version `from` to `to` (null: it did not exist, or no longer
//                does); kind is create or the change's kind (patch, delete, review, restore),
//                change the change itself (absent for a creation)
export function saveChain({api, feed, imageId, myName, annotations, selected, editing, flash, on}) {
  const chains = new WeakMap(); // item → the promise of its last save
  const busy = new WeakMap(); // item → its saves not yet answered
  const held = new WeakMap(); // item → a live event waiting for a save or for the user
  const isSaving = (item) => (busy.get(item) || 0) > 0;
  let seq = 0;
  let conflict = null; // {item, changes, theirs, seq}: a save refused as stale
  let pending = 0;
  let error = null;
  let creating = 0; // drawings being saved
  const deferredCreates = []; // our own creations announced before their save returned
  // Annotations deleted while the page was open, each with the last version known of it
  // (0 when none is): a page of them read before the deletion and answered after it must
  // not bring them back, nor a live event of a version before the deletion (it can arrive
  // after it); a later version (a restore) does.
  const gone = new Map();
  const forget = (id, version = 0) => gone.set(id, Math.max(version, gone.get(id) ?? 0));
  // outdated: ev is of a version from before the annotation was deleted here.
  const outdated = (ev) => gone.has(ev.id) && ev.version <= gone.get(ev.id);

  const status = () => on.status({pending, error});

  async function save(what, fn) {
    pending++;
    error = null;
    status();
    try {
      const result = await fn();
      pending--;
      error = null;
      status();
      return result;
    } catch (err) {
      pending--;
      error = err.message;
      status();
      flash(`Could not save ${what}: ${err.message}`, 'error');
      throw err;
    }
  }

  function clearSaveError() {
    if (pending > 0) return;
    error = null;
    status();
  }

  function drop(item) {
    if (conflict && conflict.item === item) closeConflict();
    const ann = annotations.get(item);
    if (ann) forget(ann.id, ann.version);
    annotations.remove(item);
  }

  const asUpdate = (a) => ({type: 'annotation.updated', id: a.id, version: a.version, actor: a.updated_by, data: a});

  // create saves a drawing as a new annotation: body is {label, shape, geometry,
  // properties}. It resolves to the saved annotation, or to null when it was not saved,
  // and the drawing is taken away.
  async function create(item, body) {
    on.saving(item, true);
    creating++;
    try {
      const ann = await save('the new annotation', () => api('POST', `/api/v1/images/${encodeURIComponent(imageId)}/annotations`, body));
      annotations.put(item, ann);
      on.saved?.({id: ann.id, from: null, to: ann.version, kind: 'create'});
      return ann;
    } catch {
      drop(item);
      return null;
    } finally {
      creating--;
      if (creating === 0) for (const ev of deferredCreates.splice(0)) receiveCreate(ev);
    }
  }

  // send saves a change of an item's annotation, after the ones before it. It resolves to
  // the saved annotation (true for a deletion), or null when it was not saved.
  function send(item, change) {
    const numbered = {...change, seq: ++seq};
    busy.set(item, (busy.get(item) || 0) + 1);
    on.saving(item, true);
    const run = (chains.get(item) || Promise.resolve()).then(() => sendNow(item, numbered));
    chains.set(item, run);
    return run;
  }

  async function sendNow(item, change) {
    try {
      if (!annotations.has(item)) return null;
      // Asked for before a conflict on this annotation showed: it waits with the change
      // that was refused, rather than land on a version the user has not seen.
      const c = conflict;
      if (c && c.item === item && change.seq <= c.seq) {
        c.changes.push(change);
        on.conflictChanged();
        return null;
      }
      const ann = annotations.get(item);
      let result;
      try {
        result = await save(change.what, () => request(api, change, ann.id, ann.version));
      } catch (err) {
        if (err.status === 412 && err.current) openConflict(item, change, err.current);
        else if (err.status === 404) drop(item);
        else annotations.put(item, annotations.get(item)); // back to what is stored
        return null;
      }
      on.saved?.({id: ann.id, from: ann.version, to: change.kind === 'delete' ? null : result.version, kind: change.kind, change});
      if (change.kind === 'delete') {
        drop(item);
        flash(`Deleted ${labelPath(ann)}.`);
        return true;
      }
      annotations.put(item, result);
      return result;
    } finally {
      busy.set(item, busy.get(item) - 1);
      if (!isSaving(item)) {
        on.saving(item, false);
        settle(item);
      }
    }
  }

  // ---- conflicts -----------------------------------------------------------------------

  function openConflict(item, change, theirs) {
    const c = conflict && conflict.item === item ? conflict : {item, changes: []};
    c.changes.push(change);
    c.theirs = theirs;
    c.seq = seq;
    conflict = c;
    held.delete(item);
    on.conflict(item);
    annotations.put(item, theirs);
    flash(`Someone else changed this annotation: ${theirs.updated_by} saved version ${theirs.version}. Your change was not saved; choose what to keep in the editor.`, 'error');
  }

  function closeConflict() {
    conflict = null;
    on.conflictChanged();
  }

  // keepTheirs settles the conflict by dropping the user's refused changes.
  function keepTheirs() {
    if (!conflict) return;
    closeConflict();
    clearSaveError();
    flash('Kept their version; your change was dropped.');
  }

  // reapplyMine settles the conflict by sending the user's refused changes again, on top
  // of their version. It resolves to what each send resolved to.
  function reapplyMine() {
    const c = conflict;
    if (!c) return Promise.resolve([]);
    closeConflict();
    clearSaveError();
    flash(`Saving your change on top of version ${c.theirs.version}.`);
    return Promise.all(c.changes.map((ch) => send(c.item, ch)));
  }

  // ---- live updates --------------------------------------------------------------------

  function receiveCreate(ev) {
    if (outdated(ev)) return;
    if (ev.data) gone.delete(ev.id);
    if (annotations.find(ev.id)) {
      receiveUpdate(ev);
      return;
    }
    if (!ev.data) return;
    if (creating > 0 && sameName(ev.actor, myName)) {
      deferredCreates.push(ev); // perhaps the drawing being saved: wait for its answer
      return;
    }
    annotations.add(ev.data);
    if (!sameName(ev.actor, myName)) on.changed(ev.id);
  }

  function receiveUpdate(ev) {
    if (outdated(ev)) return;
    if (ev.data) gone.delete(ev.id);
    const item = annotations.find(ev.id);
    if (!item) {
      if (ev.data) receiveCreate({...ev, type: 'annotation.created'});
      return;
    }
    if (!ev.data || ev.version <= annotations.get(item).version) return;
    if (isSaving(item)) {
      held.set(item, ev); // settled when our save answers
      return;
    }
    const c = conflict;
    if (c && c.item === item) {
      c.theirs = ev.data;
      annotations.put(item, ev.data);
      return;
    }
    if (editing(item)) {
      held.set(item, ev);
      on.held(item);
      return;
    }
    annotations.put(item, ev.data);
    if (!sameName(ev.actor, myName)) on.changed(ev.id);
  }

  function receiveDelete(ev) {
    forget(ev.id, ev.version);
    const item = annotations.find(ev.id);
    if (!item) return;
    const ours = sameName(ev.actor, myName);
    if (ours && isSaving(item)) return; // our own deletion: its answer takes it away
    const ann = annotations.get(item);
    const wasSelected = selected() === item;
    const lostWork = wasSelected && (editing(item) || (conflict !== null && conflict.item === item));
    drop(item);
    if (wasSelected && !ours) {
      flash(`${ev.actor} deleted the annotation you had selected (${labelPath(ann)})${lostWork ? '; your unsaved change to it is lost' : ''}.`, lostWork ? 'error' : 'info');
    }
  }

  // receive merges an event of the image's stream (live.js): annotation.created,
  // annotation.updated or annotation.deleted; others are not the chain's.
  function receive(ev) {
    switch (ev.type) {
      case 'annotation.created':
        receiveCreate(ev);
        break;
      case 'annotation.updated':
        receiveUpdate(ev);
        break;
      case 'annotation.deleted':
        receiveDelete(ev);
        break;
    }
  }

  // settle applies a change by someone else that waited for a save of ours or for the
  // user to stop editing item, once neither holds it.
  function settle(item) {
    const ev = held.get(item);
    if (!ev || isSaving(item) || editing(item)) return;
    held.delete(item);
    if (annotations.has(item) && ev.version > annotations.get(item).version) receiveUpdate(ev);
    on.held(item);
  }

  // loadTheirs applies the change by someone else waiting on item at once. It says
  // whether there was one.
  function loadTheirs(item) {
    const ev = held.get(item);
    if (!ev) return false;
    held.delete(item);
    annotations.put(item, ev.data);
    return true;
  }

  // load shows a page of the image's annotations as the page first reads them: those not
  // shown yet (and not deleted meanwhile) all at once, newer versions of those shown
  // merged as live updates are.
  function load(anns) {
    const fresh = [];
    for (const a of anns) {
      if (gone.has(a.id)) continue;
      if (annotations.find(a.id)) receiveUpdate(asUpdate(a));
      else fresh.push(a);
    }
    if (fresh.length) annotations.addAll(fresh);
  }

  // catchUp merges what was missed while the stream was broken: the changes since the
  // last the feed heard of, or, when the server cannot say, every annotation loaded again
  // (the ones gone are then taken away unless a save of ours is under way). Newer
  // versions are merged like live updates. It resolves false when the server could not
  // be asked.
  async function catchUp() {
    try {
      const delta = await feed.changes();
      if (delta) {
        for (const a of delta.changed) receive(asUpdate(a));
        for (const id of delta.deleted) {
          const item = annotations.find(id);
          if (item && !isSaving(item)) drop(item);
          else forget(id);
        }
        return true;
      }
      const seen = new Set();
      await feed.load((anns) => {
        for (const a of anns) {
          seen.add(a.id);
          receive(asUpdate(a));
        }
      });
      for (const item of annotations.all()) {
        const ann = annotations.get(item);
        if (ann && !seen.has(ann.id) && !isSaving(item)) drop(item);
      }
      return true;
    } catch {
      return false;
    }
  }

  return {
    create,
    send,
    receive,
    // remove takes item off the page, deleted by a change of ours made apart from the
    // chain (a bulk deletion, an undo): live events from before it do not bring it back.
    remove: drop,
    load,
    settle,
    loadTheirs,
    catchUp,
    keepTheirs,
    reapplyMine,
    isSaving,
    // held is the change by someone else waiting on item, if any: {version, actor, data}.
    held: (item) => held.get(item),
    // conflict is the save refused as stale, or null: {item, changes, theirs}.
    conflict: () => conflict,
  };
}
