// The JSON API client, apart from the page: common.js gives it the browser's fetch and the
// session's CSRF token, the unit tests a fetch of their own.

// ApiError carries the server's JSON error: status, code, message, field, for a stale
// version the current annotation (a bulk change's: each stale one, under stale), and for
// element sets the refusals.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed with status ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.current = e.current || null;
    this.stale = e.stale || null;
    this.refusals = e.refusals || []; // pasted element sets refused, each with its line
  }
}

// requestHeaders are the headers of every API request: JSON wanted, the CSRF token when
// there is one, and extra.
export function requestHeaders(csrfToken, extra) {
  const h = {Accept: 'application/json', ...extra};
  if (csrfToken) h['X-CSRF-Token'] = csrfToken;
  return h;
}

// apiClient returns api(method, path, body, extraHeaders), which calls the JSON API through
// fetchFn with the token csrfToken() returns, and resolves to the decoded body (null for
// 204). Failures reject with ApiError, network failures with status 0; onFailure(status)
// runs first for every error answer. api.withHeaders(method, path, body, extraHeaders) is
// the same call resolving to {data, headers} (the answer's Headers), for paged answers;
// api.stream(path, extraHeaders) a GET resolving to the Response itself, for streamed ones.
export function apiClient({fetch: fetchFn, csrfToken, onFailure}) {
  async function withHeaders(method, path, body, extraHeaders) {
    const init = {method, headers: requestHeaders(csrfToken(), extraHeaders)};
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetchFn(path, init);
    } catch (err) {
      throw new ApiError(0, {error: {message: `the server cannot be reached (${err.message})`}});
    }
    if (res.status === 204) return {data: null, headers: res.headers};
    let data = null;
    try {
      data = await res.json();
    } catch {
      // Not JSON: fall through with what we have.
    }
    if (!res.ok) {
      onFailure(res.status);
      throw new ApiError(res.status, data);
    }
    return {data, headers: res.headers};
  }
  // stream asks for path (GET) and resolves to the fetch Response, its body unread, for
  // an answer read as it arrives; an error answer rejects as withHeaders does, after
  // onFailure(status), so that an ended session sends the page to sign in here too.
  async function stream(path, extraHeaders) {
    let res;
    try {
      res = await fetchFn(path, {method: 'GET', headers: requestHeaders(csrfToken(), extraHeaders)});
    } catch (err) {
      throw new ApiError(0, {error: {message: `the server cannot be reached (${err.message})`}});
    }
    if (!res.ok) {
      let data = null;
      try {
        data = await res.json();
      } catch {
        // Not JSON: the status says it.
      }
      onFailure(res.status);
      throw new ApiError(res.status, data);
    }
    return res;
  }
  const api = async (method, path, body, extraHeaders) => (await withHeaders(method, path, body, extraHeaders)).data;
  api.withHeaders = withHeaders;
  api.stream = stream;
  return api;
}
