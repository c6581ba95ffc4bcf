// What every page shares: the API client, the "working as" name, and the flash message.
// User text only ever reaches the page through textContent, never innerHTML.

const ACTOR_KEY = 'satmark.actor';

export function actorName() {
  return (localStorage.getItem(ACTOR_KEY) || '').trim();
}

// ApiError carries the server's JSON error: status, code, message, field and, for a
// stale version, the current annotation.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed with status ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.current = e.current || null;
  }
}

function headers(extra) {
  const h = {Accept: 'application/json', ...extra};
  const actor = actorName();
  if (actor) h['X-Satmark-Actor'] = encodeURIComponent(actor);
  return h;
}

// api calls the JSON API and returns the decoded body (null for 204). Failures throw
// ApiError, including network failures (status 0).
export async function api(method, path, body, extraHeaders) {
  const init = {method, headers: headers(extraHeaders)};
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, {error: {message: `the server cannot be reached (${err.message})`}});
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // Not JSON: fall through with what we have.
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// upload posts a FormData with progress reports; resolves {status, body}.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // keep null
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({status: xhr.status, body});
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, {error: {message: 'the server cannot be reached'}}));
    xhr.send(form);
  });
}

let flashTimer = null;

// flash shows a message at the top of the page. Errors stay until dismissed or replaced.
export function flash(message, kind = 'info') {
  const el = document.getElementById('flash');
  if (!el) return;
  el.textContent = message;
  el.className = `flash ${kind}`;
  el.hidden = false;
  clearTimeout(flashTimer);
  if (kind !== 'error') flashTimer = setTimeout(() => (el.hidden = true), 4000);
}

// el builds an element with text content and attributes; children may be elements or strings.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// initActor wires the "working as" field in the top bar.
export function initActor() {
  const input = document.getElementById('actor-name');
  if (!input) return;
  input.value = actorName();
  input.addEventListener('change', () => {
    localStorage.setItem(ACTOR_KEY, input.value.trim());
    flash(input.value.trim() ? `Changes are now recorded as ${input.value.trim()}.` : 'Changes are recorded under the server default name.');
  });
}

document.addEventListener('click', (e) => {
  if (e.target && e.target.id === 'flash') e.target.hidden = true;
});
