// The annotator's "Evidence for a claim" panel: the claims of the image's release that
// the selected annotation is evidence for (supporting, contradicting or giving context,
// with the analyst's confidence and assessment), and linking it to another claim or to
// a new one.

import {api, can, el, flash} from './common.js';

const $ = (id) => document.getElementById(id);

export const STANCES = ['supports', 'contradicts', 'context'];

// claimPanel runs the panel for the annotations of one image; render(ann) shows it for
// the selected annotation (null hides it).
export function claimPanel(imageId) {
  const editable = can('analyst');
  let claims = null; // the claims of the image's release, each with its evidence
  let current = null; // the annotation shown

  async function load() {
    claims = await api('GET', `/api/v1/claims?image=${encodeURIComponent(imageId)}`);
  }

  const claimLink = (c) => el('a', {href: `/claims/${encodeURIComponent(c.id)}`, class: 'claim-link', text: c.text});

  function show() {
    const box = $('evidence');
    if (!box) return;
    const ann = current;
    box.hidden = !ann;
    if (!ann || claims === null) return;
    const links = [];
    for (const c of claims) {
      for (const e of c.evidence) {
        if (e.annotation_id !== ann.id) continue;
        const li = el('li', {dataset: {claimId: c.id, evidenceId: e.id, stance: e.stance}},
          el('span', {class: `badge stance-${e.stance}`, text: e.stance}), ' ', claimLink(c),
          el('span', {class: 'muted', text: ` · confidence ${e.confidence}`}),
          e.assessment ? el('div', {class: 'evidence-assessment', text: e.assessment}) : null);
        if (editable) {
          const b = el('button', {type: 'button', class: 'evidence-unlink', text: 'Unlink'});
          b.addEventListener('click', () => change('DELETE', `/api/v1/evidence/${encodeURIComponent(e.id)}?version=${e.version}`));
          li.append(' ', b);
        }
        links.push(li);
      }
    }
    $('evidence-links').replaceChildren(...links);
    $('evidence-none').hidden = links.length > 0;
    $('evidence-claims').replaceChildren(...(claims.length ? ['Claims of this release: ', ...claims.flatMap((c, i) => (i ? [' · ', claimLink(c)] : [claimLink(c)]))] : ['This release makes no claim yet.']));
    if (!editable) return;
    // Claims this annotation is not evidence for yet.
    const open = claims.filter((c) => !c.evidence.some((e) => e.annotation_id === ann.id));
    $('evidence-claim').replaceChildren(...open.map((c) => el('option', {value: c.id, text: c.text})));
    $('evidence-link-button').disabled = open.length === 0;
  }

  async function change(method, path, body) {
    let answer = null;
    try {
      answer = await api(method, path, body);
      await load();
    } catch (err) {
      flash(err.message, 'error');
    }
    show();
    return answer;
  }

  function confidence() {
    const v = Number($('evidence-confidence').value);
    return $('evidence-confidence').value === '' ? undefined : v;
  }

  if (editable && $('evidence')) {
    $('evidence-link-button').addEventListener('click', async () => {
      const id = $('evidence-claim').value;
      if (!current || !id) return;
      const done = await change('POST', `/api/v1/claims/${encodeURIComponent(id)}/evidence`, {
        annotation_id: current.id, stance: $('evidence-stance').value, confidence: confidence(), assessment: $('evidence-assessment').value,
      });
      if (done) {
        $('evidence-assessment').value = '';
        flash(`Linked as evidence: ${done.evidence.stance} (${done.claim.state}).`);
      }
    });
    $('evidence-new').addEventListener('click', async () => {
      const text = $('evidence-new-claim').value.trim();
      if (!text) {
        flash('Write the claim first, in the publisher\'s words.', 'error');
        return;
      }
      const img = await api('GET', `/api/v1/images/${encodeURIComponent(imageId)}`);
      const made = await change('POST', `/api/v1/sources/${encodeURIComponent(img.source.id)}/claims`, {text});
      if (made) {
        $('evidence-new-claim').value = '';
        $('evidence-claim').value = made.id;
      }
    });
  }

  return {
    render(ann) {
      const again = current && ann && current.id === ann.id;
      current = ann;
      if (again && claims !== null) return show();
      show();
      load().then(show).catch((err) => flash(`Could not load the release's claims: ${err.message}`, 'error'));
    },
  };
}
