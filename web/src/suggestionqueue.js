// The review queue of suggestions (find similar): the pending ones, best first, and the
// one shown. Pure, for suggestions.js and its tests.

// suggestionQueue holds suggestions ({id, score, …}); the one shown is current().
export function suggestionQueue() {
  let items = [];
  let current = null; // the id shown, or null

  const sorted = () => items.slice().sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));

  return {
    // add takes new suggestions in, leaving out ids already held.
    add(list) {
      const have = new Set(items.map((s) => s.id));
      items = items.concat(list.filter((s) => !have.has(s.id)));
      items = sorted();
    },
    // next shows the suggestion after the current one (the best when none is shown, the
    // best again after the last) and returns it, or null when none is left.
    next() {
      if (items.length === 0) return (current = null);
      const i = items.findIndex((s) => s.id === current);
      current = items[(i + 1) % items.length].id;
      return items.find((s) => s.id === current);
    },
    // remove takes a decided suggestion out; when it was the one shown, the next one
    // (in the same order) is shown, and returned.
    remove(id) {
      const i = items.findIndex((s) => s.id === id);
      if (i < 0) return this.current();
      items.splice(i, 1);
      if (current !== id) return this.current();
      if (items.length === 0) return (current = null);
      current = items[i % items.length].id;
      return items[i % items.length];
    },
    // show makes the suggestion id, when held, the one shown, and returns it (or null).
    show(id) {
      const sg = items.find((s) => s.id === id) || null;
      if (sg) current = id;
      return sg;
    },
    current: () => items.find((s) => s.id === current) || null,
    get: (id) => items.find((s) => s.id === id) || null,
    size: () => items.length,
    position: () => items.findIndex((s) => s.id === current) + 1, // 1-based; 0 when none is shown
    all: () => items.slice(),
  };
}
