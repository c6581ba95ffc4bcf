// The annotator's keys (src/keymap.js): what a key press asks for, for whom, and the rows
// of the `?` help.

import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {TOOL_KEYS, helpKeys, keyAction, labelHotkeys} from '../src/keymap.js';

const labels = [
  {id: 'v', path: ['vessel'], hotkey: ''},
  {id: 'f', path: ['vessel', 'frigate'], hotkey: 'f'},
  {id: 'c', path: ['vessel', 'carrier'], hotkey: 'C'},
];
const analyst = {editable: true, selected: true, many: false, labels};
const viewer = {...analyst, editable: false};
const press = (key, over = {}) => ({key, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, inField: false, ...over});

describe('keyAction', () => {
  test('the number keys, r and b pick their tools, for viewers too', () => {
    for (const page of [analyst, viewer]) {
      assert.deepEqual(keyAction(press('1'), page), {do: 'tool', tool: 'point'});
      assert.deepEqual(keyAction(press('5'), page), {do: 'tool', tool: 'rotated_rectangle'});
      assert.deepEqual(keyAction(press('6'), page), {do: 'tool', tool: 'wand'});
      assert.deepEqual(keyAction(press('7'), page), {do: 'tool', tool: 'box_outline'});
      assert.deepEqual(keyAction(press('r'), page), {do: 'tool', tool: 'ruler'});
      assert.deepEqual(keyAction(press('R', {shiftKey: true}), page), {do: 'tool', tool: 'ruler'});
      assert.deepEqual(keyAction(press('b'), page), {do: 'tool', tool: 'box'});
    }
    assert.equal(keyAction(press('8'), analyst), null);
  });

  test('Esc stops, P shows pixels, ? is left to the help', () => {
    assert.deepEqual(keyAction(press('Escape'), viewer), {do: 'stop'});
    assert.deepEqual(keyAction(press('p'), viewer), {do: 'pixels'});
    assert.deepEqual(keyAction(press('P', {shiftKey: true}), viewer), {do: 'pixels'});
    assert.equal(keyAction(press('?', {shiftKey: true}), analyst), null);
  });

  test('nothing while typing in a field or with Ctrl, Cmd or Alt (the undo and copy keys are others\')', () => {
    for (const over of [{inField: true}, {ctrlKey: true}, {metaKey: true}, {altKey: true}]) {
      assert.equal(keyAction(press('1', over), analyst), null, JSON.stringify(over));
      assert.equal(keyAction(press('Escape', over), analyst), null, JSON.stringify(over));
      assert.equal(keyAction(press('Delete', over), analyst), null, JSON.stringify(over));
      assert.equal(keyAction(press('f', over), analyst), null, JSON.stringify(over));
    }
  });

  test('Delete and Backspace delete the selected one, or the many selected, and keep the browser from going back', () => {
    assert.deepEqual(keyAction(press('Delete'), analyst), {do: 'delete', preventDefault: true});
    assert.deepEqual(keyAction(press('Backspace'), analyst), {do: 'delete', preventDefault: true});
    assert.deepEqual(keyAction(press('Delete'), {...analyst, many: true}), {do: 'deleteMany', preventDefault: true});
    assert.deepEqual(keyAction(press('Delete'), {...analyst, selected: false, many: true}), {do: 'deleteMany', preventDefault: true});
    assert.equal(keyAction(press('Backspace'), {...analyst, selected: false}), null, 'nothing selected: Backspace is the browser\'s');
  });

  test('Shift+B and Shift+V make and turn a ship box, only with a selection', () => {
    assert.deepEqual(keyAction(press('B', {shiftKey: true}), analyst), {do: 'shipBox'});
    assert.deepEqual(keyAction(press('V', {shiftKey: true}), analyst), {do: 'swapEnds'});
    assert.equal(keyAction(press('V', {shiftKey: true}), {...analyst, selected: false}), null);
  });

  test('a label\'s hotkey picks it, in either case; unknown keys do nothing', () => {
    assert.deepEqual(keyAction(press('f'), analyst), {do: 'label', label: 'f'});
    assert.deepEqual(keyAction(press('F', {shiftKey: true}), analyst), {do: 'label', label: 'f'});
    assert.deepEqual(keyAction(press('c'), {...analyst, selected: false}), {do: 'label', label: 'c'}, 'the next drawing\'s label');
    assert.equal(keyAction(press('q'), analyst), null);
    assert.equal(keyAction(press('f'), {...analyst, labels: []}), null, 'before the labels are loaded');
  });

  test('viewers change nothing: no deletion, ship box or label', () => {
    assert.equal(keyAction(press('Delete'), viewer), null);
    assert.equal(keyAction(press('B', {shiftKey: true}), viewer), null);
    assert.equal(keyAction(press('f'), viewer), null);
  });
});

describe('the help', () => {
  test('viewers are shown the keys they have; analysts every tool key too', () => {
    const keysOf = (rows) => rows.map(([k]) => k);
    assert.deepEqual(keysOf(helpKeys(false)), ['Esc', 'R', 'P', 'Enter', '?']);
    const all = keysOf(helpKeys(true));
    for (const k of Object.keys(TOOL_KEYS)) assert.ok(all.includes(k.toUpperCase()), `key ${k} (${TOOL_KEYS[k]}) in the help`);
    for (const k of ['Shift+B', 'Shift+V', 'Delete Backspace', 'Ctrl+Z Ctrl+Shift+Z', 'N', 'A', 'X']) assert.ok(all.includes(k), k);
  });

  test('the labels\' hotkeys, for analysts only', () => {
    assert.deepEqual(labelHotkeys(labels, true), [
      ['f', 'label vessel › frigate (the selection\'s, and the next drawing\'s)'],
      ['C', 'label vessel › carrier (the selection\'s, and the next drawing\'s)'],
    ]);
    assert.deepEqual(labelHotkeys(labels, false), []);
  });
});
