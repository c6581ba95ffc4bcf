// Copy and paste of annotations: Ctrl+C (⌘C) keeps the selected annotations' ids, in the
// browser's storage so another image's page can paste them too; Ctrl+V (⌘V) copies them
// onto this image through the server (POST …/annotations/copy): on the same image 12 px
// down and right, onto another through the ground when both images are placed. The
// copies are new annotations of the paster, each saying which it was copied from.

import {api, flash, plural} from './common.js';

const KEY = 'satmark.clipboard';

// clipboard runs copy and paste on an annotator: selectedIds() gives the ids to copy,
// pasted(annotations) receives the copies the server made.
export function clipboard({imageId, selectedIds, pasted}) {
  document.addEventListener('keydown', async (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.target.closest('input, textarea, select')) return;
    const key = e.key.toLowerCase();
    if (key === 'c') {
      const ids = selectedIds();
      if (!ids.length) return;
      e.preventDefault();
      localStorage.setItem(KEY, JSON.stringify({ids, image: imageId}));
      flash(`Copied ${plural(ids.length, 'annotation', 'annotations')}: Ctrl+V pastes ${ids.length > 1 ? 'them' : 'it'} here or on another placed image.`);
    } else if (key === 'v') {
      let clip;
      try {
        clip = JSON.parse(localStorage.getItem(KEY) || 'null');
      } catch {
        clip = null;
      }
      if (!clip || !Array.isArray(clip.ids) || !clip.ids.length) return;
      e.preventDefault();
      try {
        const r = await api('POST', `/api/v1/images/${encodeURIComponent(imageId)}/annotations/copy`, {annotations: clip.ids});
        pasted(r.annotations);
        flash(`Pasted ${plural(r.annotations.length, 'annotation', 'annotations')}${clip.image === imageId ? '' : ', carried through the ground'}.`);
      } catch (err) {
        flash(`Could not paste: ${err.message}`, 'error');
      }
    }
  });
}
