// Finding one's work on an image: which annotations a filter of the sidebar keeps. Pure
// (no page), so the annotator's list and map and the tests share one rule.
//
// A filter has: label (a label id; it keeps that label and the labels under it), text
// (words that must all be in the note or the identification, any case), status (a review
// state), author (who drew it or changed it last) and from/to (YYYY-MM-DD, UTC days, both
// ends included: drawn or changed on a day between them). Empty fields keep everything.

export const emptyFilter = () => ({label: '', text: '', status: '', author: '', from: '', to: ''});

// isFiltering says whether a filter leaves anything out.
export const isFiltering = (f) => Object.values(f).some((v) => v !== '');

const day = (iso) => (iso || '').slice(0, 10);

// matchesFilter reports whether ann (as the API gives it) passes filter f. labelsById
// gives the chosen label's path, so that "vessel" keeps its frigates.
export function matchesFilter(ann, f, labelsById = new Map()) {
  if (f.status && ann.review_status !== f.status) return false;
  if (f.label && ann.label.id !== f.label) {
    const chosen = labelsById.get(f.label);
    const path = ann.label.path || [];
    if (!chosen || chosen.path.length >= path.length || !chosen.path.every((p, i) => p === path[i])) return false;
  }
  if (f.author) {
    const a = f.author.toLowerCase();
    if ((ann.created_by || '').toLowerCase() !== a && (ann.updated_by || '').toLowerCase() !== a) return false;
  }
  if (f.text) {
    const hay = `${ann.properties?.note || ''}\n${ann.properties?.identification || ''}`.toLowerCase();
    if (!f.text.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
  }
  if (f.from || f.to) {
    const days = [day(ann.created_at), day(ann.updated_at)];
    if (!days.some((d) => (!f.from || d >= f.from) && (!f.to || d <= f.to))) return false;
  }
  return true;
}

// authorsOf lists everyone who drew or last changed one of anns, sorted, once each.
export function authorsOf(anns) {
  const seen = new Map();
  for (const a of anns) for (const n of [a.created_by, a.updated_by]) if (n && !seen.has(n.toLowerCase())) seen.set(n.toLowerCase(), n);
  return [...seen.values()].sort((a, b) => a.localeCompare(b));
}

// keeps reports whether filter f (null before the form is read) keeps ann: everything
// when it leaves nothing out, else matchesFilter's answer.
export const keeps = (ann, f, labelsById) => !f || !isFiltering(f) || matchesFilter(ann, f, labelsById);

// keptText is the list's count: all of them, or how many of them the filter keeps.
export const keptText = (kept, all) => (kept < all ? `(${kept} of ${all})` : `(${all})`);
