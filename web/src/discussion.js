// The annotator's review, comments and history of the selected annotation: the decision
// buttons (hidden from whoever wrote a version since it was last accepted), the
// discussion, and the versions with their restore buttons. selected() is the selected
// feature; send(feature, change) saves through the page's save chain.

import {api, flash} from './common.js';
import {annotationURL, sameName, wroteSinceAccepted} from './savechain.js';
import {commentItem, reviewItem, revisionItem} from './team.js';

const $ = (id) => document.getElementById(id);

export function discussionPanel({selected, send, editable, myName, historyEl}) {

  function renderReview(ann) {
    const st = ann.review_status;
    for (const b of [$('edit-status'), $('review-status')]) {
      b.textContent = st;
      b.className = `badge review-badge status-${st}`;
      b.dataset.status = st;
    }
    // Who drew it never decides; who changed it last usually submitted it, unless the
    // history says that change was not writing (a withdrawn decision of theirs).
    const drew = sameName(myName, ann.created_by);
    let hint = '';
    if (editable) {
      $('review-submit').hidden = !['draft', 'disputed', 'rejected'].includes(st);
      $('review-decide').hidden = !(st === 'submitted' && !drew);
      if (st === 'submitted' && drew) hint = 'Another analyst reviews it: you drew it.';
      if (st === 'submitted' && !drew) {
        const w = wroteSince.id === ann.id && wroteSince.version === ann.version ? wroteSince.wrote : null;
        if (w === null) {
          checkWroteSince(ann);
          if (sameName(myName, ann.updated_by)) {
            $('review-decide').hidden = true;
            hint = 'Another analyst reviews it: you changed it last.';
          }
        } else if (w > 0) {
          $('review-decide').hidden = true;
          hint = `Another analyst reviews it: you wrote version ${w} since it was last accepted.`;
        }
      }
    }
    if (st === 'accepted') hint = 'Any change puts it back to draft.';
    $('review-hint').textContent = hint;
  }

  // wroteSince remembers, for one version of one annotation, which version this analyst
  // wrote since it was last accepted: the form is rendered again on every change of the
  // selection's state, its history is fetched once per version.
  let wroteSince = {id: null, version: 0, wrote: null};

  // checkWroteSince learns from the history whether this analyst wrote a version since the
  // annotation was last accepted, and renders the review again to hide the decision (the
  // server refuses that decision too).
  async function checkWroteSince(ann) {
    wroteSince = {id: ann.id, version: ann.version, wrote: 0};
    let revs;
    try {
      revs = await api('GET', annotationURL(ann.id, '/history'));
    } catch {
      return; // the buttons stay; the server still says no with its reason
    }
    if (wroteSince.id !== ann.id || wroteSince.version !== ann.version) return;
    wroteSince.wrote = wroteSinceAccepted(revs, myName);
    const cur = selected() && selected().get('ann');
    if (cur && cur.id === ann.id && cur.version === ann.version) renderReview(cur);
  }

  async function decide(decision) {
    const f = selected();
    if (!f) return;
    const reasonEl = $('review-reason');
    const errorEl = $('review-error');
    const reason = decision === 'submitted' ? '' : reasonEl.value.trim();
    if ((decision === 'disputed' || decision === 'rejected') && !reason) {
      errorEl.textContent = `Say why you ${decision === 'disputed' ? 'dispute' : 'reject'} it.`;
      errorEl.hidden = false;
      reasonEl.focus();
      return;
    }
    errorEl.hidden = true;
    const saved = await send(f, {kind: 'review', decision, reason, what: 'the review'});
    if (saved && selected() === f) reasonEl.value = '';
  }

  if (editable) {
    $('review-submit').addEventListener('click', () => decide('submitted'));
    for (const b of document.querySelectorAll('#review-decide [data-decision]')) b.addEventListener('click', () => decide(b.dataset.decision));
  }

  // Each loader keeps only the answer to its latest request, for the annotation still selected.
  const latest = {reviews: 0, comments: 0, history: 0};
  const stillSelected = (id) => selected() && selected().get('ann') && selected().get('ann').id === id;

  async function loadReviews(id) {
    const token = ++latest.reviews;
    let reviews;
    try {
      reviews = await api('GET', annotationURL(id, '/reviews'));
    } catch {
      return;
    }
    if (token !== latest.reviews || !stillSelected(id)) return;
    $('reviews').replaceChildren(...reviews.reverse().map(reviewItem));
  }

  async function loadComments(id) {
    const token = ++latest.comments;
    let comments;
    try {
      comments = await api('GET', annotationURL(id, '/comments'));
    } catch {
      return;
    }
    if (token !== latest.comments || !stillSelected(id)) return;
    $('comment-list').replaceChildren();
    for (const c of comments) addComment(c);
    $('comment-count').textContent = `(${comments.length})`;
  }

  function addComment(c) {
    const list = $('comment-list');
    if (list.querySelector(`[data-comment-id="${CSS.escape(c.id)}"]`)) return;
    list.append(commentItem(c));
    $('comment-count').textContent = `(${list.children.length})`;
  }

  const commentForm = $('comment-form');
  if (commentForm) {
    commentForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = selected();
      const ann = f && f.get('ann');
      const bodyEl = $('comment-body');
      const body = bodyEl.value.trim();
      if (!ann || !body) return;
      const button = $('comment-submit');
      button.disabled = true;
      try {
        const c = await api('POST', annotationURL(ann.id, '/comments'), {body});
        bodyEl.value = '';
        if (stillSelected(ann.id)) addComment(c);
      } catch (err) {
        flash(`Could not add the comment: ${err.message}`, 'error');
      } finally {
        button.disabled = false;
      }
    });
  }

  async function loadHistory(id) {
    const token = ++latest.history;
    let revs;
    try {
      revs = await api('GET', annotationURL(id, '/history'));
    } catch (err) {
      flash(`Could not load the history: ${err.message}`, 'error');
      return false;
    }
    if (token !== latest.history || !stillSelected(id)) return false;
    const current = selected().get('ann').version;
    historyEl.replaceChildren(...revs.map((r) => revisionItem(r, {current, onRestore: editable ? restoreVersion : null})));
    return true;
  }

  function restoreVersion(rev) {
    if (selected()) send(selected(), {kind: 'restore', version: rev.version, what: `version ${rev.version}`});
  }

  $('show-history').addEventListener('click', async () => {
    const ann = selected() && selected().get('ann');
    if (!ann) return;
    if (!historyEl.hidden) {
      historyEl.hidden = true;
      return;
    }
    if (await loadHistory(ann.id)) historyEl.hidden = false;
  });

  return {renderReview, loadReviews, loadComments, addComment, loadHistory};
}
