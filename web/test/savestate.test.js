// The annotator's save state line (src/savestate.js).

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {saveStateOf, showSaveState} from '../src/savestate.js';

test('a failure is said, even with saves still waiting', () => {
  assert.deepEqual(saveStateOf({pending: 2, error: 'the server is not answering'}), {text: 'Not saved: the server is not answering', className: 'save-state error'});
});

test('saving while saves wait, saved when none do', () => {
  assert.deepEqual(saveStateOf({pending: 1}), {text: 'Saving…', className: 'save-state'});
  assert.deepEqual(saveStateOf({pending: 0, error: null}), {text: 'All changes saved', className: 'save-state ok'});
});

test('showSaveState puts it on the line', () => {
  const line = {textContent: '', className: ''};
  showSaveState(line, {pending: 3});
  assert.deepEqual(line, {textContent: 'Saving…', className: 'save-state'});
});
