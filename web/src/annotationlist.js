// The annotator's sidebar list, kept up to date one annotation at a time: oldest first,
// filtered by the find-your-work form, its first rows made and the next as it is
// scrolled to its end, with the counts by review state and the authors for the form.
// With a hundred thousand annotations, making it again at every change took seconds;
// here a change touches the row of its annotation only. Items are the page's features,
// each with its annotation as get('ann'); the list keeps no annotation of its own.

// The list makes PAGE rows at first, and PAGE more each time it is scrolled to its end.
export const PAGE = 200;

// before orders annotations oldest first, then by id (creation times can be equal).
function before(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at;
  return a.id < b.id;
}

// position is where ann goes in items (sorted by before, as counted): the index of the
// first item not before it.
function position(items, ann, annOf) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(annOf(items[mid]), ann)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// take removes item from items (sorted by before, as counted), where ann puts it.
function take(items, item, ann, annOf) {
  let i = position(items, ann, annOf);
  if (items[i] !== item) i = items.indexOf(item);
  if (i >= 0) items.splice(i, 1);
  return i;
}

// tally counts annotations by review state and by author (case kept from the first seen).
function tally() {
  const statuses = new Map();
  const authors = new Map(); // lower-case name → {name, n}
  return {
    statuses,
    authors,
    count(ann, by) {
      statuses.set(ann.review_status, (statuses.get(ann.review_status) || 0) + by);
      let changed = false;
      for (const name of new Set([ann.created_by, ann.updated_by].filter(Boolean))) {
        const k = name.toLowerCase();
        const a = authors.get(k) || {name, n: 0};
        a.n += by;
        if (a.n <= 0) {
          authors.delete(k);
          changed = true;
        } else if (!authors.has(k)) {
          authors.set(k, a);
          changed = true;
        }
      }
      return changed;
    },
  };
}

// annotationList runs the list in element list (a <ul>).
//   row(item) → the <li> of an item (made afresh; it may read isPicked and the like)
//   keeps(ann) → whether the filter keeps it
//   counted(counts, shown, total)  after each change: counts by review state (a Map),
//                 how many the filter keeps, how many there are
//   authors(names)  when the set of authors changed: everyone who drew or last changed one
export function annotationList({list, row, keeps, counted, authors}) {
  let all = []; // every item, sorted
  let kept = []; // those the filter keeps, sorted
  let made = 0; // kept[0..made) have rows, in order, as list's children
  const rows = new Map(); // item → its <li>
  const counts = new Map(); // item → the annotation it was counted as
  const t = tally();

  // The lists are sorted by the annotations as counted (a change's new one goes in after
  // its old one is taken out).
  const annOf = (item) => counts.get(item);
  const report = () => counted(t.statuses, kept.length, all.length);
  const tellAuthors = () => authors([...t.authors.values()].map((a) => a.name).sort((a, b) => a.localeCompare(b)));

  function makeRow(item) {
    const li = row(item);
    rows.set(item, li);
    return li;
  }

  function insertKept(item) {
    const i = position(kept, item.get('ann'), annOf);
    kept.splice(i, 0, item);
    if (i < made || made < PAGE) {
      list.insertBefore(makeRow(item), list.children[i] || null);
      made++;
    }
  }

  function removeKept(item) {
    const i = take(kept, item, counts.get(item), annOf);
    if (i >= 0 && i < made) {
      rows.get(item)?.remove();
      rows.delete(item);
      made--;
    }
  }

  // count changes the tallies for item's annotation: ann (null: it is gone).
  function count(item, ann) {
    const old = counts.get(item);
    let changed = false;
    if (old) changed = t.count(old, -1) || changed;
    if (ann) {
      changed = t.count(ann, +1) || changed;
      counts.set(item, ann);
    } else {
      counts.delete(item);
    }
    return changed;
  }

  function renderMore(limit) {
    const add = kept.slice(made, limit).map(makeRow);
    made += add.length;
    list.append(...add);
  }

  // refilter makes the rows afresh, after the filter changed.
  function refilter() {
    kept = all.filter((f) => keeps(f.get('ann')));
    const limit = Math.max(PAGE, made);
    made = 0;
    rows.clear();
    list.replaceChildren();
    renderMore(limit);
    report();
  }

  return {
    refilter,
    // add puts new items in the list; many at once (a page of them) in one sort.
    add(items) {
      items = items.filter((f) => f.get('ann') && !counts.has(f));
      if (!items.length) return;
      let authorsChanged = false;
      for (const f of items) authorsChanged = count(f, f.get('ann')) || authorsChanged;
      if (items.length > 32) {
        const sorted = [...items].sort((a, b) => (before(a.get('ann'), b.get('ann')) ? -1 : 1));
        const last = all[all.length - 1];
        all = last && !before(last.get('ann'), sorted[0].get('ann')) ? [...all, ...sorted].sort((a, b) => (before(a.get('ann'), b.get('ann')) ? -1 : 1)) : all.concat(sorted);
        const keptNew = sorted.filter((f) => keeps(f.get('ann')));
        const lastKept = kept[kept.length - 1];
        if (lastKept && keptNew.length && !before(lastKept.get('ann'), keptNew[0].get('ann'))) {
          refilter();
        } else {
          kept = kept.concat(keptNew);
          renderMore(Math.max(PAGE, made));
          report();
        }
      } else {
        for (const f of items) {
          all.splice(position(all, f.get('ann'), annOf), 0, f);
          if (keeps(f.get('ann'))) insertKept(f);
        }
        report();
      }
      if (authorsChanged) tellAuthors();
    },
    // update shows an item's new annotation (or adds an item that had none).
    update(item) {
      const ann = item.get('ann');
      if (!ann) return;
      const old = counts.get(item);
      if (!old) {
        this.add([item]);
        return;
      }
      removeKept(item);
      take(all, item, old, annOf);
      const authorsChanged = count(item, ann);
      all.splice(position(all, ann, annOf), 0, item);
      if (keeps(ann)) insertKept(item);
      report();
      if (authorsChanged) tellAuthors();
    },
    // remove takes an item out of the list.
    remove(item) {
      const old = counts.get(item);
      if (!old) return;
      removeKept(item);
      take(all, item, old, annOf);
      const authorsChanged = count(item, null);
      report();
      if (authorsChanged) tellAuthors();
    },
    // mark makes an item's row again (its selection or its highlight changed).
    mark(item) {
      const li = rows.get(item);
      if (!li) return;
      li.replaceWith(makeRow(item));
    },
    // more makes the next rows, when the list is scrolled to its end.
    more() {
      if (made < kept.length) renderMore(made + PAGE);
    },
    has: (item) => counts.has(item),
    rowOf: (item) => rows.get(item) || null,
  };
}
