// The annotator's save state line ("Saving…", "All changes saved", "Not saved: why"), from
// what the save chain reports: pending (saves not yet answered) and error (the last
// failure's message, if any). saveStateOf is free of the page (unit-tested in
// test/savestate.test.js); showSaveState puts it on the line's element.

export function saveStateOf({pending, error}) {
  if (error) return {text: `Not saved: ${error}`, className: 'save-state error'};
  if (pending > 0) return {text: 'Saving…', className: 'save-state'};
  return {text: 'All changes saved', className: 'save-state ok'};
}

export function showSaveState(line, status) {
  const {text, className} = saveStateOf(status);
  line.textContent = text;
  line.className = className;
}
