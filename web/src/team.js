// The team side of an annotation, as elements built from the API's JSON: its review
// state, the reviews and comments on it, its history in words, and what an unsaved
// change would have done. Every name, reason, note and comment reaches the page as text.

import {el} from './common.js';
import {labelPath} from './savechain.js';

// STATUSES are the review states, in the order the counts show them.
export const STATUSES = ['draft', 'submitted', 'accepted', 'disputed', 'rejected'];

export function statusBadge(status) {
  return el('span', {class: `badge review-badge status-${status}`, dataset: {status}, text: status});
}

export function when(iso) {
  const d = new Date(iso);
  return el('time', {datetime: iso, text: d.toLocaleString()});
}

const quote = (s, n = 80) => `“${s.length > n ? `${s.slice(0, n - 1)}…` : s}”`;

const DECIDED = {submitted: 'submitted it for review', accepted: 'accepted it', disputed: 'disputed it', rejected: 'rejected it'};

// reviewItem is one decision: who, what, on which version, when, and why; and whether
// it was withdrawn since (undone by who made it).
export function reviewItem(r) {
  return el(
    'li',
    {class: `review-item decision-${r.decision}${r.withdrawn_by ? ' withdrawn' : ''}`, dataset: {decision: r.decision, version: r.version, withdrawn: String(!!r.withdrawn_by)}},
    el('span', {class: 'reviewer', text: r.reviewer}),
    ' ',
    el('span', {class: 'decision', text: DECIDED[r.decision] || r.decision}),
    el('span', {class: 'muted', text: ` (on version ${r.version}) · `}),
    when(r.at),
    r.withdrawn_by ? el('span', {class: 'muted withdrawal', text: ` · withdrawn by ${r.withdrawn_by} (version ${r.withdrawn_version})`}) : null,
    r.reason ? el('p', {class: 'reason', text: r.reason}) : null,
  );
}

export function commentItem(c) {
  return el(
    'li',
    {class: 'comment', dataset: {commentId: c.id}},
    el('div', {class: 'comment-head muted'}, el('span', {class: 'author', text: c.author}), ' · ', when(c.created_at)),
    el('p', {class: 'comment-body', text: c.body}),
  );
}

function confidenceWord(ann) {
  return ann.properties.confidence || 'not stated';
}

// changeWords says what a revision changed, in words, from its before and after.
export function changeWords(rev) {
  const b = rev.before;
  const a = rev.after;
  if (!b || !a) return [];
  return (rev.changes || []).map((c) => {
    switch (c) {
      case 'relabelled':
        return `relabelled ${labelPath(b)} → ${labelPath(a)}`;
      case 'confidence':
        return `confidence ${confidenceWord(b)} → ${confidenceWord(a)}`;
      case 'identification':
        return a.properties.identification ? `identification ${quote(a.properties.identification)}` : 'identification removed';
      case 'note':
        return a.properties.note ? `note ${quote(a.properties.note)}` : 'note removed';
      case 'attributes':
        return 'attributes changed';
    }
    return c; // moved, reshaped, review: accepted, …
  });
}

const ACTIONS = {create: 'created', update: 'changed', delete: 'deleted'};

// revisionItem is one version in the history timeline, with a button to restore it when
// onRestore is given.
export function revisionItem(rev, {current, onRestore}) {
  const words = changeWords(rev);
  const li = el(
    'li',
    {class: rev.version === current ? 'revision current' : 'revision', dataset: {version: rev.version}},
    el('strong', {text: `v${rev.version}`}),
    ' ',
    el('span', {class: 'action', text: ACTIONS[rev.action] || rev.action}),
    ' by ',
    el('span', {class: 'actor', text: rev.actor}),
    ' · ',
    when(rev.at),
    rev.version === current ? el('span', {class: 'muted', text: ' (current)'}) : null,
    words.length ? el('div', {class: 'changes', text: words.join('; ')}) : null,
  );
  if (onRestore && rev.after && rev.version !== current) {
    const b = el('button', {type: 'button', class: 'restore-version', text: 'Restore this version'});
    b.addEventListener('click', () => onRestore(rev));
    li.append(b);
  }
  return li;
}

// describeChange says what an unsaved change of ours would have done, for the conflict bar.
export function describeChange(change, labelsById) {
  switch (change.kind) {
    case 'delete':
      return 'delete it';
    case 'review':
      return change.decision === 'submitted' ? 'submit it for review' : `mark it ${change.decision}`;
    case 'restore':
      return `restore version ${change.version}`;
  }
  const parts = [];
  const body = change.body;
  if (body.geometry) parts.push('move or reshape it (yours is dashed on the map)');
  if (body.label) parts.push(`relabel it ${labelsById.get(body.label)?.path.join(' › ') || body.label}`);
  for (const [k, v] of Object.entries(body.properties || {})) {
    parts.push(v ? `${k} ${quote(String(v))}` : `clear the ${k}`);
  }
  return parts.join(', ');
}
