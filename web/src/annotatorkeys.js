// The annotator's keys on the page: one keydown handler does what keymap.js says a key
// asks for (tools, pixels, ship box, deletion, label hotkeys), and the `?` help overlay
// (keyhelp.js) lists them, opened by `?` or the help button.
//
// annotatorKeys takes: editable; state (the page's: selected, labels); tools (drawtools.js:
// stop, setTool); bulk (bulk.js: size, relabel); chain (the save chain, for a relabel);
// actions (editactions.js: toShipBox, swapShipEnds, removeSelected).

import {keyHelp} from './keyhelp.js';
import {helpKeys, keyAction, labelHotkeys} from './keymap.js';

const $ = (id) => document.getElementById(id);

export function annotatorKeys({editable, state, tools, bulk, chain, actions}) {
  document.addEventListener('keydown', (e) => {
    const press = {key: e.key, shiftKey: e.shiftKey, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, inField: !!e.target.closest('input, textarea, select')};
    const a = keyAction(press, {editable, selected: !!state.selected, many: bulk.size() > 1, labels: state.labels});
    if (!a) return;
    if (a.preventDefault) e.preventDefault();
    switch (a.do) {
      case 'stop':
        return tools.stop();
      case 'tool':
        return tools.setTool(a.tool);
      case 'pixels':
        return $('pixels').click();
      case 'shipBox':
        return actions.toShipBox();
      case 'swapEnds':
        return actions.swapShipEnds();
      case 'deleteMany':
        return $('bulk-delete').click();
      case 'delete':
        return actions.removeSelected();
      case 'label':
        $('draw-label').value = a.label;
        if (bulk.size() > 1) bulk.relabel(a.label);
        else if (state.selected) chain.send(state.selected, {kind: 'patch', body: {label: a.label}, what: 'the label'});
    }
  });

  const help = keyHelp({keys: helpKeys(editable), extra: () => labelHotkeys(state.labels, editable)});
  $('key-help-button').addEventListener('click', () => help.open());
  return help;
}
