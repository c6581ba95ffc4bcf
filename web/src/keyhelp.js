// The keyboard help: `?` shows every key of the page in an overlay, Esc or `?` again (or
// a click outside) closes it. The page gives the keys; extra() adds those known only once
// loaded (the labels' hotkeys).

import {el} from './common.js';

export function keyHelp({keys, extra = () => []}) {
  const overlay = el('div', {id: 'key-help', class: 'key-help', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'key-help-title', hidden: true});
  const box = el('div', {class: 'key-help-box'});
  overlay.append(box);
  document.body.append(overlay);

  function render() {
    const row = ([k, what]) => el('tr', {}, el('th', {}, ...k.split(' ').map((x) => el('kbd', {text: x}))), el('td', {text: what}));
    const more = extra();
    box.replaceChildren(
      el('h2', {id: 'key-help-title', text: 'Keyboard'}),
      el('table', {class: 'key-table'}, el('tbody', {}, ...keys.map(row))),
      more.length ? el('h3', {text: 'Label hotkeys'}) : null,
      more.length ? el('table', {class: 'key-table'}, el('tbody', {}, ...more.map(row))) : null,
      el('p', {class: 'muted', text: 'Keys do nothing while you type in a field. Esc or ? closes this.'}),
    );
  }

  const open = () => {
    render();
    overlay.hidden = false;
  };
  const close = () => (overlay.hidden = true);
  overlay.addEventListener('click', (e) => e.target === overlay && close());
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '?') {
      e.preventDefault();
      if (overlay.hidden) open();
      else close();
    } else if (e.key === 'Escape' && !overlay.hidden) {
      close();
    }
  });
  return {open, close, isOpen: () => !overlay.hidden};
}
