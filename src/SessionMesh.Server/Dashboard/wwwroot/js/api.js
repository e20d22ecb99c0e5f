// Calls to the mesh API with the operator's key in an Authorization header (never in a URL).
export const API_PREFIX = '/api/session-mesh';

/** An API refusal: the problem+json body's code and detail, or the HTTP status when there is none. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? `http_${status}`;
    this.problem = problem;
  }
}

export function apiUrl(path, query) {
  const url = new URL(API_PREFIX + path, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(one));
  }
  return url;
}

/** Escapes one path segment (agent ids may hold ':' and '@'). */
export const seg = (value) => encodeURIComponent(value);

export function createApi(key) {
  async function request(method, path, { query, body, signal, headers } = {}) {
    const response = await fetch(apiUrl(path, query), {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
      credentials: 'omit',
    });
    const text = await response.text();
    const json = /json/.test(response.headers.get('Content-Type') ?? '');
    let data = text || null;
    if (text && json) {
      try { data = JSON.parse(text); } catch { data = { detail: text }; }
    }
    if (!response.ok) throw new ApiError(response.status, typeof data === 'string' ? { detail: data } : data);
    return data;
  }
  return {
    key,
    get: (path, query, options) => request('GET', path, { ...options, query }),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    del: (path, query, options) => request('DELETE', path, { ...options, query }),
  };
}
