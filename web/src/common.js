// What every page shares: the API client (with the session's CSRF token), who is signed
// in, and the flash message. User text only ever reaches the page through textContent,
// never innerHTML.

import {ApiError, apiClient, requestHeaders} from './api.js';

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const userMeta = document.querySelector('meta[name="satmark-user"]');

// me is the signed-in user: {name, role}, or null on the sign-in page.
export const me = userMeta ? {name: userMeta.content, role: userMeta.dataset.role} : null;

const RANK = {viewer: 1, analyst: 2, admin: 3};

// can says whether the signed-in user holds at least role.
export function can(role) {
  return !!me && (RANK[me.role] || 0) >= RANK[role];
}

// setCSRF replaces the token after the session changes (a password change starts a new one).
export function setCSRF(token) {
  if (csrfMeta) csrfMeta.content = token;
}

export const csrfToken = () => (csrfMeta ? csrfMeta.content : '');

// signedOut sends the browser to the sign-in page when the session has ended, coming
// back here afterwards.
function signedOut(status) {
  if (status === 401) {
    flash('Your session has ended: sign in again.', 'error');
    setTimeout(() => location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search)), 1200);
  }
}

// api calls the JSON API and returns the decoded body (null for 204). Failures throw
// ApiError, including network failures (status 0).
export const api = apiClient({fetch: (path, init) => fetch(path, init), csrfToken, onFailure: signedOut});

// upload posts a FormData with progress reports; resolves {status, body}.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(requestHeaders(csrfToken()))) xhr.setRequestHeader(k, v);
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
      else {
        signedOut(xhr.status);
        reject(new ApiError(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, {error: {message: 'the server cannot be reached'}}));
    xhr.send(form);
  });
}

let flashTimer = null;

// flash shows a message at the top of the page. Errors stay until dismissed or replaced.
export function flash(message, kind = 'info') {
  const box = document.getElementById('flash');
  if (!box) return;
  box.textContent = message;
  box.className = `flash ${kind}`;
  box.hidden = false;
  clearTimeout(flashTimer);
  if (kind !== 'error') flashTimer = setTimeout(() => (box.hidden = true), 4000);
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

// hexToRgba turns a label colour (#rrggbb) into CSS rgba() with the given opacity.
export function hexToRgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

document.addEventListener('click', (e) => {
  if (e.target && e.target.id === 'flash') e.target.hidden = true;
});
