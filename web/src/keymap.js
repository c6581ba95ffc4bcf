// The annotator's keyboard as a table, free of the page (unit-tested in test/keymap.test.js):
// which action a key press asks for (keyAction), and the rows the `?` help shows (helpKeys,
// labelHotkeys). annotatorkeys.js does the actions on the page and opens the help.

// TOOL_KEYS: the key that picks each tool (drawtools.js names them).
export const TOOL_KEYS = {1: 'point', 2: 'line', 3: 'polygon', 4: 'rectangle', 5: 'rotated_rectangle', 6: 'wand', 7: 'box_outline', r: 'ruler', R: 'ruler', b: 'box'};

// keyAction says what a key press asks for, or null for nothing. press: key, shiftKey,
// ctrlKey, metaKey, altKey (as a KeyboardEvent has them) and inField (typed into an input,
// a textarea or a select). page: editable (the user may change annotations), selected
// (one is in the editor), many (more than one is selected: bulk.js) and labels (with their
// hotkeys). An action is {do} with do one of: 'stop' (back to Select), 'tool' (with tool),
// 'pixels', 'shipBox', 'swapEnds', 'deleteMany', 'delete' (both with preventDefault: true,
// Backspace must not go back a page) and 'label' (with label, its id).
export function keyAction(press, {editable, selected, many, labels = []}) {
  const {key} = press;
  if (press.inField || press.ctrlKey || press.metaKey || press.altKey) return null;
  if (key === 'Escape') return {do: 'stop'};
  if (key === '?') return null; // the keyboard help's (keyhelp.js)
  if (TOOL_KEYS[key]) return {do: 'tool', tool: TOOL_KEYS[key]};
  if (key === 'p' || key === 'P') return {do: 'pixels'};
  if (!editable) return null;
  if (press.shiftKey && (key === 'B' || key === 'V') && selected) return {do: key === 'B' ? 'shipBox' : 'swapEnds'};
  if ((key === 'Delete' || key === 'Backspace') && (selected || many)) return {do: many ? 'deleteMany' : 'delete', preventDefault: true};
  const label = labels.find((l) => l.hotkey && l.hotkey.toLowerCase() === key.toLowerCase());
  return label ? {do: 'label', label: label.id} : null;
}

// helpKeys: the rows of the keyboard help, [keys (spaced), what they do]; those that
// change annotations only for those who may.
export const helpKeys = (editable) => [
  ['Esc', 'stop drawing or measuring; back to Select'],
  ...(editable
    ? [
        ['1', 'draw a point'],
        ['2', 'draw a line'],
        ['3', 'draw a polygon'],
        ['4', 'draw a rectangle'],
        ['5', 'draw a rotated rectangle (two corners along one side, then the width)'],
        ['6', 'the wand: click an object, or drag over its parts, to outline it by its colour'],
        ['7', 'box → outline: draw a loose box about an object to outline it'],
        ['[ ]', 'with the wand or box → outline: less or more sensitive (Shift + wheel too)'],
        ['B', 'box select: drag over annotations to select them (Shift+click adds one or takes it out)'],
        ['Shift+B', 'the selected outline becomes a ship box (length, beam, heading)'],
        ['Shift+V', 'turn the selected ship box round (bow and stern swap)'],
        ['Delete Backspace', 'delete the selected annotation'],
        ['Ctrl+C Ctrl+V', 'copy the selected annotations; paste them here or on another placed image'],
        ['N', 'suggestions (Find similar): the next one, zoomed to'],
        ['A', 'accept the suggestion shown: it becomes an annotation'],
        ['X', 'reject the suggestion shown'],
        ['Ctrl+Z Ctrl+Shift+Z', 'undo and redo your last change (an acceptance or rejection of a suggestion too)'],
      ]
    : []),
  ['R', 'the ruler: measure without saving anything'],
  ['P', 'show image pixels as crisp squares'],
  ['Enter', 'in the list: select the annotation and zoom to it'],
  ['?', 'show or hide this help'],
];

// labelHotkeys: the help's rows for the labels' hotkeys, known once the labels are loaded;
// none for those who may not change annotations.
export const labelHotkeys = (labels, editable) =>
  editable ? labels.filter((l) => l.hotkey).map((l) => [l.hotkey, `label ${l.path.join(' › ')} (the selection's, and the next drawing's)`]) : [];
