// JSON HTTP calls to /console/api/*. The CSRF token from login/session lives only in memory and
// goes out as X-CSRF-Token on every POST (docs/console-protocol.md).

let csrf = '';
export function setCsrf(token) { csrf = token || ''; }

// ApiError carries the HTTP status and the server's {"error": "..."} text.
export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter; // seconds, from a 429's Retry-After header
  }
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, e.message || 'network');
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const retry = parseInt(resp.headers.get('Retry-After') || '', 10);
    throw new ApiError(resp.status, (data && data.error) || '', Number.isNaN(retry) ? undefined : retry);
  }
  return data;
}

export const api = {
  login: (username, password) => request('POST', '/console/api/login', { username, password }),
  session: () => request('GET', '/console/api/session'),
  logout: () => request('POST', '/console/api/logout'),
  saveMessage: (msg) => request('POST', '/console/api/messages', msg),
  recent: () => request('GET', '/console/api/recent'),
};
